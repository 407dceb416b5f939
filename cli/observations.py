"""`sightline observe`, `sightline observations list|show|retry` and `sightline quota`."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from uuid import UUID

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from sqlmodel import col, select

from actors.broker import setup_broker
from cli.context import (
    err,
    friendly_errors,
    open_team,
    out,
    print_table,
    settings,
)
from integrations.blobstore import BlobStore
from integrations.observing import MAX_SESSIONS_PER_REQUEST as MAX_SESSIONS
from integrations.observing import quotas, request_observations
from models.db import session_scope
from models.observation_queries import find_scanner
from models.queries import get_recording, list_recordings
from models.vision import IN_FLIGHT_STATUSES, Observation, Scanner
from pipeline.errors import InvalidField, NotFoundError
from pipeline.evidence import CITATION, LINE_SECOND, TOLERANCE_S
from pipeline.limits import month_start, next_month_start
from services.recordings import stored_timeline

app = typer.Typer(help="Observations: one scanner's look at one session.", no_args_is_help=True)
TEAM = typer.Option(None, "--team", help="Team id (default: the first team).")
_STYLE = {"started": "green", "already_scanned": "dim", "skipped_limit": "yellow", "skipped_quota": "yellow"}


def _send(ids: list[UUID]) -> None:
    if ids:
        actor = setup_broker(settings()).get_actor("observe_session")
        for observation_id in ids:
            actor.send(str(observation_id))


@friendly_errors
def observe_command(
    scanner: str = typer.Argument(..., help="Scanner name or id."),
    session_ids: list[str] = typer.Argument(None, help="Up to 200 session ids."),
    all_recordings: bool = typer.Option(False, "--all", help="The team's newest 200 recordings instead."),
    wait: bool = typer.Option(
        False, "--wait", help="Show progress until every started observation finishes."
    ),
    timeout: float = typer.Option(600, help="With --wait: give up waiting after this many seconds."),
    team: int = TEAM,
) -> None:
    """Observe sessions now, within the scanner's and the organisation's limits."""
    current, db, team_id = open_team(team)
    with session_scope(db.sessions) as session:
        found = find_scanner(session, team_id, scanner)
        if found is None:
            raise NotFoundError(f"no scanner {scanner!r} in team {team_id}; see `sightline scanners list`")
        if all_recordings:
            session_ids = [row.session_id for row in list_recordings(session, team_id, limit=MAX_SESSIONS)]
        if not session_ids:
            raise InvalidField("session_ids", "name at least one session, or pass --all")
        outcomes = request_observations(session, found, session_ids, settings=current, now=datetime.now(UTC))
    started = [outcome.observation_id for outcome in outcomes if outcome.observation_id is not None]
    _send(started)
    for outcome in outcomes:
        style = _STYLE[outcome.outcome]
        out.print(f"[{style}]{outcome.outcome:<16}[/{style}] {escape(outcome.session_id)}", highlight=False)
    if wait and started:
        _wait(db, started, timeout)


def _wait(db, ids: list[UUID], timeout: float) -> None:
    deadline, hinted = time.monotonic() + timeout, False
    columns = (TextColumn("observing"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=err, transient=True) as progress:
        task = progress.add_task("observing", total=len(ids))
        while time.monotonic() < deadline:
            with db.sessions() as session:
                rows = session.exec(select(Observation).where(col(Observation.id).in_(ids))).all()
            done = sum(row.status not in IN_FLIGHT_STATUSES for row in rows)
            progress.update(task, completed=done)
            if done == len(ids):
                break
            if not hinted and done == 0 and time.monotonic() > deadline - timeout + 15:
                progress.console.print("still waiting: is `sightline worker` running?")
                hinted = True
            time.sleep(0.5)
    _print_rows(rows)


def _print_rows(rows: list[Observation]) -> None:
    cells = []
    for row in rows:
        answer = row.result_verdict or (f"{row.result_score:g}" if row.result_score is not None else "")
        answer = answer or ", ".join(row.result_tags or []) or _title(row)
        cells.append((str(row.id)[:8], row.scanner_snapshot.get("name", ""), row.session_id, str(row.status),
                      answer, row.error_reason or "", row.created_at.strftime("%Y-%m-%d %H:%M")))  # fmt: skip
    print_table(("id", "scanner", "session", "status", "answer", "error", "created (UTC)"), cells)


def _title(row: Observation) -> str:
    output = (row.scanner_result or {}).get("model_output") or {}
    return str(output.get("title", ""))


@app.command("list")
@friendly_errors
def list_command(
    scanner: str = typer.Option(None, help="Only this scanner (name or id)."),
    status: str = typer.Option(None, help="pending, running, succeeded, failed or ineligible."),
    limit: int = typer.Option(50, min=1),
    team: int = TEAM,
) -> None:
    """Observations, newest first."""
    _, db, team_id = open_team(team)
    with db.sessions() as session:
        statement = select(Observation).where(Observation.team_id == team_id)
        if scanner:
            found = find_scanner(session, team_id, scanner)
            if found is None:
                raise NotFoundError(f"no scanner {scanner!r} in team {team_id}")
            statement = statement.where(Observation.scanner_id == found.id)
        if status:
            statement = statement.where(Observation.status == status)
        rows = session.exec(statement.order_by(col(Observation.created_at).desc()).limit(limit)).all()
    _print_rows(list(rows))


def _find(session, team_id: int, ref: str) -> Observation:
    rows = session.exec(select(Observation).where(Observation.team_id == team_id)).all()
    matches = [row for row in rows if str(row.id).startswith(ref.lower())] if len(ref) >= 6 else []
    if len(matches) != 1:
        raise NotFoundError(f"no single observation matches {ref!r}; give more of its id")
    return matches[0]


@app.command("show")
@friendly_errors
def show_command(
    observation: str = typer.Argument(..., help="Id (or its first 6+ characters)."), team: int = TEAM
):
    """The answer, with each cited moment next to the timeline lines it points at."""
    current, db, team_id = open_team(team)
    with db.sessions() as session:
        row = _find(session, team_id, observation)
        recording = get_recording(session, team_id, row.session_id)
    snapshot = row.scanner_snapshot
    title = f"{row.id} · {snapshot.get('name', '')} v{snapshot.get('scanner_version')} · {row.session_id}"
    out.print(f"{escape(title)} · {row.status}", highlight=False)
    if row.error_reason:
        out.print(f"reason: {escape(row.error_reason)}", highlight=False)
    output = (row.scanner_result or {}).get("model_output")
    if not output:
        return
    lines = _timeline_lines(current, recording)
    for field, value in output.items():
        if field == "evidence":
            continue
        out.print(f"[bold]{field}[/bold]: {escape(str(value))}", highlight=False)
        for second in CITATION.findall(value) if isinstance(value, str) else ():
            for line in _near(lines, float(second)):
                out.print(f"    (t {second}) → {escape(line)}", highlight=False)
    evidence = output.get("evidence", {})
    if evidence.get("downgraded_from"):
        out.print("[yellow]verdict downgraded from yes: no cited moment is in the timeline[/yellow]")


def _timeline_lines(current, recording) -> list[str]:
    if recording is None:
        return []
    blobs = BlobStore(current.blob_dir)
    timeline = stored_timeline(blobs, recording, budget_tokens=current.timeline_budget_tokens)
    return timeline.text.splitlines()


def _near(lines: list[str], second: float) -> list[str]:
    """The timeline lines within the evidence tolerance of a cited second (at most four)."""
    found = [
        line for line in lines if (m := LINE_SECOND.match(line)) and abs(int(m[1]) - second) <= TOLERANCE_S
    ]
    return found[:4] or ["(no timeline line at this moment)"]


@app.command("retry")
@friendly_errors
def retry_command(
    observation: str = typer.Argument(..., help="Id (or its first 6+ characters)."), team: int = TEAM
):
    """Run a failed or ineligible observation again (within the limits)."""
    current, db, team_id = open_team(team)
    with session_scope(db.sessions) as session:
        row = _find(session, team_id, observation)
        if row.status not in ("failed", "ineligible"):
            raise InvalidField(
                "observation", f"is {row.status}; only failed or ineligible ones can be retried"
            )
        scanner = session.get(Scanner, row.scanner_id)
        session.delete(row)
        session.flush()
        [outcome] = request_observations(session, scanner, [row.session_id], settings=current,
                                         now=datetime.now(UTC), triggered_by="retry")  # fmt: skip
        if outcome.observation_id is None:
            raise InvalidField("observation", f"cannot start now ({outcome.outcome}); the old one is kept")
    _send([outcome.observation_id])
    out.print(f"retrying as {outcome.observation_id}", highlight=False)


@friendly_errors
def quota_command(team: int = TEAM) -> None:
    """This month's credits: the organisation's limit, use (in-flight included) and what remains."""
    current, db, team_id = open_team(team)
    now = datetime.now(UTC)
    with db.sessions() as session:
        scanners = session.exec(
            select(Scanner).where(Scanner.team_id == team_id).order_by(Scanner.name)
        ).all()
        per_scanner = [(scanner, quotas(session, scanner, current, now)) for scanner in scanners]
        organisation = per_scanner[0][1][0] if per_scanner else None
    period = f"{month_start(now):%Y-%m-%d} to {next_month_start(now):%Y-%m-%d}"
    if organisation is None:
        out.print(f"period {period}: no scanners yet, nothing used", highlight=False)
        return
    limit = "uncapped" if organisation.limit is None else f"{organisation.limit:,}"
    remaining = "∞" if organisation.remaining is None else f"{organisation.remaining:,}"
    out.print(f"period {period} · limit {limit} · used {organisation.used:,} · remaining {remaining}"
              f"{' · EXHAUSTED' if organisation.exhausted else ''}", highlight=False)  # fmt: skip
    for scanner, (_, own) in per_scanner:
        cap = "" if own.limit is None else f" of {own.limit:,}"
        out.print(f"  {escape(scanner.name)}: {own.used:,}{cap} credits", highlight=False)
