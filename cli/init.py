"""`sightline init`: the data folder, the migrated database and the default organisation, team and user."""

from __future__ import annotations

import typer

from cli.context import friendly_errors, out, settings


@friendly_errors
def init_command(
    timezone: str = typer.Option(
        None, help="IANA timezone of the default team (default SIGHTLINE_TIMEZONE)."
    ),
) -> None:
    """Create the data folder, migrate the database and create the default organisation, team and user.

    Running it again changes nothing (and upgrades an older database).
    """
    from integrations.storage import database
    from models.db import session_scope
    from models.migrate import upgrade
    from models.queries import ensure_defaults
    from models.revisions import current_revision

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
