"""Budget and in-flight limits refuse new observations, never running ones; heuristics need no key."""

from __future__ import annotations

import pytest
from sqlmodel import select

from integrations.fake_gemini import FakeReply
from models import Organization
from models.db import session_scope
from services import observations
from tests.support.world import build_world, close_world

pytestmark = pytest.mark.db

MONITOR = {"scanner_type": "monitor", "scanner_config": {"prompt": "Did the payment fail?"}}
YES = FakeReply.json({"reasoning": "Pay threw (t 25).", "verdict": "yes", "confidence": 0.8})
SESSIONS = ["scenario-checkout-js-error", "scenario-smooth-signup", "scenario-u-turn"]


def set_credit_limit(world, limit):
    with session_scope(world.db.sessions) as session:
        organization = session.exec(select(Organization)).one()
        organization.monthly_credit_limit = limit


def test_the_monthly_credit_limit_skips_what_it_cannot_afford(world):
    world.fake.default = lambda request: YES
    set_credit_limit(world, 10)  # two observations at 5 credits
    outcomes = world.request(world.scanner(**MONITOR), *SESSIONS)
    assert [o.outcome for o in outcomes] == ["started", "started", "skipped_quota"]
    world.drain()
    assert sum(receipt.credits for receipt in world.receipts()) == 10


def test_a_scanners_own_credit_limit_applies_too(world):
    world.fake.default = lambda request: YES
    outcomes = world.request(world.scanner(**MONITOR, credit_limit=5), *SESSIONS)
    assert [o.outcome for o in outcomes] == ["started", "skipped_quota", "skipped_quota"]
    world.drain()


def test_a_lowered_limit_never_interrupts_observations_already_started(world):
    world.fake.default = lambda request: YES
    world.stop_worker()
    outcomes = world.request(world.scanner(**MONITOR), *SESSIONS)
    set_credit_limit(world, 0)
    world.start_worker()
    world.drain()
    assert {world.observation(o.observation_id).status for o in outcomes} == {"succeeded"}
    later = world.request(world.scanner(**MONITOR), SESSIONS[0])
    assert [o.outcome for o in later] == ["skipped_quota"]


def test_already_scanned_sessions_use_no_headroom(world):
    world.fake.default = lambda request: YES
    scanner = world.scanner(**MONITOR)
    world.observe(scanner, SESSIONS[0])
    outcomes = world.request(scanner, SESSIONS[0], SESSIONS[1], SESSIONS[1])
    assert [(o.session_id, o.outcome) for o in outcomes] == [
        (SESSIONS[0], "already_scanned"),
        (SESSIONS[1], "started"),
    ]
    world.drain()


def test_a_session_observed_by_another_process_meanwhile_is_already_scanned_and_the_rest_start(
    world, monkeypatch
):
    world.fake.default = lambda request: YES
    scanner = world.scanner(**MONITOR)
    world.observe(scanner, SESSIONS[0])
    # The race: the other process's row lands after this request looked for existing observations.
    monkeypatch.setattr(observations, "observed_sessions", lambda session, scanner_id, wanted: set())
    outcomes = world.request(scanner, *SESSIONS)
    assert [(o.session_id, o.outcome) for o in outcomes] == [
        (SESSIONS[0], "already_scanned"),
        (SESSIONS[1], "started"),
        (SESSIONS[2], "started"),
    ]
    world.drain()
    assert {world.observation(o.observation_id).status for o in outcomes[1:]} == {"succeeded"}


@pytest.fixture
def tight_world(sightline_home, database_url, monkeypatch):
    built = build_world(
        monkeypatch, database_url, SIGHTLINE_IN_FLIGHT_PER_SCANNER="1", SIGHTLINE_IN_FLIGHT_PER_TEAM="2"
    )
    yield built
    close_world(built)


def test_in_flight_caps_skip_the_rest_with_skipped_limit(tight_world):
    world = tight_world
    world.fake.default = lambda request: YES
    world.stop_worker()
    first, second = world.scanner(**MONITOR), world.scanner(**MONITOR)
    assert [o.outcome for o in world.request(first, *SESSIONS)] == [
        "started",
        "skipped_limit",
        "skipped_limit",
    ]
    assert [o.outcome for o in world.request(second, *SESSIONS)] == [
        "started",
        "skipped_limit",
        "skipped_limit",
    ]
    third = world.scanner(**MONITOR)
    assert [o.outcome for o in world.request(third, SESSIONS[0])] == ["skipped_limit"]  # the team cap
    world.start_worker()
    world.drain()
    assert [o.outcome for o in world.request(third, SESSIONS[0])] == ["started"]
    world.drain()


@pytest.fixture
def keyless_world(sightline_home, database_url, monkeypatch):
    built = build_world(monkeypatch, database_url, GEMINI_API_KEY=None)
    yield built
    close_world(built)


def test_without_a_key_gemini_scanners_are_refused_clearly(keyless_world):
    from pipeline.errors import ConfigurationError

    scanner = keyless_world.scanner(**MONITOR)
    with pytest.raises(ConfigurationError, match="GEMINI_API_KEY is not set"):
        keyless_world.request(scanner, SESSIONS[0])


@pytest.mark.recordings
def test_without_a_key_heuristic_scanners_observe_every_real_recording(keyless_world, recordings_dir):
    world = keyless_world
    names = []
    for path in sorted(recordings_dir.glob("*.json")):
        result = world.import_file(path)
        assert not result.failed
        names.append(result.session_id)
    specs = [
        {"scanner_type": "monitor", "scanner_config": {"prompt": "Frustrated?", "rule": "any_frustration"}},
        {
            "scanner_type": "classifier",
            "scanner_config": {
                "prompt": "Friction?",
                "tags": ["rage_click", "dead_click", "u_turn", "no_friction"],
            },
        },
        {"scanner_type": "scorer", "scanner_config": {"prompt": "How bad?"}},
        {"scanner_type": "summarizer", "scanner_config": {"prompt": "A product site"}, "emits_signals": True},
    ]
    for spec in specs:
        observations = world.observe(world.scanner(provider="heuristic", **spec), *names)
        outcomes = {
            o.session_id: o.error_reason.split(":")[0] if o.error_reason else o.status for o in observations
        }
        # 12 s long, and 8 s of activity: the eligibility rules say so, not a failure.
        assert outcomes.pop("posthog-local-docs") == "too_short"
        assert outcomes.pop("posthog-with-pageviews") == "too_inactive"
        assert set(outcomes.values()) == {"succeeded"}, outcomes
    assert world.fake.requests == []
    assert {receipt.credits for receipt in world.receipts()} == {0}


def test_heuristic_observations_reserve_no_credits_while_in_flight(world):
    from datetime import UTC, datetime

    from models import Scanner
    from services.budget import quotas

    world.stop_worker()
    scanner = world.scanner(
        provider="heuristic", scanner_type="scorer", scanner_config={"prompt": "How bad?"}
    )
    world.request(scanner, *SESSIONS)
    with world.db.sessions() as session:
        organisation, own = quotas(
            session, session.get(Scanner, scanner.id), world.settings, datetime.now(UTC)
        )
    assert (organisation.used, own.used) == (0, 0)
    world.start_worker()
    world.drain()
