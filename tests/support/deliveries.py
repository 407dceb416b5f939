"""Deliveries for tests: an action with one observation to deliver, a run's delivery written as the
run_action actor writes it, one attempt as the deliver actor makes it, and settings changed mid-test."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

from actors.broker import process_deps
from models import ActionRun, Delivery, Observation, ObservationStatus, VisionAction, session_scope
from services.action_runs import run_action
from services.delivery import deliver
from settings import get_settings
from tests.support.sending import quiet

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def use_settings(world, monkeypatch, **env: str) -> None:
    """Set environment variables and give the world the settings they make."""
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    world.settings = get_settings()


def action_to(world, target: dict, done: datetime = T0 - timedelta(hours=1)) -> VisionAction:
    """An action over a new scanner with one succeeded observation, completed at `done`."""
    scanner = world.scanner(
        name=f"Rage {uuid.uuid4().hex[:6]}",
        scanner_type="monitor",
        provider="heuristic",
        scanner_config={"prompt": "Rage?", "rule": "rage_click"},
    )
    with session_scope(world.db.sessions) as session:
        output = {"reasoning": "Pay threw an error (t 3).", "verdict": "yes"}
        session.add(
            Observation(
                team_id=world.team_id,
                scanner_id=scanner.id,
                session_id=f"s-{uuid.uuid4().hex[:8]}",
                workflow_id="w",
                status=ObservationStatus.SUCCEEDED,
                result_verdict="yes",
                scanner_result={"model_output": output},
                created_at=done,
                completed_at=done,
            )
        )
        action = VisionAction(
            team_id=world.team_id,
            scanner_id=scanner.id,
            name=f"a-{uuid.uuid4().hex[:6]}",
            trigger_config={"rrule": "FREQ=DAILY;BYHOUR=8", "timezone": "UTC"},
            delivery_config=[target],
        )
        session.add(action)
        return action


def delivery_to(world, target: dict) -> uuid.UUID:
    """The one delivery of a run of a new action to `target`, written as the run_action actor does."""
    action = action_to(world, target)
    with session_scope(world.db.sessions) as session:
        run = ActionRun(action_id=action.id, scheduled_at=T0)
        session.add(run)
    deps, _ = quiet(process_deps(world.settings))
    (delivery_id,) = run_action(deps, run.id).deliveries
    return delivery_id


def attempt(world, delivery_id) -> str:
    """One attempt as the deliver actor makes it; a busy channel's turn is waited for here."""
    while (outcome := deliver(process_deps(world.settings), delivery_id)).status == "paced":
        time.sleep(outcome.wait_ms / 1000)
    return outcome.status


def row(world, delivery_id) -> Delivery:
    with world.db.sessions() as session:
        return session.get_one(Delivery, delivery_id)
