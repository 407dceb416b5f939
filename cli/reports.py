"""`sightline reports …` (the inbox) and `sightline signals pause|resume|status`."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import typer
from rich.markup import escape

from cli.context import friendly_errors, json_option, out, print_table, team_deps
from cli.grouping_quality import grouping_quality_command
from pipeline.errors import InvalidField
from pipeline.reports import STATUSES, StateRequest
from pipeline.schedule import parse_duration
from services import artefacts
from services import reports as use
from services.signals import pause_processing, processing_paused_until, resume_processing

app = typer.Typer(help="Reports: grouped findings, the team's inbox of problems.", no_args_is_help=True)
artefacts_app = typer.Typer(
    help="Artefacts: notes, judgments and references attached to a report.", no_args_is_help=True
)
app.add_typer(artefacts_app, name="artefacts")
app.command("grouping-quality")(grouping_quality_command)
signals_app = typer.Typer(help="Signal processing: pause and resume grouping.", no_args_is_help=True)
TEAM = typer.Option(None, "--team", help="Team id (default: the first team).")
TO = typer.Option(..., "--to", help="suppressed (dismiss), potential (restore or snooze) or resolved.")
REASON = typer.Option(
    None, "--reason", help="Why: already_fixed, report_unclear, analysis_wrong, wontfix_intentional, …"
)
NOTE = typer.Option(None, "--note", help="Free text kept with the dismissal (≤4,000 chars).")
SNOOZE = typer.Option(None, "--snooze-for", help="With --to potential: come back after N more signals.")


@app.command("list")
@friendly_errors
def list_command(
    status: str = typer.Option(None, help=f"Only this status: {', '.join(STATUSES)}."),
    ordering: str = typer.Option("status", help="status (pipeline rank), priority, or -updated_at."),
    all_statuses: bool = typer.Option(False, "--all", help="Include suppressed reports."),
    ids: bool = typer.Option(False, "--ids", help="Print only the ids, one per line (for scripts)."),
    team: int = TEAM,
) -> None:
    """The team's reports (deleted never; suppressed only with --all or --status suppressed)."""
    deps, team_id = team_deps(team)
    rows = use.reports(deps, team_id, status=status, include_all=all_statuses, ordering=ordering)
    if ids:
        for report, _ in rows:
            print(report.id)
        return
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
    deps, team_id = team_deps(team)
    detail = use.report_detail(deps, team_id, report)
    found, facts = detail.report, detail.facts
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
    for signal in detail.signals:
        score = (signal.match_metadata or {}).get("score")
        out.print(
            f"  {signal.created_at:%Y-%m-%d %H:%M} {escape(signal.description)}"
            f"{f'  (match {score})' if score is not None else ''}",
            highlight=False,
        )
    if detail.artefacts:
        out.print("Artefacts:", highlight=False)
        for row in detail.artefacts:
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
    deps, team_id = team_deps(team)
    request = StateRequest(to, reason=reason, note=note, snooze_for=snooze_for)
    result = use.change_state(deps, team_id, report, request)
    out.print(
        f"{result.outcome}: {result.status or '-'}{' (' + result.detail + ')' if result.detail else ''}",
        highlight=False,
    )
    if result.outcome != "transitioned":
        raise typer.Exit(2 if result.outcome == "not_found" else 1)


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
    deps, team_id = team_deps(team)
    request = StateRequest(to, reason=reason, note=note, snooze_for=snooze_for)
    result = use.bulk_state(deps, team_id, reports, request)
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
    deps, team_id = team_deps(team)
    row = artefacts.add_artefact(deps, team_id, report, kind, json_option(content, "content"))
    out.print(f"added {kind} {row.id}", highlight=False)


@artefacts_app.command("list")
@friendly_errors
def artefact_list(report: str = typer.Argument(..., help="Report id."), team: int = TEAM) -> None:
    """A report's artefacts, oldest first."""
    deps, team_id = team_deps(team)
    rows = [
        (
            str(a.id),
            a.type,
            a.created_at.isoformat(timespec="seconds"),
            json.dumps(a.content, ensure_ascii=False),
        )
        for a in artefacts.artefacts(deps, team_id, report)[1]
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
    deps, team_id = team_deps(team)
    row = artefacts.edit_artefact(deps, team_id, artefact, json_option(content, "content"))
    out.print(f"edited {row.type} {artefact}", highlight=False)


@artefacts_app.command("delete")
@friendly_errors
def artefact_delete(artefact: str = typer.Argument(..., help="Artefact id."), team: int = TEAM) -> None:
    """Delete an artefact; for status types the previous one becomes the report's value again."""
    deps, team_id = team_deps(team)
    kind = artefacts.delete_artefact(deps, team_id, artefact)
    out.print(f"deleted {kind} {artefact}", highlight=False)


@signals_app.command("pause")
@friendly_errors
def pause_command(
    until: str = typer.Option(None, help="Pause until this time (ISO, UTC unless it says otherwise)."),
    for_: str = typer.Option(None, "--for", help="Pause for a while: 30m, 2h, 1d."),
    team: int = TEAM,
) -> None:
    """Stop grouping signals (they are still stored) until a time, or for a while."""
    moment = _instant(until, "until") if until is not None else None
    duration = parse_duration(for_) if for_ is not None else None
    deps, team_id = team_deps(team)
    end = pause_processing(deps, team_id, until=moment, duration=duration)
    out.print(f"paused until {end.isoformat(timespec='seconds')}", highlight=False)


@signals_app.command("resume")
@friendly_errors
def resume_command(team: int = TEAM) -> None:
    """Group again now; held signals are grouped in arrival order at the scheduler's next kick."""
    deps, team_id = team_deps(team)
    out.print("resumed" if resume_processing(deps, team_id) else "was not paused", highlight=False)


@signals_app.command("status")
@friendly_errors
def status_command(team: int = TEAM) -> None:
    """Whether grouping is paused (an expired pause reads as none)."""
    deps, team_id = team_deps(team)
    until = processing_paused_until(deps, team_id)
    out.print(
        f"paused until {until.isoformat(timespec='seconds')}" if until else "not paused", highlight=False
    )


def _instant(text: str, field: str) -> datetime:
    """An ISO date or time from the command line, in UTC unless it says otherwise."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise InvalidField(field, f"{text!r} is not an ISO date or time") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
