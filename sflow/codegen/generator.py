"""From .sflow text to a validated Python module: the one entry point of code generation.

`generate_for` is what the CLI, the language server and the quick test call. It refuses a file
with errors (raising `GenerationError` with the diagnostics), builds the plan of one strategy,
renders it, validates the code, and (given `Settings`) stores the generation.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sflow import __version__
from sflow.codegen.plan import GenerationError, Plan, build_plan
from sflow.codegen.render import render_module
from sflow.codegen.validator import ValidationResult, validate_code
from sflow.dsl_grammar.diagnostics import Diagnostic
from sflow.flow.logic_json import flow_to_json
from sflow.flow.templates import TemplateLibrary
from sflow.flow.validate import check_text

if TYPE_CHECKING:
    from sflow.config import Settings

GENERATOR = f"sflow {__version__}"
CODE_VERSION = __version__
MAX_SHOWN_DIAGNOSTICS = 20


@dataclass
class Generation:
    """A generated module and what became of it."""

    code: str
    strategy: str
    test: str | None
    module_path: str  # suggested file: `<source stem>_<strategy>.py` next to the source
    validation: ValidationResult
    logic_flow: dict[str, Any]
    parameters: dict[str, Any]
    seconds: float
    generation_id: str | None = None
    duplicate: bool = False
    diagnostics: list[Diagnostic] = field(default_factory=list)  # warnings of the file

    @property
    def status(self) -> str:
        return self.validation.status

    @property
    def code_hash(self) -> str:
        """SHA-256 of the normalized code: the ``code_generations.code_hash`` of this module."""
        from sflow.store.repositories.generations import code_hash

        return code_hash(self.code)


def module_name(source_path: str, strategy: str) -> str:
    return f"{Path(source_path).stem}_{strategy}.py"


def generate_code(
    text: str,
    source_path: str,
    strategy: str | None,
    test: str | None,
    library: TemplateLibrary,
) -> Generation:
    """Generate and validate the module of one strategy of `text` (nothing is stored)."""
    t0 = time.perf_counter()
    result = check_text(text, library)
    if result.errors:
        raise GenerationError(_summary(source_path, result.errors), result.errors)
    name = _pick_strategy(result.document, strategy, test)
    flow = result.flows[name]
    plan: Plan = build_plan(flow, library, result.document.tests, test)
    code = render_module(plan, source=source_path, generator=GENERATOR)
    validation = validate_code(code)
    target = Path(source_path).with_name(module_name(source_path, name))
    return Generation(
        code=code,
        strategy=name,
        test=plan.test_name,
        module_path=str(target),
        validation=validation,
        logic_flow=flow_to_json(flow, library, result.document.tests),
        parameters={"test": plan.test, "nodes": plan.parameters},
        seconds=time.perf_counter() - t0,
        diagnostics=list(result.diagnostics),
    )


def generate_for(
    text: str,
    source_path: str,
    strategy: str | None,
    test: str | None,
    library: TemplateLibrary,
    *,
    store: Settings | None = None,
) -> Generation:
    """Generate, validate and (with `store`) record the module of a strategy of a file.

    The generation is stored against the user's strategy instance of (absolute source path,
    strategy name); an identical module for the same instance is not stored twice (`duplicate`).
    """
    generation = generate_code(text, source_path, strategy, test, library)
    if store is not None:
        from sflow.codegen.storage import record_generation

        record_generation(generation, store, source_path=source_path, source_text=text)
    return generation


def _pick_strategy(document, strategy: str | None, test: str | None) -> str:
    names = [s.name.name for s in document.strategies]
    if strategy is not None:
        if strategy not in names:
            raise GenerationError(
                f"no strategy named `{strategy}` (strategies: {', '.join(names) or 'none'})"
            )
        return strategy
    if test is not None:
        target = next((t.target.name for t in document.tests if t.name.name == test), None)
        if target is None:
            raise GenerationError(f"no test named `{test}`")
        return target
    if len(names) != 1:
        listed = ", ".join(names) or "none"
        raise GenerationError(f"choose a strategy with --strategy (strategies: {listed})")
    return names[0]


def _summary(source_path: str, errors: list[Diagnostic]) -> str:
    lines = [
        f"{source_path}:{d.span.line + 1}:{d.span.col + 1}: error {d.code} {d.message}"
        for d in errors[:MAX_SHOWN_DIAGNOSTICS]
    ]
    if len(errors) > MAX_SHOWN_DIAGNOSTICS:
        lines.append(f"… and {len(errors) - MAX_SHOWN_DIAGNOSTICS} more")
    count = f"{len(errors)} error{'s' * (len(errors) != 1)}"
    return f"{source_path} has {count}; no code generated:\n" + "\n".join(lines)
