"""`sightline`: set up the data folder, import recordings, read timelines, run workers."""

from __future__ import annotations

import typer

from cli import actions as actions_cli
from cli import observations, recordings, scanners, scenarios
from cli import reports as reports_cli
from cli import scheduler as scheduler_cli
from cli.context import friendly_errors, out, settings
from cli.worker import run_worker
from integrations.storage import database
from models.db import session_scope
from models.migrate import current_revision, upgrade
from models.queries import ensure_defaults

app = typer.Typer(
    name="sightline",
    help="Sightline watches rrweb session recordings so you do not have to.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("import")(recordings.import_command)
app.command("timeline")(recordings.timeline_command)
app.add_typer(recordings.app, name="recordings")
app.add_typer(scenarios.app, name="scenarios")
app.add_typer(scanners.app, name="scanners")
app.command("apply")(scanners.apply_command)
app.command("observe")(observations.observe_command)
app.add_typer(observations.app, name="observations")
app.command("quota")(observations.quota_command)
app.command("scheduler")(scheduler_cli.scheduler_command)
app.command("status")(scheduler_cli.status_command)
app.command("up")(scheduler_cli.up_command)
app.add_typer(actions_cli.app, name="actions")
app.add_typer(actions_cli.integrations_app, name="integrations")
app.add_typer(reports_cli.app, name="reports")
app.add_typer(reports_cli.signals_app, name="signals")


@app.command("init")
@friendly_errors
def init_command(
    timezone: str = typer.Option(
        None, help="IANA timezone of the default team (default SIGHTLINE_TIMEZONE)."
    ),
) -> None:
    """Create the data folder, migrate the database and create the default organisation, team and user.

    Running it again changes nothing (and upgrades an older database).
    """
    current = settings()
    current.home.mkdir(parents=True, exist_ok=True)
    current.blob_dir.mkdir(parents=True, exist_ok=True)
    db = database(current)
    upgrade(db.engine)
    with session_scope(db.sessions) as session:
        organization, team, user = ensure_defaults(session, timezone=timezone or current.default_timezone)
        names = organization.name, team.id, team.name, user.email
    out.print(f"Data folder: {current.home.resolve()}")
    out.print(f"Database:    {_safe_url(db.url)} (migration {current_revision(db.engine)})")
    out.print(f"Default:     organisation {names[0]!r}, team {names[1]} ({names[2]}), user {names[3]}")


def _safe_url(url: str) -> str:
    """The URL without its password, for printing."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@app.command("worker")
@friendly_errors
def worker_command(
    processes: int = typer.Option(1, min=1, help="Worker processes."),
    threads: int = typer.Option(4, min=1, help="Threads per process."),
    queues: list[str] = typer.Option(None, "--queue", "-q", help="Only these queues (repeatable)."),
) -> None:
    """Run Dramatiq workers on REDIS_URL (or the embedded Redis) until Ctrl-C or SIGTERM."""
    run_worker(settings(), processes=processes, threads=threads, queues=queues or None)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
