"""`rewardc lsp`: the language server, on standard input and output (pygls).

Only the wiring lives here: each request or notification reads the open document from
pygls's workspace and hands its text to a pure function of `rewardlang.lsp_features`.
A handler that fails (a bug, never a spec: the front end reports specs) is logged, to
standard error and to the editor's log, and answers "nothing": the server keeps serving.
pygls and lsprotocol are the `lsp` extra: `pip install 'rewardlang[lsp]'`.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Sequence
from typing import Any, TypeVar, cast

from lsprotocol import types as lsp
from pygls.capabilities import get_capability
from pygls.lsp.server import LanguageServer

from rewardlang import __version__, lsp_features
from rewardlang.lsp_features import Document

logger = logging.getLogger("rewardlang.lsp")
Handler = TypeVar("Handler", bound=Callable[..., Any])

server = LanguageServer("rewardc", __version__, text_document_sync_kind=lsp.TextDocumentSyncKind.Full)
_documents: dict[tuple[str, int | None], Document] = {}  # (uri, version) -> its analysed document
_other_files: dict[str, set[str]] = {}  # a spec's URI -> the other files (examples files) it last put diagnostics on


def _document(uri: str) -> Document:
    """The open document at `uri`, analysed once per version."""
    text_document = server.workspace.get_text_document(uri)
    key = (uri, text_document.version)
    document = _documents.get(key)
    if document is None:
        _forget(uri)
        chosen = server.workspace.position_encoding or lsp.PositionEncodingKind.Utf16
        encoding = chosen.value if isinstance(chosen, lsp.PositionEncodingKind) else chosen
        document = _documents[key] = Document(text_document.source, lsp_features.path_of(uri), encoding)
    return document


def _forget(uri: str) -> None:
    for old in [old for old in _documents if old[0] == uri]:
        del _documents[old]


def _guarded(empty: Callable[[], object]) -> Callable[[Handler], Handler]:
    """A handler that logs its own failure and answers `empty()` (no answer, no edits) instead."""

    def wrap(handler: Handler) -> Handler:
        @functools.wraps(handler)
        def guarded(*args: Any) -> Any:
            try:
                return handler(*args)
            except Exception as exc:  # a bug in one answer must not stop the server
                logger.exception("%s failed", handler.__name__)
                try:
                    server.window_log_message(
                        lsp.LogMessageParams(lsp.MessageType.Error, f"rewardc lsp: {handler.__name__} failed: {exc!r}")
                    )
                except Exception:  # noqa: BLE001 - no client to tell: the log above has it
                    logger.debug("could not send the log message")
                return empty()

        return cast(Handler, guarded)

    return wrap


def _nothing() -> None:
    return None


def _reads_markdown(formats: Sequence[lsp.MarkupKind] | None) -> bool:
    """Whether the client said it reads Markdown (a client that says nothing gets plain text)."""
    return formats is not None and lsp.MarkupKind.Markdown in formats


def _publish(uri: str) -> None:
    """The spec's diagnostics, and its examples files'; a file that has none now is cleared."""
    found = lsp_features.diagnostics(_document(uri), uri)
    for target in _other_files.get(uri, set()) - set(found):
        found[target] = []
    _other_files[uri] = set(found) - {uri}
    for target, diagnostics in found.items():
        server.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=target, diagnostics=diagnostics))


@server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
@_guarded(_nothing)
def did_open(params: lsp.DidOpenTextDocumentParams) -> None:
    _publish(params.text_document.uri)


@server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
@_guarded(_nothing)
def did_change(params: lsp.DidChangeTextDocumentParams) -> None:
    _publish(params.text_document.uri)


@server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
@_guarded(_nothing)
def did_save(params: lsp.DidSaveTextDocumentParams) -> None:
    _forget(params.text_document.uri)  # a file the spec names (an examples file) may have changed: read again
    _publish(params.text_document.uri)


@server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
@_guarded(_nothing)
def did_close(params: lsp.DidCloseTextDocumentParams) -> None:
    uri = params.text_document.uri
    _forget(uri)
    for target in {uri, *_other_files.pop(uri, set())}:
        server.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=target, diagnostics=[]))


@server.feature(lsp.TEXT_DOCUMENT_HOVER)
@_guarded(_nothing)
def hover(params: lsp.HoverParams) -> lsp.Hover | None:
    markdown = _reads_markdown(get_capability(server.client_capabilities, "text_document.hover.content_format"))
    return lsp_features.hover(_document(params.text_document.uri), params.position, markdown)


@server.feature(lsp.TEXT_DOCUMENT_COMPLETION, lsp.CompletionOptions(trigger_characters=[":", "{", "="]))
@_guarded(_nothing)
def completion(params: lsp.CompletionParams) -> lsp.CompletionList:
    capabilities = server.client_capabilities
    markdown = _reads_markdown(
        get_capability(capabilities, "text_document.completion.completion_item.documentation_format"))
    items = lsp_features.completion(_document(params.text_document.uri), params.position, markdown)
    return lsp.CompletionList(is_incomplete=False, items=items)


@server.feature(lsp.TEXT_DOCUMENT_DEFINITION)
@_guarded(list)
def definition(params: lsp.DefinitionParams) -> list[lsp.Location]:
    uri = params.text_document.uri
    return lsp_features.definition(_document(uri), params.position, uri)


@server.feature(lsp.TEXT_DOCUMENT_REFERENCES)
@_guarded(list)
def references(params: lsp.ReferenceParams) -> list[lsp.Location]:
    uri = params.text_document.uri
    return lsp_features.find_references(_document(uri), params.position, uri, params.context.include_declaration)


@server.feature(lsp.TEXT_DOCUMENT_FORMATTING)
@_guarded(list)
def formatting(params: lsp.DocumentFormattingParams) -> list[lsp.TextEdit]:
    return lsp_features.formatting(_document(params.text_document.uri))


@server.feature(lsp.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
@_guarded(list)
def document_symbols(params: lsp.DocumentSymbolParams) -> list[lsp.DocumentSymbol]:
    return lsp_features.symbols(_document(params.text_document.uri))


def serve() -> None:
    """Serve one editor on standard input and output until it says `exit`."""
    server.start_io()
