"""Repositories: one per table group, each bound to a Session and a user_id.

Every query a repository runs is scoped to its user (and, for node templates, to system templates
as well). Repositories flush but never commit: the caller owns the transaction
(see :func:`sflow.store.engine.transaction`).
"""

from sflow.store.repositories.generations import CodeGenerationRepository, code_hash
from sflow.store.repositories.instances import StrategyInstanceRepository
from sflow.store.repositories.quick_tests import QuickTestRepository
from sflow.store.repositories.runs import StrategyRunRepository
from sflow.store.repositories.sessions import (
    DEFAULT_SESSION_TTL,
    BuilderSessionRepository,
    DraftSnapshot,
    document_session_id,
)
from sflow.store.repositories.templates import (
    TemplateConflictError,
    TemplateRepository,
    load_template_records,
    template_record,
)

__all__ = [
    "DEFAULT_SESSION_TTL",
    "BuilderSessionRepository",
    "CodeGenerationRepository",
    "DraftSnapshot",
    "QuickTestRepository",
    "StrategyInstanceRepository",
    "StrategyRunRepository",
    "TemplateConflictError",
    "TemplateRepository",
    "code_hash",
    "document_session_id",
    "load_template_records",
    "template_record",
]
