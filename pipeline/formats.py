"""Reading recordings: every file format of DESIGN §4 becomes one stream of (window, event) pairs.

Pure: takes the file's bytes (or a binary stream of them) and returns data. A damaged file is read
as far as it can be: bad JSONL lines are skipped, invalid characters replaced, and a file cut short
keeps the events before the cut, each said in `notes`/`skipped`. `RecordingError` is raised only
when nothing readable remains, with a message that says what is wrong with the file and where.
"""

from __future__ import annotations

import codecs
import io
import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import chain
from typing import BinaryIO, Protocol

import ijson
import orjson

from pipeline.errors import RecordingError

MAX_SESSION_ID_LENGTH = 128
MAX_DISTINCT_ID = 400
# Streamable shapes, recognised from the first bytes: a bare array, or an object whose first key
# holds the events. Anything else is read whole.
_STREAM_PREFIXES = ((re.compile(rb"\s*\["), "item"), (re.compile(rb'\s*\{\s*"(result|events)"\s*:\s*\['), ""))
_STREAM_FORMATS = {"item": "rrweb-array", "result.item": "api-result", "events.item": "rrweb-object"}
_CHUNK = 1 << 20
_ARRAY_START = re.compile(r'\s*(?:\{\s*"(result|events)"\s*:\s*)?\[')
_BETWEEN_ITEMS = re.compile(r"\s*,?\s*")

Pair = tuple[str | None, object]


class Readable(Protocol):
    """Where a streamed reading gets its bytes: a binary file, or a wrapper that bounds one."""

    def read(self, size: int = -1, /) -> bytes: ...


@dataclass
class ParsedRecording:
    """What a file holds: (window, event) pairs, the ids it carries, and what was wrong with it.

    `pairs` is a list for a file read whole and a one-shot iterator for a streamed one; `notes`
    and `skipped` can grow while a streamed file is being read.
    """

    format: str
    pairs: Iterable[Pair] = ()
    session_id: str | None = None
    distinct_id: str | None = None
    notes: list[str] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)


def parse_recording(raw: bytes) -> ParsedRecording:
    """Detect the format of `raw` (a whole file) and list its (still unchecked) events."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    if not raw.strip():
        raise RecordingError("the file is empty")
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        if _first_line_parses(raw):
            return _parse_jsonl(raw.splitlines())
        return _parse_damaged(raw, exc)
    return _parse_document(document)


def stream_recording(stream: Readable, head: bytes) -> ParsedRecording | None:
    """A streamed reading of a large file whose first bytes are `head` (already read from `stream`).

    Events are parsed one at a time as `pairs` is iterated, so a file far larger than memory
    allows can be read. Returns None when the shape cannot be streamed (read it whole instead).
    """
    whole = io.BufferedReader(_Chained(head, stream), _CHUNK)
    if _first_line_parses(head):
        return _parse_jsonl(_lines(whole), streamed=True)
    for pattern, prefix in _STREAM_PREFIXES:
        match = pattern.match(head)
        if match:
            prefix = prefix or f"{match[1].decode()}.item"
            parsed = ParsedRecording(_STREAM_FORMATS[prefix])
            items = _streamed_items(parsed, whole, prefix)
            first = next(items, None)  # reads the first event, and with it the session id it carries
            parsed.pairs = items if first is None else chain([first], items)
            return parsed
    return None


def _first_line_parses(raw: bytes) -> bool:
    """JSONL has a complete JSON value on its first line; pretty-printed JSON does not."""
    stripped = raw.strip()
    if b"\n" not in stripped and not raw.endswith(b"\n"):
        return False
    try:
        orjson.loads(stripped.split(b"\n", 1)[0])
    except orjson.JSONDecodeError:
        return False
    return True


def _json_problem(exc: orjson.JSONDecodeError | json.JSONDecodeError, size: int) -> str:
    truncated = exc.pos >= size - 1 or "EOF" in exc.msg or "end of" in exc.msg
    hint = "; the file looks truncated" if truncated else ""
    return f"not valid JSON ({exc.msg} at byte {exc.pos}){hint}"


def _parse_damaged(raw: bytes, exc: orjson.JSONDecodeError) -> ParsedRecording:
    """Invalid UTF-8 or an escaped lone surrogate (which orjson refuses), else a file cut short."""
    text = raw.decode("utf-8", "replace")
    try:
        document = json.loads(text)  # the standard library accepts lone surrogates; they are mended later
    except json.JSONDecodeError:
        parsed = _salvage(raw, exc)
        if parsed is None:
            raise RecordingError(_json_problem(exc, len(raw))) from exc
        return parsed
    parsed = _parse_document(document)
    replaced = text.count("\ufffd") - raw.count("\ufffd".encode())
    if replaced:
        parsed.notes.append(f"{replaced} invalid UTF-8 bytes were replaced")
    return parsed


def _salvage(raw: bytes, exc: orjson.JSONDecodeError) -> ParsedRecording | None:
    """The events before the place an array of events breaks, with a note; None when there are none."""
    text = raw.decode("utf-8", "replace")
    start = _ARRAY_START.match(text)
    if start is None:
        return None
    decoder, position, pairs = json.JSONDecoder(), start.end(), []
    while True:
        between = _BETWEEN_ITEMS.match(text, position)
        assert between is not None  # the pattern matches anywhere, if only the empty string
        position = between.end()
        try:
            event, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError:
            break
        pairs.append((None, event))
    if not pairs:
        return None
    name = "api-result" if start[1] == "result" else "rrweb-object" if start[1] else "rrweb-array"
    parsed = ParsedRecording(name, pairs, _first_session_id([event for _, event in pairs[:1]]))
    parsed.notes.append(f"{_json_problem(exc, len(raw))}: the {len(pairs)} events before it were kept")
    return parsed


def _parse_document(document: object) -> ParsedRecording:
    if isinstance(document, list):
        if len(document) == 2 and isinstance(document[0], str) and isinstance(document[1], dict):
            return _jsonl_from_lines([document])
        return ParsedRecording("rrweb-array", _unlabelled(document), _first_session_id(document))
    if not isinstance(document, dict):
        raise RecordingError("expected a JSON array of rrweb events or an object holding them")
    if "version" in document and isinstance(document.get("data"), dict):
        return _parse_export(document)
    if isinstance(document.get("result"), list):
        events = document["result"]
        return ParsedRecording("api-result", _unlabelled(events), _first_session_id(events))
    if "window_id" in document and isinstance(document.get("data"), list):
        return _jsonl_from_lines([document])
    if isinstance(document.get("events"), list):
        events = document["events"]
        return ParsedRecording("rrweb-object", _unlabelled(events), _first_session_id(events))
    keys = ", ".join(sorted(map(str, document))[:6]) or "none"
    raise RecordingError(f"unrecognised recording object (keys: {keys}); expected an rrweb event array")


def _unlabelled(events: list) -> list[Pair]:
    return [(None, event) for event in events]


def _first_session_id(events: list) -> str | None:
    first = events[0] if events else None
    if isinstance(first, dict) and isinstance(first.get("sessionId"), str):
        return first["sessionId"]
    return None


def _parse_jsonl(lines: Iterable[bytes], streamed: bool = False) -> ParsedRecording:
    """PostHog blob lines; a line that is not JSON, or not a snapshot line, is skipped and counted."""
    parsed = ParsedRecording("posthog-jsonl")
    pairs = _jsonl_pairs(lines, parsed.skipped)
    parsed.pairs = pairs if streamed else list(pairs)
    return parsed


def _jsonl_pairs(lines: Iterable[bytes], skipped: Counter[str]) -> Iterator[Pair]:
    for line in lines:
        if not line.strip():
            continue
        value = _json_line(line)
        if value is None:
            skipped["broken JSONL line"] += 1
        elif isinstance(value, list) and len(value) == 2 and isinstance(value[1], dict):
            yield value[0] if isinstance(value[0], str) else None, value[1]
        elif isinstance(value, dict) and isinstance(value.get("data"), list):
            window = value.get("window_id")
            window = window if isinstance(window, str) else None
            for event in value["data"]:
                yield window, event
        else:
            skipped["JSONL line that is not a snapshot line"] += 1


def _json_line(line: bytes) -> object | None:
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        try:  # invalid bytes or a lone surrogate, which orjson refuses
            return json.loads(line.decode("utf-8", "replace"))
        except json.JSONDecodeError:
            return None


def _jsonl_from_lines(lines: list) -> ParsedRecording:
    parsed = ParsedRecording("posthog-jsonl")
    parsed.pairs = list(_jsonl_pairs([orjson.dumps(line) for line in lines], parsed.skipped))
    return parsed


def _parse_export(document: dict) -> ParsedRecording:
    version, data = document.get("version"), document["data"]
    person = data.get("person") if isinstance(data.get("person"), dict) else {}
    distinct_ids = person.get("distinct_ids") or []
    distinct_id = distinct_ids[0] if distinct_ids and isinstance(distinct_ids[0], str) else None
    distinct_id = distinct_id.replace("\x00", "")[:MAX_DISTINCT_ID] if distinct_id else None
    if version == "2022-12-02" and isinstance(data.get("snapshotsByWindowId"), dict):
        pairs: list[Pair] = [
            (str(window), event)
            for window, events in data["snapshotsByWindowId"].items()
            if isinstance(events, list)
            for event in events
        ]
        return ParsedRecording("posthog-export-2022-12-02", pairs, None, distinct_id)
    if version == "2023-04-28" and isinstance(data.get("snapshots"), list):
        pairs = []
        for snapshot in data["snapshots"]:
            window = snapshot.get("windowId") if isinstance(snapshot, dict) else None
            pairs.append((window if isinstance(window, str) else None, snapshot))
        session_id = data.get("id") if isinstance(data.get("id"), str) else None
        return ParsedRecording("posthog-export-2023-04-28", pairs, session_id, distinct_id)
    raise RecordingError(f"unsupported PostHog export version {version!r}; expected 2022-12-02 or 2023-04-28")


def _streamed_items(parsed: ParsedRecording, stream: BinaryIO, prefix: str) -> Iterator[Pair]:
    """Events of a streamed array; where the file breaks, a note says so and the stream ends."""
    count = 0
    try:
        for event in ijson.items(_Utf8Mended(stream), prefix, use_float=True):
            if count == 0 and isinstance(event, dict) and isinstance(event.get("sessionId"), str):
                parsed.session_id = event["sessionId"]
            count += 1
            yield None, event
    except ijson.JSONError as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        parsed.notes.append(f"the file breaks after event {count} ({reason}); the events before it were kept")


def _lines(stream: BinaryIO) -> Iterator[bytes]:
    yield from stream


class _Chained(io.RawIOBase):
    """`head` followed by the rest of `stream`: a stream whose first bytes were already read."""

    def __init__(self, head: bytes, stream: Readable):
        self._head, self._stream = memoryview(head), stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._head:
            size = min(len(buffer), len(self._head))
            buffer[:size] = self._head[:size]
            self._head = self._head[size:]
            return size
        data = self._stream.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


class _Utf8Mended:
    """A byte stream with invalid UTF-8 replaced by U+FFFD (the streaming parser refuses it)."""

    def __init__(self, stream: BinaryIO):
        self._stream = stream
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")

    def read(self, size: int = _CHUNK) -> bytes:
        if size == 0:
            return b""  # the parser asks for nothing first, to learn whether the stream gives bytes
        data = self._stream.read(size if size > 0 else _CHUNK)
        return self._decoder.decode(data, final=not data).encode("utf-8")


def check_session_id(session_id: str) -> str:
    """The session id, or `RecordingError` when it is empty, too long or has control characters."""
    if not session_id or not session_id.strip():
        raise RecordingError("the session id is empty; pass --session-id")
    if len(session_id) > MAX_SESSION_ID_LENGTH:
        raise RecordingError(
            f"session id is {len(session_id)} characters, over the {MAX_SESSION_ID_LENGTH} maximum; "
            "pass a shorter --session-id"
        )
    if any(ord(char) < 32 for char in session_id):
        raise RecordingError("session id contains control characters")
    return session_id
