"""The node-template library: typed view of template records, from the package file or the database.

Everything that needs templates (validation, completion, codegen) takes a `TemplateLibrary`; where
the records come from (the JSON data file, or `node_templates` rows for system + the user's own) is
the caller's business.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

SYSTEM_TEMPLATES_PATH = Path(__file__).with_name("data") / "templates.json"

NODE_TYPES = ("INDICATOR", "CONDITION", "SIGNAL", "POSITION", "STOP_LOSS", "STOP_PROFIT")
PORT_TYPES = ("series", "bool", "signal", "book")


@dataclass(frozen=True, slots=True)
class PortSpec:
    name: str
    type: str
    required: bool = True
    description: str = ""


@dataclass(frozen=True, slots=True, eq=False)  # identity equality/hash: usable as a cache key
class Template:
    name: str
    display_name: str
    description: str
    node_type: str
    category: str | None
    parameter_schema: Mapping[str, Any]
    default_parameters: Mapping[str, Any]
    input_ports: tuple[PortSpec, ...]
    output_ports: tuple[PortSpec, ...]
    execution_hints: Mapping[str, Any]
    version: str = "1.0.0"
    is_system: bool = True
    record: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def hidden(self) -> bool:
        """Operator/constant templates that inline expressions produce; not offered in completion."""
        return bool(self.execution_hints.get("hidden"))

    @property
    def operator(self) -> str | None:
        return self.execution_hints.get("operator")

    @property
    def params(self) -> Mapping[str, Any]:
        return self.parameter_schema.get("properties", {})

    @property
    def required_params(self) -> tuple[str, ...]:
        return tuple(self.parameter_schema.get("required", ()))

    def input(self, name: str) -> PortSpec | None:
        return next((p for p in self.input_ports if p.name == name), None)

    def output(self, name: str) -> PortSpec | None:
        return next((p for p in self.output_ports if p.name == name), None)

    @property
    def default_output(self) -> PortSpec | None:
        return self.output_ports[0] if self.output_ports else None

    def signature(self) -> str:
        """``sma(price: series, period=20) -> series`` for hover and signature help."""
        parts = [f"{p.name}: {p.type}" + ("" if p.required else "?") for p in self.input_ports]
        for name in self.params:
            default = self.default_parameters.get(name)
            parts.append(f"{name}={json.dumps(default)}" if default is not None else f"{name}=…")
        outs = ", ".join(f"{p.name}: {p.type}" for p in self.output_ports) or "—"
        return f"{self.name}({', '.join(parts)}) -> {outs}"

    @classmethod
    def from_record(cls, record: Mapping[str, Any], is_system: bool = True) -> Template:
        def ports(raw) -> tuple[PortSpec, ...]:
            return tuple(
                PortSpec(
                    p["name"], p["type"], bool(p.get("required", True)), p.get("description", "")
                )
                for p in raw or ()
            )

        return cls(
            name=record["name"],
            display_name=record.get("display_name") or record["name"],
            description=record.get("description") or "",
            node_type=record["node_type"],
            category=record.get("category"),
            parameter_schema=record.get("parameter_schema") or {},
            default_parameters=record.get("default_parameters") or {},
            input_ports=ports(record.get("input_ports")),
            output_ports=ports(record.get("output_ports")),
            execution_hints=record.get("execution_hints") or {},
            version=record.get("version") or "1.0.0",
            is_system=bool(record.get("is_system_template", is_system)),
            record=record,
        )


class TemplateLibrary(Mapping[str, Template]):
    """An immutable name → template mapping with did-you-mean lookups."""

    def __init__(self, templates: Iterable[Template]) -> None:
        self._by_name: dict[str, Template] = {}
        for t in templates:
            # A user's template may not shadow a system one (the store refuses it; be safe here too).
            if t.name in self._by_name and self._by_name[t.name].is_system:
                continue
            self._by_name[t.name] = t
        self._by_operator = {
            (t.operator, bool(t.execution_hints.get("unary"))): t
            for t in self._by_name.values()
            if t.operator
        }

    @classmethod
    def from_records(cls, records: Iterable[Mapping[str, Any]]) -> TemplateLibrary:
        return cls(Template.from_record(r) for r in records)

    def __getitem__(self, name: str) -> Template:
        return self._by_name[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_name)

    def __len__(self) -> int:
        return len(self._by_name)

    def visible(self) -> list[Template]:
        """Templates a user writes by name (operators and constants excluded)."""
        return [t for t in self._by_name.values() if not t.hidden]

    def for_operator(self, op: str, unary: bool = False) -> Template:
        return self._by_operator[(op, unary)]

    def suggest(self, name: str, limit: int = 3) -> list[str]:
        names = [t.name for t in self.visible()]
        return difflib.get_close_matches(name, names, n=limit, cutoff=0.6)


def load_system_records(path: Path = SYSTEM_TEMPLATES_PATH) -> list[dict[str, Any]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return list(data["templates"])


@lru_cache(maxsize=1)
def system_library() -> TemplateLibrary:
    """The library shipped in the package: what `sflow check` uses without a database."""
    return TemplateLibrary.from_records(load_system_records())
