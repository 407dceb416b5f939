"""Integrations (DESIGN §8): the Slack bot tokens that `slack` targets and report cards post with.

A token is stored, and never returned or printed again.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from models import Integration, IntegrationKind
from models.action_queries import team_integrations
from pipeline.errors import InvalidField
from services.context import Deps


def add_slack_integration(
    deps: Deps, team_id: int, *, name: str, token: str, report_channel: str | None = None
) -> UUID:
    """Store a Slack bot token for `slack` targets (and report cards); raises `InvalidField`."""
    if not token.startswith("xox"):
        raise InvalidField("token", "a Slack bot token starts with xoxb-")
    if not name.strip():
        raise InvalidField("name", "give the integration a name")
    config = {"name": name.strip(), **({"report_channel": report_channel} if report_channel else {})}
    integration = Integration(team_id=team_id, kind=IntegrationKind.SLACK, config=config, bot_token=token)
    with deps.transaction() as session:
        session.add(integration)
    return integration.id


def integrations_of(deps: Deps, team_id: int) -> list[dict[str, Any]]:
    """A team's integrations as `{id, kind, name, report_channel?}`: never their tokens."""
    with deps.read() as session:
        rows = team_integrations(session, team_id)
        return [{"id": str(row.id), "kind": str(row.kind), **(row.config or {})} for row in rows]
