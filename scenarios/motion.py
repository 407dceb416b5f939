"""How hands move, as the recorder samples them: pointer paths, move batches and scroll steps.

All functions are pure; randomness comes from the caller's seeded `random.Random`, so a scenario
built twice yields the same samples.
"""

from __future__ import annotations

import math
import random

from scenarios.rrweb import INCREMENTAL, MOUSE_MOVE, TOUCH_MOVE

Sample = tuple[int, int, int]  # (timestamp ms, client x, client y)

# rrweb samples mouse moves at most every 50 ms and flushes the buffer every 500 ms; the first move
# after a pause is sent at once (the throttle's leading edge).
SAMPLE_MS = 50
BATCH_MS = 500
SCROLL_MS = 100


def _smoothstep(f: float) -> float:
    return f * f * (3 - 2 * f)


def pointer_path(
    start: tuple[int, int],
    end: tuple[int, int],
    start_ms: int,
    rng: random.Random,
    *,
    bounds: tuple[int, int],
    speed: float = 1.0,
) -> list[Sample]:
    """Samples of a hand moving from `start` to `end`: eased, slightly bowed, about 20 per second,
    kept inside the viewport `bounds` (the recorder sees no moves outside the page).

    The first sample is the first one after `start_ms`; the last is exactly `end`.
    """
    dx, dy = end[0] - start[0], end[1] - start[1]
    distance = math.hypot(dx, dy)
    duration = max(100, min(1500, 180 + distance * 0.8)) * rng.uniform(0.85, 1.15) / speed
    steps = max(2, round(duration / SAMPLE_MS))
    bow = rng.uniform(-0.12, 0.12) * distance
    nx, ny = (-dy / distance, dx / distance) if distance else (0.0, 0.0)
    samples = []
    for step in range(1, steps + 1):
        f = step / steps
        eased = _smoothstep(f)
        arc = bow * math.sin(math.pi * f)
        x = min(max(round(start[0] + dx * eased + nx * arc), 0), bounds[0] - 1)
        y = min(max(round(start[1] + dy * eased + ny * arc), 0), bounds[1] - 1)
        samples.append((start_ms + round(duration * f) + rng.randint(0, 6), x, y))
    samples[-1] = (samples[-1][0], end[0], end[1])
    return samples


def batches(samples: list[Sample]) -> list[tuple[int, list[Sample]]]:
    """Group samples the way rrweb flushes them: (flush time, samples), the first sample alone."""
    if not samples:
        return []
    lead = samples[0][0]
    out = [(lead, [samples[0]])]
    edge = lead + BATCH_MS
    bucket: list[Sample] = []
    for sample in samples[1:]:
        while sample[0] > edge:
            if bucket:
                out.append((edge, bucket))
                bucket = []
            edge += BATCH_MS
        bucket.append(sample)
    if bucket:
        out.append((edge, bucket))
    return out


def scroll_steps(y0: int, y1: int, start_ms: int, rng: random.Random) -> list[tuple[int, int]]:
    """Scroll offsets reported about every 100 ms, fast at first then settling on `y1`."""
    distance = y1 - y0
    count = max(3, min(14, abs(distance) // 120 + 2))
    steps = []
    t = start_ms
    for step in range(1, count + 1):
        f = step / count
        t += SCROLL_MS + rng.randint(0, 4)
        steps.append((t, round(y0 + distance * (1 - (1 - f) ** 3))))
    steps[-1] = (steps[-1][0], y1)
    return steps


def keystroke_delay(char: str, rng: random.Random) -> int:
    """Milliseconds before a key lands: quick within words, slower after spaces, now and then a pause."""
    delay = rng.randint(70, 190)
    if char in " @.":
        delay += rng.randint(40, 220)
    if rng.random() < 0.05:
        delay += rng.randint(300, 700)
    return delay


def flush_moves_before(events: list[dict], at: int) -> None:
    """Move pending move batches to just before `at`: the recorder sends its buffer when the page
    unloads, so no batch of the old page may land after the next page's Meta event."""
    for event in events:
        data = event["data"]
        if (
            event["timestamp"] >= at
            and event["type"] == INCREMENTAL
            and data["source"] in (MOUSE_MOVE, TOUCH_MOVE)
        ):
            shift = event["timestamp"] - (at - 1)
            event["timestamp"] = at - 1
            for position in data["positions"]:
                position["timeOffset"] += shift
