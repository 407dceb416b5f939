"""Live ingest: project ingest tokens, the origins a team's pages may send from, and storing a batch.

An ingest token may only add recordings to its team, so it is safe to put in a web page; personal
API keys are not accepted for ingest. A batch is merged into its recording with the same merge as a
file import and its `batch_id` is stored in the same transaction, so a retried batch is stored once
and a batch is durable (blob written, row committed) before the caller answers 2xx.

Token and origin checks are cached in the process for `CACHE_S` seconds, so a busy recorder costs
no extra database read per batch; a revocation reaches other processes within that time.
"""

from __future__ import annotations

import math
import secrets
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import orjson
import structlog
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from models.base import as_utc
from models.ingest import IngestBatch, IngestToken
from models.ingest_queries import (
    mark_merged,
    sessions_waiting,
    team_origins,
    team_tokens,
    token_by_hash,
    touch_recording,
    touch_token,
    waiting_batches,
)
from models.tenancy import Team
from pipeline.errors import ConcurrentChange, InvalidField, NotFoundError, RecordingError
from pipeline.formats import Pair, ParsedRecording
from pipeline.ingest import Batch
from pipeline.names import COMPACT, compact_key
from services.auth import digest
from services.context import Deps
from services.recordings import Stored, store

log = structlog.get_logger(__name__)
TOKEN_PREFIX = "sli_"
CACHE_S = 10.0
# Batches waiting longer than this for their merge (a lost message, Redis down) are merged by the scheduler.
STALE_MERGE_S = 60.0


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
    status: str  # stored | duplicate
    events: int  # events in the stored batch


class _Cache:
    """A small time-limited cache shared by the threads of one process."""

    def __init__(self, ttl_s: float = CACHE_S) -> None:
        self.ttl_s = ttl_s
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
            self._items[key] = (time.monotonic() + self.ttl_s, value)

    def forget(self, key: object) -> None:
        with self._lock:
            self._items.pop(key, None)


_tokens, _origins = _Cache(), _Cache()
_merges = _Cache(ttl_s=1.0)  # sessions this process asked to merge within the last second


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
    """Store one batch durably, once per `batch_id`, and have it merged into its recording soon.

    Its events go to a blob of their own and the batch row is committed with them (a retry of the
    same `batch_id` is answered "duplicate"); the recording's `last_ingested_at` moves on, so a
    session still receiving batches is not swept. The merge into the recording (`merge_waiting`)
    runs within `SIGHTLINE_INGEST_MERGE_DELAY_S`, once for every batch that arrived meanwhile.
    """
    received = now or deps.now()
    # One write of all the lines (a batch is small): gzip costs per call, not per byte, at this size.
    lines = b"\n".join(orjson.dumps(_labelled(event, batch.window_id)) for event in batch.events)
    ref, _ = deps.blobs.write_lines(team_id, f"{batch.session_id}\x00{batch.batch_id}", [lines])
    row = IngestBatch(team_id=team_id, session_id=batch.session_id, batch_id=batch.batch_id,
                      distinct_id=batch.distinct_id, event_count=len(batch.events), blob_ref=ref,
                      received_at=received)  # fmt: skip
    try:
        with deps.transaction() as session:
            session.add(row)
            session.flush()
            touch_recording(session, team_id, batch.session_id, received)
    except IntegrityError:  # a retry of a stored batch (the unique key says so; no read first)
        deps.blobs.delete(ref)
        return Ingested(batch.session_id, "duplicate", 0)
    except BaseException:
        deps.blobs.delete(ref)
        raise
    _schedule_merge(deps, team_id, batch.session_id)
    return Ingested(batch.session_id, "stored", len(batch.events))


def _labelled(event: dict, window_id: str | None) -> dict:
    return {**event, "windowId": window_id} if window_id and "windowId" not in event else event


def _schedule_merge(deps: Deps, team_id: int, session_id: str) -> None:
    """Send one merge for this session unless one is already on its way; if Redis or the broker is
    down, the scheduler's backstop (`merge_stale`) merges the batch a minute later."""
    delay_s = deps.settings.ingest_merge_delay_s
    key = compact_key(deps.settings.redis_namespace, team_id, session_id)
    if _merges.get(key):  # a busy session: skip asking Redis on every batch
        return
    _merges.put(key, True)
    try:
        if deps.redis().set(key, "1", nx=True, ex=max(1, math.ceil(delay_s) + 1)):
            deps.sender().send(COMPACT, team_id, session_id, delay_ms=int(delay_s * 1000) or None)
    except Exception:
        log.warning("ingest_merge_not_scheduled", team_id=team_id, exc_info=True)


def merge_waiting(deps: Deps, team_id: int, session_id: str) -> Stored | None:
    """Merge a session's waiting batches into its recording with the file import's merge.

    None when nothing waits. Batches whose events turn out unusable are marked merged and logged
    (each was checked at ingest, so this is rare); `ConcurrentChange` when another merge of the same
    session took some of them first (the retry finds the rest).
    """
    _forget_schedule(deps, team_id, session_id)
    with deps.read() as session:
        waiting = list(waiting_batches(session, team_id, session_id))
    if not waiting:
        return None
    pairs = _events_of(deps, team_id, session_id, waiting)
    distinct = next((b.distinct_id for b in reversed(waiting) if b.distinct_id), None)
    ids, refs, now = [b.id for b in waiting], [b.blob_ref for b in waiting], deps.now()

    def claim(session: Session) -> None:
        if mark_merged(session, ids, now) != len(ids):
            raise ConcurrentChange(f"another merge of {session_id!r} took some of its batches")

    parsed = ParsedRecording("ingest", pairs, session_id, distinct)
    last = max(as_utc(b.received_at) for b in waiting)
    try:
        stored = store(deps, team_id, session_id, parsed, within=claim, ingested_at=last)
    except RecordingError as exc:
        with deps.transaction() as session:
            claim(session)
        log.warning("ingest_batches_unusable", team_id=team_id, batches=len(ids), reason=str(exc))
        stored = None
    for ref in refs:
        if ref:
            deps.blobs.delete(ref)
    return stored


def _events_of(deps: Deps, team_id: int, session_id: str, waiting: list[IngestBatch]) -> list[Pair]:
    pairs: list[Pair] = []
    try:
        for each in waiting:
            pairs.extend((None, event) for event in deps.blobs.events(each.blob_ref or ""))
    except FileNotFoundError:
        with deps.read() as session:
            still = {b.id for b in waiting_batches(session, team_id, session_id)}
        if still != {b.id for b in waiting}:  # another merge took them and removed their blobs
            raise ConcurrentChange(f"another merge of {session_id!r} took some of its batches") from None
        raise
    return pairs


def _forget_schedule(deps: Deps, team_id: int, session_id: str) -> None:
    """Batches arriving from now on schedule a merge of their own."""
    try:
        deps.redis().delete(compact_key(deps.settings.redis_namespace, team_id, session_id))
    except Exception:
        log.warning("ingest_merge_key_not_cleared", team_id=team_id, exc_info=True)


def merge_stale(deps: Deps, *, now: datetime, after_s: float = STALE_MERGE_S, limit: int = 500) -> int:
    """The scheduler's backstop: ask the workers to merge every session whose batches have waited
    longer than `after_s` (a merge message lost with a crashed Redis, or never sent); how many.

    Asked at most once a minute per session, so a backlog the workers are still draining is not
    asked for again on every tick.
    """
    with deps.read() as session:
        stale = sessions_waiting(session, now - timedelta(seconds=after_s), limit)
    asked = 0
    client, sender = deps.redis(), deps.sender()
    for team_id, session_id in stale:
        key = compact_key(deps.settings.redis_namespace, team_id, session_id)
        if client.set(key, "1", nx=True, ex=int(after_s)):
            sender.send(COMPACT, team_id, session_id)
            asked += 1
    return asked
