"""`rewardc lsp` driven as an editor drives it: a real LSP client (pytest-lsp, on pygls) talking
to `python -m rewardlang.cli lsp` in a subprocess over stdio.

initialize -> didOpen -> publishDiagnostics -> hover -> completion -> definition/references ->
formatting -> documentSymbol -> didChange -> shutdown/exit. Every answer is compared with what
the front end itself says about the same text (`rewardc check --format json`, `rewardc fmt`).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("pygls")
pytest_lsp = pytest.importorskip("pytest_lsp")
from lsprotocol import types as lsp  # noqa: E402
from pytest_lsp import ClientServerConfig, LanguageClient  # noqa: E402

SPEC = """\
reward demo "a demo"
rule brief: length ..120 words { outside 0.5 }
rule topic: relevance to last_usr
rule 😀: banned "idiot"
total = brief + 2 * topic + missing
gate brief < 0.5 then 0
"""


def capabilities(encodings: list[lsp.PositionEncodingKind] | None = None) -> lsp.ClientCapabilities:
    return lsp.ClientCapabilities(
        general=lsp.GeneralClientCapabilities(position_encodings=encodings) if encodings else None,
        text_document=lsp.TextDocumentClientCapabilities(
            hover=lsp.HoverClientCapabilities(content_format=[lsp.MarkupKind.Markdown, lsp.MarkupKind.PlainText]),
            completion=lsp.CompletionClientCapabilities(completion_item=lsp.ClientCompletionItemOptions(
                documentation_format=[lsp.MarkupKind.Markdown, lsp.MarkupKind.PlainText])),
            document_symbol=lsp.DocumentSymbolClientCapabilities(hierarchical_document_symbol_support=True),
            publish_diagnostics=lsp.PublishDiagnosticsClientCapabilities(related_information=True),
        ),
    )


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "rewardlang.cli", "lsp"]))
async def client(lsp_client: LanguageClient):  # type: ignore[no-untyped-def]
    await lsp_client.initialize_session(lsp.InitializeParams(capabilities=capabilities()))
    yield
    await lsp_client.shutdown_session()


async def open_spec(client: LanguageClient, uri: str, text: str) -> list[lsp.Diagnostic]:
    client.text_document_did_open(
        lsp.DidOpenTextDocumentParams(lsp.TextDocumentItem(uri=uri, language_id="reward", version=1, text=text))
    )
    await client.wait_for_notification(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    return list(client.diagnostics[uri])


def check_json(path: Path) -> list[dict[str, object]]:
    proc = subprocess.run([sys.executable, "-m", "rewardlang.cli", "check", "--format", "json", str(path)],
                          capture_output=True, text=True, timeout=120)
    return json.loads(proc.stdout)


def as_list(result: object) -> list[object]:
    """An answer that is a list (JSON arrays arrive as tuples); None is not one."""
    assert isinstance(result, list | tuple), result
    return list(result)


def utf16_column(line: str, column: int) -> int:
    """The UTF-16 offset of 1-based code point column `column` of `line`."""
    return len(line[: column - 1].encode("utf-16-le")) // 2


@pytest.mark.asyncio
async def test_a_session_as_an_editor_has_it(client: LanguageClient, tmp_path: Path) -> None:
    path = tmp_path / "demo.reward"
    path.write_text(SPEC, encoding="utf-8")
    uri = path.as_uri()
    found = await open_spec(client, uri, SPEC)

    # Diagnostics: the codes, spans and help of `rewardc check`, spans in UTF-16 code units.
    expected = check_json(path)
    assert [d.code for d in found] == [d["code"] for d in expected] == ["RL110", "RL004", "RL111", "RL209"]
    lines = SPEC.split("\n")
    for got, want in zip(found, expected, strict=True):
        span = want["span"]
        assert isinstance(span, dict)
        assert got.range == lsp.Range(
            lsp.Position(span["line"] - 1, utf16_column(lines[span["line"] - 1], span["column"])),
            lsp.Position(span["end_line"] - 1, utf16_column(lines[span["end_line"] - 1], span["end_column"])),
        )
        assert got.message.split("\n")[0] == want["message"]
        assert got.source == "rewardc"
        if want["help"]:
            assert f"help: {want['help']}" in got.message.split("\n")
    assert found[0].message == (
        "unknown target `last_usr`\nexpected `last_user`, `prompt`, `system` or `column NAME`\n"
        "help: did you mean `last_user`?"
    )
    assert found[0].severity == lsp.DiagnosticSeverity.Error
    # The emoji is one code point but two UTF-16 units: the range ends at character 7, not 6.
    assert found[1].range == lsp.Range(lsp.Position(3, 5), lsp.Position(3, 7))
    assert found[3].severity == lsp.DiagnosticSeverity.Warning

    # Hover: a kind, an option, a target, a keyword, a rule name in the formula.
    hover = await client.text_document_hover_async(
        lsp.HoverParams(lsp.TextDocumentIdentifier(uri), lsp.Position(1, 14)))
    assert hover is not None and isinstance(hover.contents, lsp.MarkupContent)
    assert hover.contents.value.startswith("**`length RANGE UNIT`** (rule kind)")
    assert hover.range == lsp.Range(lsp.Position(1, 12), lsp.Position(1, 18))
    hover = await client.text_document_hover_async(
        lsp.HoverParams(lsp.TextDocumentIdentifier(uri), lsp.Position(1, 35)))
    assert hover is not None and isinstance(hover.contents, lsp.MarkupContent)
    assert hover.contents.value.startswith("**`outside`** (option of `length`)\n\nValue: a number, -100..100")
    hover = await client.text_document_hover_async(
        lsp.HoverParams(lsp.TextDocumentIdentifier(uri), lsp.Position(5, 2)))
    assert hover is not None and isinstance(hover.contents, lsp.MarkupContent)
    assert 'gate: "gate" NAME COMPARISON number ("then" number)?' in hover.contents.value
    assert "error[RL209]" not in hover.contents.value  # the warning's span is the threshold, not `gate`

    # Completion: the kinds after `rule NAME:`, the options of the rule at the cursor.
    edited = SPEC + "rule extra: \n"
    client.text_document_did_change(lsp.DidChangeTextDocumentParams(
        lsp.VersionedTextDocumentIdentifier(uri=uri, version=2),
        [lsp.TextDocumentContentChangeWholeDocument(text=edited)],
    ))
    await client.wait_for_notification(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    path.write_text(edited, encoding="utf-8")
    assert [d.code for d in client.diagnostics[uri]] == [d["code"] for d in check_json(path)]  # as check says
    result = await client.text_document_completion_async(
        lsp.CompletionParams(lsp.TextDocumentIdentifier(uri), lsp.Position(6, 12)))
    assert isinstance(result, lsp.CompletionList)
    labels = [item.label for item in result.items]
    assert {"length", "relevance", "judge", "brevity"} <= set(labels) and "weight" not in labels
    result = await client.text_document_completion_async(
        lsp.CompletionParams(lsp.TextDocumentIdentifier(uri), lsp.Position(1, 32)))
    assert isinstance(result, lsp.CompletionList)
    assert [item.label for item in result.items] == ["outside", "ramp", "scope", "weight", "when"]

    # Definition and references of `brief`, from its use in the formula.
    where = lsp.TextDocumentIdentifier(uri)
    definition = await client.text_document_definition_async(lsp.DefinitionParams(where, lsp.Position(4, 9)))
    assert as_list(definition) == [lsp.Location(uri, lsp.Range(lsp.Position(1, 5), lsp.Position(1, 10)))]
    references = await client.text_document_references_async(
        lsp.ReferenceParams(text_document=where, position=lsp.Position(1, 6),
                            context=lsp.ReferenceContext(include_declaration=True)))
    assert [(r.range.start.line, r.range.start.character) for r in references or []] == [(1, 5), (4, 8), (5, 5)]

    # Document symbols: the rules that parsed.
    symbols = await client.text_document_document_symbol_async(lsp.DocumentSymbolParams(where))
    assert [(s.name, s.detail) for s in symbols or [] if isinstance(s, lsp.DocumentSymbol)] == [
        ("brief", "length"), ("topic", "relevance")]

    # Formatting: nothing while the text does not parse; `rewardc fmt`'s output once it does.
    options = lsp.FormattingOptions(tab_size=4, insert_spaces=True)
    assert as_list(await client.text_document_formatting_async(
        lsp.DocumentFormattingParams(text_document=where, options=options))) == []
    messy = "reward  demo\nrule brief :length ..120 words{outside 0.5}\n"
    client.text_document_did_change(lsp.DidChangeTextDocumentParams(
        lsp.VersionedTextDocumentIdentifier(uri=uri, version=3),
        [lsp.TextDocumentContentChangeWholeDocument(text=messy)],
    ))
    await client.wait_for_notification(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    assert list(client.diagnostics[uri]) == []
    path.write_text(messy, encoding="utf-8")
    formatted = subprocess.run([sys.executable, "-m", "rewardlang.cli", "fmt", str(path)],
                               capture_output=True, text=True, timeout=120).stdout
    edits = await client.text_document_formatting_async(
        lsp.DocumentFormattingParams(text_document=where, options=options))
    assert as_list(edits) == [lsp.TextEdit(lsp.Range(lsp.Position(0, 0), lsp.Position(2, 0)), formatted)]
    assert formatted == "reward demo\n\nrule brief: length ..120 words { outside 0.5 }\n"


@pytest.mark.asyncio
async def test_questions_about_nothing_get_empty_answers_and_the_server_carries_on(
    client: LanguageClient, tmp_path: Path,
) -> None:
    uri = (tmp_path / "odd.reward").as_uri()
    assert [d.code for d in await open_spec(client, uri, "\x00\ufffe}{ rule rule :: \"unclosed\n")] != []
    where = lsp.TextDocumentIdentifier(uri)
    far = lsp.Position(1000, 1000)
    assert await client.text_document_hover_async(lsp.HoverParams(where, far)) is None
    assert as_list(await client.text_document_definition_async(lsp.DefinitionParams(where, far))) == []
    in_the_open_string = lsp.Position(0, 20)
    result = await client.text_document_completion_async(lsp.CompletionParams(where, in_the_open_string))
    assert isinstance(result, lsp.CompletionList) and list(result.items) == []
    # A document the editor never opened: the handler's failure is logged, the answer is empty.
    unknown = lsp.TextDocumentIdentifier((tmp_path / "never-opened.reward").as_uri())
    assert as_list(await client.text_document_document_symbol_async(lsp.DocumentSymbolParams(unknown))) == []
    assert [m.message for m in client.log_messages if m.type == lsp.MessageType.Error] == [
        "rewardc lsp: document_symbols failed: FileNotFoundError(2, 'No such file or directory')"]
    # ... and the server still answers.
    hover = await client.text_document_hover_async(lsp.HoverParams(where, lsp.Position(0, 12)))
    assert hover is not None and isinstance(hover.contents, lsp.MarkupContent)
    assert hover.contents.value.startswith("**`rule`** (keyword)")


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "rewardlang.cli", "lsp"]))
async def utf8_client(lsp_client: LanguageClient):  # type: ignore[no-untyped-def]
    utf8 = capabilities([lsp.PositionEncodingKind.Utf8])
    await lsp_client.initialize_session(lsp.InitializeParams(capabilities=utf8))
    yield
    await lsp_client.shutdown_session()


@pytest.mark.asyncio
async def test_the_position_encoding_the_client_asks_for(utf8_client: LanguageClient, tmp_path: Path) -> None:
    uri = (tmp_path / "utf8.reward").as_uri()
    found = await open_spec(utf8_client, uri, "reward x\nrule 😀: banned \"a\"\n")
    # The emoji is 4 UTF-8 code units.
    assert [(d.code, d.range) for d in found] == [
        ("RL004", lsp.Range(lsp.Position(1, 5), lsp.Position(1, 9)))]


async def barrier(client: LanguageClient, uri: str) -> None:
    """A request answered after every notification the server sent before it (it handles messages in order)."""
    await client.text_document_document_symbol_async(lsp.DocumentSymbolParams(lsp.TextDocumentIdentifier(uri)))


@pytest.mark.asyncio
async def test_an_examples_files_problems_go_to_that_file_and_go_away(client: LanguageClient, tmp_path: Path) -> None:
    cases = tmp_path / "cases.jsonl"
    cases.write_text('{"completion": "x", "expect": {"nosuch": 1}}\n', encoding="utf-8")
    spec = tmp_path / "spec.reward"
    text = 'reward x\nrule brief: length ..3 words\nexamples "cases.jsonl"\n'
    spec.write_text(text, encoding="utf-8")
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(
        lsp.TextDocumentItem(uri=spec.as_uri(), language_id="reward", version=1, text=text)))
    await barrier(client, spec.as_uri())
    assert list(client.diagnostics[spec.as_uri()]) == []
    want = [d for d in check_json(spec) if d["file"] != str(spec)]
    assert [d.code for d in client.diagnostics[cases.as_uri()]] == [d["code"] for d in want] == ["RL111"]
    # Fixed and saved: the examples file's diagnostics are cleared.
    cases.write_text('{"completion": "x", "expect": {"brief": 1}}\n', encoding="utf-8")
    client.text_document_did_save(lsp.DidSaveTextDocumentParams(lsp.TextDocumentIdentifier(spec.as_uri())))
    await barrier(client, spec.as_uri())
    assert list(client.diagnostics[cases.as_uri()]) == []
    assert list(client.diagnostics[spec.as_uri()]) == []
