"""Gemini storms mid-load: for a while four calls in five answer 429 (with a retry delay) or 503. Each
observation is retried a bounded number of times and then fails `provider_transient`, or succeeds
once; only successes are charged, and no observation calls the model more often than its retries
allow."""

from __future__ import annotations

import time

import pytest

from integrations.fake_gemini import FakeReply
from tests.chaos.audit import Figures, scalar
from tests.chaos.load import GEMINI
from tests.chaos.servers import Storm, stormy_gemini

pytestmark = [pytest.mark.chaos, pytest.mark.timeout(900)]
RETRIES = 3
STORM_S = 8
FIXED_BOUND_S = 30  # after the storm: the retries in flight (≤ 4 × 1 s backoff) settle
MODEL = GEMINI[0]["model"]


@pytest.fixture
def gemini():
    storm = Storm(
        faults=[
            FakeReply.error(429, "quota exceeded", retry_delay_s=0.5),
            FakeReply.error(503, "overloaded"),
        ],
        ok_every=5,
    )
    fake = stormy_gemini(storm).start()
    yield fake, storm
    fake.stop()


def test_gemini_storm_retries_boundedly_and_charges_only_successes(chaos, gemini):
    fake, storm = gemini
    run = chaos(
        "Gemini 429/503 storm",
        GEMINI_API_KEY="chaos-key",
        GEMINI_BASE_URL=fake.url,
        SIGHTLINE_OBSERVE_RETRIES=str(RETRIES),
    )
    run.prepare(gemini=True)
    run.start(workers=2)
    run.wait_finished(0.2, timeout_s=300)
    storm.start(STORM_S)
    run.mark_fault()
    time.sleep(STORM_S)
    run.conclude(
        f"{STORM_S} s of 429 (retry 0.5 s) / 503 on 4 calls in 5 ({storm.faulted} of {storm.count} "
        f"calls faulted), {RETRIES} retries (recovery from its end)",
        FIXED_BOUND_S,
        since=storm.ends,
        allowed_failures=("provider_transient",),
        extra=lambda: _calls_beyond_retries(run, fake),
    )


def _calls_beyond_retries(run, fake) -> Figures:
    """Attempts beyond 1 + RETRIES per observation (its claims, counted in `observations.attempts`),
    model calls beyond one per attempt (every answer is valid: no re-prompt), and credits beyond the
    successes' price."""
    engine = run.cluster.engine
    figures = Figures()
    beyond = scalar(
        engine,
        "SELECT COALESCE(SUM(attempts - :most), 0) FROM observations WHERE attempts > :most",
        most=1 + RETRIES,
    )
    figures.add("duplicated", beyond, "attempts beyond the retry bound")
    calls = len(fake.generate_requests()) - scalar(
        engine, "SELECT COALESCE(SUM(attempts), 0) FROM observations"
    )
    figures.add("duplicated", max(0, calls), "model calls beyond one per attempt")
    price = run.cluster.settings.model_prices[MODEL]
    charged = scalar(engine, "SELECT COALESCE(SUM(credits), 0) FROM usage_receipts") - price * scalar(
        engine, "SELECT COUNT(*) FROM observations WHERE status = 'succeeded'"
    )
    figures.add("duplicated", max(0, charged), "credits charged beyond the successes' price")
    return figures
