"""Validation of node-template records: the JSON shape of the template library file and of a
user's ``sflow templates add FILE.json``.

A record is checked against :data:`TEMPLATE_RECORD_SCHEMA`, then: its ``parameter_schema`` must be
a valid JSON Schema, its defaults must satisfy it (required parameters may lack one), port names must be unique, and every
``{placeholder}`` of a string execution hint must name an input port or a parameter (for users'
templates; the packaged library's generator may derive further placeholders).

The system library is the package's ``sflow/flow/data/templates.json``; ``SFLOW_TEMPLATE_LIBRARY``
points a deployment (or a test) at another file of the same format.
"""

from __future__ import annotations

import hashlib
import json
import os
import string
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
from jsonschema.exceptions import SchemaError
from jsonschema.validators import validator_for

from sflow.errors import SflowError

PORT_TYPES = ("series", "bool", "signal", "book")
NODE_TYPES = ("INDICATOR", "CONDITION", "SIGNAL", "POSITION", "STOP_LOSS", "STOP_PROFIT")
IDENTIFIER = "^[A-Za-z_][A-Za-z0-9_]*$"

_PORT = {
    "type": "object",
    "required": ["name", "type"],
    "properties": {
        "name": {"type": "string", "pattern": IDENTIFIER},
        "type": {"enum": list(PORT_TYPES)},
        "required": {"type": "boolean"},
        "description": {"type": "string"},
    },
    "additionalProperties": False,
}
_NULLABLE_STRING = {"type": ["string", "null"]}

TEMPLATE_RECORD_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "sflow node template",
    "type": "object",
    "required": [
        "name",
        "display_name",
        "node_type",
        "parameter_schema",
        "input_ports",
        "output_ports",
        "execution_hints",
    ],
    "properties": {
        "name": {"type": "string", "pattern": IDENTIFIER, "maxLength": 255},
        "display_name": {"type": "string", "minLength": 1, "maxLength": 255},
        "description": _NULLABLE_STRING,
        "node_type": {"enum": list(NODE_TYPES)},
        "category": {"type": ["string", "null"], "maxLength": 100},
        "parameter_schema": {"type": "object"},
        "default_parameters": {"type": "object"},
        "input_ports": {"type": "array", "items": _PORT},
        "output_ports": {"type": "array", "items": _PORT},
        "execution_hints": {"type": "object", "minProperties": 1},
        "validation_rules": {"type": ["object", "null"]},
        "icon": {"type": ["string", "null"], "maxLength": 100},
        "color": {"type": ["string", "null"], "maxLength": 50},
        "version": {"type": "string", "pattern": r"^\d+\.\d+\.\d+([-+].*)?$", "maxLength": 50},
    },
    "additionalProperties": False,
}

LIBRARY_FILE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["version", "templates"],
    "properties": {
        "version": {"type": "string"},
        "templates": {"type": "array", "items": {"type": "object"}},
    },
}

RECORD_FIELDS = tuple(TEMPLATE_RECORD_SCHEMA["properties"])


class TemplateRecordError(SflowError):
    """A template record that is not valid; ``problems`` lists every reason."""

    def __init__(self, name: str, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(f"template {name!r} is not valid:\n  " + "\n  ".join(problems))


def template_problems(record: Any, *, strict: bool = True) -> list[str]:
    """Every problem of ``record`` (empty when valid); ``strict`` also rejects unknown keys."""
    schema = TEMPLATE_RECORD_SCHEMA
    if not strict:
        schema = {**schema, "additionalProperties": True}
    problems = [
        _describe(error) for error in jsonschema.Draft202012Validator(schema).iter_errors(record)
    ]
    if problems:
        return problems
    problems += _parameter_problems(record)
    for side in ("input_ports", "output_ports"):
        names = [port["name"] for port in record[side]]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            problems.append(f"{side}: duplicate port names {duplicates}")
    if strict:
        # Only users' templates: the packaged library may use placeholders its generator derives.
        problems += _hint_problems(record)
    return problems


def validate_template_record(record: Any, *, strict: bool = True) -> dict[str, Any]:
    """Return ``record`` if it is a valid template, else raise :class:`TemplateRecordError`."""
    problems = template_problems(record, strict=strict)
    if problems:
        name = record.get("name", "?") if isinstance(record, dict) else "?"
        raise TemplateRecordError(str(name), problems)
    return record


def _describe(error: jsonschema.ValidationError) -> str:
    where = "/".join(str(part) for part in error.absolute_path) or "(record)"
    return f"{where}: {error.message}"


def _parameter_problems(record: dict[str, Any]) -> list[str]:
    schema = record["parameter_schema"]
    validator_class = validator_for(schema, default=jsonschema.Draft202012Validator)
    try:
        validator_class.check_schema(schema)
    except SchemaError as exc:
        return [f"parameter_schema: not a valid JSON Schema: {exc.message}"]
    # Defaults may leave out required parameters: the flow must then set them.
    validator = validator_class({key: value for key, value in schema.items() if key != "required"})
    return [
        f"default_parameters: {_describe(error)}"
        for error in validator.iter_errors(record.get("default_parameters", {}))
    ]


def _hint_problems(record: dict[str, Any]) -> list[str]:
    known = {port["name"] for port in record["input_ports"]}
    known |= set(record["parameter_schema"].get("properties", {}))
    problems: list[str] = []
    for key, value in record["execution_hints"].items():
        for text in _strings(value):
            try:
                fields = [f for _, f, _, _ in string.Formatter().parse(text) if f is not None]
            except ValueError as exc:
                problems.append(f"execution_hints/{key}: malformed pattern {text!r}: {exc}")
                continue
            for placeholder in fields:
                root = placeholder.split(".")[0].split("[")[0]
                if root not in known:
                    problems.append(
                        f"execution_hints/{key}: placeholder {{{placeholder}}} is neither an "
                        f"input port nor a parameter"
                    )
    return problems


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


@dataclass(frozen=True)
class TemplateLibraryFile:
    """The parsed template data file: its version, records and content fingerprint."""

    version: str
    records: list[dict[str, Any]] = field(repr=False)
    fingerprint: str


def package_library_path() -> Path:
    """The system template library: SFLOW_TEMPLATE_LIBRARY, else the package's data file."""
    override = os.environ.get("SFLOW_TEMPLATE_LIBRARY")
    if override:
        return Path(override).expanduser()
    return Path(__file__).resolve().parents[1] / "flow" / "data" / "templates.json"


def read_json_file(path: Path) -> Any:
    """Parse a JSON file, turning I/O and syntax problems into user errors."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SflowError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except json.JSONDecodeError as exc:
        raise SflowError(f"{path}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from exc


def load_library_file(path: Path | None = None) -> TemplateLibraryFile:
    """Read and validate a template library file; every record must be valid."""
    path = path or package_library_path()
    raw = path.read_bytes() if path.exists() else None
    if raw is None:
        raise SflowError(f"template library not found: {path}")
    data = read_json_file(path)
    errors = list(jsonschema.Draft202012Validator(LIBRARY_FILE_SCHEMA).iter_errors(data))
    if errors:
        raise SflowError(f"{path}: not a template library: {_describe(errors[0])}")
    problems: list[str] = []
    names: set[str] = set()
    for index, record in enumerate(data["templates"]):
        label = record.get("name", f"#{index}")
        problems += [f"{label}: {p}" for p in template_problems(record, strict=False)]
        if label in names:
            problems.append(f"{label}: defined twice")
        names.add(label)
    if problems:
        raise SflowError(f"{path}: invalid templates:\n  " + "\n  ".join(problems))
    return TemplateLibraryFile(data["version"], data["templates"], hashlib.sha256(raw).hexdigest())
