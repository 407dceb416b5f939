"""Live ingest: project ingest tokens, the origins a team's pages may send from, and storing a batch.

An ingest token may only add recordings to its team, so it is safe to put in a web page; personal
API keys are not accepted for ingest. A batch is merged into its recording with the same merge as a
file import and its `batch_id` is stored in the same transaction, so a retried batch is stored once
and a batch is durable (blob written, row committed) before the caller answers 2xx.

Token and origin checks are cached in the process for `CACHE_S` seconds, so a busy recorder costs
no extra database read per batch; a revocation reaches other processes within that time.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

import structlog
from sqlmodel import Session

from models.ingest import IngestBatch, IngestToken
from models.ingest_queries import batch_stored, team_origins, team_tokens, token_by_hash, touch_token
from models.tenancy import Team
from pipeline.errors import InvalidField, NotFoundError
from pipeline.formats import ParsedRecording
from pipeline.ingest import Batch
from services.auth import digest
from services.context import Deps
from services.recordings import store

log = structlog.get_logger(__name__)
TOKEN_PREFIX = "sli_"
CACHE_S = 10.0


@dataclass(frozen=True)
class NewToken:
    token: IngestToken
    secret: str  # shown once, never stored


@dataclass(frozen=True)
class TokenHolder:
    token_id: str
    team_id: int


@dataclass(frozen=True)
class Ingested:
    session_id: str
    status: str  # imported | updated | unchanged | duplicate
    events: int  # events added to the recording


class _Cache:
    """A small time-limited cache shared by the threads of one process."""

    def __init__(self) -> None:
        self._items: dict[object, tuple[float, object]] = {}
        self._lock = threading.Lock()

    def get(self, key: object) -> object | None:
        with self._lock:
            found = self._items.get(key)
        return found[1] if found is not None and found[0] > time.monotonic() else None

    def put(self, key: object, value: object) -> None:
        with self._lock:
            if len(self._items) > 10_000:
                self._items.clear()
            self._items[key] = (time.monotonic() + CACHE_S, value)

    def forget(self, key: object) -> None:
        with self._lock:
            self._items.pop(key, None)


_tokens, _origins = _Cache(), _Cache()


def create_token(deps: Deps, team_id: int, label: str = "") -> NewToken:
    """A new ingest token for `team_id`; `NotFoundError` for an unknown team."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(24)
    with deps.transaction() as session:
        if session.get(Team, team_id) is None:
            raise NotFoundError(f"there is no team {team_id}")
        token = IngestToken(
            team_id=team_id,
            label=label.strip()[:255],
            token_hash=digest(secret),
            mask_value=f"{secret[:8]}…{secret[-4:]}",
            created_at=deps.now(),
        )
        session.add(token)
        return NewToken(token, secret)


def tokens(deps: Deps, team_id: int | None = None) -> list[IngestToken]:
    with deps.read() as session:
        return list(team_tokens(session, team_id))


def revoke_token(deps: Deps, ref: str) -> IngestToken:
    """Revoke a token by id (or an 8+ character id prefix) or its mask; `NotFoundError` otherwise."""
    with deps.transaction() as session:
        matches = [t for t in team_tokens(session) if _names(t, ref)]
        if len(matches) != 1:
            raise NotFoundError(f"no single ingest token matches {ref!r}; see `sightline tokens list`")
        token = matches[0]
        if token.revoked_at is None:
            token.revoked_at = deps.now()
            session.add(token)
    _tokens.forget(token.token_hash)
    return token


def _names(token: IngestToken, ref: str) -> bool:
    ref = ref.strip()
    return ref == token.mask_value or (len(ref) >= 8 and str(token.id).startswith(ref))


def authenticate_token(deps: Deps, secret: str) -> TokenHolder | None:
    """Who may ingest with this token, or None when it is unknown or revoked."""
    if not secret.startswith(TOKEN_PREFIX):
        return None
    key = digest(secret)
    cached = _tokens.get(key)
    if cached is not None:
        return cached or None  # type: ignore[return-value]
    with deps.transaction() as session:
        token = token_by_hash(session, key)
        holder = None
        if token is not None and token.revoked_at is None:
            holder = TokenHolder(str(token.id), token.team_id)
            touch_token(session, token.id, deps.now())
    _tokens.put(key, holder or False)
    return holder


def origins(deps: Deps, team_id: int) -> list[str]:
    """The origins whose pages may send this team's recordings; `NotFoundError` for an unknown team."""
    cached = _origins.get(team_id)
    if cached is not None:
        return cached  # type: ignore[return-value]
    with deps.read() as session:
        found = team_origins(session, team_id)
    if found is None:
        raise NotFoundError(f"there is no team {team_id}")
    _origins.put(team_id, found)
    return found


def origin_allowed(deps: Deps, team_id: int, origin: str) -> bool:
    try:
        return origin.rstrip("/").lower() in origins(deps, team_id)
    except NotFoundError:
        return False


def set_origins(
    deps: Deps, team_id: int, *, add: Sequence[str] = (), remove: Sequence[str] = ()
) -> list[str]:
    """Allow or stop allowing web origins (`https://shop.example`); `InvalidField` for one that is not."""
    wanted = [normal_origin(each) for each in add]
    gone = {normal_origin(each) for each in remove}
    with deps.transaction() as session:
        team = session.get(Team, team_id)
        if team is None:
            raise NotFoundError(f"there is no team {team_id}")
        current = [each for each in (team.ingest_origins or []) if each not in gone]
        team.ingest_origins = current + [each for each in wanted if each not in current]
        session.add(team)
        result = list(team.ingest_origins)
    _origins.forget(team_id)
    return result


def normal_origin(value: str) -> str:
    """`https://Shop.example:443/` → `https://shop.example:443`; `InvalidField` unless scheme://host[:port]."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
        raise InvalidField("origin", f"{value!r} is not an origin; write it as https://host[:port]")
    if parts.query or parts.fragment or parts.username:
        raise InvalidField("origin", f"{value!r} is not an origin; write it as https://host[:port]")
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname.lower()}{port}"


def ingest(deps: Deps, team_id: int, batch: Batch, *, now: datetime | None = None) -> Ingested:
    """Merge one batch into its recording, once per `batch_id`.

    Raises `RecordingError` when the recording would outgrow its limit, `ConcurrentChange` when
    other writers kept changing the same session (the client retries).
    """
    with deps.read() as session:
        if batch_stored(session, team_id, batch.session_id, batch.batch_id):
            return Ingested(batch.session_id, "duplicate", 0)
    received = now or deps.now()

    def remember(session: Session) -> None:
        # Checked again in the merge's transaction: the same batch may have been sent twice at once.
        if batch_stored(session, team_id, batch.session_id, batch.batch_id):
            raise _Duplicate
        row = IngestBatch(team_id=team_id, session_id=batch.session_id, batch_id=batch.batch_id,
                          event_count=len(batch.events), received_at=received)  # fmt: skip
        session.add(row)

    pairs = [(batch.window_id, event) for event in batch.events]
    parsed = ParsedRecording("ingest", pairs, batch.session_id, batch.distinct_id)
    try:
        stored = store(deps, team_id, batch.session_id, parsed, within=remember)
    except _Duplicate:
        return Ingested(batch.session_id, "duplicate", 0)
    log.debug("batch_ingested", team_id=team_id, session_id=batch.session_id, events_added=stored.added)
    return Ingested(batch.session_id, stored.status, stored.added)


class _Duplicate(Exception):
    """The batch was stored by another request while this one merged it."""
