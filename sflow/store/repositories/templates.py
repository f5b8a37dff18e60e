"""Node templates visible to one user: the system library plus the user's own templates."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from sflow.errors import SflowError
from sflow.store.base import utcnow
from sflow.store.models import NodeTemplate
from sflow.store.template_records import RECORD_FIELDS

ORDERINGS = ("name", "popular", "recent")


class TemplateConflictError(SflowError):
    """A user template whose name is taken by a system template."""


def template_record(template: NodeTemplate) -> dict[str, Any]:
    """The template as a plain dict in the library-file format, plus its database identity."""
    record = {name: getattr(template, name) for name in RECORD_FIELDS}
    record.update(
        id=template.id,
        is_system_template=template.is_system_template,
        user_id=template.user_id,
        usage_count=template.usage_count,
    )
    return record


def load_template_records(session: Session, user_id: str) -> list[dict[str, Any]]:
    """System templates and the user's own (not deleted), as records for the flow validator."""
    return TemplateRepository(session, user_id).records()


class TemplateRepository:
    """Query and change the node templates one user can see."""

    def __init__(self, session: Session, user_id: str) -> None:
        self.session = session
        self.user_id = user_id

    def _visible(self) -> sa.ColumnElement[bool]:
        return sa.and_(
            NodeTemplate.is_deleted.is_(False),
            sa.or_(NodeTemplate.is_system_template.is_(True), NodeTemplate.user_id == self.user_id),
        )

    def find(
        self,
        *,
        node_type: str | None = None,
        category: str | None = None,
        system: bool | None = None,
        search: str | None = None,
        order: str = "name",
        limit: int | None = None,
        offset: int = 0,
    ) -> list[NodeTemplate]:
        """Visible templates, filtered; ``system`` True/False keeps only system/own ones."""
        query = sa.select(NodeTemplate).where(self._visible())
        if node_type:
            query = query.where(NodeTemplate.node_type == node_type.upper())
        if category:
            query = query.where(NodeTemplate.category == category.upper())
        if system is not None:
            query = query.where(NodeTemplate.is_system_template.is_(system))
        if search:
            pattern = f"%{search.lower()}%"
            query = query.where(
                sa.or_(
                    sa.func.lower(NodeTemplate.name).like(pattern),
                    sa.func.lower(NodeTemplate.display_name).like(pattern),
                )
            )
        if order not in ORDERINGS:
            raise ValueError(f"order must be one of {ORDERINGS}")
        ordering = {
            "name": (NodeTemplate.name, NodeTemplate.is_system_template.desc()),
            "popular": (NodeTemplate.usage_count.desc(), NodeTemplate.name),
            "recent": (NodeTemplate.created_at.desc(), NodeTemplate.name),
        }[order]
        query = query.order_by(*ordering).offset(offset)
        if limit is not None:
            query = query.limit(limit)
        return list(self.session.scalars(query))

    def get(self, template_id: str) -> NodeTemplate | None:
        """A visible template by id."""
        query = sa.select(NodeTemplate).where(NodeTemplate.id == template_id, self._visible())
        return self.session.scalars(query).first()

    def get_by_name(self, name: str) -> NodeTemplate | None:
        """The template a flow means by ``name``: the system one, else the user's own."""
        query = (
            sa.select(NodeTemplate)
            .where(NodeTemplate.name == name, self._visible())
            .order_by(NodeTemplate.is_system_template.desc())
        )
        return self.session.scalars(query).first()

    def records(self) -> list[dict[str, Any]]:
        """All visible templates as records; on a name clash the system template wins."""
        templates = self.find()
        system_names = {t.name for t in templates if t.is_system_template}
        return [
            template_record(t)
            for t in templates
            if t.is_system_template or t.name not in system_names
        ]

    def add(self, record: Mapping[str, Any]) -> tuple[NodeTemplate, bool]:
        """Add a validated user template, or replace the user's template of that name.

        Returns the template and whether it was created. Raises TemplateConflictError when a
        system template has the name.
        """
        name = record["name"]
        clash = sa.select(NodeTemplate.id).where(
            NodeTemplate.name == name,
            NodeTemplate.is_system_template.is_(True),
            NodeTemplate.is_deleted.is_(False),
        )
        if self.session.scalars(clash).first() is not None:
            raise TemplateConflictError(f"{name!r} is a system template; choose another name")
        own = self.session.scalars(
            sa.select(NodeTemplate).where(
                NodeTemplate.name == name,
                NodeTemplate.user_id == self.user_id,
                NodeTemplate.is_system_template.is_(False),
                NodeTemplate.is_deleted.is_(False),
            )
        ).first()
        created = own is None
        template = own or NodeTemplate(user_id=self.user_id, created_by=self.user_id)
        for field in RECORD_FIELDS:
            if field in record:
                setattr(template, field, record[field])
        template.is_system_template = False
        template.updated_by = self.user_id
        if created:
            self.session.add(template)
        self.session.flush()
        return template, created

    def delete(self, template_id: str) -> bool:
        """Soft-delete one of the user's own templates (system templates cannot be deleted)."""
        template = self.session.scalars(
            sa.select(NodeTemplate).where(
                NodeTemplate.id == template_id,
                NodeTemplate.user_id == self.user_id,
                NodeTemplate.is_system_template.is_(False),
                NodeTemplate.is_deleted.is_(False),
            )
        ).first()
        if template is None:
            return False
        template.soft_delete(self.user_id)
        self.session.flush()
        return True

    def increment_usage(self, names: Iterable[str] | Mapping[str, int]) -> int:
        """Add each name's use count to ``usage_count``: one UPDATE per distinct count."""
        counts = Counter(names) if not isinstance(names, Mapping) else Counter(dict(names))
        by_amount: dict[int, list[str]] = {}
        for name, amount in counts.items():
            if amount > 0:
                by_amount.setdefault(amount, []).append(name)
        updated = 0
        for amount, group in by_amount.items():
            result = self.session.execute(
                sa.update(NodeTemplate)
                .where(NodeTemplate.name.in_(group), self._visible())
                .values(usage_count=NodeTemplate.usage_count + amount, updated_at=utcnow())
                .execution_options(synchronize_session=False)
            )
            updated += result.rowcount or 0
        return updated
