"""Between two ticks the scheduler tops up a backlog every TOP_UP_EVERY_S, or after twice a slow
pass's duration, so that top-ups take at most a third of its time; it stops when caught up."""

from __future__ import annotations

import threading

from scheduler import daemon
from scheduler.daemon import TOP_UP_EVERY_S, Scheduler


class Clock:
    """`time.monotonic` and `Event.wait` on a clock that only moves when waited on or worked."""

    def __init__(self):
        self.now = 0.0
        self.waits: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def wait(self, seconds: float) -> bool:
        self.waits.append(round(seconds, 3))
        self.now += seconds
        return False


def between_ticks(monkeypatch, pass_s: float, passes_with_backlog: int) -> tuple[Clock, int]:
    clock = Clock()
    monkeypatch.setattr(daemon.time, "monotonic", clock.monotonic)
    stop = threading.Event()
    monkeypatch.setattr(stop, "wait", clock.wait)
    passes = 0

    def top_up() -> bool:
        nonlocal passes
        passes += 1
        clock.now += pass_s
        return passes < passes_with_backlog

    scheduler = Scheduler.__new__(Scheduler)  # no deps: only the pacing runs
    scheduler.top_up = top_up
    scheduler._between_ticks(stop, next_tick=10.0, backlog=True)
    return clock, passes


def test_a_quick_pass_is_followed_by_the_next_after_the_top_up_interval(monkeypatch):
    clock, passes = between_ticks(monkeypatch, pass_s=0.01, passes_with_backlog=3)
    assert passes == 3  # caught up on the third: the loop then waits for the tick
    assert clock.waits[:3] == [TOP_UP_EVERY_S] * 3
    assert clock.now == 10.0


def test_a_slow_pass_is_followed_by_twice_its_duration(monkeypatch):
    clock, passes = between_ticks(monkeypatch, pass_s=0.5, passes_with_backlog=1000)
    assert clock.waits[0] == TOP_UP_EVERY_S and set(clock.waits[1:-1]) == {1.0}
    assert passes * 0.5 <= 10.0 / 3 + 0.5  # at most a third of the time between ticks, and one pass
