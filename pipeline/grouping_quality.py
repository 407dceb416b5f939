"""Grouping quality without labels (DESIGN §7): which pairs of signals to show a judge, and what its
answers say. Pure: the service loads the signals and asks the model.

Two kinds of pair. `same_report`: two signals of one report, drawn evenly across reports; the share
the judge calls "same root cause" estimates the grouping's precision. `near_reports`: each signal
with its most similar signal in another report, the closest pairs first (one per pair of reports);
the share judged "same" is the split rate, what the grouping kept apart but should have joined.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Member:
    id: Any
    report_id: Any
    description: str


@dataclass(frozen=True)
class Pair:
    kind: str  # "same_report" or "near_reports"
    first: Member
    second: Member
    similarity: float


@dataclass
class Estimate:
    kind: str
    asked: int = 0
    same: int = 0
    unanswered: int = 0
    examples: list[tuple[Pair, bool, str]] = field(default_factory=list)

    @property
    def rate(self) -> float | None:
        """Share judged the same root cause, of the answered pairs (None when none was answered)."""
        answered = self.asked - self.unanswered
        return self.same / answered if answered else None


def same_report_pairs(members: list[Member], vectors: np.ndarray, count: int, seed: int) -> list[Pair]:
    """Up to `count` distinct pairs of signals sharing a report, round-robin over the reports."""
    rng = random.Random(seed)
    by_report: dict[Any, list[int]] = {}
    for index, member in enumerate(members):
        by_report.setdefault(member.report_id, []).append(index)
    pools = []
    for indexes in by_report.values():
        pairs = [(a, b) for position, a in enumerate(indexes) for b in indexes[position + 1 :]]
        rng.shuffle(pairs)
        if pairs:
            pools.append(pairs)
    rng.shuffle(pools)
    chosen: list[Pair] = []
    while pools and len(chosen) < count:
        for pairs in list(pools):
            a, b = pairs.pop()
            chosen.append(Pair("same_report", members[a], members[b], float(vectors[a] @ vectors[b])))
            if not pairs:
                pools.remove(pairs)
            if len(chosen) == count:
                break
    return chosen


def near_report_pairs(members: list[Member], vectors: np.ndarray, count: int) -> list[Pair]:
    """Up to `count` pairs of signals in different reports, the most similar first, one per two reports."""
    if len(members) < 2:
        return []
    numbers = {report: number for number, report in enumerate(dict.fromkeys(m.report_id for m in members))}
    reports = np.array([numbers[member.report_id] for member in members])
    scores = vectors @ vectors.T
    scores[reports[:, None] == reports[None, :]] = -np.inf  # the same report (and itself)
    nearest = np.argmax(scores, axis=1)
    order = np.argsort(-scores[np.arange(len(members)), nearest], kind="stable")
    chosen: list[Pair] = []
    seen: set[frozenset] = set()
    for a in order:
        b = int(nearest[a])
        key = frozenset((members[a].report_id, members[b].report_id))
        if not np.isfinite(scores[a, b]) or key in seen:
            continue
        seen.add(key)
        chosen.append(Pair("near_reports", members[int(a)], members[b], float(scores[a, b])))
        if len(chosen) == count:
            break
    return chosen
