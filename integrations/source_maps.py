"""Reading uploaded source maps with Sentry's `symbolic` (its Rust source-map reader, the one Sentry
symbolicates JavaScript with).

An upload is either the reference CLI's bundle (`posthog_error_tracking` magic, version, type 2,
then the minified source and its map, each prefixed by its length as 8 little-endian bytes) or a
bare source map (JSON). With the minified source, function names come from the original code's
scopes (`SourceMapCache`); with the map alone, from the map's names at that position.
"""

from __future__ import annotations

from dataclasses import dataclass

from symbolic.exceptions import SymbolicError
from symbolic.sourcemap import SourceMapView
from symbolic.sourcemapcache import SourceMapCache

from pipeline.errors import InvalidField
from pipeline.stack_frames import Original

JS_DATA_MAGIC = b"posthog_error_tracking"
JS_DATA_SOURCE_AND_MAP = 2


@dataclass(frozen=True)
class SymbolSetContent:
    """What an upload holds: the source map, and the minified file it maps when it came along."""

    source_map: str
    minified: str | None = None


def read_upload(data: bytes) -> SymbolSetContent:
    """The content of an upload, checked to be a readable source map.

    Raises `InvalidField("file", …)` for neither format, or a map `symbolic` cannot read.
    """
    minified, source_map = _split(data) if data.startswith(JS_DATA_MAGIC) else (None, data)
    try:
        content = SymbolSetContent(source_map.decode(), minified.decode() if minified is not None else None)
    except UnicodeDecodeError as exc:
        raise InvalidField("file", "a source map and its minified file must be UTF-8 text") from exc
    try:
        SourceMapView.from_json_bytes(source_map)
    except SymbolicError as exc:
        raise InvalidField("file", f"not a readable source map ({exc}); upload the .map file") from exc
    return content


def _split(data: bytes) -> tuple[bytes, bytes]:
    """(minified source, source map) of the reference CLI's bundle."""
    at = len(JS_DATA_MAGIC)
    kind = int.from_bytes(data[at + 4 : at + 8], "little")
    if kind != JS_DATA_SOURCE_AND_MAP:
        raise InvalidField("file", f"bundle type {kind} is not a minified file with its source map (2)")
    at += 8
    parts = []
    for _ in range(2):
        size = int.from_bytes(data[at : at + 8], "little")
        if at + 8 + size > len(data):
            raise InvalidField("file", "the bundle is cut short: upload the whole file again")
        parts.append(data[at + 8 : at + 8 + size])
        at += 8 + size
    return parts[0], parts[1]


class SourceMapReader:
    """Looks up minified positions (1-based line and column, as browsers write them) in one map."""

    def __init__(self, content: SymbolSetContent):
        mapped = content.source_map.encode()
        self._cache = (
            SourceMapCache.from_bytes(content.minified.encode(), mapped) if content.minified else None
        )
        self._view = None if self._cache else SourceMapView.from_json_bytes(mapped)

    def lookup(self, line: int, column: int) -> Original | None:
        """The original position, or None when the map has no mapping there."""
        if line < 1 or column < 1:
            return None
        if self._cache is not None:
            found = self._cache.lookup(line, column, 0)
            if found is None or not found.src:
                return None
            function = found.function_name if found.function_name not in (None, "<unknown>") else None
            return Original(found.src, found.line, found.col, function, found.context_line)
        token = self._view.lookup(line - 1, column - 1) if self._view is not None else None
        if token is None or not token.src:
            return None
        view = self._view.get_sourceview(token.src_id) if token.src_id is not None and self._view else None
        source = view[token.src_line] if view is not None and token.src_line < len(view) else None
        return Original(token.src, token.src_line + 1, token.src_col + 1, token.name, source)


def reader_for(content: SymbolSetContent) -> SourceMapReader:
    """A reader of `content`. Raises `InvalidField` when `symbolic` cannot read it."""
    try:
        return SourceMapReader(content)
    except SymbolicError as exc:
        raise InvalidField("file", f"not a readable source map ({exc})") from exc
