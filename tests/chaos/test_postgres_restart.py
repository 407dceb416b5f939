"""PostgreSQL restarts mid-load (a fast shutdown: every connection is cut, then it is down a few
seconds): workers, scheduler and their pools reconnect, and the attempts the restart broke are
finished once.

It needs a server of its own to restart, so it runs in the PostgreSQL pass (`TEST_DATABASE_URL`
set, as `.ci/run` does) and starts a throwaway cluster from Debian's packages.
"""

from __future__ import annotations

import os
import time

import pytest

from tests.chaos.load import fire_actions_at, soon
from tests.chaos.servers import PostgresServer

pytestmark = [pytest.mark.chaos, pytest.mark.timeout(900)]
DOWN_S = 3
FIXED_BOUND_S = 60  # reconnecting, and the broken attempts retried or their leases taken over


@pytest.fixture
def postgres():
    if not os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("the PostgreSQL pass runs it (TEST_DATABASE_URL set): it restarts a server of its own")
    server = PostgresServer().initialise()
    yield server
    server.remove()


def test_postgres_restarted_mid_load_loses_and_doubles_nothing(chaos, postgres):
    run = chaos("PostgreSQL restart", url=postgres.url)
    run.prepare(actions=4)
    fire_actions_at(run.cluster, soon(3))
    run.start(workers=2)
    run.wait_finished(0.3, timeout_s=300)
    run.mark_fault()  # first: the audit's own connection cannot count anything once it is down
    postgres.stop("fast")
    time.sleep(DOWN_S)
    postgres.start()
    run.conclude(f"pg_ctl stop -m fast at 30% done, down {DOWN_S} s, started again", FIXED_BOUND_S)
