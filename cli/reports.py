"""`sightline reports …` (the inbox) and `sightline signals pause|resume|status`."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import typer
from rich.markup import escape

from cli.context import friendly_errors, json_option, open_team, out, print_table
from integrations.report_store import (
    add_artefact,
    bulk_state,
    change_state,
    edit_artefact,
    find_artefact,
    find_report,
    list_reports,
    set_pause,
)
from models import session_scope
from models.signal_queries import artefacts_of, paused_until, report_signals
from pipeline.artefacts import derived
from pipeline.errors import InvalidField, NotFoundError
from pipeline.reports import STATUSES, StateRequest
from pipeline.schedule import parse_duration

app = typer.Typer(help="Reports: grouped findings, the team's inbox of problems.", no_args_is_help=True)
artefacts_app = typer.Typer(
    help="Artefacts: notes, judgments and references attached to a report.", no_args_is_help=True
)
app.add_typer(artefacts_app, name="artefacts")
signals_app = typer.Typer(help="Signal processing: pause and resume grouping.", no_args_is_help=True)
TEAM = typer.Option(None, "--team", help="Team id (default: the first team).")
TO = typer.Option(..., "--to", help="suppressed (dismiss), potential (restore or snooze) or resolved.")
REASON = typer.Option(
    None, "--reason", help="Why: already_fixed, report_unclear, analysis_wrong, wontfix_intentional, …"
)
NOTE = typer.Option(None, "--note", help="Free text kept with the dismissal (≤4,000 chars).")
SNOOZE = typer.Option(None, "--snooze-for", help="With --to potential: come back after N more signals.")


def _now() -> datetime:
    return datetime.now(UTC)


@app.command("list")
@friendly_errors
def list_command(
    status: str = typer.Option(None, help=f"Only this status: {', '.join(STATUSES)}."),
    ordering: str = typer.Option("status", help="status (pipeline rank), priority, or -updated_at."),
    all_statuses: bool = typer.Option(False, "--all", help="Include suppressed reports."),
    team: int = TEAM,
) -> None:
    """The team's reports (deleted never; suppressed only with --all or --status suppressed)."""
    if status is not None and status not in STATUSES:
        raise InvalidField("status", f"{status!r} is not one of {', '.join(STATUSES)}")
    _, db, team_id = open_team(team)
    with db.sessions() as session:
        rows = list_reports(session, team_id, status=status, include_all=all_statuses, ordering=ordering)
        table = [
            (
                str(r.id),
                str(r.status),
                facts["priority"] or "-",
                f"{r.total_weight:g}",
                str(r.signal_count),
                (r.title or "")[:80],
                r.updated_at.isoformat(timespec="seconds"),
            )
            for r, facts in rows
        ]
    print_table(("id", "status", "priority", "weight", "signals", "title", "updated"), table)


@app.command("show")
@friendly_errors
def show_command(report: str = typer.Argument(..., help="Report id."), team: int = TEAM) -> None:
    """A report with its signals, artefacts and latest judgments."""
    _, db, team_id = open_team(team)
    with db.sessions() as session:
        found = find_report(session, team_id, report)
        if found is None:
            raise NotFoundError(f"no report {report} in team {team_id}; see `sightline reports list --all`")
        artefacts = list(artefacts_of(session, found.id))
        facts = derived(artefacts)
        signals = list(report_signals(session, found.id, 50))
        out.print(f"[bold]{escape(found.title or '(untitled)')}[/bold]  {found.status}", highlight=False)
        out.print(
            f"weight {found.total_weight:g} · {found.signal_count} signals · gate {found.signals_at_run} · "
            f"runs {found.run_count} · priority {facts['priority'] or '-'} · "
            f"actionability {facts['actionability'] or '-'}",
            highlight=False,
        )
        if facts["dismissal_reason"] or facts["dismissal_note"]:
            out.print(
                f"dismissed: {facts['dismissal_reason'] or '-'} {escape(facts['dismissal_note'] or '')}",
                highlight=False,
            )
        if found.summary:
            out.print(f"\n{escape(found.summary)}\n", highlight=False)
        out.print("Signals (newest first):", highlight=False)
        for signal in signals:
            score = (signal.match_metadata or {}).get("score")
            out.print(
                f"  {signal.created_at:%Y-%m-%d %H:%M} {escape(signal.description)}"
                f"{f'  (match {score})' if score is not None else ''}",
                highlight=False,
            )
        if artefacts:
            out.print("Artefacts:", highlight=False)
            for row in artefacts:
                out.print(
                    f"  {row.id} {row.type} {escape(json.dumps(row.content, ensure_ascii=False))}",
                    highlight=False,
                )


@app.command("state")
@friendly_errors
def state_command(
    report: str = typer.Argument(..., help="Report id."),
    to: str = TO,
    reason: str = REASON,
    note: str = NOTE,
    snooze_for: int = SNOOZE,
    team: int = TEAM,
) -> None:
    """Dismiss (suppressed), restore or snooze (potential), or resolve one report."""
    _, db, team_id = open_team(team)
    request = StateRequest(to, reason=reason, note=note, snooze_for=snooze_for)
    with session_scope(db.sessions) as session:
        result = change_state(session, team_id, report, request, now=_now())
    out.print(
        f"{result['outcome']}: {result.get('status', '-')}"
        f"{' (' + result['detail'] + ')' if result.get('detail') else ''}",
        highlight=False,
    )
    if result["outcome"] != "transitioned":
        raise typer.Exit(2 if result["outcome"] == "not_found" else 1)


@app.command("bulk-state")
@friendly_errors
def bulk_state_command(
    reports: list[str] = typer.Argument(..., help="1 to 100 report ids (repeats are ignored)."),
    to: str = TO,
    reason: str = REASON,
    note: str = NOTE,
    snooze_for: int = SNOOZE,
    team: int = TEAM,
    as_json: bool = typer.Option(False, "--json", help="Print the per-id results as JSON."),
) -> None:
    """The same state request for many reports; each id is decided on its own."""
    _, db, team_id = open_team(team)
    request = StateRequest(to, reason=reason, note=note, snooze_for=snooze_for)
    with session_scope(db.sessions) as session:
        result = bulk_state(session, team_id, reports, request, now=_now())
    if as_json:
        out.file.write(json.dumps(result, indent=2) + "\n")
        return
    print_table(
        ("id", "outcome", "status", "detail"),
        [(r["id"], r["outcome"], r.get("status", "-"), r.get("detail", "")) for r in result["results"]],
    )
    out.print(
        ", ".join(
            f"{result[key]} {key.removesuffix('_count')}"
            for key in ("transitioned_count", "skipped_count", "failed_count", "not_found_count")
        ),
        highlight=False,
    )


@artefacts_app.command("add")
@friendly_errors
def artefact_add(
    report: str = typer.Argument(..., help="Report id."),
    kind: str = typer.Option(
        ..., "--type", help="note, code_reference, priority_judgment, actionability_judgment, …"
    ),
    content: str = typer.Option(..., help='The content as JSON, e.g. \'{"note": "seen on Safari only"}\'.'),
    team: int = TEAM,
) -> None:
    """Append an artefact (status types are latest-wins: the newest one is the report's value)."""
    _, db, team_id = open_team(team)
    with session_scope(db.sessions) as session:
        row = add_artefact(session, team_id, report, kind, json_option(content, "content"), now=_now())
        artefact_id = str(row.id)
    out.print(f"added {kind} {artefact_id}", highlight=False)


@artefacts_app.command("list")
@friendly_errors
def artefact_list(report: str = typer.Argument(..., help="Report id."), team: int = TEAM) -> None:
    """A report's artefacts, oldest first."""
    _, db, team_id = open_team(team)
    with db.sessions() as session:
        found = find_report(session, team_id, report)
        if found is None:
            raise NotFoundError(f"no report {report} in team {team_id}")
        rows = [
            (
                str(a.id),
                a.type,
                a.created_at.isoformat(timespec="seconds"),
                json.dumps(a.content, ensure_ascii=False),
            )
            for a in artefacts_of(session, found.id)
        ]
    print_table(("id", "type", "created", "content"), rows)


@artefacts_app.command("edit")
@friendly_errors
def artefact_edit(
    artefact: str = typer.Argument(..., help="Artefact id."),
    content: str = typer.Option(..., help="The new content as JSON."),
    team: int = TEAM,
) -> None:
    """Replace an artefact's content (validated against its type)."""
    _, db, team_id = open_team(team)
    with session_scope(db.sessions) as session:
        row = edit_artefact(session, team_id, artefact, json_option(content, "content"), _now())
        kind = row.type
    out.print(f"edited {kind} {artefact}", highlight=False)


@artefacts_app.command("delete")
@friendly_errors
def artefact_delete(artefact: str = typer.Argument(..., help="Artefact id."), team: int = TEAM) -> None:
    """Delete an artefact; for status types the previous one becomes the report's value again."""
    _, db, team_id = open_team(team)
    with session_scope(db.sessions) as session:
        row = find_artefact(session, team_id, artefact)
        kind = row.type
        session.delete(row)
    out.print(f"deleted {kind} {artefact}", highlight=False)


@signals_app.command("pause")
@friendly_errors
def pause_command(
    until: str = typer.Option(None, help="Pause until this time (ISO, UTC unless it says otherwise)."),
    for_: str = typer.Option(None, "--for", help="Pause for a while: 30m, 2h, 1d."),
    team: int = TEAM,
) -> None:
    """Stop grouping signals (they are still stored) until a time, or for a while."""
    if (until is None) == (for_ is None):
        raise InvalidField("until", "give exactly one of --until or --for")
    now = _now()
    if until is not None:
        try:
            moment = datetime.fromisoformat(until)
        except ValueError as exc:
            raise InvalidField("until", f"{until!r} is not an ISO date or time") from exc
        moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    else:
        moment = now + parse_duration(for_)
    if moment <= now:
        raise InvalidField("until", "is in the past; a pause must end in the future")
    _, db, team_id = open_team(team)
    with session_scope(db.sessions) as session:
        set_pause(session, team_id, moment, now)
    out.print(f"paused until {moment.isoformat(timespec='seconds')}", highlight=False)


@signals_app.command("resume")
@friendly_errors
def resume_command(team: int = TEAM) -> None:
    """Group again now; held signals are grouped in arrival order at the scheduler's next kick."""
    _, db, team_id = open_team(team)
    now = _now()
    with session_scope(db.sessions) as session:
        was = paused_until(session, team_id, now) is not None
        set_pause(session, team_id, None, now)
    out.print("resumed" if was else "was not paused", highlight=False)


@signals_app.command("status")
@friendly_errors
def status_command(team: int = TEAM) -> None:
    """Whether grouping is paused (an expired pause reads as none)."""
    _, db, team_id = open_team(team)
    with db.sessions() as session:
        until = paused_until(session, team_id, _now())
    out.print(
        f"paused until {until.isoformat(timespec='seconds')}" if until else "not paused", highlight=False
    )
