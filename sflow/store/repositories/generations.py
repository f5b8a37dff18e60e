"""Code generations of one user's instances: dedup by code hash, history, latest valid."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from sflow.store.models import CodeGeneration, ValidationStatus
from sflow.store.repositories.instances import StrategyInstanceRepository


def normalize_code(code: str) -> str:
    """Line endings and trailing whitespace do not change what code does."""
    lines = code.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip("\n") + "\n"


def code_hash(code: str) -> str:
    """SHA-256 (hex) of the normalized code: the ``code_hash`` column."""
    return hashlib.sha256(normalize_code(code).encode("utf-8")).hexdigest()


class CodeGenerationRepository:
    """Record and query generated modules; an identical generation is stored once."""

    def __init__(self, session: Session, user_id: str) -> None:
        self.session = session
        self.user_id = user_id

    def _mine(self) -> sa.ColumnElement[bool]:
        return sa.and_(CodeGeneration.user_id == self.user_id, CodeGeneration.is_deleted.is_(False))

    def find_by_hash(self, instance_id: str, hash_: str) -> CodeGeneration | None:
        query = (
            sa.select(CodeGeneration)
            .where(
                CodeGeneration.code_hash == hash_,
                CodeGeneration.instance_id == instance_id,
                self._mine(),
            )
            .order_by(CodeGeneration.created_at)
            .limit(1)
        )
        return self.session.scalars(query).first()

    def record(
        self,
        instance_id: str,
        *,
        generated_code: str,
        logic_flow_snapshot: dict[str, Any],
        parameters_snapshot: dict[str, Any] | None = None,
        validation_status: ValidationStatus | str = ValidationStatus.PENDING,
        validation_result: dict[str, Any] | None = None,
        syntax_check_passed: bool | None = None,
        security_check_passed: bool | None = None,
        code_version: str = "1.0.0",
        complexity_score: int | None = None,
        generation_time: float | None = None,
    ) -> tuple[CodeGeneration, bool]:
        """Store a generation unless the same code exists for the instance; (row, created)."""
        StrategyInstanceRepository(self.session, self.user_id).require(instance_id)
        hash_ = code_hash(generated_code)
        existing = self.find_by_hash(instance_id, hash_)
        if existing is not None:
            return existing, False
        generation = CodeGeneration(
            instance_id=instance_id,
            user_id=self.user_id,
            generated_code=generated_code,
            code_hash=hash_,
            logic_flow_snapshot=logic_flow_snapshot,
            parameters_snapshot=parameters_snapshot or {},
            validation_status=ValidationStatus(validation_status).value,
            validation_result=validation_result,
            syntax_check_passed=syntax_check_passed,
            security_check_passed=security_check_passed,
            code_version=code_version,
            line_count=len(normalize_code(generated_code).splitlines()),
            complexity_score=complexity_score,
            generation_time=generation_time,
            created_by=self.user_id,
            updated_by=self.user_id,
        )
        self.session.add(generation)
        self.session.flush()
        return generation, True

    def get(self, generation_id: str) -> CodeGeneration | None:
        query = sa.select(CodeGeneration).where(CodeGeneration.id == generation_id, self._mine())
        return self.session.scalars(query).first()

    def history(
        self,
        instance_id: str | None = None,
        *,
        instance_ids: Sequence[str] | None = None,
        limit: int = 20,
        offset: int = 0,
    ) -> list[CodeGeneration]:
        """Newest first; of one instance, of several (one query), or of all the user's."""
        query = sa.select(CodeGeneration).where(self._mine())
        if instance_id is not None:
            query = query.where(CodeGeneration.instance_id == instance_id)
        if instance_ids is not None:
            query = query.where(CodeGeneration.instance_id.in_(list(instance_ids)))
        query = query.order_by(CodeGeneration.created_at.desc(), CodeGeneration.id)
        return list(self.session.scalars(query.offset(offset).limit(limit)))

    def latest_valid(self, instance_id: str) -> CodeGeneration | None:
        """The newest generation of the instance that passed validation."""
        query = (
            sa.select(CodeGeneration)
            .where(
                CodeGeneration.instance_id == instance_id,
                CodeGeneration.validation_status == ValidationStatus.VALID.value,
                self._mine(),
            )
            .order_by(CodeGeneration.created_at.desc())
            .limit(1)
        )
        return self.session.scalars(query).first()

    def failures(self, since: datetime, *, limit: int = 50) -> list[CodeGeneration]:
        """The user's generations that failed validation since ``since``, newest first."""
        ok = (ValidationStatus.VALID.value, ValidationStatus.PENDING.value)
        query = (
            sa.select(CodeGeneration)
            .where(
                self._mine(),
                CodeGeneration.validation_status.not_in(ok),
                CodeGeneration.created_at >= since,
            )
            .order_by(CodeGeneration.created_at.desc())
            .limit(limit)
        )
        return list(self.session.scalars(query))

    def set_validation(
        self,
        generation_id: str,
        status: ValidationStatus | str,
        result: dict[str, Any] | None = None,
        *,
        syntax_check_passed: bool | None = None,
        security_check_passed: bool | None = None,
        complexity_score: int | None = None,
    ) -> CodeGeneration | None:
        generation = self.get(generation_id)
        if generation is None:
            return None
        generation.validation_status = ValidationStatus(status).value
        generation.validation_result = result
        generation.syntax_check_passed = syntax_check_passed
        generation.security_check_passed = security_check_passed
        generation.complexity_score = complexity_score
        generation.updated_by = self.user_id
        self.session.flush()
        return generation
