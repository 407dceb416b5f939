"""Timeline size against the raw recording: characters, estimated tokens (chars/4), shrink factor.

Run: `make bench` or `.venv/bin/python -m bench.timeline_size`.
Targets: every real recording over 500 KB shrinks at least 50×; a session of up to 5 minutes
fits in 2,500 tokens (the reference spends about 25,000 input tokens per observation on video).
"""

from __future__ import annotations

import orjson

from bench.common import command_line, recordings
from pipeline.formats import parse_recording
from pipeline.intake import prepare_events
from pipeline.metadata import compute_metadata
from pipeline.timeline import render_timeline
from scenarios import build_all

FIVE_MINUTES_S = 300
TOKEN_TARGET = 2500
SHRINK_TARGET = 50
BIG_BYTES = 500_000


def verdicts(size: int, duration_s: float, chars: int, tokens: int) -> str:
    notes = []
    if size > BIG_BYTES:
        notes.append("≥50× ok" if size / chars >= SHRINK_TARGET else "≥50× MISSED")
    if duration_s <= FIVE_MINUTES_S:
        notes.append("≤2,500 tok ok" if tokens <= TOKEN_TARGET else "≤2,500 tok MISSED")
    return ", ".join(notes)


def line(name: str, size: int, events: list[dict]) -> str:
    meta = compute_metadata(events)
    timeline = render_timeline(events, meta=meta)
    chars = len(timeline.text)
    return (
        f"{name:34} {size:>10,} {meta.duration_s:>7.0f}s {chars:>7,} {timeline.token_estimate:>6,}"
        f" {size / chars:>7.0f}×  {verdicts(size, meta.duration_s, chars, timeline.token_estimate)}"
    )


def main() -> None:
    print(f"$ {command_line()}")
    print(
        f"{'recording':34} {'raw bytes':>10} {'length':>8} {'chars':>7} {'tokens':>6} {'shrink':>8}  targets"
    )
    for path in recordings():
        raw = path.read_bytes()
        print(line(path.name, len(raw), prepare_events(parse_recording(raw))))
    for scenario in build_all():
        print(line(f"scenario {scenario.name}", len(orjson.dumps(scenario.events)), scenario.events))


if __name__ == "__main__":
    main()
