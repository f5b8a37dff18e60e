"""Language features end to end over stdio, under both client capability sets."""

from __future__ import annotations

from lsprotocol import types as T
from pytest_lsp import client_capabilities

from .conftest import Doc

GOLDEN = "golden_cross.sflow"


def labels(result) -> list[str]:
    items = result.items if isinstance(result, T.CompletionList) else result
    return [i.label for i in items]


async def complete(client, doc: Doc, pos: T.Position) -> list[str]:
    return labels(await client.text_document_completion_async(T.CompletionParams(doc.ident, pos)))


async def test_completion_in_half_typed_line(client, workspace):
    doc = Doc.open(client, workspace / GOLDEN)
    await doc.diagnostics()
    end = doc.pos("golden = cross_above(fast, slow)", len("golden = cross_above(fast, slow)"))
    doc.insert(end, "\n    spread = sm")
    got = await complete(client, doc, T.Position(end.line + 1, len("    spread = sm")))
    assert "sma" in got and "fast" in got and "$close" in got and "not" in got
    # inside a call: parameter names, still without a parse of the broken line
    doc.insert(T.Position(end.line + 1, len("    spread = sm")), "a($close, ")
    got = await complete(client, doc, T.Position(end.line + 1, len("    spread = sma($close, ")))
    assert "period=" in got and "slow" in got
    # enum values of a parameter
    line = end.line + 1
    doc.edit(
        T.Position(line, 0),
        T.Position(line, len(doc.text.split("\n")[line])),
        "    p = price(field=",
    )
    got = await complete(client, doc, T.Position(line, len("    p = price(field=")))
    assert {"close", "open", "vwap"} <= set(got)
    # $fields, setting values and keywords at the top level
    doc.edit(T.Position(line, 0), T.Position(line, len(doc.text.split("\n")[line])), "    v = $")
    assert "$volume" in await complete(client, doc, T.Position(line, len("    v = $")))
    uni = doc.pos("universe  csi300", len("universe  "))
    assert "csi500" in await complete(client, doc, uni)
    last = len(doc.text.split("\n")) - 1
    assert {"strategy", "test"} <= set(await complete(client, doc, T.Position(last, 0)))
    doc.insert(T.Position(last, 0), "test again for g")
    assert await complete(client, doc, T.Position(last, 16)) == ["golden_cross"]


async def test_completion_snippets_follow_client_capabilities_and_resolve(client, workspace):
    doc = Doc.open(client, workspace / GOLDEN)
    pos = doc.pos("fast   = sma", len("fast   = "))
    result = await client.text_document_completion_async(T.CompletionParams(doc.ident, pos))
    sma = next(i for i in result.items if i.label == "sma")
    if client.kind == "vscode":
        assert sma.insert_text_format == T.InsertTextFormat.Snippet
        assert "period=${2:20}" in sma.insert_text
    else:
        assert sma.insert_text_format in (None, T.InsertTextFormat.PlainText)
    resolved = await client.completion_item_resolve_async(sma)
    assert "period" in resolved.documentation.value


async def test_hover_template_node_and_signature_help(client, workspace):
    doc = Doc.open(client, workspace / GOLDEN)
    hover = await client.text_document_hover_async(T.HoverParams(doc.ident, doc.pos("sma(", 1)))
    assert "period" in hover.contents.value and "default" in hover.contents.value
    hover = await client.text_document_hover_async(
        T.HoverParams(doc.ident, doc.pos("fast", 1, nth=1))
    )
    assert "Mean($close, 5)" in hover.contents.value and "series" in hover.contents.value
    assert hover.range.start == doc.pos("fast", 0, nth=1)
    help_ = await client.text_document_signature_help_async(
        T.SignatureHelpParams(doc.ident, doc.pos("k=30", 2))
    )
    sig = help_.signatures[0]
    assert sig.label.startswith("topk(")
    assert sig.parameters[help_.active_parameter].label.startswith("k=")
    assert (
        await client.text_document_hover_async(T.HoverParams(doc.ident, T.Position(5, 0))) is None
    )


async def test_diagnostics_after_incremental_edits(client, workspace):
    doc = Doc.open(client, workspace / GOLDEN)
    assert [d for d in await doc.diagnostics() if d.severity == T.DiagnosticSeverity.Error] == []
    start = doc.pos("sma($close, period=20)")
    doc.insert(T.Position(start.line, start.character + 3), "a")  # smaa
    doc.insert(doc.pos("rsi($close"), "x")  # xrsi: two quick edits, one analysis
    diags = await doc.diagnostics()
    codes = {d.code: d for d in diags}
    assert "SF201" in codes
    bad = next(d for d in diags if d.code == "SF201" and "smaa" in d.message)
    assert bad.range.start == start and "did you mean `sma`" in bad.message
    doc.edit(
        T.Position(start.line, start.character), T.Position(start.line, start.character + 4), "sma"
    )
    doc.edit(doc.pos("xrsi"), doc.pos("xrsi", 1), "")
    assert not [d for d in await doc.diagnostics() if d.severity == T.DiagnosticSeverity.Error]


async def test_definition_references_rename_across_file(client, workspace):
    text = (
        (workspace / GOLDEN)
        .read_text()
        .replace(
            "    buy  = signal(",
            '    note = qlib("Mean($close, 5)") + fast  # 😀 fast\n    buy  = signal(',
        )
    )
    text = text.replace('"Golden cross on CSI300"', '"Golden 😀 cross"')
    doc = Doc.open(client, workspace / "unicode.sflow", text)
    ref = doc.pos("+ fast", 2)
    defs = await client.text_document_definition_async(T.DefinitionParams(doc.ident, ref))
    assert defs[0].range.start == doc.pos("fast   =")
    refs = await client.text_document_references_async(
        T.ReferenceParams(
            context=T.ReferenceContext(include_declaration=True),
            text_document=doc.ident,
            position=ref,
        )
    )
    assert len(refs) == 5 and any(r.range.start == ref for r in refs)
    prep = await client.text_document_prepare_rename_async(T.PrepareRenameParams(doc.ident, ref))
    assert prep.placeholder == "fast"
    edit = await client.text_document_rename_async(T.RenameParams(doc.ident, ref, "quick"))
    edits = edit.changes[doc.uri]
    assert len(edits) == 5 and {e.new_text for e in edits} == {"quick"}
    assert any(e.range.start == ref for e in edits)
    try:
        await client.text_document_rename_async(T.RenameParams(doc.ident, ref, "slow"))
        raise AssertionError("renaming onto an existing name must fail")
    except Exception as exc:
        assert "already defined" in str(exc)
    # the strategy name is renamed with the test that refers to it
    sname = doc.pos("golden_cross", 3)
    edit = await client.text_document_rename_async(T.RenameParams(doc.ident, sname, "gc"))
    assert len(edit.changes[doc.uri]) == 2


async def test_symbols_tokens_folding_selection_inlay(client, workspace):
    (workspace / "other.sflow").write_text(
        (workspace / GOLDEN).read_text().replace("golden_cross", "other_cross")
    )
    doc = Doc.open(client, workspace / GOLDEN)
    symbols = await client.text_document_document_symbol_async(T.DocumentSymbolParams(doc.ident))
    assert [s.name for s in symbols] == ["golden_cross", "last_year"]
    assert {"fast", "universe", "stop_loss(…)"} <= {c.name for c in symbols[0].children}
    found = await client.workspace_symbol_async(T.WorkspaceSymbolParams(query="cross"))
    assert {"golden_cross", "other_cross"} <= {s.name for s in found}
    tokens = await client.text_document_semantic_tokens_full_async(
        T.SemanticTokensParams(doc.ident)
    )
    assert len(tokens.data) % 5 == 0 and len(tokens.data) > 100
    ranged = await client.text_document_semantic_tokens_range_async(
        T.SemanticTokensRangeParams(doc.ident, T.Range(T.Position(6, 0), T.Position(7, 0)))
    )
    assert 0 < len(ranged.data) < len(tokens.data)
    folds = await client.text_document_folding_range_async(T.FoldingRangeParams(doc.ident))
    assert any(f.start_line == 2 for f in folds)
    sel = await client.text_document_selection_range_async(
        T.SelectionRangeParams(doc.ident, [doc.pos("period=5", 1)])
    )
    depth, node = 0, sel[0]
    while node is not None:
        depth, node = depth + 1, node.parent
    assert depth >= 4
    hints = await client.text_document_inlay_hint_async(
        T.InlayHintParams(doc.ident, T.Range(T.Position(0, 0), T.Position(30, 0)))
    )
    assert any(h.label == ": series" for h in hints)
    assert any("n_drop" not in str(h.label) and "=" in str(h.label) for h in hints)


async def test_formatting(client, workspace):
    doc = Doc.open(
        client,
        workspace / "messy.sflow",
        'strategy s "t" {\n  universe csi300\n  x=sma( $close,period = 5 )\n}\n',
    )
    edits = await client.text_document_formatting_async(
        T.DocumentFormattingParams(doc.ident, T.FormattingOptions(tab_size=4, insert_spaces=True))
    )
    assert edits and "x = sma($close, period=5)" in edits[0].new_text


async def test_position_encoding_negotiation_utf32(tmp_path, db_url, workspace):
    from .conftest import start, stop

    caps = client_capabilities("visual-studio-code")
    caps.general = T.GeneralClientCapabilities(position_encodings=["utf-32", "utf-16"])
    client = await start("vscode", tmp_path, db_url, workspace, capabilities=caps)
    client.kind = "vscode"
    try:
        assert client.init_result.capabilities.position_encoding == "utf-32"
        text = (
            (workspace / GOLDEN)
            .read_text()
            .replace("    buy  = signal(", '    note = qlib("😀😀") + fast\n    buy  = signal(')
        )
        doc = Doc.open(client, workspace / "utf32.sflow", text)
        line = doc.text.split("\n")[doc.pos("+ fast").line]
        col = line.index("+ fast") + 2  # code points, as utf-32 counts
        hover = await client.text_document_hover_async(
            T.HoverParams(doc.ident, T.Position(doc.pos("+ fast").line, col + 1))
        )
        assert hover.range.start.character == col
    finally:
        await stop(client)


async def test_multi_root_folder_settings(tmp_path, db_url, workspace):
    from .conftest import start, stop

    other = tmp_path / "other"
    other.mkdir()
    (other / "b.sflow").write_text((workspace / GOLDEN).read_text())
    client = await start(
        "neovim", tmp_path, db_url, workspace, folder_settings={other: {"inlayHints": False}}
    )
    client.kind = "neovim"
    try:
        whole = T.Range(T.Position(0, 0), T.Position(30, 0))
        a = Doc.open(client, workspace / GOLDEN)
        b = Doc.open(client, other / "b.sflow")
        await a.diagnostics()
        hints_a = await client.text_document_inlay_hint_async(T.InlayHintParams(a.ident, whole))
        hints_b = await client.text_document_inlay_hint_async(T.InlayHintParams(b.ident, whole))
        assert hints_a and not hints_b
        found = await client.workspace_symbol_async(T.WorkspaceSymbolParams(query="golden"))
        assert {s.location.uri for s in found} >= {a.uri, b.uri}
    finally:
        await stop(client)


def _add_user_template(db_url: str) -> None:
    from sflow.flow.templates import system_library
    from sflow.store import TemplateRepository, make_engine, transaction

    record = dict(system_library()["sma"].record)
    record.update(name="my_smooth", display_name="My smoother", description="Mine: a **smoother**.")
    record.pop("id", None)
    record.pop("is_system_template", None)
    engine = make_engine(db_url)
    try:
        with transaction(engine) as session:
            TemplateRepository(session, "tester").add(record)
    finally:
        engine.dispose()


async def test_user_templates_from_the_database(tmp_path, db_url, workspace):
    import asyncio

    from .conftest import start, stop

    await asyncio.to_thread(_add_user_template, db_url)
    client = await start("vscode", tmp_path, db_url, workspace)
    client.kind = "vscode"
    try:
        text = (
            (workspace / GOLDEN)
            .read_text()
            .replace("sma($close, period=5)", "my_smooth($close, period=5)")
        )
        doc = Doc.open(client, workspace / "mine.sflow", text)
        for _ in range(100):  # the database library replaces the built-in one once loaded
            diags = await doc.diagnostics()
            if not any(d.code == "SF201" for d in diags):
                break
            doc.insert(T.Position(0, 0), " ")
            await asyncio.sleep(0.1)
        assert not any(d.code == "SF201" for d in diags)
        got = await complete(client, doc, doc.pos("slow   =", 9))
        assert "my_smooth" in got
        hover = await client.text_document_hover_async(
            T.HoverParams(doc.ident, doc.pos("my_smooth", 2))
        )
        assert "smoother" in hover.contents.value
    finally:
        await stop(client)
