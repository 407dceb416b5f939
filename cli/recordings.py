"""`sightline import`, `sightline recordings list|delete` and `sightline timeline`."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from cli.context import err, exit_with, friendly_errors, out, print_table, team_deps
from integrations.recording_files import recording_files
from pipeline.errors import NotFoundError, RecordingError
from pipeline.retention import one_selector
from services import recordings, retention, text_repr
from services.context import Deps
from services.recordings import ImportResult
from services.retention import Deleted

app = typer.Typer(help="Stored recordings.", no_args_is_help=True)
_STYLES = {"imported": "green", "updated": "cyan", "unchanged": "dim", "failed": "red"}


@friendly_errors
def import_command(
    paths: list[Path] = typer.Argument(..., help="Recording files or folders (searched recursively)."),
    team: int = typer.Option(None, "--team", help="Team id (default: the first team)."),
    session_id: str = typer.Option(
        None, help="Session id for a single file (default: from the file or its name)."
    ),
) -> None:
    """Import rrweb recordings: arrays, {"result": [...]}, PostHog JSONL blobs and PostHog exports.

    Re-importing a session never makes a second row; new events extend it. An unusable event, a
    broken line or a cut-off end costs only itself (the result line says what was skipped); a file
    fails only when nothing usable is left in it. Exits 1 if any file failed.
    """
    missing = [str(path) for path in paths if not path.exists()]
    if missing:
        raise NotFoundError(f"no such file or folder: {', '.join(missing)}")
    files = list(recording_files(paths))
    if not files:
        raise RecordingError("no recording files found (looked for .json, .jsonl, .ndjson and .gz)")
    if session_id and len(files) > 1:
        raise RecordingError("--session-id names one session, but several files were given")
    current, team_id = team_deps(team)
    results = _import_all(current, team_id, files, session_id)
    counts = {status: sum(r.status == status for r in results) for status in _STYLES}
    out.print(", ".join(f"{count} {status}" for status, count in counts.items()))
    if counts["failed"]:
        exit_with(1)


def _import_all(current: Deps, team_id: int, files: list[Path], session_id: str | None) -> list[ImportResult]:
    results = []
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err, transient=True) as progress:
        task = progress.add_task("importing", total=len(files))
        for path in files:
            progress.update(task, description=f"importing {path.name[:40]}")
            result = recordings.import_file(current, team_id, path, session_id)
            results.append(result)
            progress.console.print(_result_line(result), highlight=False, soft_wrap=True, markup=True)
            progress.advance(task)
    return results


def _result_line(result: ImportResult) -> str:
    """One line per file; paths, ids and messages are escaped (a file may be named `[bold]`)."""
    style, path = _STYLES[result.status], escape(str(result.path))
    if result.failed:
        return f"[{style}]failed[/{style}]    {path}: {escape(result.message)}"
    details = [f"+{result.events_added} events"] if result.status == "updated" else []
    details += [result.detail] if result.detail else []
    detail = f" ({escape('; '.join(details))})" if details else ""
    return f"[{style}]{result.status:<9}[/{style}] {path} → {escape(result.session_id or '')}{detail}"


@app.command("list")
@friendly_errors
def list_command(
    team: int = typer.Option(None, "--team", help="Team id (default: the first team)."),
    limit: int = typer.Option(50, min=1, help="At most this many, newest first."),
) -> None:
    """Stored recordings with their metadata."""
    current, team_id = team_deps(team)
    rows = recordings.recordings(current, team_id, limit)
    columns = (
        "session",
        "start (UTC)",
        "duration",
        "active",
        "device",
        "clicks",
        "inputs",
        "errors",
        "events",
    )
    cells = [_recording_cells(row) for row in rows]
    print_table((*columns, "start url"), cells, title=f"Recordings of team {team_id}")
    if not rows:
        out.print("No recordings yet: `sightline import PATH`.")


def _recording_cells(row) -> tuple[str, ...]:
    viewport = f" {row.viewport['width']}×{row.viewport['height']}" if row.viewport else ""
    return (
        row.session_id,
        row.start_time.strftime("%Y-%m-%d %H:%M:%S"),
        f"{row.duration_s:.0f}s",
        f"{row.active_s:.0f}s",
        f"{row.device_type}{viewport}",
        str(row.click_count),
        str(row.keypress_count),
        str(row.console_error_count),
        str(row.event_count),
        row.start_url or "",
    )


@app.command("delete")
@friendly_errors
def delete_command(
    session_id: str = typer.Option(None, "--session", help="The session whose recording goes."),
    distinct_id: str = typer.Option(
        None, "--distinct-id", help="The person (distinct id) whose recordings all go: a privacy request."
    ),
    team: int = typer.Option(None, "--team", help="Team id (default: the first team)."),
    yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation."),
) -> None:
    """Delete one session's recording, or every recording of one person, with what came from them.

    Gone: the recordings and their blobs, their observations (answers and evidence), the labels on
    those, the signals they emitted (their reports shrink; a report left empty is deleted) and the
    ingest batches (with the blobs of those waiting for their merge). Kept: usage receipts (credits
    only, no recording text) and the digests actions already sent. Prints the count of each; a
    person with no recording is a deletion of nothing. Exits 1 when the confirmation is declined.
    """
    selector, value = one_selector(session_id, distinct_id)
    current, team_id = team_deps(team)
    what = f"session {value!r}" if selector == "session" else f"every recording of distinct id {value!r}"
    if not yes:
        typer.confirm(f"Delete {what} of team {team_id}, and what was derived from it?", abort=True)
    deleted = retention.delete_recordings(current, team_id, session_id=session_id, distinct_id=distinct_id)
    out.print(_deleted_line(deleted), highlight=False)


def _deleted_line(deleted: Deleted) -> str:
    reports = f"{deleted.reports_changed} report(s) changed, {deleted.reports_deleted} of them deleted"
    return (
        f"Deleted {deleted.recordings} recording(s), {deleted.blobs} blob(s), "
        f"{deleted.observations} observation(s), {deleted.labels} label(s), {deleted.signals} signal(s), "
        f"{deleted.ingest_batches} ingest batch(es); {reports}."
    )


@friendly_errors
def timeline_command(
    session_id: str = typer.Argument(..., help="The recording's session id."),
    team: int = typer.Option(None, "--team", help="Team id (default: the first team)."),
    budget: int = typer.Option(
        None, "--budget", min=200, help="Token budget (default SIGHTLINE_TIMELINE_BUDGET)."
    ),
) -> None:
    """Print the timeline the model reads for one recording (redacted, within the token budget).

    Then, when the team uses source maps, its console error stacks de-minified (outside the budget),
    as a Gemini scanner reads them."""
    current, team_id = team_deps(team)
    read = text_repr.model_timeline(current, team_id, session_id, budget)
    timeline = read.timeline
    out.print(read.text, markup=False, highlight=False)
    redacted = ", ".join(f"{kind} {count}" for kind, count in timeline.manifest.items()) or "nothing"
    stacks = " · stack traces after it (outside the budget)" if read.stack_traces else ""
    err.print(
        f"≈{timeline.token_estimate:,} tokens · {len(timeline.patterns)} patterns · "
        f"{timeline.elided} lines elided · redacted: {redacted}{stacks}",
        style="dim",
        highlight=False,
    )
