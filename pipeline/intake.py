"""Events on their way in: each is checked alone, so one bad event costs itself, not the session.

Pure. An event that cannot be used (not an object, no timestamp, an unknown compression, a
payload that inflates past the per-event limit…) is skipped and counted by reason; a lone
surrogate is mended; a recording that grows past the per-recording limit is refused whole,
because a partial one would silently misrepresent the session. Compressed payloads are inflated
with a bound, so a gzip bomb costs at most the limit, not the machine.
"""

from __future__ import annotations

import gzip
import hashlib
import heapq
import math
import zlib
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import overload

import orjson

from pipeline.errors import RecordingError
from pipeline.formats import Pair, ParsedRecording
from pipeline.metadata import MetadataBuilder, RecordingMeta

MAX_TIMESTAMP_MS = 10**14  # about the year 5138: anything later is not epoch milliseconds
COMPRESSED_VERSION = "2024-10"
_COMPRESSED_KEYS = ("texts", "attributes", "removes", "adds")
_GZIP_WBITS = 16 + zlib.MAX_WBITS
MB = 2**20


@dataclass(frozen=True)
class Limits:
    """What one event, and one recording, may take up once inflated (settings override both)."""

    max_event_bytes: int = 64 * MB
    max_recording_bytes: int = 512 * MB


class _Unusable(Exception):
    def __init__(self, reason: str):
        self.reason = reason


class Intake:
    """Checks events one at a time; `skipped` counts what was left out, by reason."""

    def __init__(self, limits: Limits = Limits()):
        self.limits = limits
        self.skipped: Counter[str] = Counter()
        self.mended = 0

    def check(self, window: str | None, event: object) -> dict | None:
        """The usable event, decompressed and labelled with its window; None when it is skipped."""
        try:
            checked = _checked(event, self.limits.max_event_bytes)
        except _Unusable as exc:
            self.skipped[exc.reason] += 1
            return None
        if window is not None and checked.get("windowId") != window:
            checked = {**checked, "windowId": window}
        return checked

    def encode(self, event: dict) -> tuple[dict, bytes] | None:
        """The event (mended when it held a lone surrogate) and its line of JSON; None when too large."""
        try:
            line = orjson.dumps(event)
        except orjson.JSONEncodeError:
            event = _mended(event)
            line = orjson.dumps(event)
            self.mended += 1
        # orjson's bytes keep the capacity of its write buffer (about 4 KB for a small event):
        # a copy of exact size keeps a million held events at their own size.
        line = bytes(memoryview(line))
        if len(line) > self.limits.max_event_bytes:
            self.skipped[f"larger than the {self.limits.max_event_bytes // MB} MB per-event limit"] += 1
            return None
        return event, line


def prepare_events(parsed: ParsedRecording, limits: Limits = Limits()) -> list[dict]:
    """The usable events of a file held in memory, sorted by timestamp (stable).

    Raises `RecordingError` naming what was wrong when no event is usable.
    """
    intake = Intake(limits)
    events = [event for event in (intake.check(*pair) for pair in parsed.pairs) if event is not None]
    if not events:
        raise RecordingError(nothing_usable(parsed, intake))
    events.sort(key=_timestamp)
    return events


def _timestamp(event: dict) -> float:
    return event["timestamp"]


def nothing_usable(parsed: ParsedRecording, intake: Intake) -> str:
    """The message for a file without one usable event."""
    problems = describe_skips(parsed.skipped + intake.skipped)
    notes = "; ".join(parsed.notes)
    detail = "; ".join(part for part in (problems, notes) if part)
    return f"the recording holds no usable events ({detail})" if detail else "the recording holds no events"


def describe_skips(skipped: Counter[str]) -> str:
    """`2 without a timestamp, 1 broken JSONL line`: most common first, then alphabetically."""
    ordered = sorted(skipped.items(), key=lambda item: (-item[1], item[0]))
    return ", ".join(f"{count} {reason}" for reason, count in ordered)


def _checked(event: object, max_bytes: int) -> dict:
    # Fast path for the common, well-formed event (this runs once per event of every import).
    if event.__class__ is dict and event.get("type").__class__ is int and "cv" not in event:
        timestamp = event.get("timestamp")
        if timestamp.__class__ in (int, float) and 0 <= timestamp < MAX_TIMESTAMP_MS:
            return event
    if not isinstance(event, dict):
        raise _Unusable("not an object")
    timestamp = event.get("timestamp")
    if timestamp is None:
        raise _Unusable("without a timestamp")
    if isinstance(timestamp, bool) or not isinstance(timestamp, int | float) or not math.isfinite(timestamp):
        raise _Unusable("with a non-numeric timestamp")
    if not 0 <= timestamp < MAX_TIMESTAMP_MS:
        raise _Unusable("with a timestamp that is not milliseconds since 1970")
    if isinstance(event.get("type"), bool) or not isinstance(event.get("type"), int):
        raise _Unusable("without an integer type")
    if "cv" in event:
        return _decompressed(event, max_bytes)
    return event


def _decompressed(event: dict, max_bytes: int) -> dict:
    """Undo posthog-js `compressEvent` (gzip bytes carried as a latin-1 string), within `max_bytes`."""
    if event["cv"] != COMPRESSED_VERSION:
        raise _Unusable(f"with unknown compression {str(event['cv'])[:20]!r}")
    event = {key: value for key, value in event.items() if key != "cv"}
    data, budget = event.get("data"), [max_bytes]
    try:
        if isinstance(data, str):
            event["data"] = _gunzip_json(data, budget)
        elif isinstance(data, dict):
            event["data"] = {
                key: _gunzip_json(value, budget) if _compressed(key, value) else value
                for key, value in data.items()
            }
    except _Inflated as exc:
        limit = f"{max_bytes // MB} MB per-event limit"
        raise _Unusable(f"whose compressed payload inflates past the {limit}") from exc
    except (zlib.error, UnicodeEncodeError, orjson.JSONDecodeError) as exc:
        raise _Unusable("with a compressed payload that cannot be decoded") from exc
    return event


def _compressed(key: str, value: object) -> bool:
    return key in _COMPRESSED_KEYS and isinstance(value, str)


class _Inflated(Exception):
    """A compressed payload would inflate past its budget."""


def _gunzip_json(value: str, budget: list[int]) -> object:
    """Inflate one gzip payload, never past what is left of the event's budget (`budget[0]`)."""
    data = value.encode("latin-1")
    pieces: list[bytes] = []
    while data:
        inflater = zlib.decompressobj(_GZIP_WBITS)
        piece = inflater.decompress(data, budget[0] + 1)
        budget[0] -= len(piece)
        if budget[0] < 0 or inflater.unconsumed_tail:
            raise _Inflated
        if not inflater.eof:
            raise zlib.error("truncated gzip payload")
        pieces.append(piece)
        data = inflater.unused_data  # gzip allows several members back to back
    return orjson.loads(b"".join(pieces))


@overload
def _mended(value: dict) -> dict: ...
@overload
def _mended(value: object) -> object: ...
def _mended(value: object) -> object:
    """`value` with every lone surrogate replaced by U+FFFD (orjson cannot encode them)."""
    if isinstance(value, str):
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, dict):
        return {_mended(key): _mended(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_mended(item) for item in value]
    return value


def encode_compressed(value: object) -> str:
    """The posthog-js encoding of a payload (gzip, then bytes as a latin-1 string)."""
    return gzip.compress(orjson.dumps(value)).decode("latin-1")


def identity(event: dict) -> bytes:
    """What makes two events the same event: everything but the window label (a short digest)."""
    if "windowId" in event:
        event = {key: value for key, value in event.items() if key != "windowId"}
    return hashlib.blake2b(orjson.dumps(event, option=orjson.OPT_SORT_KEYS), digest_size=16).digest()


class EncodedEvents(Sequence[dict]):
    """Stored events kept as their lines of JSON, decoded when read: the timeline walks a recording
    at the memory cost of its compact JSON, not of a million Python objects."""

    def __init__(self, lines: list[bytes]):
        self._lines = lines

    def __len__(self) -> int:
        return len(self._lines)

    def __getitem__(self, index):  # an int (slices are not needed by any reader)
        return orjson.loads(self._lines[index])

    def __iter__(self) -> Iterator[dict]:
        return map(orjson.loads, self._lines)


class Collector:
    """The lines of a recording being stored: the events already stored plus new ones, with metadata.

    `existing` gives the stored lines (read twice: once here, once by `lines()`); new events are
    deduplicated against them, then kept encoded, so memory holds bytes rather than objects.
    """

    def __init__(self, limits: Limits, existing: Callable[[], Iterable[bytes]] | None = None):
        self.intake, self.limits = Intake(limits), limits
        self.meta = MetadataBuilder()
        self.size = self.duplicates = 0
        self._existing, self._known = existing, set()
        self._existing_times = array("d")
        self._fresh: list[tuple[float, int, bytes]] = []
        for line in existing() if existing else ():
            event = orjson.loads(line)
            self._known.add(identity(event))
            self._existing_times.append(event["timestamp"])
            self.meta.add(event)
            self.size += len(line) + 1

    @property
    def added(self) -> int:
        return len(self._fresh)

    def add_all(self, pairs: Iterable[Pair]) -> None:
        for window, raw in pairs:
            self.add(window, raw)

    def add(self, window: str | None, raw: object) -> None:
        """Check, deduplicate and keep one incoming event; `RecordingError` past the recording limit."""
        event = self.intake.check(window, raw)
        if event is None:
            return
        if self._known:
            key = identity(event)
            if key in self._known:
                self.duplicates += 1
                return
            self._known.add(key)
        encoded = self.intake.encode(event)
        if encoded is None:
            return
        event, line = encoded
        self.size += len(line) + 1
        if self.size > self.limits.max_recording_bytes:
            raise RecordingError(
                f"the recording is larger than the {self.limits.max_recording_bytes // MB} MB limit "
                "(SIGHTLINE_MAX_RECORDING_BYTES); nothing was stored"
            )
        self.meta.add(event)
        self._fresh.append((event["timestamp"], len(self._fresh), line))

    def lines(self) -> Iterator[bytes]:
        """Every line of the stored recording, old and new, by timestamp (old first on a tie)."""
        self._fresh.sort()
        old = zip(self._existing_times, self._existing() if self._existing else (), strict=True)
        fresh = ((timestamp, line) for timestamp, _, line in self._fresh)
        for _, line in heapq.merge(old, fresh, key=_first):
            yield line

    def metadata(self) -> RecordingMeta:
        return self.meta.finish()


def _first(item: tuple[float, bytes]) -> float:
    return item[0]
