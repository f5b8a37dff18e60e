"""The server's typed settings: `initializationOptions` and `workspace/configuration` (section
``sflow``) merged over the environment defaults. camelCase on the wire; a bad value becomes a
warning and the default, never a failure."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from typing import Any

_WIRE = {
    "databaseUrl": "database_url",
    "qlibDataPath": "qlib_data_path",
    "userId": "user_id",
    "diagnosticsDebounceMs": "diagnostics_debounce_ms",
    "autosaveDelayMs": "autosave_delay_ms",
    "autosave": "autosave",
    "inlayHints": "inlay_hints",
    "codeLens": "code_lens",
    "semanticTokens": "semantic_tokens",
    "workspaceSymbolsMaxFiles": "workspace_symbols_max_files",
}


@dataclass(frozen=True)
class ServerSettings:
    """Everything the user can configure; `None` paths mean "sflow's default" (see sflow.config)."""

    database_url: str | None = None
    qlib_data_path: str | None = None
    user_id: str | None = None
    diagnostics_debounce_ms: int = 250
    autosave_delay_ms: int = 1000
    autosave: bool = True
    inlay_hints: bool = True
    code_lens: bool = True
    semantic_tokens: bool = True
    workspace_symbols_max_files: int = 2000
    warnings: tuple[str, ...] = field(default=(), compare=False)

    @classmethod
    def from_wire(cls, raw: Any, base: ServerSettings | None = None) -> ServerSettings:
        """Settings from a JSON object (camelCase or snake_case keys), over ``base``."""
        base = base or cls.from_env()
        if raw is None:
            return base
        if not isinstance(raw, dict):
            return replace(base, warnings=(f"sflow settings must be an object, got {raw!r}",))
        if isinstance(raw.get("sflow"), dict):  # {"sflow": {...}} as some clients send it
            raw = {**raw, **raw["sflow"]}
        types = {f.name: f.type for f in fields(cls)}
        defaults = cls()
        values: dict[str, Any] = {}
        problems: list[str] = []
        for key, value in raw.items():
            name = _WIRE.get(key, key)
            if name not in types or name == "warnings" or value is None:
                continue
            ok = _coerce(types[name], value)
            if ok is _BAD:
                problems.append(
                    f"sflow.{key}: {value!r} is not a valid value; using {getattr(defaults, name)!r}"
                )
                values[name] = getattr(defaults, name)
            else:
                values[name] = ok
        return replace(base, **values, warnings=tuple(problems))

    @classmethod
    def from_env(cls) -> ServerSettings:
        return cls(
            database_url=os.environ.get("SFLOW_DATABASE_URL") or None,
            qlib_data_path=os.environ.get("SFLOW_QLIB_DATA") or None,
            user_id=os.environ.get("SFLOW_USER") or None,
        )


_BAD = object()


def _coerce(kind: str, value: Any) -> Any:
    if kind == "bool":
        return value if isinstance(value, bool) else _BAD
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            return _BAD
        return int(value)
    if kind == "str | None":
        return value.strip() or None if isinstance(value, str) else _BAD
    return _BAD
