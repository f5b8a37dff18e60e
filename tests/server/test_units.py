"""In-process tests of the server's pure parts: position encodings, settings, cursor context."""

from __future__ import annotations

import pytest
from lsprotocol import types as T

from sflow.dsl_grammar.ast import Span
from sflow.server.convert import Positions
from sflow.server.features import cursor
from sflow.server.settings import ServerSettings

LINE = 'x = qlib("é😀") + fast'


@pytest.mark.parametrize(
    ("encoding", "col_fast"),
    [
        ("utf-32", LINE.index("fast")),
        ("utf-16", LINE.index("fast") + 1),
        ("utf-8", LINE.index("fast") + 1 + 3),
    ],
)
def test_positions_round_trip(encoding, col_fast):
    pos = Positions([LINE], encoding)
    start = LINE.index("fast")
    assert pos.to_client_col(0, start) == col_fast
    assert pos.from_client_col(0, col_fast) == start
    assert pos.range(Span(0, start, 0, start + 4)) == T.Range(
        T.Position(0, col_fast), T.Position(0, col_fast + 4)
    )
    # a position inside a surrogate pair / multi-byte character snaps to its start
    emoji = LINE.index("😀")
    assert pos.from_client_col(0, pos.to_client_col(0, emoji) + 1) in (emoji, emoji + 1)
    # past the end of a line and on a missing line: never raises
    assert pos.from_client_col(0, 999) == len(LINE)
    assert pos.to_client_col(5, 3) == 3


def test_settings_from_wire_bad_values_warn_and_default():
    s = ServerSettings.from_wire(
        {"databaseUrl": "sqlite://", "diagnosticsDebounceMs": -5, "inlayHints": "yes", "extra": 1}
    )
    assert s.database_url == "sqlite://"
    assert s.diagnostics_debounce_ms == 250 and s.inlay_hints is True
    assert len(s.warnings) == 2
    nested = ServerSettings.from_wire({"sflow": {"userId": "ann", "autosaveDelayMs": 10}})
    assert nested.user_id == "ann" and nested.autosave_delay_ms == 10
    assert ServerSettings.from_wire("nonsense").warnings


def test_enclosing_call_and_statement_prefix():
    call = cursor.enclosing_call("x = topk(buy, sell=sell, k=3, n_drop=")
    assert call.func == "topk" and call.kwarg == "n_drop" and call.used == {"sell", "k"}
    assert call.arg_index == 1
    call = cursor.enclosing_call('x = sma(qlib("Mean(")')
    assert call.func == "sma" and call.arg_index == 0
    assert cursor.enclosing_call("x = sma($close) + ") is None
    lines = ['strategy s "t" {', "    a = sma(", "        $close,", "    )", "    b = ema("]
    assert cursor.statement_prefix(lines, 4, 12, 0) == 'strategy s "t" {\n    b = ema('
    lines = ["test t for s {", "    period 1Y", "}", ""]
    assert cursor.statement_prefix(lines, 3, 0, 0).endswith("}\n")
