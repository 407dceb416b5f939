"""Who may be observed, and whether the budget allows it (DESIGN §5, §10). Pure arithmetic.

`now` and usage figures are arguments; the callers read them from the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

MIN_DURATION_S = 15
MIN_ACTIVE_S = 10
MAX_ACTIVE_S = 3_600
# The largest whole number a database integer column holds: ids, counts and limits given to us.
MAX_INTEGER = 2**31 - 1


@dataclass(frozen=True)
class Ineligible:
    kind: str
    message: str

    @property
    def reason(self) -> str:
        return f"{self.kind}:{self.message}"


def eligibility(recording: Any) -> Ineligible | None:
    """Why a recording cannot be observed (None when it can). `recording` has the metadata columns."""
    if recording is None:
        return Ineligible("no_recording", "the session has no stored recording")
    if not recording.event_count:
        return Ineligible("no_events", "the recording holds no events")
    if recording.duration_s < MIN_DURATION_S:
        return Ineligible(
            "too_short", f"the session lasted {recording.duration_s:.0f} s, under {MIN_DURATION_S} s"
        )
    if recording.active_s < MIN_ACTIVE_S:
        return Ineligible("too_inactive", f"{recording.active_s:.0f} s of activity, under {MIN_ACTIVE_S} s")
    if recording.active_s > MAX_ACTIVE_S:
        return Ineligible("too_long", f"{recording.active_s:.0f} s of activity, over {MAX_ACTIVE_S} s")
    return None


def credits_for(model: str, prices: dict[str, int]) -> int:
    """A model's price per observation; an unknown model is billed at the highest known price."""
    return prices.get(model, max(prices.values(), default=0))


def month_start(now: datetime) -> datetime:
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def next_month_start(now: datetime) -> datetime:
    start = month_start(now)
    return (
        start.replace(year=start.year + 1, month=1)
        if start.month == 12
        else start.replace(month=start.month + 1)
    )


@dataclass(frozen=True)
class Quota:
    """The organisation's month: `limit` None means uncapped."""

    limit: int | None
    used: int  # receipts this month + in-flight reservations

    @property
    def remaining(self) -> int | None:
        return None if self.limit is None else max(0, self.limit - self.used)

    @property
    def exhausted(self) -> bool:
        return self.limit is not None and self.used >= self.limit

    def affordable(self, price: int) -> int | None:
        """How many more observations at `price` fit (None when uncapped)."""
        if self.remaining is None:
            return None
        return self.remaining // price if price > 0 else None


def headroom(scanner_in_flight: int, team_in_flight: int, per_scanner: int, per_team: int) -> int:
    """How many more observations may be in flight for this scanner right now."""
    return max(0, min(per_scanner - scanner_in_flight, per_team - team_in_flight))


def plan_batch(
    candidates: list[str], done: set[str], room: int, affordable: int | None
) -> list[tuple[str, str]]:
    """Per-session outcome for an on-demand batch: started, already_scanned, skipped_limit, skipped_quota.

    Sessions the scanner already observed use no headroom; the rest start while both headroom and
    quota last, the quota being checked first so its refusal is the one reported.
    """
    outcomes, started = [], 0
    for session_id in dict.fromkeys(candidates):
        if session_id in done:
            outcomes.append((session_id, "already_scanned"))
        elif affordable is not None and started >= affordable:
            outcomes.append((session_id, "skipped_quota"))
        elif started >= room:
            outcomes.append((session_id, "skipped_limit"))
        else:
            outcomes.append((session_id, "started"))
            started += 1
    return outcomes
