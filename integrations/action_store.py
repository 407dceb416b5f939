"""Creating, changing and deleting actions (and Slack integrations). None of these commit."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from models import ActionRun, Integration, IntegrationKind, Scanner, Team, VisionAction, as_utc
from pipeline.actions import DEFAULT_DIGEST_RULE, validate_action
from pipeline.errors import InvalidField, NotFoundError
from pipeline.schedule import next_occurrence

EDITABLE = (
    "name",
    "mode",
    "enabled",
    "trigger_config",
    "selection",
    "synthesis_config",
    "delivery_config",
    "alert_config",
)


def _scanner_ids(session: Session, team_id: int) -> list[str]:
    return [str(sid) for sid in session.exec(select(Scanner.id).where(Scanner.team_id == team_id))]


def _check_integrations(session: Session, team_id: int, targets: list[dict[str, Any]]) -> None:
    for index, target in enumerate(targets):
        if target["type"] == "slack":
            try:
                integration = session.get(Integration, UUID(str(target["integration_id"])))
            except ValueError:
                integration = None
            if integration is None or integration.team_id != team_id:
                raise InvalidField(
                    f"delivery_config[{index}].integration_id",
                    "is not a Slack integration of this team; see `sightline integrations list`",
                )


def find_action(session: Session, team_id: int, ref: str) -> VisionAction:
    action = session.exec(
        select(VisionAction).where(VisionAction.team_id == team_id, VisionAction.name == ref)
    ).first()
    if action is None:
        try:
            action = session.get(VisionAction, UUID(ref))
        except ValueError:
            action = None
    if action is None or action.team_id != team_id:
        raise NotFoundError(f"no action {ref!r} in team {team_id}; see `sightline actions list`")
    return action


def _schedule(action: VisionAction, now: datetime) -> None:
    config = action.trigger_config or {}
    action.next_run_at = (
        next_occurrence(
            config["rrule"], config.get("timezone") or "UTC", created_at=as_utc(action.created_at), after=now
        )
        if action.enabled
        else None
    )


def create_action(
    session: Session,
    team_id: int,
    scanner: Scanner,
    data: dict[str, Any],
    *,
    now: datetime,
    user_id: int | None = None,
) -> VisionAction:
    values = validate_action(data, now=now, scanner_ids=_scanner_ids(session, team_id))
    _check_integrations(session, team_id, values["delivery_config"])
    if session.exec(
        select(VisionAction).where(VisionAction.team_id == team_id, VisionAction.name == values["name"])
    ).first():
        raise InvalidField("name", f"{values['name']!r} is taken in this team; choose another or update it")
    action = VisionAction(
        team_id=team_id, scanner_id=scanner.id, created_by=user_id, created_at=now, updated_at=now, **values
    )
    _schedule(action, now)
    try:
        with session.begin_nested():
            session.add(action)
    except IntegrityError as exc:
        raise InvalidField("name", f"{values['name']!r} was just taken; choose another") from exc
    return action


def update_action(
    session: Session, action: VisionAction, changes: dict[str, Any], *, now: datetime
) -> list[str]:
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise InvalidField(unknown[0], f"cannot be changed; editable: {', '.join(EDITABLE)}")
    current = {field: getattr(action, field) for field in EDITABLE}
    current["mode"] = str(action.mode)
    values = validate_action(
        {**current, **changes}, now=now, scanner_ids=_scanner_ids(session, action.team_id)
    )
    _check_integrations(session, action.team_id, values["delivery_config"])
    changed = [field for field in EDITABLE if values[field] != current[field]]
    for field in changed:
        setattr(action, field, values[field])
    if {"trigger_config", "enabled"} & set(changed):
        _schedule(action, now)  # a re-enabled action does not replay what it missed
    if changed:
        action.updated_at = now
        session.add(action)
    return changed


def delete_action(session: Session, action: VisionAction) -> None:
    """Delete an action that never ran; disable one that did (its runs keep their history)."""
    if session.exec(select(ActionRun).where(ActionRun.action_id == action.id)).first() is not None:
        raise InvalidField("action", "it has runs; disable it instead (--set enabled=false)")
    session.delete(action)


def default_digest(session: Session, scanner: Scanner, now: datetime) -> VisionAction:
    """Every new scanner gets a daily 08:00 digest in the team's timezone, delivered to the log."""
    team = session.get(Team, scanner.team_id)
    base = f"Featured digest: {scanner.name}"[:240]
    name, number = base, 1
    while session.exec(
        select(VisionAction).where(VisionAction.team_id == scanner.team_id, VisionAction.name == name)
    ).first():
        number += 1
        name = f"{base} ({number})"
    data = {
        "name": name,
        "trigger_config": {"rrule": DEFAULT_DIGEST_RULE, "timezone": team.timezone or "UTC"},
        "delivery_config": [{"type": "log"}],
    }
    session.flush()
    return create_action(session, scanner.team_id, scanner, data, now=now)


def add_slack(
    session: Session, team_id: int, *, name: str, token: str, report_channel: str | None
) -> Integration:
    if not token.startswith("xox"):
        raise InvalidField("token", "a Slack bot token starts with xoxb-")
    if not name.strip():
        raise InvalidField("name", "give the integration a name")
    config = {"name": name.strip(), **({"report_channel": report_channel} if report_channel else {})}
    integration = Integration(team_id=team_id, kind=IntegrationKind.SLACK, config=config, bot_token=token)
    session.add(integration)
    return integration


def apply_actions(session: Session, team_id: int, entries: list[dict[str, Any]], *, now: datetime,
                  dry_run: bool = False) -> list[tuple[str, str, tuple[str, ...]]]:  # fmt: skip
    """Actions as code: each entry (with `scanner: NAME`) created or updated by name."""
    from models.observation_queries import find_scanner

    results = []
    for index, entry in enumerate(entries):
        data = dict(entry)
        scanner_ref = str(data.pop("scanner", "") or "")
        scanner = find_scanner(session, team_id, scanner_ref) if scanner_ref else None
        if scanner is None:
            raise InvalidField(f"actions[{index}].scanner", f"{scanner_ref!r} is not a scanner of this team")
        existing = session.exec(
            select(VisionAction).where(VisionAction.team_id == team_id, VisionAction.name == data.get("name"))
        ).first()
        try:
            if existing is None:
                if not dry_run:
                    create_action(session, team_id, scanner, data, now=now)
                else:
                    validate_action(data, now=now, scanner_ids=_scanner_ids(session, team_id))
                results.append((str(data.get("name")), "created", ()))
                continue
            with session.begin_nested() as nested:
                changes = {key: value for key, value in data.items() if key != "name"}
                changed = update_action(session, existing, changes, now=now)
                if dry_run:
                    nested.rollback()
        except InvalidField as exc:
            raise InvalidField(f"actions[{index}].{exc.field}", str(exc).split(": ", 1)[-1]) from exc
        results.append((existing.name, "updated" if changed else "unchanged", tuple(changed)))
    return results
