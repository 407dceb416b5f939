"""Next occurrence of long-lived schedules: re-anchored (ours) against dateutil walking from creation.

Run: `.venv/bin/python -m bench.schedule_next`. A minutely rule created two years ago has about
a million past occurrences; the scheduler asks for its next one on every claim.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from dateutil.rrule import rrulestr

from bench.common import command_line
from pipeline.schedule import next_occurrence

CREATED = datetime(2024, 11, 22, 10, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 22, 13, 5, 12, tzinfo=UTC)


def timed(function, repeat: int) -> float:
    started = time.perf_counter()
    for _ in range(repeat):
        function()
    return (time.perf_counter() - started) / repeat


def main() -> None:
    print(f"$ {command_line()}")
    for rule in (
        "FREQ=MINUTELY",
        "FREQ=MINUTELY;INTERVAL=5",
        "FREQ=HOURLY;BYMINUTE=30",
        "FREQ=DAILY;BYHOUR=9",
    ):
        ours = timed(lambda: next_occurrence(rule, "Europe/Prague", created_at=CREATED, after=NOW), 200)  # noqa: B023
        walking = rrulestr(rule, dtstart=CREATED.replace(tzinfo=None), cache=False)
        naive = timed(lambda: walking.after(NOW.replace(tzinfo=None)), 1)  # noqa: B023 - measured at once
        print(
            f"{rule:28} re-anchored {ours * 1e3:7.3f} ms   walking from 2024 {naive * 1e3:9.1f} ms   "
            f"({naive / ours:,.0f}× faster)"
        )


if __name__ == "__main__":
    main()
