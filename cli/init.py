"""`sightline init`: the data folder, the migrated database and the default organisation, team and user."""

from __future__ import annotations

import typer

from cli.context import deps, friendly_errors, out


@friendly_errors
def init_command(
    timezone: str = typer.Option(
        None, help="IANA timezone of the default team (default SIGHTLINE_TIMEZONE)."
    ),
) -> None:
    """Create the data folder, migrate the database and create the default organisation, team and user.

    Running it again changes nothing (and upgrades an older database).
    """
    from services.setup import initialise

    done = initialise(deps(), timezone)
    out.print(f"Data folder: {done.home}")
    out.print(f"Database:    {done.database} (migration {done.revision})")
    team = f"team {done.team_id} ({done.team})"
    out.print(f"Default:     organisation {done.organization!r}, {team}, user {done.user}")
    out.print(
        "Web pages:   `sightline users create --email you@example.com --password` creates a person "
        "who can sign in; `sightline up` serves the pages at SIGHTLINE_SITE_URL",
        highlight=False,
    )
