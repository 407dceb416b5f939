"""One chaos scenario from start to verdict: servers and processes up, the load through, the fault,
the wait for rest within the stated bound, the SQL audit, a row of the summary table, the verdict.

    run = ChaosRun("worker kill -9 ×3", folder, database_url, table)
    load = run.prepare(actions=4)
    run.start(workers=2)
    ...inject the fault, then run.mark_fault()...
    run.conclude("kill -9 a worker three times", fixed_bound_s=90)

The bound is the scenario's own allowance for the fault plus `PER_OBSERVATION_S` for each
observation not yet finished when the fault struck. `conclude` stops every process before the
audit (so the counts are final) and fails the test, after recording its row, when anything was
lost, duplicated or left stuck, or rest came too late.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.chaos import load as loads
from tests.chaos.audit import Figures, audit, scalar, wait_quiet
from tests.chaos.cluster import Cluster
from tests.chaos.servers import RedisServer, Storm, StormySlack

SLACK_HANG_S = 2.5  # past SIGHTLINE_DELIVERY_TIMEOUT_S
# What one observation may take on two shared cores, for the part of a bound that is the load's.
PER_OBSERVATION_S = 0.05
TERMINAL = "('succeeded', 'failed', 'ineligible')"


@dataclass
class Row:
    """One line of the table printed at the end of the session."""

    scenario: str
    database: str
    load: str
    fault: str
    lost: int
    duplicated: int
    stuck: int
    recovery: str
    verdict: str


class ChaosRun:
    def __init__(
        self,
        scenario: str,
        folder: Path,
        database_url: str,
        table: list[Row],
        *,
        persistent_redis: bool = True,
        **env: str,
    ):
        self.scenario, self.table = scenario, table
        self.database = "postgresql" if database_url.startswith("postgresql") else "sqlite"
        self.redis = RedisServer(folder / "redis", persistent=persistent_redis).start()
        self.slack_storm = Storm()
        self.slack = StormySlack(self.slack_storm, SLACK_HANG_S).start()
        slack_env = {"SIGHTLINE_SLACK_BASE_URL": self.slack.api_url, "SIGHTLINE_DELIVERY_TIMEOUT_S": "1"}
        self.cluster = Cluster(folder, database_url, self.redis.url, **{**slack_env, **env})
        self.load: loads.Load | None = None
        self.fault_at: float | None = None
        self.finished_at_fault = 0
        self.load_text = ""

    # -- setting up ---------------------------------------------------------------------------

    def prepare(
        self, *, observations: int | None = None, gemini: bool = False, actions: int = 0
    ) -> loads.Load:
        """Scanners, integration and actions, then recordings for `observations` (default: the scale)."""
        self.load = loads.prepare(self.cluster, self.slack.token, gemini=gemini, actions=actions)
        self.store(observations if observations is not None else loads.scale())
        return self.load

    def store(self, observations: int) -> list[str]:
        """Recordings for about `observations` more observations; their session ids."""
        sessions = loads.sessions_for(observations, len(self.load.scanner_ids))
        return loads.store_sessions(self.cluster, self.load, sessions)

    def start(self, *, workers: int = 2, schedulers: int = 1, threads: int = 4) -> None:
        for _ in range(workers):
            self.cluster.worker(threads)
        for _ in range(schedulers):
            self.cluster.scheduler()

    # -- while it runs ------------------------------------------------------------------------

    def finished(self) -> int:
        """Observations in a final state."""
        return scalar(self.cluster.engine, f"SELECT COUNT(*) FROM observations WHERE status IN {TERMINAL}")

    def wait_finished(self, fraction: float, timeout_s: float) -> None:
        """Until `fraction` of the load's observations are final (the fault then lands mid-load)."""
        target = max(1, int(self.load.observations * fraction))
        deadline = time.monotonic() + timeout_s
        while self.finished() < target:
            if time.monotonic() > deadline:
                self.cluster.stop()
                pytest.fail(
                    f"{self.scenario}: {target} observations were not finished within {timeout_s:g} s "
                    f"(before any fault)\n{self.cluster.log_tail()}"
                )
            time.sleep(0.1)

    def mark_fault(self) -> float:
        """Now is when the fault struck: recovery is timed from here, and the work still to do from
        here on is allowed for in the bound."""
        self.fault_at = time.monotonic()
        self.finished_at_fault = self.finished()
        return self.fault_at

    def bound(self, fixed_s: float) -> float:
        """`fixed_s` for the fault itself, plus what the observations unfinished at the fault may take."""
        left = max(0, self.load.observations - self.finished_at_fault)
        return round(fixed_s + left * PER_OBSERVATION_S)

    # -- the verdict --------------------------------------------------------------------------

    def conclude(
        self,
        fault: str,
        fixed_bound_s: float,
        *,
        since: float | None = None,
        allowed_failures: tuple[str, ...] = (),
        allowed_delivery_failures: tuple[str, ...] = (),
        extra: Figures | Callable[[], Figures] | None = None,
    ) -> Figures:
        """Wait for rest (from `since`, default the fault), stop the processes, audit, record, judge.

        `extra`: the scenario's own findings, or a function finding them once the processes stopped.
        """
        since = since if since is not None else self.fault_at
        assert since is not None, "mark_fault() when the fault is injected"
        bound_s = self.bound(fixed_bound_s)
        recovery = wait_quiet(self.cluster.engine, self.load.observations, since, bound_s)
        self.cluster.stop()
        figures = audit(
            self.cluster.engine,
            self.load.expected(),
            allowed_failures=allowed_failures,
            allowed_delivery_failures=allowed_delivery_failures,
            slack=self.slack,
        )
        figures.merge(extra() if callable(extra) else extra)
        verdict = self._record(fault, figures, recovery, bound_s)
        if verdict != "pass":
            late = [f"not at rest within {bound_s:g} s of the fault"] if recovery is None else []
            pytest.fail(
                f"{self.scenario} [{self.database}]: {'; '.join(late + figures.problems)}"
                f"\nlogs: {self.cluster.logs}\n{self.cluster.log_tail()}"
            )
        return figures

    def _record(self, fault: str, figures: Figures, recovery: float | None, bound_s: float) -> str:
        """Add this scenario's row to the table; its verdict."""
        verdict = _verdict(figures, late=recovery is None)
        rested = f"> {bound_s:g} (bound)" if recovery is None else f"{recovery:g} (bound {bound_s:g})"
        load = self.load_text or self.load.describe()
        counts = (figures.lost, figures.duplicated, figures.stuck)
        self.table.append(Row(self.scenario, self.database, load, fault, *counts, rested, verdict))
        return verdict

    def close(self) -> None:
        self.cluster.stop()
        self.slack.stop()
        self.redis.stop()


def _verdict(figures: Figures, late: bool) -> str:
    """`pass`, or `FAIL` with why in a word or two: late, counts (lost, duplicated, stuck), flagged."""
    counted = figures.lost or figures.duplicated or figures.stuck
    why = [word for word, bad in (("late", late), ("counts", counted), ("flagged", figures.flags)) if bad]
    return f"FAIL ({', '.join(why)})" if why else "pass"
