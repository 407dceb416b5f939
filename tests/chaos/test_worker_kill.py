"""Workers die mid-run (`kill -9`, three times, each replaced at once): every observation they held is
taken over and finished once, no receipt, signal, report or Slack post is lost or doubled."""

from __future__ import annotations

import pytest

from tests.chaos.audit import scalar
from tests.chaos.load import fire_actions_at, soon

pytestmark = [pytest.mark.chaos, pytest.mark.timeout(900)]
KILLS = (0.2, 0.4, 0.6)  # of the load finished when each kill lands
# Rest within: a dead worker's messages requeued (the broker's 60 s heartbeat, then a tick) and its
# leases (15 s here) lapsed and taken over.
FIXED_BOUND_S = 90


def test_workers_killed_three_times_mid_run_lose_and_double_nothing(chaos):
    run = chaos("worker kill -9 ×3")
    run.prepare(actions=4)
    fire_actions_at(run.cluster, soon(5))
    run.start(workers=2)
    running = []
    for fraction in KILLS:
        run.wait_finished(fraction, timeout_s=300)
        running.append(
            scalar(run.cluster.engine, "SELECT COUNT(*) FROM observations WHERE status = 'running'")
        )
        run.cluster.alive("worker")[0].kill()
        run.mark_fault()
        run.cluster.worker()
    done = ", ".join(f"{fraction:.0%}" for fraction in KILLS)
    run.conclude(
        f"kill -9 a worker at {done} done ({'/'.join(map(str, running))} observations running), each replaced",
        FIXED_BOUND_S,
    )
