"""Shared bits of the benchmarks: where the real recordings are, and a best-of timer."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RECORDINGS_DIR = ROOT.parent / "shared" / "recordings"


def recordings() -> list[Path]:
    if not RECORDINGS_DIR.is_dir():
        sys.exit(f"no recordings at {RECORDINGS_DIR}: the benchmarks read ../shared/recordings")
    return sorted(RECORDINGS_DIR.glob("*.json"))


def best_of(function: Callable[[], object], repeat: int) -> float:
    """The fastest of `repeat` runs, in seconds: the least disturbed by the rest of the machine."""
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        timings.append(time.perf_counter() - started)
    return min(timings)


def command_line() -> str:
    return "python -m " + Path(sys.argv[0]).with_suffix("").relative_to(ROOT).as_posix().replace("/", ".")
