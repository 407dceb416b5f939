"""What a scenario puts through the pipeline: scanners, recordings, a Slack integration and digest actions.

Recordings are the synthetic scenarios (`sightline scenarios list`) stored again and again under
new session ids through `services.recordings.store_events`, as an import of many files would. The
load is sized in observations (`SIGHTLINE_CHAOS_SCALE`, default 60 for a laptop; `.ci/run` sets the
issue's 1,000): sessions × scanners, every scanner sampling every session.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlmodel import col, select

from models import Recording, VisionAction
from pipeline.limits import eligibility
from scenarios import build
from services import recordings
from services.actions import create_action
from services.integrations import add_slack_integration
from services.scanners import create_scanner
from services.setup import resolve_team
from tests.chaos.cluster import Cluster

# Eligible sessions (longer than 15 s, active for 10 s); the checkout one also emits signals.
SESSIONS = ("checkout-js-error", "dead-click-disabled", "u-turn", "smooth-signup", "form-email")
REPORT_CHANNEL = "C-reports"

HEURISTIC = [
    {"name": "Rage clicks", "scanner_type": "monitor", "provider": "heuristic",
     "scanner_config": {"prompt": "Did the visitor rage-click anything?", "rule": "rage_click"},
     "emits_signals": True},
    {"name": "Friction kinds", "scanner_type": "classifier", "provider": "heuristic",
     "scanner_config": {"prompt": "Which kinds of friction?",
                        "tags": ["rage_click", "dead_click", "u_turn", "error_click", "no_friction"]},
     "emits_signals": True},
    {"name": "Frustration score", "scanner_type": "scorer", "provider": "heuristic",
     "scanner_config": {"prompt": "How frustrating was this visit?", "scale": {"min": 1, "max": 5}}},
    {"name": "Visit summary", "scanner_type": "summarizer", "provider": "heuristic",
     "scanner_config": {"prompt": "An online shop and a notes app.", "length": "short"}},
]  # fmt: skip
GEMINI = [
    {"name": f"Payment failed {n}", "scanner_type": "monitor", "provider": "google",
     "model": "gemini-3-flash-preview", "scanner_config": {"prompt": f"Did payment step {n} fail?"}}
    for n in (1, 2)
]  # fmt: skip


def scale() -> int:
    """Observations per scenario: SIGHTLINE_CHAOS_SCALE (CI: 1,000), else a laptop's 60."""
    return int(os.environ.get("SIGHTLINE_CHAOS_SCALE", "60"))


@dataclass
class Load:
    team_id: int
    scanner_ids: list[str]
    integration_id: str
    sessions: list[str] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)

    @property
    def observations(self) -> int:
        return len(self.sessions) * len(self.scanner_ids)

    def expected(self) -> set[tuple[str, str]]:
        """Every (scanner, session) that must be observed exactly once."""
        return {(scanner, session) for scanner in self.scanner_ids for session in self.sessions}

    def describe(self) -> str:
        actions = f", {len(self.channels)} Slack digests" if self.channels else ""
        return (
            f"{self.observations:,} obs ({len(self.sessions)} sessions × {len(self.scanner_ids)} scanners)"
            f"{actions}"
        )


def prepare(cluster: Cluster, slack_token: str, *, gemini: bool = False, actions: int = 0) -> Load:
    """`sightline init`, then the scanners, the Slack integration and `actions` digests (not due yet)."""
    cluster.cli("init")
    deps = cluster.deps
    team_id = resolve_team(deps, None)
    specs = GEMINI if gemini else HEURISTIC
    scanners = [create_scanner(deps, team_id, {**spec, "sampling_rate": 1.0}) for spec in specs]
    integration, _, _ = add_slack_integration(
        deps, team_id, name="chaos", token=slack_token, report_channel=REPORT_CHANNEL
    )
    load = Load(team_id, [str(s.id) for s in scanners], str(integration))
    for number in range(actions):
        channel = f"C-digest-{number:03}"
        create_action(
            deps,
            team_id,
            load.scanner_ids[number % len(load.scanner_ids)],
            {
                "name": f"chaos digest {number}",
                "trigger_config": {"rrule": "FREQ=MINUTELY", "timezone": "UTC"},
                "delivery_config": [
                    {"type": "slack", "integration_id": load.integration_id, "channel": channel}
                ],
            },
        )
        load.channels.append(channel)
    return load


def sessions_for(observations: int, scanners: int) -> int:
    return math.ceil(observations / scanners)


def store_sessions(cluster: Cluster, load: Load, count: int) -> list[str]:
    """Store `count` more recordings (ids `chaos-00000`…) and add them to the load; their ids."""
    deps = cluster.deps
    built = [build(name) for name in SESSIONS]
    start = len(load.sessions)
    added = []
    for number in range(start, start + count):
        session_id = f"chaos-{number:05}"
        recordings.store_events(deps, load.team_id, session_id, built[number % len(built)].events)
        added.append(session_id)
    _check_eligible(cluster, load.team_id, added)
    load.sessions.extend(added)
    return added


def _check_eligible(cluster: Cluster, team_id: int, session_ids: list[str]) -> None:
    with cluster.deps.read() as session:
        for session_id in session_ids[: len(SESSIONS)]:
            row = session.exec(
                select(Recording).where(Recording.team_id == team_id, Recording.session_id == session_id)
            ).one()
            assert eligibility(row) is None, f"{session_id} would not be swept: {eligibility(row)}"


def fire_actions_at(cluster: Cluster, when: datetime) -> None:
    """Make every digest action due at `when` (they then run every minute)."""
    with cluster.deps.transaction() as session:
        for action in session.exec(
            select(VisionAction).where(col(VisionAction.name).startswith("chaos digest"))
        ):
            action.next_run_at = when
            session.add(action)


def soon(seconds: float) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)
