"""Slack storms while digests and report cards go out: posts and history reads answer 429 (Retry-After
1 s), 500, or too late for the client (the post lands all the same), three calls in four. Every
delivery lands exactly once in its channel, or fails after its retries saying why."""

from __future__ import annotations

import time

import pytest

from integrations.fake_slack import FakeSlackReply
from tests.chaos.load import fire_actions_at, scale, soon
from tests.chaos.servers import TIMEOUT

pytestmark = [pytest.mark.chaos, pytest.mark.timeout(900)]
STORM_S = 10
FIXED_BOUND_S = 90  # after the storm: deliveries' backoff (2 s doubling, 5 retries) and the channels' pace


def test_slack_storm_delivers_each_target_once_or_fails_it_with_a_reason(chaos):
    run = chaos("Slack 429/500/timeout storm")
    digests = max(4, scale() // 50)
    run.prepare(actions=digests)
    run.slack_storm.faults = [
        FakeSlackReply.rate_limited(1),
        FakeSlackReply.error("internal_error", 500),
        TIMEOUT,
    ]
    run.slack_storm.ok_every = 4
    run.start(workers=2)
    run.wait_finished(0.5, timeout_s=300)
    run.slack_storm.start(STORM_S)
    run.mark_fault()
    fire_actions_at(run.cluster, soon(0))
    time.sleep(STORM_S)
    storm = run.slack_storm
    run.conclude(
        f"{STORM_S} s of 429 / 500 / answer after the 1 s timeout on 3 Slack calls in 4 "
        f"({storm.faulted} of {storm.count} calls faulted; recovery from its end)",
        FIXED_BOUND_S,
        since=run.slack_storm.ends,
        allowed_delivery_failures=("gave up after",),
    )
