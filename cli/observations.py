"""`sightline observe`, `sightline observations list|show|retry` and `sightline quota`."""

from __future__ import annotations

import time
from uuid import UUID

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from cli.context import err, friendly_errors, out, print_table, team_deps
from models import as_utc
from models.vision import IN_FLIGHT_STATUSES, Observation
from services import budget, observations
from services.context import Deps

app = typer.Typer(help="Observations: one scanner's look at one session.", no_args_is_help=True)
TEAM = typer.Option(None, "--team", help="Team id (default: the first team).")
_STYLE = {"started": "green", "already_scanned": "dim", "skipped_limit": "yellow", "skipped_quota": "yellow"}
HINT_AFTER_S = 15


@friendly_errors
def observe_command(
    scanner: str = typer.Argument(..., help="Scanner name or id."),
    session_ids: list[str] = typer.Argument(None, help="Up to 200 session ids."),
    all_recordings: bool = typer.Option(False, "--all", help="The team's newest 200 recordings instead."),
    wait: bool = typer.Option(
        False, "--wait", help="Show progress until every started observation finishes."
    ),
    timeout: float = typer.Option(
        600, help="With --wait: give up after this many seconds (exit 1, naming what still runs)."
    ),
    team: int = TEAM,
) -> None:
    """Observe sessions now, within the scanner's and the organisation's limits."""
    deps, team_id = team_deps(team)
    outcomes = observations.observe_sessions(deps, team_id, scanner, session_ids or [], newest=all_recordings)
    for outcome in outcomes:
        style = _STYLE[outcome.outcome]
        out.print(f"[{style}]{outcome.outcome:<16}[/{style}] {escape(outcome.session_id)}", highlight=False)
    started = observations.started(outcomes)
    if wait and started:
        _wait(deps, started, timeout)


def _wait(deps: Deps, ids: list[UUID], timeout: float) -> None:
    """Follow the observations until each has finished; print them, and exit 1 when the timeout
    passed first, saying which sessions are still pending or running."""
    start, hinted = time.monotonic(), False
    deadline = start + timeout
    columns = (TextColumn("observing"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=err, transient=True) as progress:
        task = progress.add_task("observing", total=len(ids))
        while True:
            rows = observations.observations_by_ids(deps, ids)
            waiting = [row for row in rows if row.status in IN_FLIGHT_STATUSES]
            progress.update(task, completed=len(rows) - len(waiting))
            if not waiting or time.monotonic() >= deadline:
                break
            if not hinted and len(waiting) == len(rows) and time.monotonic() - start > HINT_AFTER_S:
                progress.console.print("still waiting: is `sightline worker` running?")
                hinted = True
            time.sleep(0.5)
    _print_rows(rows)
    if waiting:
        named = ", ".join(f"{row.session_id} ({row.status})" for row in waiting[:5])
        more = f" and {len(waiting) - 5} more" if len(waiting) > 5 else ""
        err.print(
            escape(f"still running after {timeout:g} s: {named}{more}; is `sightline worker` running?"),
            highlight=False,
        )
        raise typer.Exit(1)


def _print_rows(rows: list[Observation]) -> None:
    cells = [
        (
            str(row.id)[:8],
            row.scanner_snapshot.get("name", ""),
            row.session_id,
            str(row.status),
            _answer(row),
            row.error_reason or "",
            row.created_at.strftime("%Y-%m-%d %H:%M"),
        )
        for row in rows
    ]
    print_table(("id", "scanner", "session", "status", "answer", "error", "created (UTC)"), cells)


def _answer(row: Observation) -> str:
    answer = row.result_verdict or (f"{row.result_score:g}" if row.result_score is not None else "")
    return answer or ", ".join(row.result_tags or []) or _title(row)


def _title(row: Observation) -> str:
    output = (row.scanner_result or {}).get("model_output") or {}
    return str(output.get("title", ""))


@app.command("list")
@friendly_errors
def list_command(
    scanner: str = typer.Option(None, help="Only this scanner (name or id)."),
    status: str = typer.Option(None, help="pending, running, succeeded, failed or ineligible."),
    verdict: str = typer.Option(None, help="A monitor's verdict: yes, no or inconclusive."),
    limit: int = typer.Option(50, min=1),
    ids: bool = typer.Option(False, "--ids", help="Print only the ids, one per line (for scripts)."),
    team: int = TEAM,
) -> None:
    """Observations, newest first."""
    deps, team_id = team_deps(team)
    found = observations.observations(
        deps, team_id, scanner_ref=scanner, status=status, verdict=verdict, limit=limit
    )
    if ids:
        for row in found:
            print(row.id)
        return
    _print_rows(found)


@app.command("show")
@friendly_errors
def show_command(
    observation: str = typer.Argument(..., help="Id (or its first 6+ characters)."), team: int = TEAM
):
    """The answer, with each cited moment next to the timeline lines it points at."""
    deps, team_id = team_deps(team)
    shown = observations.show_observation(deps, team_id, observation)
    row, snapshot = shown.observation, shown.observation.scanner_snapshot
    title = f"{row.id} · {snapshot.get('name', '')} v{snapshot.get('scanner_version')} · {row.session_id}"
    out.print(f"{escape(title)} · {row.status}", highlight=False)
    if row.error_reason:
        out.print(f"reason: {escape(row.error_reason)}", highlight=False)
    if row.status == "pending" and row.next_attempt_at is not None:  # a transient failure, retried
        out.print(f"next attempt: {as_utc(row.next_attempt_at):%Y-%m-%d %H:%M:%S} UTC", highlight=False)
    for field in shown.fields:
        out.print(f"[bold]{field.name}[/bold]: {escape(str(field.value))}", highlight=False)
        for citation in field.citations:
            for line in citation.lines:
                out.print(f"    (t {citation.second}) → {escape(line)}", highlight=False)
    if shown.downgraded:
        out.print("[yellow]verdict downgraded from yes: no cited moment is in the timeline[/yellow]")
    out.print(f"page: {deps.settings.site_url.rstrip('/')}/observations/{row.id}", highlight=False)


@app.command("retry")
@friendly_errors
def retry_command(
    observation: str = typer.Argument(..., help="Id (or its first 6+ characters)."), team: int = TEAM
):
    """Run a failed or ineligible observation again (within the limits)."""
    deps, team_id = team_deps(team)
    new_id = observations.retry_observation(deps, team_id, observation)
    out.print(f"retrying as {new_id}", highlight=False)


@friendly_errors
def quota_command(team: int = TEAM) -> None:
    """This month's credits: the organisation's limit, use (in-flight included) and what remains."""
    deps, team_id = team_deps(team)
    report = budget.quota(deps, team_id)
    period = f"{report.period_start:%Y-%m-%d} to {report.period_end:%Y-%m-%d}"
    organisation = report.organisation
    limit = "uncapped" if organisation.limit is None else f"{organisation.limit:,}"
    remaining = "∞" if organisation.remaining is None else f"{organisation.remaining:,}"
    exhausted = " · EXHAUSTED" if organisation.exhausted else ""
    out.print(
        f"period {period} · limit {limit} · used {organisation.used:,} · remaining {remaining}{exhausted}",
        highlight=False,
    )
    for name, own in report.scanners:
        cap = "" if own.limit is None else f" of {own.limit:,}"
        out.print(f"  {escape(name)}: {own.used:,}{cap} credits", highlight=False)
    projected = f"{report.projected_observations:,} observations, {report.projected_credits:,} credits"
    out.print(f"enabled scanners are expected to make {projected} a month", highlight=False)
