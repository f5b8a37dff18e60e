"""Seeding the system node templates from the package's template library file.

Idempotent: a template is inserted when missing, rewritten when its ``version`` or any of its
fields changed (or it had been retired), and left alone otherwise (its ``usage_count`` is kept); system templates no longer in the file are
soft-deleted (retired) so the editor stops offering them. User templates are never touched.
The library file's SHA-256 is kept in ``schema_meta`` so an unchanged file costs one query.
Concurrent seeders serialise on that ``schema_meta`` row (a row lock on servers, the write lock
on SQLite), so two processes starting at once never insert a template twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from sflow.store.base import utcnow
from sflow.store.models import NodeTemplate
from sflow.store.runs import SchemaMeta
from sflow.store.template_records import RECORD_FIELDS, TemplateLibraryFile, load_library_file

LIBRARY_META_KEY = "sflow.template_library"
SYSTEM_USER = "system"


@dataclass
class SeedReport:
    """What one seeding pass changed."""

    library_version: str
    inserted: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    unchanged: int = 0
    skipped: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.inserted or self.updated or self.retired)


def seeded_fingerprint(session: Session) -> str | None:
    """The fingerprint of the library file last seeded into this database."""
    value = session.scalar(sa.select(SchemaMeta.value).where(SchemaMeta.key == LIBRARY_META_KEY))
    return value.split(":", 1)[0] if value else None


def _lock_library_row(session: Session) -> None:
    locked = session.execute(
        sa.update(SchemaMeta)
        .where(SchemaMeta.key == LIBRARY_META_KEY)
        .values(value=SchemaMeta.value)
        .execution_options(synchronize_session=False)
    )
    if not locked.rowcount:
        session.add(SchemaMeta(key=LIBRARY_META_KEY, value=""))
        session.flush()


def seed_system_templates(
    session: Session, library: TemplateLibraryFile | Path | None = None, *, force: bool = False
) -> SeedReport:
    """Bring the system templates in line with ``library`` (default: the package file)."""
    if not isinstance(library, TemplateLibraryFile):
        library = load_library_file(library)
    _lock_library_row(session)
    report = SeedReport(library.version)
    if not force and seeded_fingerprint(session) == library.fingerprint:
        report.skipped = True
        return report

    existing: dict[str, NodeTemplate] = {}
    for template in session.scalars(
        sa.select(NodeTemplate)
        .where(NodeTemplate.is_system_template.is_(True))
        .order_by(NodeTemplate.is_deleted, NodeTemplate.created_at)
    ):
        if template.name in existing:  # a duplicate left by an older, unlocked seeder
            if not template.is_deleted:
                template.soft_delete(SYSTEM_USER)
            continue
        existing[template.name] = template

    for record in library.records:
        template = existing.pop(record["name"], None)
        if template is None:
            session.add(_apply(NodeTemplate(created_by=SYSTEM_USER, usage_count=0), record))
            report.inserted.append(record["name"])
        elif template.is_deleted or force or _differs(template, record):
            _apply(template, record)
            template.is_deleted = False
            template.deleted_at = None
            report.updated.append(record["name"])
        else:
            report.unchanged += 1
    for name, template in existing.items():
        if not template.is_deleted:
            template.soft_delete(SYSTEM_USER)
            report.retired.append(name)

    session.execute(
        sa.update(SchemaMeta)
        .where(SchemaMeta.key == LIBRARY_META_KEY)
        .values(value=f"{library.fingerprint}:{library.version}")
        .execution_options(synchronize_session=False)
    )
    session.flush()
    return report


def _differs(template: NodeTemplate, record: dict[str, Any]) -> bool:
    probe = _apply(NodeTemplate(), record)
    return any(getattr(template, name) != getattr(probe, name) for name in RECORD_FIELDS)


def _apply(template: NodeTemplate, record: dict[str, Any]) -> NodeTemplate:
    for name in RECORD_FIELDS:
        value = record.get(name)
        if value is None and name in ("default_parameters", "parameter_schema"):
            value = {}
        if name == "version" and value is None:
            value = "1.0.0"
        setattr(template, name, value)
    template.is_system_template = True
    template.user_id = None
    template.updated_by = SYSTEM_USER
    template.updated_at = utcnow()
    return template
