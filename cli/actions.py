"""`sightline actions …` and `sightline integrations …`."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import typer
import yaml
from rich.markup import escape
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from actors.broker import setup_broker
from cli.context import friendly_errors, open_team, out, print_table, set_options, settings, yaml_option
from integrations.action_store import (
    EDITABLE,
    add_slack,
    create_action,
    delete_action,
    find_action,
    update_action,
)
from models import ActionRun, ActionRunStatus, Delivery, Integration, VisionAction, session_scope
from models.observation_queries import find_scanner
from pipeline.errors import InvalidField, NotFoundError

app = typer.Typer(help="Actions: scheduled digests and alerts over observations.", no_args_is_help=True)
integrations_app = typer.Typer(help="Integrations: where actions deliver (Slack).", no_args_is_help=True)
TEAM = typer.Option(None, "--team", help="Team id (default: the first team).")


def _now() -> datetime:
    return datetime.now(UTC)


@app.command("create")
@friendly_errors
def create_command(
    name: str = typer.Option(..., help="Unique within the team."),
    scanner: str = typer.Option(..., help="The scanner (name or id) whose observations it summarises."),
    rrule: str = typer.Option(
        "FREQ=DAILY;BYHOUR=8;BYMINUTE=0", help="When it runs (RFC 5545 RRULE, no DTSTART)."
    ),
    timezone: str = typer.Option(None, help="IANA timezone of the rule (default: the team's)."),
    mode: str = typer.Option("group_summary", help="group_summary or alert."),
    selection: str = typer.Option(None, help="YAML/JSON, e.g. '{verdict: [yes], tags: [rage_click]}'."),
    alert: str = typer.Option(None, "--alert", help="YAML/JSON alert_config for mode alert."),
    prompt_guide: str = typer.Option(None, help="What the digest should focus on (≤500 chars)."),
    target: list[str] = typer.Option(
        None, "--target", help="YAML/JSON target, repeatable, e.g. '{type: log}'."
    ),
    team: int = TEAM,
) -> None:
    """Create a scheduled digest or alert."""
    _, db, team_id = open_team(team)
    from models import Team

    with session_scope(db.sessions) as session:
        found = find_scanner(session, team_id, scanner)
        if found is None:
            raise NotFoundError(f"no scanner {scanner!r} in team {team_id}")
        data = {
            "name": name,
            "mode": mode,
            "trigger_config": {"rrule": rrule, "timezone": timezone or session.get(Team, team_id).timezone},
            "selection": yaml_option(selection, "selection"),
            "alert_config": yaml_option(alert, "alert"),
            "synthesis_config": {"prompt_guide": prompt_guide} if prompt_guide else {},
            "delivery_config": [yaml_option(item, "target") for item in target or []] or [{"type": "log"}],
        }
        action = create_action(session, team_id, found, data, now=_now())
        upcoming = action.next_run_at
    out.print(
        f"created action {name!r}; next run {upcoming.isoformat() if upcoming else 'never'}", highlight=False
    )


@app.command("list")
@friendly_errors
def list_command(team: int = TEAM) -> None:
    """The team's actions and their next runs."""
    _, db, team_id = open_team(team)
    with db.sessions() as session:
        actions = session.exec(
            select(VisionAction).where(VisionAction.team_id == team_id).order_by(VisionAction.name)
        )
        rows = [
            (
                a.name,
                str(a.mode),
                "yes" if a.enabled else "no",
                (a.trigger_config or {}).get("rrule", ""),
                (a.trigger_config or {}).get("timezone", ""),
                a.next_run_at.isoformat() if a.next_run_at else "-",
                ",".join(t["type"] for t in a.delivery_config or []) or "-",
            )
            for a in actions
        ]
    print_table(("name", "mode", "enabled", "rrule", "timezone", "next run", "targets"), rows)


@app.command("show")
@friendly_errors
def show_command(
    action: str = typer.Argument(..., help="Name or id."),
    team: int = TEAM,
    runs: int = typer.Option(5, help="How many recent runs to show."),
) -> None:
    """An action's definition and its recent runs."""
    _, db, team_id = open_team(team)
    with db.sessions() as session:
        found = find_action(session, team_id, action)
        shown = {
            field: getattr(found, field)
            for field in EDITABLE
        }
        shown["mode"], shown["id"] = str(found.mode), str(found.id)
        out.print(escape(yaml.safe_dump(shown, sort_keys=False, allow_unicode=True)), highlight=False)
        recent = session.exec(
            select(ActionRun)
            .where(ActionRun.action_id == found.id)
            .order_by(ActionRun.scheduled_at.desc())
            .limit(runs)
        )
        rows = [
            (str(r.id), r.scheduled_at.isoformat(), str(r.status), str(r.observation_count), r.error or "")
            for r in recent
        ]
    print_table(("run", "scheduled", "status", "observations", "note"), rows, title="Recent runs")


@app.command("update")
@friendly_errors
def update_command(
    action: str = typer.Argument(..., help="Name or id."),
    set_: list[str] = typer.Option(
        None, "--set", help="FIELD=VALUE (VALUE is YAML), e.g. --set enabled=false"
    ),
    team: int = TEAM,
) -> None:
    """Change fields of an action (its schedule is recomputed; missed runs are not replayed)."""
    _, db, team_id = open_team(team)
    changes = set_options(set_)
    with session_scope(db.sessions) as session:
        changed = update_action(session, find_action(session, team_id, action), changes, now=_now())
    out.print(f"changed {', '.join(changed)}" if changed else "nothing changed", highlight=False)


@app.command("delete")
@friendly_errors
def delete_command(action: str = typer.Argument(..., help="Name or id."), team: int = TEAM) -> None:
    """Delete an action that never ran (disable one that did: --set enabled=false)."""
    _, db, team_id = open_team(team)
    with session_scope(db.sessions) as session:
        delete_action(session, find_action(session, team_id, action))
    out.print(f"deleted action {escape(action)}", highlight=False)


@app.command("run-now")
@friendly_errors
def run_now_command(
    action: str = typer.Argument(..., help="Name or id."),
    wait: bool = typer.Option(False, "--wait", help="Wait until the run and its deliveries finish."),
    timeout: float = typer.Option(120, help="With --wait: give up after this many seconds."),
    team: int = TEAM,
) -> None:
    """Run an action now, outside its schedule (a worker does the work)."""
    _, db, team_id = open_team(team)
    now = _now()
    try:
        with session_scope(db.sessions) as session:
            found = find_action(session, team_id, action)
            run = ActionRun(
                action_id=found.id, scheduled_at=now, started_at=now, created_at=now, updated_at=now
            )
            session.add(run)
            run_id = run.id
    except IntegrityError as exc:
        raise InvalidField("action", "it was started at this very moment; try again") from exc
    setup_broker(settings()).get_actor("run_action").send(str(run_id))
    out.print(f"started run {run_id}", highlight=False)
    if not wait:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with db.sessions() as session:
            run = session.get(ActionRun, run_id)
            deliveries = list(session.exec(select(Delivery).where(Delivery.action_run_id == run_id)))
        if run.status != ActionRunStatus.RUNNING and all(str(d.status) != "pending" for d in deliveries):
            out.print(f"run {run.status}{': ' + run.error if run.error else ''}", highlight=False)
            for delivery in deliveries:
                out.print(
                    f"  {delivery.target}: {delivery.status}{' ' + delivery.error if delivery.error else ''}",
                    highlight=False,
                )
            if run.synthesized_markdown:
                out.print(escape(run.synthesized_markdown), highlight=False)
            return
        time.sleep(0.5)
    out.print(f"still running after {timeout:g} s (is a worker running?)", highlight=False)
    raise typer.Exit(1)


@integrations_app.command("add-slack")
@friendly_errors
def add_slack_command(
    token: str = typer.Option(
        ..., help="The bot token (xoxb-…); stored, never printed again.", prompt=True, hide_input=True
    ),
    name: str = typer.Option(..., help="A name to recognise it by."),
    report_channel: str = typer.Option(None, help="Channel id for report cards (one per ready report)."),
    team: int = TEAM,
) -> None:
    """Store a Slack bot token for `slack` targets."""
    _, db, team_id = open_team(team)
    with session_scope(db.sessions) as session:
        integration = add_slack(session, team_id, name=name, token=token, report_channel=report_channel)
        integration_id = str(integration.id)
    out.print(f"added Slack integration {name!r}: {integration_id}", highlight=False)


@integrations_app.command("list")
@friendly_errors
def list_integrations_command(team: int = TEAM, as_json: bool = typer.Option(False, "--json")) -> None:
    """The team's integrations (tokens are never shown)."""
    _, db, team_id = open_team(team)
    with db.sessions() as session:
        rows = [
            {"id": str(i.id), "kind": str(i.kind), **(i.config or {})}
            for i in session.exec(select(Integration).where(Integration.team_id == team_id))
        ]
    if as_json:
        out.file.write(json.dumps(rows, indent=2) + "\n")
        return
    print_table(
        ("id", "kind", "name", "report channel"),
        [(r["id"], r["kind"], r.get("name", ""), r.get("report_channel", "-")) for r in rows],
    )
