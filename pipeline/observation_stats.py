"""What a scanner's observations add up to (the reference's `observations/stats`). Pure arithmetic.

Every section is plain data; the caller reads the counts, tags and scores from the database.
Sections that do not apply to a scanner's type are None.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

DEFAULT_RECENT_DAYS, MAX_RECENT_DAYS = 14, 365
TOP_TAGS = 10
HISTOGRAM_BUCKETS = 21
STATUSES = ("pending", "running", "succeeded", "failed", "ineligible")


def recent_days(value: int | None) -> int:
    """The coverage window in days: 14 by default, kept within 1..365."""
    return DEFAULT_RECENT_DAYS if value is None else min(max(value, 1), MAX_RECENT_DAYS)


def status_section(counts: Mapping[str, int]) -> dict[str, Any]:
    """Totals by status; `success_rate` is the percentage of succeeded among succeeded and failed
    (ineligible ones do not count), None when there are neither."""
    by_status = {status: counts.get(status, 0) for status in STATUSES}
    decided = by_status["succeeded"] + by_status["failed"]
    rate = round(100 * by_status["succeeded"] / decided) if decided else None
    return {
        "total": sum(by_status.values()),
        **by_status,
        "in_flight": by_status["pending"] + by_status["running"],
        "success_rate": rate,
    }


def monitor_section(verdicts: Mapping[str, int]) -> dict[str, int]:
    return {f"{verdict}_total": verdicts.get(verdict, 0) for verdict in ("yes", "no", "inconclusive")}


def classifier_section(rows: Iterable[tuple[list[str], list[str]]]) -> tuple[dict[str, Any], list[str]]:
    """(the classifier section, every tag seen, sorted) from each observation's (all tags, freeform tags).

    An observation's tags are its fixed tags followed by its freeform ones, as stored; only the
    number of freeform ones is read from the second list.
    """
    fixed, freeform, with_tags = Counter[str](), Counter[str](), 0
    for tags, free in rows:
        cut = max(0, len(tags) - len(free))
        fixed.update(set(tags[:cut]))
        freeform.update(set(tags[cut:]))
        with_tags += bool(tags)
    section = {
        "fixed_ranked": ranked(fixed),
        "freeform_ranked": ranked(freeform),
        "total_with_tags": with_tags,
    }
    return section, sorted(set(fixed) | set(freeform))


def ranked(counts: Counter[str], top: int = TOP_TAGS) -> list[dict[str, Any]]:
    """The `top` most counted tags, by count then name."""
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [{"tag": tag, "count": count} for tag, count in ordered[:top]]


def scorer_section(scores: Sequence[float], scale: Mapping[str, Any] | None) -> dict[str, Any]:
    """The score summary (continuous percentiles) and a histogram over the scale; both None without scores."""
    if not scores:
        return {"summary": None, "histogram": None}
    ordered = sorted(scores)
    summary = {
        "min": ordered[0],
        "p25": percentile(ordered, 0.25),
        "median": percentile(ordered, 0.5),
        "mean": sum(ordered) / len(ordered),
        "p75": percentile(ordered, 0.75),
        "max": ordered[-1],
        "count": len(ordered),
    }
    return {"summary": summary, "histogram": histogram(ordered, scale or {})}


def percentile(ordered: Sequence[float], fraction: float) -> float:
    """The continuous percentile of sorted values (linear interpolation, as PERCENTILE_CONT)."""
    position = fraction * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def histogram(ordered: Sequence[float], scale: Mapping[str, Any]) -> dict[str, list]:
    """About 21 buckets of whole numbers over the scale (or the observed range), labelled "a" or "a–b"."""
    low = math.floor(scale.get("min", ordered[0]))
    high = math.ceil(scale.get("max", ordered[-1]))
    span = max(0, high - low)
    width = max(1, math.ceil((span + 1) / HISTOGRAM_BUCKETS))
    buckets = span // width + 1
    counts = [0] * buckets
    for score in ordered:
        index = (_round_half_away(score) - low) // width
        counts[min(max(index, 0), buckets - 1)] += 1
    labels = [_label(low + index * width, width, high) for index in range(buckets)]
    return {"labels": labels, "counts": counts}


def _round_half_away(value: float) -> int:
    return int(math.copysign(math.floor(abs(value) + 0.5), value))


def _label(start: int, width: int, high: int) -> str:
    return str(start) if width == 1 else f"{start}–{min(start + width - 1, high)}"
