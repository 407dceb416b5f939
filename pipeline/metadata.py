"""Recording metadata computed at import (DESIGN §4): duration, activity, counts, pages, device."""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import pairwise
from typing import TypeGuard

from pipeline.redact import Redactor
from pipeline.rrweb import CONSOLE_PLUGIN, USER_SOURCES, EventType, Interaction, Source

INACTIVITY_GAP_S = 5.0
MAX_LISTED = 200  # URLs and custom event names kept per recording
MAX_DISTINCT = 10_000  # distinct names remembered while reading, before the first 200 are chosen
MAX_URL = 2048
_INCREMENTAL = int(EventType.INCREMENTAL)
MOBILE_MAX_WIDTH = 768
_TOUCH_INTERACTIONS = frozenset(
    {
        Interaction.TOUCH_START,
        Interaction.TOUCH_MOVE_DEPARTED,
        Interaction.TOUCH_END,
        Interaction.TOUCH_CANCEL,
    }
)


@dataclass
class RecordingMeta:
    start_ms: float
    end_ms: float
    duration_s: float
    active_s: float
    click_count: int = 0
    keypress_count: int = 0
    console_error_count: int = 0
    urls: list[str] = field(default_factory=list)
    viewport: dict | None = None
    device_type: str = "desktop"
    event_count: int = 0
    custom_events: list[str] = field(default_factory=list)

    @property
    def start_url(self) -> str | None:
        return self.urls[0] if self.urls else None


def compute_metadata(events: Iterable[dict]) -> RecordingMeta:
    """Metadata of checked events (see `pipeline.formats.prepare_events`), in any order."""
    builder = MetadataBuilder()
    for event in events:
        builder.add(event)
    return builder.finish()


class MetadataBuilder:
    """Metadata gathered one event at a time, in any order: a stream can be measured as it passes.

    What depends on order (the first page, the viewport, active time) keeps each candidate's
    timestamp and is decided in `finish()`. Page URLs and event names are stored for display, so
    they are redacted there (a secret in a URL query never reaches a column).
    """

    def __init__(self) -> None:
        self.meta = RecordingMeta(start_ms=math.inf, end_ms=-math.inf, duration_s=0.0, active_s=0.0)
        self.touch = False
        self._order = 0
        self._urls: dict[str, tuple[float, int]] = {}
        self._tags: dict[str, tuple[float, int]] = {}
        self._viewport: tuple[float, int, dict] | None = None
        self._activity = array("d")

    def add(self, event: dict) -> None:
        timestamp = event["timestamp"]
        meta = self.meta
        meta.event_count += 1
        if timestamp < meta.start_ms:
            meta.start_ms = timestamp
        if timestamp > meta.end_ms:
            meta.end_ms = timestamp
        self._order += 1
        data = event.get("data")
        if data.__class__ is not dict:
            return
        kind = event["type"]
        if kind == _INCREMENTAL:  # by far the most common: test it first
            if data.get("source") in USER_SOURCES:
                self._activity.append(timestamp)
            self.touch = self._count_incremental(data) or self.touch
        elif kind == EventType.META:
            self._remember(self._urls, data.get("href"), timestamp, MAX_URL)
            width, height = data.get("width"), data.get("height")
            if _is_number(width) and _is_number(height) and self._earlier(self._viewport, timestamp):
                self._viewport = (timestamp, self._order, {"width": int(width), "height": int(height)})
        elif kind == EventType.CUSTOM:
            self._count_custom(data, timestamp)
        elif kind == EventType.PLUGIN:
            payload = data.get("payload")
            if data.get("plugin") == CONSOLE_PLUGIN and isinstance(payload, dict):
                meta.console_error_count += payload.get("level") == "error"

    def finish(self) -> RecordingMeta:
        """The metadata; `RecordingError`-free: an empty builder gives zero times."""
        meta = self.meta
        if meta.event_count == 0:
            meta.start_ms = meta.end_ms = 0.0
        meta.duration_s = round((meta.end_ms - meta.start_ms) / 1000, 3)
        meta.active_s = _active_seconds(sorted(self._activity))
        redactor = Redactor()
        meta.urls = [redactor.redact_url(url) for url in _first(self._urls)]
        meta.custom_events = [redactor.redact(tag) for tag in _first(self._tags)]
        meta.viewport = self._viewport[2] if self._viewport else None
        narrow = meta.viewport is not None and meta.viewport["width"] < MOBILE_MAX_WIDTH
        meta.device_type = "mobile" if self.touch or narrow else "desktop"
        return meta

    def _earlier(self, current: tuple | None, timestamp: float) -> bool:
        return current is None or (timestamp, self._order) < current[:2]

    def _remember(self, seen: dict, text: object, timestamp: float, limit: int) -> None:
        """Keep the first time each distinct text appeared (bounded: a flood of names is cut)."""
        if not isinstance(text, str):
            return
        text = _clean(text, limit)
        if not text:
            return
        first = seen.get(text)
        if first is None:
            if len(seen) < MAX_DISTINCT:
                seen[text] = (timestamp, self._order)
        elif (timestamp, self._order) < first:
            seen[text] = (timestamp, self._order)

    def _count_incremental(self, data: dict) -> bool:
        """Count clicks and inputs; True when the event shows a touch screen."""
        source, meta = data.get("source"), self.meta
        if source == Source.MOUSE_INTERACTION:
            if data.get("type") == Interaction.CLICK:
                meta.click_count += 1
            return data.get("type") in _TOUCH_INTERACTIONS or data.get("pointerType") == 2
        if source == Source.INPUT and data.get("userTriggered", True) is not False:
            meta.keypress_count += 1
        return source == Source.TOUCH_MOVE

    def _count_custom(self, data: dict, timestamp: float) -> None:
        tag, payload = data.get("tag"), data.get("payload")
        if tag == "$pageview" and isinstance(payload, dict):
            self._remember(self._urls, payload.get("href"), timestamp, MAX_URL)
        elif tag == "$exception":
            self.meta.console_error_count += 1
        else:
            self._remember(self._tags, tag, timestamp, 200)


def _first(seen: dict[str, tuple[float, int]]) -> list[str]:
    """The `MAX_LISTED` texts seen first, in the order they were first seen."""
    return [text for text, _ in sorted(seen.items(), key=lambda item: item[1])[:MAX_LISTED]]


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _clean(text: str, limit: int) -> str:
    """Text a database column can hold on every backend: no NUL characters, bounded length."""
    return text.replace("\x00", "")[:limit]


def _active_seconds(timestamps: list[float]) -> float:
    """Time spent with input: gaps between consecutive inputs of up to 5 s count as active."""
    active_ms = 0.0
    for previous, timestamp in pairwise(timestamps):
        if timestamp - previous <= INACTIVITY_GAP_S * 1000:
            active_ms += timestamp - previous
    return round(active_ms / 1000, 3)
