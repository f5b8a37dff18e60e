"""Storage: the Strategy Builder's shared schema (seed 001, seed 003), migrations, repositories.

Start here::

    from sflow.store import ensure_database, transaction, TemplateRepository

    engine = ensure_database()            # configured URL; migrated and seeded on first use
    with transaction(engine) as session:  # the caller owns the transaction
        templates = TemplateRepository(session, user_id).find(node_type="INDICATOR")
"""

from sflow.store.database import ensure_database, forget_engines
from sflow.store.engine import make_engine, session_factory, transaction
from sflow.store.models import (
    BuilderSession,
    CodeGeneration,
    NodeTemplate,
    NodeType,
    QuickTest,
    QuickTestStatus,
    SessionType,
    StrategyInstance,
    StrategyStatus,
    StrategyTemplate,
    ValidationStatus,
)
from sflow.store.repositories import (
    DEFAULT_SESSION_TTL,
    BuilderSessionRepository,
    CodeGenerationRepository,
    DraftSnapshot,
    QuickTestRepository,
    StrategyInstanceRepository,
    StrategyRunRepository,
    TemplateConflictError,
    TemplateRepository,
    code_hash,
    document_session_id,
    load_template_records,
    template_record,
)
from sflow.store.runs import SchemaMeta, StrategyExecutionProgress, StrategyResult, StrategyRun

__all__ = [
    "DEFAULT_SESSION_TTL",
    "BuilderSession",
    "BuilderSessionRepository",
    "CodeGeneration",
    "CodeGenerationRepository",
    "DraftSnapshot",
    "NodeTemplate",
    "NodeType",
    "QuickTest",
    "QuickTestRepository",
    "QuickTestStatus",
    "SchemaMeta",
    "SessionType",
    "StrategyExecutionProgress",
    "StrategyInstance",
    "StrategyInstanceRepository",
    "StrategyResult",
    "StrategyRun",
    "StrategyRunRepository",
    "StrategyStatus",
    "StrategyTemplate",
    "TemplateConflictError",
    "TemplateRepository",
    "ValidationStatus",
    "code_hash",
    "document_session_id",
    "ensure_database",
    "forget_engines",
    "load_template_records",
    "make_engine",
    "session_factory",
    "template_record",
    "transaction",
]
