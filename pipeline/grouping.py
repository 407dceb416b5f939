"""Grouping arithmetic (DESIGN §7): which report a new signal belongs to. Pure numpy.

Each report is scored by its best cosine match among the team's grouped signals of the window
(the pool). At or above the model's match threshold the signal joins that report; below the new
threshold it founds a report; in between a model is asked "same root cause, one fix?" (or, with
none configured, it joins). Signals assigned earlier in a batch join the pool at once, so two
related signals arriving together do not each found a report.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

MAX_TITLE = 120
WINDOW_DAYS = 30
CANDIDATE_SIGNALS = 64  # nearest signals looked at; their reports are the candidates


@dataclass(frozen=True)
class Thresholds:
    match: float
    new: float


# Chosen with bench/grouping_quality.py (adjusted Rand index on a labelled set); see its output.
THRESHOLDS: dict[str, Thresholds] = {
    "hashing-v1-256": Thresholds(match=0.45, new=0.30),
    "gemini-embedding-001": Thresholds(match=0.80, new=0.65),
    # The best single threshold on the labelled set, applied unchanged to the blind one.
    "wordllama-l2-supercat-256": Thresholds(match=0.45, new=0.45),
}
FALLBACK = Thresholds(match=0.80, new=0.60)


def thresholds_for(model: str, overrides: dict[str, tuple[float, float]] | None = None) -> Thresholds:
    if overrides and model in overrides:
        return Thresholds(*overrides[model])
    return THRESHOLDS.get(model, FALLBACK)


class Pool:
    """The window's grouped signal vectors and their reports; signals of the batch are appended."""

    def __init__(
        self, dimensions: int, vectors: np.ndarray | None = None, report_ids: list[Any] | None = None
    ):
        count = 0 if vectors is None else len(vectors)
        self.vectors = np.zeros((max(1024, count * 2), dimensions), dtype=np.float32)
        if count:
            self.vectors[:count] = vectors
        self.report_ids: list[Any] = list(report_ids or [])
        self.count = count
        self._batch: np.ndarray | None = None
        self._base = 0

    def score_batch(self, batch: np.ndarray) -> None:
        """Score a whole batch against the pool in one matrix product (what BLAS does well).

        `best(vector, row=i)` then reads row i of it and scores only what was added since, so each
        signal's lookup costs a partition of precomputed scores instead of a pass over the pool.
        """
        self._base = self.count
        self._batch = batch @ self.vectors[: self.count].T if self.count else None

    def add(self, vector: np.ndarray, report_id: Any) -> None:
        if self.count == len(self.vectors):
            grown = np.zeros((len(self.vectors) * 2, self.vectors.shape[1]), dtype=np.float32)
            grown[: self.count] = self.vectors[: self.count]
            self.vectors = grown
        self.vectors[self.count] = vector
        self.report_ids.append(report_id)
        self.count += 1

    def best(self, vector: np.ndarray, top: int = 5, row: int | None = None) -> list[tuple[Any, float]]:
        """The `top` reports by their best-matching signal, best first (`row`: its place in the
        batch given to `score_batch`)."""
        if self.count == 0:
            return []
        if row is not None and self._batch is not None:
            added = self.vectors[self._base : self.count] @ vector
            scores = np.concatenate((self._batch[row], added)) if len(added) else self._batch[row]
        else:
            scores = self.vectors[: self.count] @ vector
        nearest = min(CANDIDATE_SIGNALS, self.count)
        if nearest < self.count:
            index = np.argpartition(-scores, nearest - 1)[:nearest]
        else:
            index = np.arange(self.count)
        index = index[np.argsort(-scores[index], kind="stable")]
        ranked: list[tuple[Any, float]] = []
        seen: set[Any] = set()
        for position in index:
            report_id = self.report_ids[position]
            if report_id not in seen:
                seen.add(report_id)
                ranked.append((report_id, float(scores[position])))
                if len(ranked) == top:
                    break
        return ranked


def decide(score: float | None, thresholds: Thresholds) -> str:
    """ "join", "new" or "ask" (the gray zone between the two thresholds)."""
    if score is None or score < thresholds.new:
        return "new"
    if score >= thresholds.match:
        return "join"
    return "ask"


_SENTENCE = re.compile(r"(?<=[.!?])\s")


def title_for(description: str, headline: str | None = None) -> str:
    """A new report's title: the finding's headline, else its first sentence, at most 120 chars."""
    text = (headline or "").strip() or _SENTENCE.split(description.strip(), maxsplit=1)[0]
    text = " ".join(text.split()).rstrip(".")
    if len(text) > MAX_TITLE:
        text = text[: MAX_TITLE - 1].rstrip() + "…"
    return text or "Untitled finding"


def adjusted_rand_index(labels: list[Any], clusters: list[Any]) -> float:
    """Agreement of two partitions of the same items, corrected for chance (1 = identical)."""
    from collections import Counter
    from math import comb

    pairs = Counter(zip(labels, clusters, strict=True))
    index = sum(comb(count, 2) for count in pairs.values())
    by_label = sum(comb(count, 2) for count in Counter(labels).values())
    by_cluster = sum(comb(count, 2) for count in Counter(clusters).values())
    total = comb(len(labels), 2)
    expected = by_label * by_cluster / total if total else 0.0
    maximum = (by_label + by_cluster) / 2
    return 1.0 if maximum == expected else (index - expected) / (maximum - expected)
