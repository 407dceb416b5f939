"""The leading scheduler dies mid-tick (`kill -9` the moment a sweep has committed its rows, while it
sends their messages and runs the tick's other stages), with sessions still arriving: the standby
takes over within the lock's lifetime, the rows left without a message are sent again, and no
session is swept, observed or claimed twice."""

from __future__ import annotations

import threading
import time

import pytest

from integrations.queues import queued_ids
from tests.chaos.audit import rows, same_id, scalar
from tests.chaos.cluster import NAMESPACE
from tests.chaos.load import fire_actions_at, scale, soon

pytestmark = [pytest.mark.chaos, pytest.mark.timeout(900)]
POLL_S = 0.005
# Rest within: the lock's 3 s and the pending rows' re-send after 5 s, with room to spare.
FIXED_BOUND_S = 45


def test_scheduler_leader_killed_mid_tick_loses_and_doubles_nothing(chaos):
    run = chaos("scheduler leader kill -9 mid-tick")
    total = scale()
    run.prepare(observations=total // 2, actions=4)
    fire_actions_at(run.cluster, soon(3))
    run.start(workers=2, schedulers=2)
    run.wait_finished(0.5, timeout_s=300)
    leader = _leader(run)
    arrivals = threading.Thread(target=run.store, args=(total - total // 2,), name="arrivals")
    before = _rows(run)
    arrivals.start()
    deadline = time.monotonic() + 60
    while _rows(run) == before:  # until the leader's next sweep has just committed its rows
        if time.monotonic() > deadline:
            pytest.fail("the leader swept none of the arriving sessions within 60 s")
        time.sleep(POLL_S)
    leader.kill()
    run.mark_fault()
    unsent = _unsent(run)
    run.cluster.scheduler()  # the killed one comes back, as a standby
    arrivals.join()
    run.conclude(
        f"kill -9 the leader as a sweep committed ({unsent} rows left unsent); sessions still arriving",
        FIXED_BOUND_S,
    )


def _leader(run):
    """The scheduler that leads: the one alive that said so last."""
    leading = [(max(p.times("scheduler_leading") or [0]), p) for p in run.cluster.alive("scheduler")]
    return max(leading, key=lambda item: item[0])[1]


def _rows(run) -> int:
    return scalar(run.cluster.engine, "SELECT COUNT(*) FROM observations")


def _unsent(run) -> int:
    """Pending rows whose message is in no queue: what the dead leader committed and never sent."""
    queued = queued_ids(run.redis.client(), NAMESPACE, "observe") or set()
    pending = {
        same_id(i)
        for (i,) in rows(run.cluster.engine, "SELECT id FROM observations WHERE status = 'pending'")
    }
    return len(pending - queued)
