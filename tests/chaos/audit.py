"""What the chaos scenarios check, in SQL against the database the processes used.

`quiet()` says whether the pipeline has come to rest (every expected observation exists and none is
pending or running; no action run running; no delivery pending or sending; no signal waiting for
grouping; no report waiting for its summary). `audit()` then counts:

- lost: an expected (scanner, session) never observed, or failed for a reason the scenario does not
  allow; a succeeded observation without its receipt or with fewer signals than it found; a ready
  report without its card; a delivery failed without a reason or for one the scenario does not
  allow, or marked delivered without its message in the fake Slack's channel;
- duplicated: a (scanner, session) observed twice; a receipt for an observation that did not
  succeed (a charge for a failure) or two for one; a source id with two signals; a report whose
  counts disagree with its signals, or a fingerprint grouped into two reports; an action run
  claimed twice; a delivery that landed in Slack twice, or landed while its row says it failed;
- stuck: rows left pending, running, sending, in progress or ungrouped.
"""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import Engine, text

POLL_S = 0.5
STEADY_POLLS = 3  # at rest this many polls in a row: not a gap between two waves of work


@dataclass
class Figures:
    lost: int = 0
    duplicated: int = 0
    stuck: int = 0
    problems: list[str] = field(default_factory=list)
    flags: int = 0  # failures that are none of the three (an unclear error, say)

    def flag(self, what: str) -> None:
        self.flags += 1
        self.problems.append(what)

    def add(self, kind: str, count: int, what: str) -> None:
        if count:
            setattr(self, kind, getattr(self, kind) + count)
            self.problems.append(f"{kind}: {count} {what}")

    def merge(self, other: Figures | None) -> None:
        """Add another set of findings (a scenario's own checks) to these."""
        if other is not None:
            self.lost, self.duplicated = self.lost + other.lost, self.duplicated + other.duplicated
            self.stuck, self.flags = self.stuck + other.stuck, self.flags + other.flags
            self.problems += other.problems

    @property
    def clean(self) -> bool:
        return not (self.lost or self.duplicated or self.stuck or self.flags)


def scalar(engine: Engine, sql: str, **params) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text(sql), params).scalar() or 0)


def rows(engine: Engine, sql: str, **params) -> list:
    with engine.connect() as connection:
        return list(connection.execute(text(sql), params))


STUCK = {
    "observations pending or running": "SELECT COUNT(*) FROM observations WHERE status IN ('pending', 'running')",
    "action runs running": "SELECT COUNT(*) FROM action_runs WHERE status = 'running'",
    "deliveries pending or sending": "SELECT COUNT(*) FROM deliveries WHERE status IN ('pending', 'sending')",
    "signals never grouped": "SELECT COUNT(*) FROM signals WHERE report_id IS NULL AND deleted = false",
    "reports waiting for their summary": (
        "SELECT COUNT(*) FROM signal_reports WHERE status IN ('candidate', 'in_progress')"
    ),
}


def stuck_counts(engine: Engine) -> dict[str, int]:
    return {what: scalar(engine, sql) for what, sql in STUCK.items()}


def quiet(engine: Engine, expected: int) -> bool:
    """At rest: every expected observation exists and nothing is left in flight."""
    observed = scalar(engine, "SELECT COUNT(*) FROM observations")
    return observed >= expected and not any(stuck_counts(engine).values())


def wait_quiet(engine: Engine, expected: int, since: float, bound_s: float) -> float | None:
    """Seconds from `since` (the fault) until the pipeline came to rest; None past `bound_s`."""
    steady, rested_at = 0, None
    while time.monotonic() - since <= bound_s:
        try:
            at_rest = quiet(engine, expected)
        except Exception:  # the database itself may be the fault: it counts as not yet at rest
            at_rest = False
        if at_rest:
            rested_at = rested_at or time.monotonic()
            steady += 1
            if steady >= STEADY_POLLS:
                return round(rested_at - since, 1)
        else:
            steady, rested_at = 0, None
        time.sleep(POLL_S)
    return None


def audit(
    engine: Engine,
    expected: set[tuple[str, str]],
    *,
    allowed_failures: tuple[str, ...] = (),
    allowed_delivery_failures: tuple[str, ...] = (),
    slack=None,
) -> Figures:
    """Count what was lost, duplicated or left stuck (see the module docstring).

    `allowed_failures`: the kinds an observation may fail with (`provider_transient`); any other
    failure is work lost. `allowed_delivery_failures`: how a delivery's error may start (a storm's
    `gave up after`); any other failed delivery is lost.
    """
    figures = Figures()
    _observations(engine, expected, allowed_failures, figures)
    _receipts(engine, figures)
    _signals(engine, figures)
    _reports(engine, figures)
    _deliveries(engine, figures, allowed_delivery_failures, slack)
    for what, count in stuck_counts(engine).items():
        figures.add("stuck", count, what)
    return figures


def same_id(value) -> str:
    """An id as the database returned it (a UUID, or SQLite's 32 hex digits), in one spelling."""
    return str(uuid.UUID(str(value)))


def _observations(engine: Engine, expected, allowed: tuple[str, ...], figures: Figures) -> None:
    found = rows(engine, "SELECT scanner_id, session_id, status, error_reason FROM observations")
    pairs = Counter((same_id(scanner), session) for scanner, session, _, _ in found)
    figures.add(
        "duplicated", sum(n - 1 for n in pairs.values() if n > 1), "(scanner, session) observed twice"
    )
    figures.add("lost", len(expected - set(pairs)), "(scanner, session) never observed")
    bad = Counter(
        (reason or "").partition(":")[0]
        for _, _, status, reason in found
        if status == "failed" and (reason or "").partition(":")[0] not in allowed
    )
    for kind, count in sorted(bad.items()):
        figures.add("lost", count, f"observations failed {kind}")


def _receipts(engine: Engine, figures: Figures) -> None:
    unpaid = scalar(
        engine,
        "SELECT COUNT(*) FROM observations o WHERE o.status = 'succeeded' AND NOT EXISTS "
        "(SELECT 1 FROM usage_receipts r WHERE r.observation_id = o.id)",
    )
    figures.add("lost", unpaid, "succeeded observations without a receipt")
    charged = scalar(
        engine,
        "SELECT COUNT(*) FROM usage_receipts r LEFT JOIN observations o ON o.id = r.observation_id "
        "WHERE o.id IS NULL OR o.status <> 'succeeded'",
    )
    figures.add("duplicated", charged, "receipts for observations that did not succeed")
    twice = scalar(
        engine,
        "SELECT COALESCE(SUM(n - 1), 0) FROM (SELECT COUNT(*) AS n FROM usage_receipts "
        "GROUP BY observation_id HAVING COUNT(*) > 1) AS repeated",
    )
    figures.add("duplicated", twice, "receipts charged twice")


def _signals(engine: Engine, figures: Figures) -> None:
    twice = scalar(
        engine,
        "SELECT COALESCE(SUM(n - 1), 0) FROM (SELECT COUNT(*) AS n FROM signals "
        "GROUP BY team_id, source_id HAVING COUNT(*) > 1) AS repeated",
    )
    figures.add("duplicated", twice, "signals with a source id already taken")
    stored = Counter(
        source_id.split(":")[1]
        for (source_id,) in rows(engine, "SELECT source_id FROM signals WHERE source_id LIKE 'observation:%'")
    )
    missing = extra = 0
    for observation_id, result in rows(
        engine, "SELECT id, scanner_result FROM observations WHERE status = 'succeeded'"
    ):
        found = _json(result).get("signals_count", 0)
        have = stored.get(same_id(observation_id), 0)
        missing, extra = missing + max(0, found - have), extra + max(0, have - found)
    figures.add("lost", missing, "signals found by an observation and not stored")
    figures.add("duplicated", extra, "signals stored beyond what their observation found")


def _reports(engine: Engine, figures: Figures) -> None:
    counts = rows(
        engine,
        "SELECT r.id, r.signal_count, COUNT(s.id) FROM signal_reports r LEFT JOIN signals s "
        "ON s.report_id = r.id AND s.deleted = false GROUP BY r.id, r.signal_count",
    )
    over = sum(max(0, counted - linked) for _, counted, linked in counts)
    under = sum(max(0, linked - counted) for _, counted, linked in counts)
    figures.add("duplicated", over, "signals counted twice in their report")
    figures.add("lost", under, "signals missing from their report's count")
    split = scalar(
        engine,
        "SELECT COALESCE(SUM(n - 1), 0) FROM (SELECT COUNT(DISTINCT report_id) AS n FROM signals "
        "WHERE fingerprint IS NOT NULL AND report_id IS NOT NULL GROUP BY team_id, fingerprint) AS spread",
    )
    figures.add("duplicated", split, "reports grouping a fingerprint another report already holds")
    uncarded = scalar(
        engine,
        "SELECT COUNT(*) FROM signal_reports r WHERE r.status = 'ready' AND NOT EXISTS "
        "(SELECT 1 FROM deliveries d WHERE d.report_id = r.id)",
    )
    figures.add("lost", uncarded, "ready reports without their Slack card")


def _deliveries(engine: Engine, figures: Figures, allowed: tuple[str, ...], slack) -> None:
    claimed = scalar(
        engine,
        "SELECT COALESCE(SUM(n - 1), 0) FROM (SELECT COUNT(*) AS n FROM action_runs "
        "GROUP BY action_id, scheduled_at HAVING COUNT(*) > 1) AS repeated",
    )
    figures.add("duplicated", claimed, "action occurrences claimed twice")
    reasonless = scalar(
        engine, "SELECT COUNT(*) FROM deliveries WHERE status = 'failed' AND (error IS NULL OR error = '')"
    )
    figures.add("lost", reasonless, "deliveries failed without a reason")
    failed = Counter(
        error
        for (error,) in rows(engine, "SELECT error FROM deliveries WHERE status = 'failed' AND error <> ''")
        if not error.startswith(allowed)
    )
    for error, count in sorted(failed.items()):
        figures.add("lost", count, f"deliveries failed: {error}")
    if slack is None:
        return
    landed = Counter(delivery for _, _, delivery in slack.landed())
    figures.add("duplicated", landed.pop(None, 0), "Slack posts that name no delivery")
    figures.add(
        "duplicated", sum(n - 1 for n in landed.values() if n > 1), "Slack posts of a delivery already posted"
    )
    statuses = {
        same_id(delivery_id): status
        for delivery_id, status in rows(
            engine, "SELECT id, status FROM deliveries WHERE target LIKE 'slack:%'"
        )
    }
    delivered = {delivery for delivery, status in statuses.items() if status == "delivered"}
    figures.add(
        "lost", len(delivered - set(landed)), "deliveries marked delivered that never landed in Slack"
    )
    # A post whose row is still pending or sending is counted stuck; one whose row says it
    # failed (or has no row) is one an operator's retry would post again.
    disowned = [delivery for delivery in landed if statuses.get(delivery) in (None, "failed")]
    figures.add("duplicated", len(disowned), "Slack posts whose delivery is recorded failed, or not at all")


def _json(value) -> dict:
    """A JSON column as the driver gave it: a dict (PostgreSQL) or its text (SQLite)."""
    if isinstance(value, dict):
        return value
    return json.loads(value) if value else {}
