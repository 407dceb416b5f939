"""Scroll aggregation: a burst of scroll events becomes one line with a direction and a depth.

Depth needs the deepest scroll of the whole session, so runs are collected during the walk and
worded in `finish()`.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.timeline.model import DETAIL, Moment

SCROLL_RUN_GAP_S = 2.0
_PAGE_TARGETS = ("#document", "html", "body", "unknown element")


@dataclass
class _Run:
    key: tuple
    started: float
    start_y: float
    last_t: float
    end_y: float
    target: str


class ScrollTracker:
    """Collects scroll runs per target; page depth is y against the deepest y seen plus the viewport."""

    def __init__(self) -> None:
        self.deepest: dict[tuple, float] = {}
        self.positions: dict[tuple, float] = {}
        self.viewport_height = 0.0
        self.run: _Run | None = None
        self.runs: list[_Run] = []

    def viewport(self, height: object) -> None:
        if isinstance(height, int | float):
            self.viewport_height = max(self.viewport_height, float(height))

    def add(self, t: float, key: tuple, y: object, target: str | None) -> None:
        """One scroll event; `target` (the scrolled element's selector) is only read for a new run."""
        y = float(y) if isinstance(y, int | float) else 0.0
        if y > self.deepest.get(key, 0.0):
            self.deepest[key] = y
        run = self.run
        if run is not None and run.key == key and t - run.last_t <= SCROLL_RUN_GAP_S:
            run.last_t, run.end_y = t, y
            return
        self._close()
        self.run = _Run(key, t, self.positions.get(key, 0.0), t, y, target or "unknown element")

    def needs_target(self, t: float, key: tuple) -> bool:
        run = self.run
        return run is None or run.key != key or t - run.last_t > SCROLL_RUN_GAP_S

    def finish(self) -> list[Moment]:
        self._close()
        return [moment for moment in map(self._moment, self.runs) if moment is not None]

    def _close(self) -> None:
        if self.run is not None:
            self.positions[self.run.key] = self.run.end_y
            self.runs.append(self.run)
            self.run = None

    def _moment(self, run: _Run) -> Moment | None:
        if abs(run.end_y - run.start_y) < 1:
            return None
        direction = "down" if run.end_y > run.start_y else "up"
        if run.target.startswith(_PAGE_TARGETS):
            page = self.deepest.get(run.key, 0.0) + self.viewport_height
            depth = round(100 * (run.end_y + self.viewport_height) / page) if page else 0
            return Moment(run.started, "scroll", f"scroll {direction} to {depth}% of page", DETAIL)
        return Moment(run.started, "scroll", f"scroll {direction} in {run.target}", DETAIL)
