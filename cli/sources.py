"""`sightline sources …`: PostHog projects whose finished recordings the scheduler imports."""

from __future__ import annotations

from datetime import datetime

import typer
from rich.markup import escape

from cli.context import friendly_errors, out, print_table, team_deps

app = typer.Typer(help="Recording sources: PostHog projects polled for new recordings.", no_args_is_help=True)
TEAM = typer.Option(None, "--team", help="Team id (default: the first team).")


@app.command("add-posthog")
@friendly_errors
def add_posthog_command(
    host: str = typer.Option(..., help="PostHog's API origin, e.g. https://us.posthog.com or your own."),
    project_id: int = typer.Option(..., "--project-id", help="The PostHog project (environment) id."),
    api_key: str = typer.Option(
        ...,
        "--api-key",
        prompt="PostHog personal API key (phx_…, scope session_recording:read)",
        hide_input=True,
        help="A personal API key; asked for (hidden) when left out, so it stays out of the shell history.",
    ),
    team: int = TEAM,
) -> None:
    """Poll a PostHog project for finished recordings and import them (the key is stored encrypted)."""
    from services.sources import add_posthog

    deps, team_id = team_deps(team)
    source = add_posthog(deps, team_id, host, project_id, api_key)
    out.print(
        f"added PostHog source {source.id}: project {source.project_id} on {escape(source.host)}, "
        f"key {escape(source.api_key_mask)}; the scheduler polls it (or run `sightline sources poll`)",
        highlight=False,
    )


@app.command("list")
@friendly_errors
def list_command(team: int = TEAM) -> None:
    """The team's sources: keys masked, when each was polled, what it imported, its last error."""
    from services.sources import sources

    deps, team_id = team_deps(team)
    rows = [
        (
            str(s.id),
            s.kind,
            s.host,
            str(s.project_id),
            s.api_key_mask,
            "yes" if s.enabled else "no",
            str(s.imported_count),
            _when(s.last_polled_at),
            _when(s.backoff_until) if s.backoff_until else _when(s.next_poll_at),
            s.last_error or "",
        )
        for s in sources(deps, team_id)
    ]
    columns = ("id", "kind", "host", "project", "key", "enabled", "imported", "polled", "next", "last error")
    print_table(columns, rows)


@app.command("remove")
@friendly_errors
def remove_command(
    source: str = typer.Argument(..., help="The source's id (see `sources list`)."), team: int = TEAM
) -> None:
    """Stop polling a source and forget its key; the recordings it imported stay."""
    from services.sources import remove_source

    deps, team_id = team_deps(team)
    removed = remove_source(deps, team_id, source)
    out.print(
        f"removed source {removed.id} (project {removed.project_id} on {escape(removed.host)})",
        highlight=False,
    )


@app.command("poll")
@friendly_errors
def poll_command(team: int = TEAM) -> None:
    """Poll the team's sources now (unless backed off after a 429) and say what was imported."""
    from services.sources import poll_due_sources, sources

    deps, team_id = team_deps(team)
    summary = poll_due_sources(deps, deps.now(), team_id=team_id, force=True)
    out.print(
        f"{summary.sources_polled} sources polled: {summary.sessions_imported} recordings imported, "
        f"{summary.sessions_skipped} already stored, {summary.sessions_waiting} still recording, "
        f"{summary.sessions_failed} not importable",
        highlight=False,
    )
    if summary.backed_off:
        out.print(
            f"{summary.backed_off} rate limited by PostHog: they wait for its Retry-After", highlight=False
        )
    if summary.unfinished:
        out.print(f"{summary.unfinished} had more than this minute's requests allow: the scheduler goes on")
    for source in sources(deps, team_id):
        if source.last_error:
            out.print(f"{source.id}: {escape(source.last_error)}", highlight=False)
    if summary.errors:
        raise typer.Exit(1)


def _when(value: datetime | None) -> str:
    return value.isoformat(timespec="seconds") if value else "-"
