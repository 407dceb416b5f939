"""The evaluations report, as a pure function of results and people's thumbs: per scanner and
evaluation, the pass rate (overall and per day) and how far the evaluation agrees with people.

People's word on an observation is the majority of its thumbs (up: the answer was right; a tie is
no word). Against it: `agreement` is the share of labelled, judged observations where the evaluation
passed a thumbs-up answer or failed a thumbs-down one; `yes_precision_people` is the share of `yes`
verdicts people marked right (1 − it is the false-positive rate people see), and
`yes_precision_evaluation` the share of `yes` verdicts the evaluation passed, its estimate of the
same figure for every observation, labelled or not.

Beside them, the team's grouping quality (`GroupingFigure`): the judge's estimates over sampled pairs
of signals (`pipeline.grouping_quality`), or why they were not measured.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from pipeline.grouping_quality import Estimate


@dataclass(frozen=True)
class ResultRow:
    scanner: str
    evaluation: str
    observation_id: str
    verdict: str | None
    passed: bool | None  # None: not applicable
    day: str  # the UTC day the result was written, YYYY-MM-DD


@dataclass
class Summary:
    scanner: str
    evaluation: str
    evaluated: int = 0
    passed: int = 0
    failed: int = 0
    not_applicable: int = 0
    by_day: dict[str, tuple[int, int]] = field(default_factory=dict)  # day: (passed, judged)
    # (evaluation passed?, people said right?) → observations
    confusion: dict[tuple[bool, bool], int] = field(default_factory=dict)
    yes_labelled: int = 0
    yes_right: int = 0
    yes_judged: int = 0
    yes_passed: int = 0

    @property
    def pass_rate(self) -> float | None:
        return _share(self.passed, self.passed + self.failed)

    @property
    def labelled(self) -> int:
        return sum(self.confusion.values())

    @property
    def agreement(self) -> float | None:
        agreed = self.confusion.get((True, True), 0) + self.confusion.get((False, False), 0)
        return _share(agreed, self.labelled)

    @property
    def yes_precision_people(self) -> float | None:
        return _share(self.yes_right, self.yes_labelled)

    @property
    def false_positive_rate(self) -> float | None:
        precision = self.yes_precision_people
        return None if precision is None else 1 - precision

    @property
    def yes_precision_evaluation(self) -> float | None:
        return _share(self.yes_passed, self.yes_judged)


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def consensus(ratings: Iterable[str]) -> bool | None:
    """People's word on one observation: True (right) when more thumbs are up than down, False when
    more are down, None on a tie or without thumbs."""
    counts = Counter(ratings)
    if counts["up"] == counts["down"]:
        return None
    return counts["up"] > counts["down"]


def summarise(rows: Iterable[ResultRow], thumbs: dict[str, list[str]]) -> list[Summary]:
    """One summary per (scanner, evaluation), in that order; `thumbs` maps an observation id to
    every rating people gave it."""
    found: dict[tuple[str, str], Summary] = {}
    for row in rows:
        summary = found.setdefault((row.scanner, row.evaluation), Summary(row.scanner, row.evaluation))
        _add(summary, row, consensus(thumbs.get(row.observation_id, ())))
    return [found[key] for key in sorted(found)]


def _add(summary: Summary, row: ResultRow, right: bool | None) -> None:
    summary.evaluated += 1
    if row.passed is None:
        summary.not_applicable += 1
    else:
        summary.passed += row.passed
        summary.failed += not row.passed
        day_passed, day_judged = summary.by_day.get(row.day, (0, 0))
        summary.by_day[row.day] = (day_passed + row.passed, day_judged + 1)
        if right is not None:
            key = (row.passed, right)
            summary.confusion[key] = summary.confusion.get(key, 0) + 1
    if row.verdict != "yes":
        return
    if right is not None:
        summary.yes_labelled += 1
        summary.yes_right += right
    if row.passed is not None:
        summary.yes_judged += 1
        summary.yes_passed += row.passed


@dataclass(frozen=True)
class GroupingFigure:
    """How well the team's signals are grouped, as a judge estimates it: `precision` (same-report
    pairs judged one root cause) and `split` (near pairs in different reports judged one), or
    `missing`, why it was not measured."""

    signals: int = 0
    reports: int = 0
    model: str = ""
    precision: Estimate | None = None
    split: Estimate | None = None
    missing: str | None = None

    def line(self) -> str:
        """The figure as one line of the report."""
        if self.missing is not None or self.precision is None or self.split is None:
            return f"grouping quality: not measured ({self.missing or 'no estimate'})"
        return (
            f"grouping quality over {self.signals} signals in {self.reports} reports ({self.model} vectors): "
            f"precision {_estimate(self.precision)}; split rate {_estimate(self.split)}"
        )


def _estimate(estimate: Estimate) -> str:
    rate = "n/a" if estimate.rate is None else f"{estimate.rate:.0%}"
    answered = estimate.asked - estimate.unanswered
    unanswered = f", {estimate.unanswered} unanswered" if estimate.unanswered else ""
    return f"{rate} ({estimate.same} of {answered} pairs judged the same root cause{unanswered})"
