"""Deterministic sampling (DESIGN §6): a salted hash, never Python's `hash` or a random draw.

The decision for (session, scanner) is the same in every process and on every sweep, and the
scanner id as salt makes scanners with the same rate keep different sessions.
"""

from __future__ import annotations

import hashlib

SAMPLING_PRECISION = 10_000


def stable_hash(text: str) -> int:
    """A 64-bit hash of `text` that is the same in every process and Python version."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def threshold(rate: float) -> int:
    """How many of the 10,000 hash buckets a rate keeps (rounded, not truncated)."""
    return round(rate * SAMPLING_PRECISION)


def keeps(session_id: str, scanner_id: str, rate: float) -> bool:
    """Is this session in the scanner's sample? Rate 0 keeps nothing, rate 1 everything."""
    if rate >= 1:
        return True
    limit = threshold(rate)
    return limit > 0 and stable_hash(session_id + scanner_id) % SAMPLING_PRECISION < limit


def sweep_offset(scanner_id: str, interval_s: int) -> int:
    """Seconds this scanner's sweeps are shifted by, so scanners do not all sweep on the same tick."""
    return stable_hash(scanner_id) % interval_s


def sweep_slot(scanner_id: str, epoch_s: float, interval_s: int) -> int:
    """The number of the sweep period `epoch_s` falls in, for this scanner's stagger.

    A scanner is due when the slot it last claimed is lower than this; claiming stores it, so one
    slot is swept once however many schedulers look.
    """
    return int((epoch_s - sweep_offset(scanner_id, interval_s)) // interval_s)


def slot_start(scanner_id: str, slot: int, interval_s: int) -> float:
    """When (epoch seconds) a slot begins: `slot_start(id, last + 1, …)` is the next due time."""
    return slot * interval_s + sweep_offset(scanner_id, interval_s)
