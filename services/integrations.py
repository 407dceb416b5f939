"""Integrations (DESIGN §8): the Slack bot tokens that `slack` targets and report cards post with.

A token is checked with Slack's `auth.test` before it is stored, stored encrypted
(integrations/secrets.py), and never returned, printed or logged again: lists show its mask. Names
are unique in a team. Adding the integration that carries the team's report channel sends the cards
of ready reports that had none (at most `CARD_BACKLOG`, heaviest first), through the deliver queue.

A delivery gets the token in clear from `services.secrets.plaintext_target`.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import structlog
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from integrations.secrets import secret_box
from integrations.slack_auth import SlackIdentity, check_slack_token
from models import Integration, IntegrationKind
from models.action_queries import team_integrations
from models.integration_queries import actions_targeting, integration_named, uncarded_ready_reports
from models.queries import by_name_or_id
from pipeline.errors import Conflict, InvalidField, NotFoundError
from pipeline.names import DELIVER
from services.context import Deps
from services.delivery import card_for_ready_report
from services.secrets import slack_token

log = structlog.get_logger(__name__)
CARD_BACKLOG = 20  # cards sent at most when Slack is added: older ready reports wait in the inbox
MAX_NAME = 255
MASK_TAIL_FROM = 24  # a token shows its last four characters only when it has at least this many


def add_slack_integration(
    deps: Deps, team_id: int, *, name: str, token: str, report_channel: str | None = None
) -> tuple[UUID, SlackIdentity, int]:
    """Check a Slack bot token with `auth.test`, then store it encrypted under a name new in the team;
    (its id, whose token it is, how many waiting report cards were sent). Raises `InvalidField`
    (a refused token, a taken name) or `TransientError` (Slack not answering); nothing is stored then.
    """
    name = _valid_name(name)
    if not token.startswith("xox"):
        raise InvalidField("token", "a Slack bot token starts with xoxb-")
    with deps.read() as session:
        _check_free(session, team_id, name)
    identity = check_slack_token(token, deps.settings)
    config = _config(identity, token, report_channel)
    encrypted = secret_box(deps.settings).encrypt(token)
    row = Integration(
        team_id=team_id, name=name, kind=IntegrationKind.SLACK, config=config, bot_token=encrypted
    )
    with deps.transaction() as session:
        _insert(session, row)
        cards = _waiting_cards(session, team_id, deps) if report_channel else []
    deps.sender().send_each(DELIVER, cards)
    log.info("integration_added", integration_id=str(row.id), team_id=team_id, cards=len(cards))
    return row.id, identity, len(cards)


def integrations_of(deps: Deps, team_id: int) -> list[dict[str, Any]]:
    """A team's integrations as `{id, kind, name, workspace, bot, report_channel, token_mask}`."""
    with deps.read() as session:
        return [_shown(row) for row in team_integrations(session, team_id)]


def check_integration(deps: Deps, team_id: int, ref: str) -> SlackIdentity:
    """Whose token an integration holds, asked of Slack (`auth.test`; nothing is posted). Raises
    `NotFoundError`, `ConfigurationError` (the key cannot decrypt it), `InvalidField` (Slack refused
    the token) or `TransientError`."""
    with deps.read() as session:
        row = find_integration(session, team_id, ref)
        token = slack_token(secret_box(deps.settings), row)
    return check_slack_token(token, deps.settings)


def remove_integration(deps: Deps, team_id: int, ref: str) -> str:
    """Delete an integration no enabled action targets; its name. Raises `NotFoundError`, or
    `Conflict` naming the enabled actions that post through it."""
    with deps.transaction() as session:
        row = find_integration(session, team_id, ref)
        users = [action.name for action in actions_targeting(session, team_id, row.id) if action.enabled]
        if users:
            raise Conflict(
                f"integration {row.name!r} is a target of the enabled actions {', '.join(map(repr, users))}; "
                "change their targets or disable them first"
            )
        session.delete(row)
    log.info("integration_removed", integration_id=str(row.id), team_id=team_id)
    return row.name


def rename_integration(deps: Deps, team_id: int, ref: str, new_name: str) -> str:
    """Give an integration another name, new in the team; its old name. Raises `NotFoundError` or
    `InvalidField`."""
    new_name = _valid_name(new_name)
    with deps.transaction() as session:
        row = find_integration(session, team_id, ref)
        old = row.name
        if new_name != old:
            _check_free(session, team_id, new_name)
            row.name, row.updated_at = new_name, deps.now()
            _insert(session, row)
    return old


def find_integration(session: Session, team_id: int, ref: str) -> Integration:
    """A team's integration by name, or by id; `NotFoundError` when there is none."""
    row = by_name_or_id(session, Integration, team_id, ref, integration_named)
    if row is None:
        raise NotFoundError(f"no integration {ref!r} in team {team_id}; see `sightline integrations list`")
    return row


def mask_token(token: str) -> str:
    """What may be shown of a token: `xoxb-…abcd` (no tail for a token too short to spare it)."""
    return f"{token[:5]}…{token[-4:] if len(token) >= MASK_TAIL_FROM else ''}"


def _config(identity: SlackIdentity, token: str, report_channel: str | None) -> dict[str, Any]:
    config = {
        "workspace": identity.workspace,
        "workspace_id": identity.workspace_id,
        "workspace_url": identity.url,
        "bot": identity.bot,
        "token_mask": mask_token(token),
    }
    return {**config, "report_channel": report_channel} if report_channel else config


def _shown(row: Integration) -> dict[str, Any]:
    config = row.config or {}
    shown = {"id": str(row.id), "kind": str(row.kind), "name": row.name}
    keys = ("workspace", "bot", "report_channel", "token_mask")
    return shown | {key: config[key] for key in keys if config.get(key)}


def _valid_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > MAX_NAME:
        raise InvalidField("name", f"give the integration a name of 1 to {MAX_NAME} characters")
    return name


def _check_free(session: Session, team_id: int, name: str) -> None:
    if integration_named(session, team_id, name) is not None:
        raise InvalidField("name", f"{name!r} is taken in this team; choose another")


def _insert(session: Session, row: Integration) -> None:
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError as exc:
        raise InvalidField("name", f"{row.name!r} was just taken in this team; choose another") from exc


def _waiting_cards(session: Session, team_id: int, deps: Deps) -> list[UUID]:
    """Cards for the ready reports that had none (`card_for_ready_report` decides the channel)."""
    now, cards = deps.now(), []
    for report in uncarded_ready_reports(session, team_id, CARD_BACKLOG):
        card = card_for_ready_report(session, report, now)
        if card is not None:
            cards.append(card)
    return cards
