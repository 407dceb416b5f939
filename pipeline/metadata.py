"""Recording metadata computed at import (DESIGN §4): duration, activity, counts, pages, device."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from pipeline.rrweb import CONSOLE_PLUGIN, USER_SOURCES, EventType, Interaction, Source

INACTIVITY_GAP_S = 5.0
MAX_LISTED = 200  # URLs and custom event names kept per recording
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


def compute_metadata(events: list[dict]) -> RecordingMeta:
    """Metadata of sorted, checked events (see `pipeline.formats.prepare_events`)."""
    meta = RecordingMeta(
        start_ms=events[0]["timestamp"],
        end_ms=events[-1]["timestamp"],
        duration_s=round((events[-1]["timestamp"] - events[0]["timestamp"]) / 1000, 3),
        active_s=_active_seconds(events),
        event_count=len(events),
    )
    touch = False
    for event in events:
        touch = _count(meta, event) or touch
    narrow = meta.viewport is not None and meta.viewport["width"] < MOBILE_MAX_WIDTH
    meta.device_type = "mobile" if touch or narrow else "desktop"
    return meta


def _count(meta: RecordingMeta, event: dict) -> bool:
    """Add one event to the counts; True when it shows a touch screen."""
    kind, data = event["type"], event.get("data")
    if data.__class__ is not dict:
        return False
    if kind == _INCREMENTAL:  # by far the most common: test it first
        return _count_incremental(meta, data)
    if kind == EventType.META:
        _add_url(meta, data.get("href"))
        width, height = data.get("width"), data.get("height")
        if meta.viewport is None and _is_number(width) and _is_number(height):
            meta.viewport = {"width": int(width), "height": int(height)}
    elif kind == EventType.CUSTOM:
        _count_custom(meta, data)
    elif kind == EventType.PLUGIN:
        payload = data.get("payload")
        if (
            data.get("plugin") == CONSOLE_PLUGIN
            and isinstance(payload, dict)
            and payload.get("level") == "error"
        ):
            meta.console_error_count += 1
    return False


def _count_incremental(meta: RecordingMeta, data: dict) -> bool:
    source = data.get("source")
    if source == Source.MOUSE_INTERACTION:
        if data.get("type") == Interaction.CLICK:
            meta.click_count += 1
        return data.get("type") in _TOUCH_INTERACTIONS or data.get("pointerType") == 2
    if source == Source.INPUT and data.get("userTriggered", True) is not False:
        meta.keypress_count += 1
    return source == Source.TOUCH_MOVE


def _count_custom(meta: RecordingMeta, data: dict) -> None:
    tag, payload = data.get("tag"), data.get("payload")
    if tag == "$pageview" and isinstance(payload, dict):
        _add_url(meta, payload.get("href"))
    elif tag == "$exception":
        meta.console_error_count += 1
    elif isinstance(tag, str) and len(meta.custom_events) < MAX_LISTED:
        tag = _clean(tag, 200)
        if tag and tag not in meta.custom_events:
            meta.custom_events.append(tag)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _clean(text: str, limit: int) -> str:
    """Text a database column can hold on every backend: no NUL characters, bounded length."""
    return text.replace("\x00", "")[:limit]


def _add_url(meta: RecordingMeta, href: object) -> None:
    if not isinstance(href, str) or len(meta.urls) >= MAX_LISTED:
        return
    href = _clean(href, MAX_URL)
    if href and href not in meta.urls:
        meta.urls.append(href)


def _active_seconds(events: list[dict]) -> float:
    """Time spent with input: gaps between consecutive inputs of up to 5 s count as active."""
    active_ms, previous = 0.0, None
    for event in events:
        data = event.get("data")
        if event["type"] != _INCREMENTAL or data.__class__ is not dict:
            continue
        if data.get("source") not in USER_SOURCES:
            continue
        timestamp = event["timestamp"]
        if previous is not None and timestamp - previous <= INACTIVITY_GAP_S * 1000:
            active_ms += timestamp - previous
        previous = timestamp
    return round(active_ms / 1000, 3)
