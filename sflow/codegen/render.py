"""Render a codegen plan into Python source with the package's Jinja2 templates.

Every value a template prints goes through the `py` filter: a Python literal (str, number, bool,
None) written the way `ruff format` writes it. Anything else raises, so no user text and no
object repr can be spliced into the module.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import jinja2

from sflow.codegen.plan import GenerationError, Plan

TEMPLATE_PACKAGE = "sflow.codegen"
BASE_TEMPLATE = "module.py.j2"


def py_literal(value: Any) -> str:
    """A Python literal for a str/int/float/bool/None, double-quoted as ruff formats strings."""
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise GenerationError(f"cannot emit the number {value!r}")
        return repr(value)
    if isinstance(value, str):
        text = repr(value)
        if text.startswith("'") and '"' not in value:
            text = '"' + text[1:-1] + '"'  # repr escaped everything but the quote character
        return text
    raise GenerationError(f"cannot emit a {type(value).__name__} as a literal")


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader(TEMPLATE_PACKAGE, "templates"),
        autoescape=False,  # Python source: every value goes through `py` instead
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["py"] = py_literal
    return env


def render_module(plan: Plan, *, source: str, generator: str) -> str:
    """The module text of a plan (deterministic: same plan, same text)."""
    template = environment().get_template(BASE_TEMPLATE)
    return template.render(
        generator=generator,
        source=source,
        strategy=plan.strategy,
        test_name=plan.test_name,
        test=plan.test,
        nodes=plan.nodes,
        expressions=plan.expressions,
        signals=plan.signals,
        position=plan.position,
        exits=plan.exits,
        pure_topk=plan.pure_topk,
        needs_close=plan.needs_close,
    )
