"""Rates from counters sampled over time (the operators' charts). Pure arithmetic."""

from __future__ import annotations

from itertools import pairwise
from typing import Any


def job_rates(samples: list[dict[str, Any]]) -> dict[str, dict[str, list[tuple[float, float]]]]:
    """Attempts per minute by actor and outcome, between consecutive samples of the job counters:
    `{actor: {status: [(at, per minute), …]}}`. A counter that went down (Redis was reset) counts
    from zero."""
    rates: dict[str, dict[str, list[tuple[float, float]]]] = {}
    for before, after in pairwise(samples):
        minutes = (after["at"] - before["at"]) / 60
        if minutes <= 0:
            continue
        for field, count in (after.get("jobs") or {}).items():
            actor, _, status = field.partition("|")
            done = count - (before.get("jobs") or {}).get(field, 0)
            done = count if done < 0 else done
            rates.setdefault(actor, {}).setdefault(status, []).append((after["at"], done / minutes))
    return rates
