"""Redis dies mid-load (`kill -9`) and comes back on the same port: with its append-only file it comes
back with every message; without persistence it comes back empty. Either way the workers and the
scheduler reconnect, what was lost is sent again, and nothing is observed, charged or posted twice."""

from __future__ import annotations

import time

import pytest

from tests.chaos.load import fire_actions_at, soon

pytestmark = [pytest.mark.chaos, pytest.mark.timeout(900)]
DOWN_S = 3
# Rest within: reconnecting, and everything Redis lost sent again within a minute.
FIXED_BOUND_S = 60


@pytest.mark.parametrize("persistent", [True, False], ids=["aof", "no-persistence"])
def test_redis_restarted_mid_load_loses_and_doubles_nothing(chaos, persistent):
    kind = "append-only file, fsync always" if persistent else "no persistence: back empty"
    run = chaos(f"Redis restart ({'AOF' if persistent else 'no persistence'})", persistent_redis=persistent)
    run.prepare(actions=4)
    fire_actions_at(run.cluster, soon(3))
    run.start(workers=2)
    run.wait_finished(0.3, timeout_s=300)
    run.redis.kill()
    run.mark_fault()
    time.sleep(DOWN_S)
    run.redis.start()
    run.conclude(f"redis-server kill -9 at 30% done, down {DOWN_S} s, restarted ({kind})", FIXED_BOUND_S)
