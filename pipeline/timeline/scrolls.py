"""Scroll aggregation: a burst of scroll events becomes one line with a direction and a depth."""

from __future__ import annotations

from collections.abc import Callable

from pipeline.rrweb import EventType, Source
from pipeline.timeline.model import DETAIL, Moment

SCROLL_RUN_GAP_S = 2.0
_PAGE_TARGETS = ("#document", "html", "body", "unknown element")

Describe = Callable[[str | None, object], tuple[str, bool, bool]]


class ScrollTracker:
    """Collects scroll runs per target; page depth is y against the deepest y seen plus the viewport."""

    def __init__(self, events: list[dict]):
        self.deepest: dict[tuple[str | None, object], float] = {}
        self.viewport_height = 0.0
        for event in events:
            data = event.get("data")
            if not isinstance(data, dict):
                continue
            if event["type"] == EventType.META and isinstance(data.get("height"), int | float):
                self.viewport_height = max(self.viewport_height, float(data["height"]))
            elif event["type"] == EventType.INCREMENTAL and data.get("source") == Source.SCROLL:
                key = (event.get("windowId"), data.get("id"))
                y = data.get("y") if isinstance(data.get("y"), int | float) else 0
                self.deepest[key] = max(self.deepest.get(key, 0.0), float(y))
        self.positions: dict[tuple[str | None, object], float] = {}
        self.run: list | None = None
        self.moments: list[Moment] = []

    def add(self, t: float, data: dict, window: str | None, describe: Describe) -> None:
        key = (window, data.get("id"))
        y = float(data.get("y")) if isinstance(data.get("y"), int | float) else 0.0
        run = self.run
        if run is not None and run[0] == key and t - run[3] <= SCROLL_RUN_GAP_S:
            run[3], run[4] = t, y
            return
        self._close()
        start_y = self.positions.get(key, 0.0)
        self.run = [key, t, start_y, t, y, describe(window, data.get("id"))[0]]

    def finish(self) -> list[Moment]:
        self._close()
        return self.moments

    def _close(self) -> None:
        if self.run is None:
            return
        key, started, start_y, _, end_y, target = self.run
        self.run = None
        self.positions[key] = end_y
        if abs(end_y - start_y) < 1:
            return
        direction = "down" if end_y > start_y else "up"
        if target.startswith(_PAGE_TARGETS):
            page = self.deepest.get(key, 0.0) + self.viewport_height
            depth = round(100 * (end_y + self.viewport_height) / page) if page else 0
            text = f"scroll {direction} to {depth}% of page"
        else:
            text = f"scroll {direction} in {target}"
        self.moments.append(Moment(started, "scroll", text, DETAIL))
