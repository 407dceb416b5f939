"""Actions (DESIGN §8): a team's scheduled digests and alerts, created, changed, deleted and listed.

Every definition is validated by `pipeline.actions.validate_action`; a Slack target must name an
integration of the team. Secrets in targets are stored encrypted (`integrations.secrets.seal_targets`)
and shown masked (`shown_targets`). The schedule is recomputed when the rule or `enabled` changes, from now:
a re-enabled action does not replay what it missed.

`default_digest` and `apply_actions` work inside a caller's transaction: they are parts of creating
a scanner and of `sightline apply`, which write scanners and actions together.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple
from uuid import UUID

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from integrations.secrets import SecretBox, open_targets, seal_targets, secret_box
from models import ActionRun, Integration, Scanner, Team, VisionAction, as_utc
from models.action_queries import (
    action_named,
    has_runs,
    recent_runs,
    team_actions,
    team_scanner_ids,
)
from models.observation_queries import find_scanner
from models.queries import by_name_or_id
from pipeline import as_code
from pipeline.actions import DEFAULT_DIGEST_RULE, next_run, validate_action
from pipeline.addresses import url_host_problem
from pipeline.errors import InvalidField, NotFoundError
from pipeline.masking import SECRET_KEYS, masked_targets, unmasked_targets
from pipeline.names import RUN_ACTION
from services.context import Deps
from services.prompts import resolve

EDITABLE = (
    *("name", "mode", "enabled", "trigger_config", "selection"),
    *("synthesis_config", "delivery_config", "alert_config"),
)
TRIGGER_TYPES = ("schedule",)


@dataclass(frozen=True)
class ActionDetail:
    id: UUID
    definition: dict[str, Any]  # the editable fields and the scanner's name, as `apply` reads them
    runs: list[ActionRun]  # newest first

    def document(self) -> dict[str, Any]:
        """The definition as an `apply` file (`actions: [...]`): what `actions show` prints."""
        return as_code.document(actions=[self.definition])


class Applied(NamedTuple):
    name: str
    action: str  # created | updated | unchanged
    changed: tuple[str, ...] = ()


def create_action(
    deps: Deps,
    team_id: int,
    scanner_ref: str,
    data: dict[str, Any],
    *,
    now: datetime | None = None,
    user_id: int | None = None,
) -> VisionAction:
    """Create an action over the scanner named (or with the id) `scanner_ref`; a rule without a
    timezone is in the team's. Raises `InvalidField` (an unknown scanner is `scanner`)."""
    now = now or deps.now()
    _check_trigger_type(data.get("trigger_type"))
    _check_hosts(data.get("delivery_config"), deps.settings.webhook_allow_private)
    with deps.transaction() as session:
        scanner = _scanner(session, team_id, scanner_ref)
        trigger = dict(data.get("trigger_config") or {})
        if not trigger.get("timezone"):
            trigger["timezone"] = session.get_one(Team, team_id).timezone
        data = {**data, "trigger_config": trigger}
        return _create(session, team_id, scanner, data, now, user_id, box=secret_box(deps.settings))


def update_action(
    deps: Deps, team_id: int, ref: str, changes: dict[str, Any], *, now: datetime | None = None
) -> list[str]:
    """Change fields of an action (`scanner` too); the names of the fields that changed. A target
    sent back with a masked secret keeps the stored one. Raises `NotFoundError` or `InvalidField`."""
    now = now or deps.now()
    changes = dict(changes)
    _check_trigger_type(changes.pop("trigger_type", None))
    _check_hosts(changes.get("delivery_config"), deps.settings.webhook_allow_private)
    with deps.transaction() as session:
        action = find_action(session, team_id, ref)
        moved = _move(session, action, changes.pop("scanner", None), now)
        return moved + _update(session, action, changes, now, secret_box(deps.settings))


def delete_action(deps: Deps, team_id: int, ref: str, *, now: datetime | None = None) -> str:
    """Delete an action that never ran: `deleted`. One that ran is disabled instead, so its runs
    keep their history: `disabled`. Raises `NotFoundError`."""
    with deps.transaction() as session:
        action = find_action(session, team_id, ref)
        if not has_runs(session, action.id):
            session.delete(action)
            return "deleted"
        if action.enabled:
            action.enabled, action.next_run_at, action.updated_at = False, None, now or deps.now()
            session.add(action)
        return "disabled"


def actions(
    deps: Deps, team_id: int, *, scanner_id: UUID | None = None, limit: int | None = None, offset: int = 0
) -> tuple[int, list[VisionAction]]:
    """(how many, one page of) a team's actions by name; only those over `scanner_id` when given."""
    with deps.read() as session:
        count, rows = team_actions(session, team_id, scanner_id, limit, offset)
        return count, list(rows)


def action(deps: Deps, team_id: int, ref: str) -> VisionAction:
    """One action by name or id; `NotFoundError` when the team has none."""
    with deps.read() as session:
        return find_action(session, team_id, ref)


def action_detail(deps: Deps, team_id: int, ref: str, runs: int = 5) -> ActionDetail:
    """An action's definition and its latest runs; `NotFoundError` for an unknown action."""
    with deps.read() as session:
        action = find_action(session, team_id, ref)
        scanner = session.get_one(Scanner, action.scanner_id)
        definition: dict[str, Any] = {"name": action.name, "scanner": scanner.name}
        definition |= {field: getattr(action, field) for field in EDITABLE if field != "name"}
        definition["mode"] = str(action.mode)
        definition["delivery_config"] = shown_targets(deps, action)
        return ActionDetail(action.id, definition, list(recent_runs(session, action.id, runs)))


def shown_targets(deps: Deps, action: VisionAction) -> list[dict[str, Any]]:
    """An action's targets as they may be shown: secrets masked (`https://hooks.slack.com/…X9aQ`).
    Raises `ConfigurationError` when the key cannot decrypt them."""
    return masked_targets(open_targets(secret_box(deps.settings), action.delivery_config))


def run_now(deps: Deps, team_id: int, ref: str, *, now: datetime | None = None) -> UUID:
    """Start a run of an action now, outside its schedule (a worker does the work); its id.

    Raises `NotFoundError`, or `InvalidField` when a run started at this very moment.
    """
    now = now or deps.now()
    try:
        with deps.transaction() as session:
            action = find_action(session, team_id, ref)
            run = ActionRun(
                action_id=action.id, scheduled_at=now, started_at=now, created_at=now, updated_at=now
            )
            session.add(run)
    except IntegrityError as exc:
        raise InvalidField("action", "it was started at this very moment; try again") from exc
    deps.sender().send(RUN_ACTION, str(run.id))
    return run.id


def find_action(session: Session, team_id: int, ref: str) -> VisionAction:
    """A team's action by name, or by id; `NotFoundError` when there is none."""
    action = by_name_or_id(session, VisionAction, team_id, ref, action_named)
    if action is None:
        raise NotFoundError(f"no action {ref!r} in team {team_id}; see `sightline actions list`")
    return action


def default_digest(session: Session, scanner: Scanner, now: datetime) -> VisionAction:
    """Every new scanner gets a daily 08:00 digest in the team's timezone, delivered to the log."""
    team = session.get_one(Team, scanner.team_id)
    base = f"Featured digest: {scanner.name}"[:240]
    name, number = base, 1
    while action_named(session, scanner.team_id, name) is not None:
        number += 1
        name = f"{base} ({number})"
    data = {
        "name": name,
        "trigger_config": {"rrule": DEFAULT_DIGEST_RULE, "timezone": team.timezone or "UTC"},
        "delivery_config": [{"type": "log"}],
    }
    session.flush()
    return _create(session, scanner.team_id, scanner, data, now)


def apply_actions(
    session: Session,
    team_id: int,
    entries: list[dict[str, Any]],
    *,
    now: datetime,
    box: SecretBox,
    dry_run: bool = False,
    allow_private: bool = False,
) -> list[Applied]:
    """Actions as code: each entry (with `scanner: NAME`) created or updated by name; `box` encrypts
    their targets' secrets (a masked secret, as `actions show` prints it, keeps the stored one);
    webhooks on private addresses are refused unless `allow_private` (see `_check_hosts`).

    Raises `InvalidField` naming the entry (`actions[2].selection`).
    """
    results = []
    for index, entry in enumerate(entries):
        try:
            _check_hosts(entry.get("delivery_config"), allow_private)
            results.append(_apply_one(session, team_id, dict(entry), now, dry_run, box))
        except InvalidField as exc:
            raise InvalidField(f"actions[{index}].{exc.field}", str(exc).split(": ", 1)[-1]) from exc
    return results


def _apply_one(
    session: Session, team_id: int, data: dict[str, Any], now: datetime, dry_run: bool, box: SecretBox
) -> Applied:
    scanner_ref = str(data.pop("scanner", "") or "")
    scanner = find_scanner(session, team_id, scanner_ref) if scanner_ref else None
    if scanner is None:
        raise InvalidField("scanner", f"{scanner_ref!r} is not a scanner of this team")
    existing = action_named(session, team_id, str(data.get("name")))
    if existing is None:
        if dry_run:
            values = validate_action(data, now=now, scanner_ids=team_scanner_ids(session, team_id))
            _check_prompt(session, team_id, values["synthesis_config"])
        else:
            _create(session, team_id, scanner, data, now, box=box)
        return Applied(str(data.get("name")), "created")
    with session.begin_nested() as nested:
        changes = {key: value for key, value in data.items() if key != "name"}
        changed = _move(session, existing, scanner_ref, now) + _update(session, existing, changes, now, box)
        if dry_run:
            nested.rollback()
    return Applied(existing.name, "updated" if changed else "unchanged", tuple(changed))


def _create(
    session: Session,
    team_id: int,
    scanner: Scanner,
    data: dict[str, Any],
    now: datetime,
    user_id: int | None = None,
    *,
    box: SecretBox | None = None,
) -> VisionAction:
    """Insert a validated action; `box` encrypts its targets' secrets (None: a target with a secret
    is refused, as in the default digest, which has none)."""
    values = validate_action(data, now=now, scanner_ids=team_scanner_ids(session, team_id))
    _check_integrations(session, team_id, values["delivery_config"])
    _check_prompt(session, team_id, values["synthesis_config"])
    if action_named(session, team_id, values["name"]) is not None:
        raise InvalidField("name", f"{values['name']!r} is taken in this team; choose another or update it")
    values["delivery_config"] = _sealed(box, values["delivery_config"])
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


def _update(
    session: Session, action: VisionAction, changes: dict[str, Any], now: datetime, box: SecretBox
) -> list[str]:
    """Change the fields in `changes`; a target sent back with a masked secret keeps the stored one."""
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise InvalidField(unknown[0], f"cannot be changed; editable: {', '.join(EDITABLE)}")
    current = {field: getattr(action, field) for field in EDITABLE}
    current["mode"] = str(action.mode)
    current["delivery_config"] = open_targets(box, action.delivery_config)
    if "delivery_config" in changes:
        restored = unmasked_targets(changes["delivery_config"], current["delivery_config"])
        changes = {**changes, "delivery_config": restored}
    scanner_ids = team_scanner_ids(session, action.team_id)
    values = validate_action({**current, **changes}, now=now, scanner_ids=scanner_ids)
    _check_integrations(session, action.team_id, values["delivery_config"])
    _check_prompt(session, action.team_id, values["synthesis_config"])
    changed = [field for field in EDITABLE if values[field] != current[field]]
    for field in changed:
        setattr(action, field, _sealed(box, values[field]) if field == "delivery_config" else values[field])
    if {"trigger_config", "enabled"} & set(changed):
        _schedule(action, now)  # a re-enabled action does not replay what it missed
    if changed:
        action.updated_at = now
        session.add(action)
    return changed


def _sealed(box: SecretBox | None, targets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if box is None:
        if any(target["type"] in SECRET_KEYS for target in targets):
            raise InvalidField("delivery_config", "a target with a secret cannot be stored here")
        return targets
    return seal_targets(box, targets)


def _schedule(action: VisionAction, now: datetime) -> None:
    enabled = action.enabled
    action.next_run_at = next_run(action.trigger_config, as_utc(action.created_at), now) if enabled else None


def _check_integrations(session: Session, team_id: int, targets: list[dict[str, Any]]) -> None:
    for index, target in enumerate(targets):
        if target["type"] != "slack":
            continue
        try:
            integration = session.get(Integration, UUID(str(target["integration_id"])))
        except ValueError:
            integration = None
        if integration is None or integration.team_id != team_id:
            raise InvalidField(
                f"delivery_config[{index}].integration_id",
                "is not a Slack integration of this team; see `sightline integrations list`",
            )


def _check_prompt(session: Session, team_id: int, synthesis: dict[str, Any]) -> None:
    """`InvalidField` when the digest names a library prompt (or a version) the team does not have."""
    if "prompt_ref" in synthesis:
        resolve(session, team_id, synthesis["prompt_ref"], "synthesis_config.prompt_ref")


def _scanner(session: Session, team_id: int, ref: str) -> Scanner:
    scanner = find_scanner(session, team_id, ref)
    if scanner is None:
        raise InvalidField("scanner", f"{ref!r} is not a scanner of this team; see `sightline scanners list`")
    return scanner


def _move(session: Session, action: VisionAction, scanner_ref: str | None, now: datetime) -> list[str]:
    """Bind the action to another scanner of its team; `["scanner"]` when it moved."""
    if scanner_ref is None:
        return []
    scanner = _scanner(session, action.team_id, str(scanner_ref))
    if scanner.id == action.scanner_id:
        return []
    action.scanner_id, action.updated_at = scanner.id, now
    session.add(action)
    return ["scanner"]


def _check_trigger_type(value: object) -> None:
    if value is not None and value not in TRIGGER_TYPES:
        raise InvalidField("trigger_type", f"{value!r} is not supported; actions run on a schedule")


def _check_hosts(targets: object, allow_private: bool) -> None:
    """Refuse a webhook or Slack webhook URL whose host is a private, loopback, link-local or metadata
    address in any spelling, or a plainly local name (`pipeline.addresses.host_problem`), unless
    private addresses are allowed. No DNS here: other names are resolved and checked when sent.
    Raises `InvalidField` naming the URL (`delivery_config[0].url`)."""
    if allow_private or not isinstance(targets, list):
        return
    for index, target in enumerate(targets):
        if not isinstance(target, dict) or target.get("type") not in ("webhook", "slack_webhook"):
            continue
        problem = url_host_problem(str(target.get("url") or ""))
        if problem:
            raise InvalidField(
                f"delivery_config[{index}].url",
                f"{problem}; webhooks may only reach public addresses "
                "(set SIGHTLINE_WEBHOOK_ALLOW_PRIVATE=true to allow private ones)",
            )
