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


def best_of(functions: dict[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    """The fastest of `repeat` runs of each function, in seconds.

    The functions take turns within each round, so a slow spell of the machine hits all of them
    alike rather than whichever happened to run then.
    """
    best = {name: float("inf") for name in functions}
    for _ in range(repeat):
        for name, function in functions.items():
            started = time.perf_counter()
            function()
            best[name] = min(best[name], time.perf_counter() - started)
    return best


def command_line() -> str:
    return "python -m " + Path(sys.argv[0]).with_suffix("").relative_to(ROOT).as_posix().replace("/", ".")
