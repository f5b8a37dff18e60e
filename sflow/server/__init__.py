"""The sflow language server (`sflow-lsp`): pygls handlers over the language core and the store.

Code map (read in this order):

- ``__main__``: ``--stdio`` / ``--tcp HOST:PORT`` / ``--check``; calls ``app.serve``.
- ``app``: the ``SflowServer`` (state, settings, template library, debounced diagnostics per
  document version, autosave, save → strategy instances) and the ``guard`` decorators.
- ``handlers`` / ``command_handlers``: one thin handler per LSP method or command, ``ls`` first.
- ``documents``: the per-version ``Analysis`` (text, lines, parse + validation result, flows),
  computed in a thread and shared by every feature.
- ``convert``: positions (code points ↔ the negotiated UTF-16/UTF-32/UTF-8), diagnostics, symbols.
- ``settings``: the typed settings (camelCase on the wire; bad values → warning + default).
- ``store_bridge``: all database access, failure-tolerant (built-in templates, no autosave).
- ``features/``: completion, hover + signature help, navigation, structure (tokens, folding,
  selection, inlay hints, formatting), actions (quick fixes, code lens), commands (progress,
  cancellation, adapters to ``sflow.codegen`` and ``sflow.backtest``), plus the shared ``index``
  of names and ``cursor`` (context of half-typed text).

Invariants: only this package imports pygls/lsprotocol; qlib, pandas and numpy are never
imported by the server (``sflow/debugInfo`` reports it; a test checks it); handlers never parse
on their own except ``expected_at`` on the cursor's statement; long work runs off the event loop.

Start-up is kept fast: SQLAlchemy loads in a thread after ``initialized``, and jsonschema's
optional IRI-format helper (``rfc3987_syntax``, which compiles a large grammar at import: seconds
of start-up) is kept out; no template schema uses the ``iri`` formats.
"""

import sys

sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
