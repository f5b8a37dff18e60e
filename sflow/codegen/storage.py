"""Generations in the store: record one (deduplicated by code hash), list them, diff two.

A generation belongs to the user's strategy instance of (absolute source path, strategy name),
created on first use. ``code_hash`` is the store's SHA-256 of the normalized code: line endings
normalised to ``\\n``, trailing whitespace and leading/trailing blank lines stripped
(``sflow.store.repositories.generations.normalize_code``). The header carries no timestamp, so
generating an unchanged flow again gives the same hash and returns the stored row.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

from sflow.codegen.plan import GenerationError
from sflow.store import (
    CodeGeneration,
    CodeGenerationRepository,
    StrategyInstanceRepository,
    ValidationStatus,
    ensure_database,
    transaction,
)

if TYPE_CHECKING:
    from sflow.codegen.generator import Generation
    from sflow.config import Settings

# The validator's WARNING is stored as VALID (seed 000: "VALID" with a warning); the warning
# stays in validation_result["status"] and its issues.
_STORED_STATUS = {"WARNING": ValidationStatus.VALID.value}


@dataclass(frozen=True)
class HistoryRow:
    id: str
    created: datetime
    strategy: str
    status: str
    line_count: int | None
    code_hash: str
    code_version: str
    warning: bool


def instance_key(source_path: str) -> str:
    """The instance's source path: absolute, so the CLI and the editor find the same instance."""
    return str(Path(source_path).expanduser().resolve())


def record_generation(
    generation: Generation, settings: Settings, *, source_path: str, source_text: str
) -> Generation:
    """Store the generation (or find the identical one); sets its id and duplicate flag."""
    engine = ensure_database(settings.database_url)
    validation = generation.validation
    with transaction(engine) as session:
        instance, _ = StrategyInstanceRepository(session, settings.user_id).get_or_create(
            instance_key(source_path),
            generation.strategy,
            logic_flow=generation.logic_flow,
            source_text=source_text,
            parameters=generation.parameters,
        )
        row, created = CodeGenerationRepository(session, settings.user_id).record(
            instance.id,
            generated_code=generation.code,
            logic_flow_snapshot=generation.logic_flow,
            parameters_snapshot=generation.parameters,
            validation_status=_STORED_STATUS.get(validation.status, validation.status),
            validation_result=validation.to_json(),
            syntax_check_passed=validation.syntax_ok,
            security_check_passed=validation.security_ok,
            code_version=_code_version(),
            complexity_score=validation.total_complexity,
            generation_time=generation.seconds,
        )
        generation.generation_id = row.id
        generation.duplicate = not created
    return generation


def _code_version() -> str:
    from sflow.codegen.generator import CODE_VERSION

    return CODE_VERSION


def history(
    settings: Settings, source_path: str | None = None, strategy: str | None = None, limit: int = 50
) -> list[HistoryRow]:
    """The user's generations, newest first; of one file (and strategy) when given."""
    engine = ensure_database(settings.database_url)
    with transaction(engine) as session:
        instances = StrategyInstanceRepository(session, settings.user_id)
        names: dict[str, str] = {}
        if source_path is not None:
            for inst in instances.for_source(instance_key(source_path)):
                if strategy is None or inst.name == strategy:
                    names[inst.id] = inst.name
            if not names:
                return []
        repo = CodeGenerationRepository(session, settings.user_id)
        rows: list[CodeGeneration] = []
        if source_path is None:
            rows = repo.history(limit=limit)
        else:
            for instance_id in names:
                rows += repo.history(instance_id, limit=limit)
        rows.sort(key=lambda r: (r.created_at, r.id), reverse=True)
        for r in rows:
            if r.instance_id not in names:
                inst = instances.get(r.instance_id)
                names[r.instance_id] = inst.name if inst is not None else "?"
        return [
            HistoryRow(
                r.id,
                r.created_at,
                names[r.instance_id],
                r.validation_status,
                r.line_count,
                r.code_hash,
                r.code_version,
                (r.validation_result or {}).get("status") == "WARNING",
            )
            for r in rows[:limit]
        ]


def get_generation(settings: Settings, ref: str) -> CodeGeneration:
    """One of the user's generations by id or unique id prefix."""
    engine = ensure_database(settings.database_url)
    ref = ref.strip()
    if not ref:
        raise GenerationError("empty generation id")
    with transaction(engine) as session:
        query = (
            sa.select(CodeGeneration)
            .where(
                CodeGeneration.user_id == settings.user_id,
                CodeGeneration.is_deleted.is_(False),
                CodeGeneration.id.startswith(ref, autoescape=True),
            )
            .limit(2)
        )
        found = list(session.scalars(query))
    if not found:
        raise GenerationError(f"no generation {ref!r}")
    if len(found) > 1:
        raise GenerationError(f"generation id prefix {ref!r} is ambiguous; give more characters")
    return found[0]


def diff_generations(settings: Settings, a: str, b: str) -> str:
    """A unified diff between the code of two of the user's generations."""
    first, second = get_generation(settings, a), get_generation(settings, b)
    return "".join(
        difflib.unified_diff(
            first.generated_code.splitlines(keepends=True),
            second.generated_code.splitlines(keepends=True),
            fromfile=f"generation {first.id[:8]}",
            tofile=f"generation {second.id[:8]}",
        )
    )
