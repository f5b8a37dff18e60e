"""The sflow language server (`sflow-lsp`): pygls handlers over the language core and the store.

Start-up is kept fast: qlib, pandas and numpy are never imported here, SQLAlchemy loads in a
thread after `initialized`, and jsonschema's optional IRI-format helper (`rfc3987_syntax`,
which compiles a large grammar at import, seconds of start-up) is kept out: no template schema
uses the `iri` formats.
"""

import sys

sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
