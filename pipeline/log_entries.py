"""A recording's lines as logs and events: pure, from the sorted rrweb events of one version.

Logs are every console entry (any level) and every failed request; events are page views, clicks
(with the clicked element's name, from the timeline's DOM mirror), custom events and console errors
and exceptions. Each carries the event index it came from and its offset in seconds from the first
event (the timeline's `t`), so an explanation can find the moments around it. All text goes through
the timeline's `Redactor` first: nothing here is shown unredacted.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pipeline.redact import Redactor
from pipeline.rrweb import CONSOLE_PLUGIN, NETWORK_PLUGIN, EventType
from pipeline.timeline.console import console_message, failed_requests
from pipeline.timeline.naming import shorten
from pipeline.timeline.walker import Walker

# Fixed forever: changing it changes every entry's uuid.
ENTRY_NAMESPACE = uuid.UUID("8f0b6a52-4a8e-4c1e-9f39-2f6f1a0c5d17")
MESSAGE_LIMIT = 1000
_VARIABLE = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|0x[0-9a-f]+|\b[0-9a-f]{12,}\b|\d+"
    r"|'[^']*'|\"[^\"]*\"",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Entry:
    """One log line (`stream` log) or one event (`stream` event) of a recording."""

    seq: int
    ordinal: int  # several entries may come from one rrweb event (a batch of failed requests)
    stream: str
    event: str
    offset_s: float
    level: str | None
    message: str
    url: str | None
    properties: dict[str, Any] = field(default_factory=dict)

    @property
    def fingerprint(self) -> str | None:
        return fingerprint(self.message) if self.stream == "log" else None


def entry_uuid(team_id: int, session_id: str, seq: int, stream: str, ordinal: int = 0) -> uuid.UUID:
    """The stable id of an entry: a UUIDv5 of team, session, event index, stream and ordinal."""
    return uuid.uuid5(ENTRY_NAMESPACE, f"{team_id}\x1f{session_id}\x1f{seq}\x1f{stream}\x1f{ordinal}")


def fingerprint(message: str) -> str:
    """What messages that differ only in numbers, ids and quoted values share (16 hex chars)."""
    shape = " ".join(_VARIABLE.sub("?", message.lower()).split())
    return hashlib.sha256(shape.encode()).hexdigest()[:16]


def read_entries(events: Sequence[dict]) -> list[Entry]:
    """Every log line and event of sorted, checked events (`pipeline.intake.prepare_events`), in order."""
    if not events:
        return []
    reader = _Reader(events, Redactor())
    reader.run()
    entries = reader.entries + _logs(reader)
    return sorted(entries, key=lambda entry: (entry.seq, entry.stream, entry.ordinal))


def _logs(reader: _Reader) -> list[Entry]:
    """Console entries of every level and failed requests, on the page shown at the time."""
    found: list[Entry] = []
    pages = reader.facts.navigations
    for index, event in enumerate(reader.events):
        data = event.get("data")
        if event.get("type") != EventType.PLUGIN or not isinstance(data, dict):
            continue
        payload = data.get("payload")
        if not isinstance(payload, dict):
            continue
        t = (event["timestamp"] - reader.t0) / 1000
        url = _page_at(pages, t, event.get("windowId"))
        base = {"$current_url": url} if url else {}
        if data.get("plugin") == CONSOLE_PLUGIN:
            level = str(payload.get("level") or "log")[:16]
            text = reader.shown(console_message(payload))
            found.append(Entry(index, 0, "log", "console", t, level, text, url, {**base, "level": level}))
        elif data.get("plugin") == NETWORK_PLUGIN:
            for ordinal, (method, target, status) in enumerate(failed_requests(payload)):
                text = f"{method} {reader.names.url(target)} → {status or 'failed'}"
                props = {**base, "method": method, "status": status}
                found.append(Entry(index, ordinal, "log", "network", t, "error", text, url, props))
    return found


def _page_at(pages: list[tuple[float, str, str | None]], t: float, window: object) -> str | None:
    shown = None
    for at, url, where in pages:
        if at > t:
            break
        if window is None or where == window or where is None:
            shown = url
    return shown


class _Reader(Walker):
    """The timeline's walk, noting the moments that are events as it adds them."""

    def __init__(self, events: Sequence[dict], redactor: Redactor):
        super().__init__(events, redactor)
        self.entries: list[Entry] = []

    def shown(self, text: str) -> str:
        return shorten(self.redactor.redact(text), MESSAGE_LIMIT)

    def note(self, event: str, t: float, level: str | None, message: str, **props: Any) -> None:
        source = self.events[self.index]
        url = _page_at(self.facts.navigations, t, source.get("windowId"))
        ordinal = sum(1 for entry in self.entries[-20:] if entry.seq == self.index)
        properties = {"$current_url": url, **props} if url else props
        self.entries.append(Entry(self.index, ordinal, "event", event, t, level, message, url, properties))

    def add(self, t: float, kind: str, text: str, priority: int) -> None:
        super().add(t, kind, text, priority)
        if kind == "navigate":
            self.note("$pageview", t, None, text)
        elif kind == "click":
            click = self.facts.clicks[-1]
            self.note("$autocapture", t, None, text, element=click.description, tap=click.tap)
        elif kind == "custom":
            data = self.events[self.index].get("data") or {}
            self.note(str(data.get("tag") or "custom")[:200], t, None, text)
        elif kind == "console_error":
            exception = text.startswith("exception:")
            self.note("$exception" if exception else "$console_error", t, "error", text)
            if exception:  # the console plugin never saw it, so it is a log line of its own
                message = text.removeprefix("exception: ")
                self.entries.append(Entry(self.index, 0, "log", "exception", t, "error", message, None))
