"""Every Gemini request of a process counts against one limit, shared by all workers through Redis."""

from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from actors.broker import process_deps
from integrations.fake_gemini import FakeReply
from models import ActionRun, Signal, VisionAction, session_scope
from pipeline.names import gemini_rpm_key
from services.action_runs import run_action
from services.observations import observe_sessions
from services.observe import run_observation
from services.signals import group_signals
from settings import get_settings
from tests.support.sending import quiet

pytestmark = pytest.mark.db


def answer(request) -> FakeReply:
    """A digest, a grouping judgement or a monitor verdict, by what the request asks."""
    text = json.dumps(request.body).lower()
    if "same root cause" in text:
        return FakeReply.json({"reason": "same defect", "same_root_cause": True})
    if "<observations>" in text:
        return FakeReply.json({"markdown": "## Pay\n- Pay fails [obs 0]"})
    return FakeReply.json({"reasoning": "Pay threw (t 3).", "verdict": "yes", "confidence": 0.9})


def test_a_digest_a_judge_and_an_observation_share_one_limit(world, monkeypatch):
    monkeypatch.setenv("SIGHTLINE_GEMINI_RPM", "2")
    monkeypatch.setenv("SIGHTLINE_GROUPING_THRESHOLDS", json.dumps({"hashing-v1-256": [0.99, -1.0]}))
    get_settings.cache_clear()
    deps, _ = quiet(process_deps(get_settings()))  # nothing is handed to the world's worker
    world.fake.default = answer
    world.scanner(name="Pay", scanner_type="monitor", scanner_config={"prompt": "Did Pay fail?"})

    run_digest(world, deps)  # request 1
    emit(world, 'Clicking "Pay" throws a TypeError', 'The "Pay" button throws TypeError on click')
    assert group_signals(deps, world.team_id).asked == 1  # request 2: the gray zone asks the judge
    assert len(world.fake.generate_requests()) == 2

    session_id = world.scenarios["checkout-js-error"].session_id
    (requested,) = observe_sessions(deps, world.team_id, "Pay", [session_id])
    done = threading.Event()
    attempt = threading.Thread(target=lambda: (run_observation(deps, requested.observation_id), done.set()))
    attempt.start()
    try:
        assert not done.wait(1.5), "the third request of the minute went through"
        assert len(world.fake.generate_requests()) == 2
        client = deps.redis()
        for key in client.scan_iter(match=f"{gemini_rpm_key(deps.settings.redis_namespace)}*"):
            client.delete(key)  # as if the minute had passed
        assert done.wait(10), "the observation did not go on once the window had room"
    finally:
        attempt.join(timeout=30)
    assert len(world.fake.generate_requests()) == 3
    assert world.observation(requested.observation_id).status == "succeeded"


def run_digest(world, deps) -> None:
    """A Gemini digest of a heuristic scanner's observation."""
    now = datetime.now(UTC)
    observed = world.scanner(
        name="Rage",
        scanner_type="monitor",
        provider="heuristic",
        scanner_config={"prompt": "Rage?", "rule": "rage_click"},
    )
    world.observe(observed, world.scenarios["checkout-js-error"].session_id)
    with session_scope(world.db.sessions) as session:
        action = VisionAction(
            team_id=world.team_id,
            scanner_id=observed.id,
            name=f"d-{uuid.uuid4().hex[:6]}",
            trigger_config={"rrule": "FREQ=DAILY", "timezone": "UTC"},
            delivery_config=[{"type": "log"}],
        )
        session.add(action)
        session.flush()
        run = ActionRun(action_id=action.id, scheduled_at=now + timedelta(minutes=1))
        session.add(run)
        run_id = run.id
    started = time.monotonic()
    assert run_action(deps, run_id, now=now + timedelta(minutes=1)).status == "completed"
    assert time.monotonic() - started < 5


def emit(world, *descriptions: str) -> None:
    with session_scope(world.db.sessions) as session:
        for index, description in enumerate(descriptions):
            session.add(
                Signal(
                    team_id=world.team_id,
                    source_product="replay_vision",
                    source_type="scanner_finding",
                    source_id=f"test:{uuid.uuid4().hex}",
                    description=description,
                    weight=0.5,
                    extra={"session_id": f"s{index}"},
                    created_at=datetime.now(UTC) + timedelta(milliseconds=index),
                )
            )
