"""Start-up, initialize, the capability set and the no-heavy-imports invariant."""

from __future__ import annotations

from lsprotocol import types as T

from .conftest import Doc, as_dict


async def test_debug_info_no_heavy_imports(client, workspace):
    doc = Doc.open(client, workspace / "golden_cross.sflow")
    await doc.diagnostics()
    await client.text_document_hover_async(T.HoverParams(doc.ident, doc.pos("sma(")))
    await client.text_document_completion_async(T.CompletionParams(doc.ident, doc.pos("sma(", 4)))
    info = as_dict(await client.protocol.send_request_async("sflow/debugInfo", {}))
    assert info["loaded"] == {"qlib": False, "pandas": False, "numpy": False}
    assert info["documents"] == 1
    assert info["templates"] > 20
