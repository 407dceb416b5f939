"""Peak memory of `sightline import` and `sightline timeline`, per byte of the recording file.

Run: `.venv/bin/python -m bench.memory [--synthetic-mb 200]`.
Each command runs in a fresh process; its peak resident set size comes from the kernel (`wait4`).
The baseline row is the same two commands on a 30 KB recording (the interpreter and everything the
command imports), so "net" is what the recording itself costs. Files: the largest real recording
in ../shared/recordings, and a synthetic recording of the requested size built from the demo
scenarios repeated back to back (a page load, clicks, typing and mutations every few seconds),
written as a bare rrweb JSON array.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import orjson

from bench.common import ROOT, command_line, recordings
from scenarios import build_all

MB = 2**20


def synthetic_recording(path: Path, size_bytes: int) -> int:
    """Write scenario events back to back until the file holds `size_bytes`; returns its size."""
    scenarios = build_all()
    written, offset, round_number = 0, 0, 0
    with path.open("wb") as out:
        out.write(b"[")
        while written < size_bytes:
            scenario = scenarios[round_number % len(scenarios)]
            first = scenario.events[0]["timestamp"]
            for event in scenario.events:
                shifted = {**event, "timestamp": event["timestamp"] - first + offset + 1_767_607_200_000}
                chunk = orjson.dumps(shifted)
                out.write(b"," + chunk if written else chunk)
                written += len(chunk) + 1
            offset += scenario.events[-1]["timestamp"] - first + 5_000
            round_number += 1
        out.write(b"]")
    return path.stat().st_size


# The child is measured from a small process of its own: one forked from this (larger) process
# would count this process's pages in its peak until it execs.
_MEASURE = (
    "import os, subprocess, sys\n"
    "child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
    "_, status, usage = os.wait4(child.pid, 0)\n"
    "print(os.waitstatus_to_exitcode(status), usage.ru_maxrss)\n"
)


def peak_rss(arguments: list[str], environment: dict[str, str]) -> tuple[int, float]:
    """(exit status, peak RSS in MB) of one fresh `python -m cli.main …` process."""
    command = [sys.executable, "-c", _MEASURE, sys.executable, "-P", "-m", "cli.main", *arguments]
    output = subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, check=True)
    status, peak_kb = output.stdout.split()
    return int(status), int(peak_kb) / 1024


def run_both(path: Path, session_id: str, environment: dict[str, str]) -> tuple[float, float, str]:
    """Peak RSS (MB) of importing `path` and of printing its timeline, each in a fresh process."""
    code, imported = peak_rss(["import", str(path), "--session-id", session_id], environment)
    code2, rendered = peak_rss(["timeline", session_id], environment)
    return imported, rendered, "" if code == code2 == 0 else f"  (exit {code}/{code2})"


def measure(path: Path, session_id: str, environment: dict[str, str], baseline: tuple[float, float]) -> str:
    size = path.stat().st_size
    imported, rendered, status = run_both(path, session_id, environment)
    per_byte = [(peak - base) * MB / size for peak, base in zip((imported, rendered), baseline, strict=True)]
    return (
        f"{path.name[:34]:34} {size / MB:>8.1f} {imported:>9.0f} {per_byte[0]:>6.1f}×"
        f" {rendered:>9.0f} {per_byte[1]:>6.1f}×{status}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--synthetic-mb", type=int, default=200, help="size of the synthetic recording")
    args = parser.parse_args()
    print(f"$ {command_line()} --synthetic-mb {args.synthetic_mb}")
    with tempfile.TemporaryDirectory() as folder:
        environment = {**os.environ, "SIGHTLINE_HOME": str(Path(folder) / "home"), "PYTHONPATH": str(ROOT)}
        environment.pop("DATABASE_URL", None)
        subprocess.run(
            [sys.executable, "-P", "-m", "cli.main", "init"],
            cwd=ROOT,
            env=environment,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        tiny = Path(folder) / "tiny.json"
        synthetic_recording(tiny, 30_000)
        imported, rendered, _ = run_both(tiny, "bench-tiny", environment)
        baseline = (imported, rendered)
        print(f"{'recording':34} {'MB':>8} {'import MB':>9} {'net/B':>7} {'timeline':>9} {'net/B':>7}")
        print(f"{'(the same commands on a 30 KB one)':34} {'':>8} {imported:>9.0f} {'':>7} {rendered:>9.0f}")
        largest = max(recordings(), key=lambda path: path.stat().st_size)
        print(measure(largest, "bench-largest", environment, baseline))
        synthetic = Path(folder) / f"synthetic-{args.synthetic_mb}mb.json"
        synthetic_recording(synthetic, args.synthetic_mb * MB)
        print(measure(synthetic, "bench-synthetic", environment, baseline))
    print("net/B = (peak RSS − the same command's on a 30 KB recording) ÷ file size: memory per input byte")


if __name__ == "__main__":
    main()
