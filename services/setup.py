"""Setting up a data folder (the folders, the migrated database, the default organisation, team and
user) and finding the team a command acts on."""

from __future__ import annotations

from dataclasses import dataclass

from integrations.private_files import (
    create_private_file,
    private_file,
    private_folder,
    private_tree,
    sqlite_files,
)
from integrations.secrets import ensure_key
from integrations.storage import database
from models import Team
from models.migrate import upgrade
from models.queries import ensure_defaults, first_team_id
from models.revisions import current_revision
from pipeline.errors import NotFoundError
from services.context import Deps


@dataclass(frozen=True)
class Initialised:
    home: str
    database: str  # the URL without its password
    revision: str | None
    organization: str
    team_id: int
    team: str
    user: str


def initialise(deps: Deps, timezone: str | None = None) -> Initialised:
    """Create what is missing and migrate the database; running it again changes nothing.

    The data folder and the blobs folder are 0700, the SQLite database, blobs and the secret key
    (generated unless SIGHTLINE_SECRET_KEY is set) 0600: no other user of the host reads them.

    `timezone` applies to a default team created now (default SIGHTLINE_TIMEZONE).
    """
    settings = deps.settings
    private_folder(settings.home)
    if not settings.blob_url:  # the local blob store; object storage has its own bucket
        private_tree(settings.blob_dir)
    ensure_key(settings)  # before migrating: a migration may encrypt what it finds
    db = database(settings)
    files = sqlite_files(db.url)
    if files:
        create_private_file(files[0])
    upgrade(db.engine)
    for path in files:
        private_file(path)
    with deps.transaction() as session:
        organization, team, user = ensure_defaults(session, timezone=timezone or settings.default_timezone)
        assert team.id is not None  # flushed by ensure_defaults
        names = (organization.name, team.id, team.name, user.email)
    return Initialised(str(settings.home.resolve()), _safe_url(db.url), current_revision(db.engine), *names)


def _safe_url(url: str) -> str:
    """The URL without its password, for printing."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def resolve_team(deps: Deps, team_id: int | None) -> int:
    """The team named, or the first team; `NotFoundError` when there is none."""
    with deps.read() as session:
        if team_id is not None:
            if session.get(Team, team_id) is None:
                raise NotFoundError(
                    f"team {team_id} does not exist; see `sightline init` for the default team"
                )
            return team_id
        first = first_team_id(session)
    if first is None:
        raise NotFoundError("there is no team yet; run `sightline init` first")
    return first
