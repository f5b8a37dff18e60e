"""Semantic layer for settings and test blocks: known keys, value kinds, periods and dates."""

from __future__ import annotations

import difflib
from datetime import date

from sflow.dsl_grammar import ast as A
from sflow.dsl_grammar.diagnostics import Diagnostic, error, warning

PERIODS = ("1M", "3M", "6M", "1Y", "2Y")
TRADING_DAYS = {"D": 1, "W": 5, "M": 21, "Y": 252}
DEAL_PRICES = ("close", "open", "vwap")
STRATEGY_SETTINGS = {"universe": "name", "benchmark": "name"}
TEST_SETTINGS = {
    "period": "duration",
    "start": "date",
    "end": "date",
    "account": "number",
    "open_cost": "number",
    "close_cost": "number",
    "min_cost": "number",
    "deal_price": "name",
    "limit_threshold": "number",
    "universe": "name",
    "benchmark": "name",
}
_KIND = {"name": A.Name, "duration": A.Duration, "date": A.Date, "number": A.Number}
_KIND_TEXT = {
    "name": "a name",
    "duration": "a period such as 1Y",
    "date": "a date (YYYY-MM-DD)",
    "number": "a number",
}
_NUMBER_RANGES = {
    "account": (0, None, "a positive amount"),
    "open_cost": (0, 0.1, "a fraction between 0 and 0.1"),
    "close_cost": (0, 0.1, "a fraction between 0 and 0.1"),
    "min_cost": (0, None, "an amount ≥ 0"),
    "limit_threshold": (0, 1, "a fraction between 0 and 1"),
}


def _settings(
    settings: tuple[A.Setting, ...], allowed: dict[str, str], where: str
) -> list[Diagnostic]:
    diags: list[Diagnostic] = []
    seen: dict[str, A.Setting] = {}
    for s in settings:
        key = s.key.name
        if key not in allowed:
            hint = difflib.get_close_matches(key, list(allowed), n=1, cutoff=0.6)
            message = f"unknown {where} setting `{key}`"
            message += f"; did you mean `{hint[0]}`?" if hint else f" (known: {', '.join(allowed)})"
            diags.append(error("SF507", message, s.key.span, suggestions=hint))
            continue
        if key in seen:
            diags.append(
                error(
                    "SF508", f"`{key}` is already set on line {seen[key].span.line + 1}", s.key.span
                )
            )
            continue
        seen[key] = s
        kind = allowed[key]
        if not isinstance(s.value, _KIND[kind]):
            diags.append(error("SF509", f"`{key}` takes {_KIND_TEXT[kind]}", s.value.span))
            continue
        if kind == "date" and s.value.value == date.min:
            diags.append(error("SF505", f"`{s.value.text}` is not a valid date", s.value.span))
        if key in _NUMBER_RANGES:
            low, high, text = _NUMBER_RANGES[key]
            v = s.value.value
            if v < low or (high is not None and v > high) or (key == "account" and v == 0):
                diags.append(error("SF509", f"`{key}` must be {text}", s.value.span))
        if key == "deal_price" and s.value.ident.name not in DEAL_PRICES:
            diags.append(
                error(
                    "SF509", f"`deal_price` must be one of {', '.join(DEAL_PRICES)}", s.value.span
                )
            )
    return diags


def settings_diagnostics(strategy: A.Strategy) -> list[Diagnostic]:
    return _settings(strategy.settings, STRATEGY_SETTINGS, "strategy")


def test_period_days(test: A.Test) -> int | None:
    """Trading days the test covers (approximate for periods), None when unknown."""
    values = {s.key.name: s.value for s in test.settings}
    period, start, end = values.get("period"), values.get("start"), values.get("end")
    if (
        isinstance(start, A.Date)
        and isinstance(end, A.Date)
        and start.value != date.min != end.value
    ):
        return max(0, (end.value - start.value).days * 5 // 7)
    if isinstance(period, A.Duration) and period.unit in TRADING_DAYS:
        return period.amount * TRADING_DAYS[period.unit]
    return None


def test_diagnostics(test: A.Test, lookbacks: dict[str, int]) -> list[Diagnostic]:
    diags = _settings(test.settings, TEST_SETTINGS, "test")
    target = test.target.name
    if target not in lookbacks:
        hint = difflib.get_close_matches(target, list(lookbacks), n=1, cutoff=0.6)
        message = f"no strategy named `{target}` in this file"
        if hint:
            message += f"; did you mean `{hint[0]}`?"
        diags.append(error("SF503", message, test.target.span, suggestions=hint))
    values = {s.key.name: s for s in test.settings}
    period = values.get("period")
    if (
        period is not None
        and isinstance(period.value, A.Duration)
        and period.value.text not in PERIODS
    ):
        diags.append(
            error("SF504", f"period must be one of {', '.join(PERIODS)}", period.value.span)
        )
    if period is not None and "start" in values:
        diags.append(
            error("SF509", "give either `period` or `start`, not both", values["start"].key.span)
        )
    start, end = values.get("start"), values.get("end")
    if (
        start is not None
        and end is not None
        and isinstance(start.value, A.Date)
        and isinstance(end.value, A.Date)
        and start.value.value != date.min
        and end.value.value != date.min
        and start.value.value >= end.value.value
    ):
        diags.append(error("SF505", "`start` must be before `end`", start.value.span))
    days = test_period_days(test)
    lookback = lookbacks.get(target)
    if days is not None and lookback is not None and lookback > days:
        anchor = period or start or end
        span = anchor.span if anchor is not None else test.name.span
        diags.append(
            warning(
                "SF506",
                f"`{target}` looks back {lookback} trading days but the test covers about {days}; "
                "early signals rest on incomplete windows",
                span,
            )
        )
    return diags
