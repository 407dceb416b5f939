"""Source maps: uploading a release's symbol sets, and de-minifying console error stack traces with them.

The upload is the reference's two steps, through our own upload endpoint for every blob store (the
`presigned_url` a start answers points at it, with a one-time token in its `fields`): start → POST
the file → finish. Only a finished set (`content_hash` set) is used.

De-minifying happens when a trace is read, never inside a stored analysis: a map uploaded after a
recording was analysed changes what its traces show at once. `symbol_state` digests the sets a
recording's traces use, for a caller that caches what it shows.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

import structlog
from sqlalchemy.exc import IntegrityError

from integrations.source_maps import SourceMapReader, SymbolSetContent, read_upload, reader_for
from models.base import as_utc
from models.queries import get_recording
from models.symbol_set_queries import (
    has_finished_sets,
    symbol_set,
    symbol_sets_by_id,
    symbol_sets_by_ref,
    team_symbol_sets,
)
from models.symbol_sets import SymbolSet
from pipeline.errors import ConcurrentChange, InvalidField, NotFoundError, SightlineError
from pipeline.redact import Redactor
from pipeline.stack_frames import Frame, Original, ShownTrace, Trace, console_traces, refs_of, resolve
from services.context import Deps

log = structlog.get_logger(__name__)
UPLOAD_LIFETIME = timedelta(hours=1)
MAX_UPLOAD_BYTES = 100 * 1024 * 1024  # the reference's limit
MAX_REF = 1000
_READERS = 32  # parsed maps kept per process, keyed by set and content


@dataclass(frozen=True)
class Upload:
    """One set a client means to upload: its ref (chunk id or file URL), release and content hash."""

    chunk_id: str
    release_id: str | None = None
    content_hash: str | None = None


@dataclass(frozen=True)
class Started:
    """A set ready for its file: where it is and the one-time token the upload must carry."""

    symbol_set_id: UUID
    token: str


def start_upload(deps: Deps, team_id: int, upload: Upload) -> Started:
    """Start (or restart) the upload of one set; a set already in use is replaced when the new file
    is finished. Raises `InvalidField` for a bad ref or a set of another release."""
    _check(upload)
    with _unique(), deps.transaction() as session:
        found = symbol_sets_by_ref(session, team_id, [upload.chunk_id])
        row = found[0] if found else SymbolSet(team_id=team_id, ref=upload.chunk_id)
        _same_release(row, upload)
        row.content_hash = None
        started = _open(deps, row)
        session.add(row)
        session.flush()
        return Started(row.id, started)


def bulk_start_upload(deps: Deps, team_id: int, uploads: Sequence[Upload]) -> dict[str, Started]:
    """Start the upload of each set not already uploaded with the same content (those are left out
    of the answer, as the reference's). Raises `InvalidField` for duplicate refs, a set of another
    release, or a set already uploaded with other content (upload it under a new chunk id)."""
    refs = [upload.chunk_id for upload in uploads]
    duplicates = sorted({ref for ref in refs if refs.count(ref) > 1})
    if duplicates:
        raise InvalidField("chunk_ids", f"duplicate chunk ids: {', '.join(duplicates)}")
    for upload in uploads:
        _check(upload)
    started: dict[str, Started] = {}
    with _unique(), deps.transaction() as session:
        existing = {row.ref: row for row in symbol_sets_by_ref(session, team_id, refs)}
        for upload in uploads:
            row = existing.get(upload.chunk_id) or SymbolSet(team_id=team_id, ref=upload.chunk_id)
            _same_release(row, upload)
            if row.content_hash is not None:
                if row.content_hash != upload.content_hash:
                    detail = f"symbol set {row.ref} already exists with other content; use a new chunk id"
                    raise InvalidField("content_hash", detail)
                continue
            token = _open(deps, row)
            session.add(row)
            session.flush()
            started[upload.chunk_id] = Started(row.id, token)
    return started


def receive_upload(deps: Deps, team_id: int, symbol_set_id: UUID, token: str, data: bytes) -> None:
    """Store the file of a started set. Raises `NotFoundError` (no such set), `InvalidField` for a
    wrong or expired token, a file over 100 MB, or one that is not a readable source map (which the
    set's `failure_reason` then says too)."""
    with deps.read() as session:
        row = symbol_set(session, team_id, symbol_set_id)
    if row is None:
        raise NotFoundError(f"no symbol set {symbol_set_id} in team {team_id}")
    _check_token(deps, row, token)
    if len(data) > MAX_UPLOAD_BYTES:
        raise InvalidField("file", "a symbol set must be at most 100 MB")
    try:
        content = read_upload(data)
    except InvalidField as exc:
        _record_failure(deps, team_id, symbol_set_id, str(exc))
        raise
    record = {"source_map": content.source_map, "minified": content.minified}
    new_ref, _ = deps.blobs.write(team_id, f"symbol-set:{symbol_set_id}", [record])
    with deps.transaction() as session:
        row = symbol_set(session, team_id, symbol_set_id)
        if row is None:  # deleted meanwhile
            deps.blobs.delete(new_ref)
            raise NotFoundError(f"no symbol set {symbol_set_id} in team {team_id}")
        old_ref, row.blob_ref, row.failure_reason = row.blob_ref, new_ref, None
        session.add(row)
    if old_ref and old_ref != new_ref:
        deps.blobs.delete(old_ref)
    log.info("symbol_set_uploaded", symbol_set_id=str(symbol_set_id), team_id=team_id, bytes=len(data))


def finish_upload(deps: Deps, team_id: int, symbol_set_id: UUID, content_hash: str) -> None:
    """Put an uploaded set in use. Raises `NotFoundError`, or `InvalidField` without a content hash
    or before its file was uploaded."""
    bulk_finish_upload(deps, team_id, {str(symbol_set_id): content_hash}, strict=True)


def bulk_finish_upload(
    deps: Deps, team_id: int, content_hashes: dict[str, str], strict: bool = False
) -> None:
    """Put each uploaded set in use, all or none; ids of no set of the team are ignored (unless
    `strict`: `NotFoundError`). Raises `InvalidField` for a bad id or hash, or a set with no file."""
    ids = {_uuid(key): value for key, value in content_hashes.items()}
    for value in ids.values():
        if not isinstance(value, str) or not value.strip() or len(value) > 255:
            raise InvalidField("content_hash", "a content hash must be provided to finish the upload")
    with deps.transaction() as session:
        rows = symbol_sets_by_id(session, team_id, list(ids))
        if strict and not rows:
            raise NotFoundError(f"no symbol set {next(iter(ids), '')} in team {team_id}")
        for row in rows:
            if row.blob_ref is None:
                detail = f"no file has been uploaded for symbol set {row.id}; POST it to its presigned_url"
                raise InvalidField("content_hash", detail)
            row.content_hash = row.content_hash or ids[row.id]
            row.upload_token_hash = row.upload_expires_at = None
            session.add(row)


def symbol_set_page(deps: Deps, team_id: int, limit: int, offset: int) -> tuple[int, list[SymbolSet]]:
    """How many symbol sets the team has, and a page of them, newest first."""
    with deps.read() as session:
        count, rows = team_symbol_sets(session, team_id, limit, offset)
        return count, list(rows)


def get_symbol_set(deps: Deps, team_id: int, symbol_set_id: UUID) -> SymbolSet:
    """One of the team's symbol sets. Raises `NotFoundError` (another team's is not found either)."""
    with deps.read() as session:
        row = symbol_set(session, team_id, symbol_set_id)
    if row is None:
        raise NotFoundError(f"no symbol set {symbol_set_id} in team {team_id}")
    return row


def delete_symbol_set(deps: Deps, team_id: int, symbol_set_id: UUID) -> None:
    """Delete one of the team's symbol sets and its file in the blob store: its frames show minified
    again (no source map uploaded). Raises `NotFoundError`."""
    with deps.transaction() as session:
        row = symbol_set(session, team_id, symbol_set_id)
        if row is None:
            raise NotFoundError(f"no symbol set {symbol_set_id} in team {team_id}")
        blob_ref = row.blob_ref
        session.delete(row)
    if blob_ref:  # after the commit: a blob left by a failed delete is an orphan, which retention removes
        deps.blobs.delete(blob_ref)
    log.info("symbol_set_deleted", symbol_set_id=str(symbol_set_id), team_id=team_id)


def recording_stack_traces(deps: Deps, team_id: int, session_id: str) -> list[ShownTrace]:
    """The console errors with frames in a stored recording, de-minified with the team's sets.
    Raises `NotFoundError` when the team has no such recording or its events are gone."""
    with deps.read() as session:
        row = get_recording(session, team_id, session_id)
    if row is None:
        raise NotFoundError(f"no recording {session_id!r} in team {team_id}")
    try:
        traces = console_traces(deps.blobs.events(row.blob_ref), Redactor().redact)
    except OSError as exc:
        raise NotFoundError(f"the events of {session_id!r} are missing; re-import it") from exc
    return deminify(deps, team_id, traces)


def prompt_stack_traces(deps: Deps, team_id: int, session_id: str) -> str:
    """The stack traces a model reads after the timeline, de-minified: "" unless the team uploaded
    source maps (one indexed query for every other team) or the recording has none. `sightline
    timeline` and text_repr show the same section (`services.text_repr.model_timeline`)."""
    with deps.read() as session:
        if not has_finished_sets(session, team_id):
            return ""
    try:
        text = stack_trace_text(deps, team_id, session_id)
    except NotFoundError:
        return ""
    return (
        f"\n\nWhere the console errors were thrown (de-minified with the team's source maps):\n{text}"
        if text
        else ""
    )


def stack_trace_text(deps: Deps, team_id: int, session_id: str) -> str:
    """The recording's console errors with their stacks, as lines for a prompt or a page ("" without)."""
    return "\n".join(shown.text for shown in recording_stack_traces(deps, team_id, session_id))


def deminify(deps: Deps, team_id: int, traces: Sequence[Trace]) -> list[ShownTrace]:
    """Each trace with its frames de-minified by the team's finished sets, or minified with why."""
    with deps.read() as session:
        sets = {row.ref: row for row in symbol_sets_by_ref(session, team_id, refs_of(traces))}
    readers: dict[str, SourceMapReader | str] = {}

    def lookup(frame: Frame) -> Original | str:
        row = sets.get(frame.ref)
        if row is None or row.content_hash is None:
            unfinished = " (its upload was not finished)" if row is not None else ""
            return f"no source map uploaded for {frame.ref}{unfinished}"
        if row.ref not in readers:
            readers[row.ref] = _reader(deps, row)
        reader = readers[row.ref]
        if isinstance(reader, str):
            return reader
        found = reader.lookup(frame.line, frame.column)
        return found or f"the source map has no mapping for line {frame.line} column {frame.column}"

    return [ShownTrace(trace, resolve(trace.frames, lookup)) for trace in traces]


def symbol_state(deps: Deps, team_id: int, traces: Sequence[Trace]) -> str:
    """A digest of the finished sets the traces' frames would use: a cache of what `deminify` shows
    is stale once it changes (a map uploaded or replaced)."""
    with deps.read() as session:
        rows = symbol_sets_by_ref(session, team_id, refs_of(traces))
    used = sorted(f"{row.ref}\0{row.content_hash}\0{row.blob_ref}" for row in rows if row.content_hash)
    return hashlib.sha256("\n".join(used).encode()).hexdigest()[:16]


# -- helpers -------------------------------------------------------------------------------------

_cache: OrderedDict[tuple, SourceMapReader] = OrderedDict()
_cache_lock = threading.Lock()


def _reader(deps: Deps, row: SymbolSet) -> SourceMapReader | str:
    """The parsed map of a finished set, or why it cannot be used."""
    key = (row.id, row.blob_ref, row.content_hash)
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    try:
        (record,) = deps.blobs.read(row.blob_ref or "")
        reader = reader_for(SymbolSetContent(record["source_map"], record.get("minified")))
    except (OSError, SightlineError, ValueError, KeyError, TypeError) as exc:
        log.warning("symbol_set_unreadable", symbol_set_id=str(row.id), error=type(exc).__name__)
        return f"the source map for {row.ref} is unreadable ({exc}); upload it again"
    with _cache_lock:
        _cache[key] = reader
        while len(_cache) > _READERS:
            _cache.popitem(last=False)
    return reader


def _check(upload: Upload) -> None:
    if not upload.chunk_id.strip() or len(upload.chunk_id) > MAX_REF:
        raise InvalidField("chunk_id", f"a chunk id (or file URL) of 1 to {MAX_REF} characters is required")
    if upload.release_id is not None and len(upload.release_id) > 255:
        raise InvalidField("release_id", "a release id is at most 255 characters")


def _same_release(row: SymbolSet, upload: Upload) -> None:
    """A set may join a release once; moving it to another is refused, as the reference does."""
    if upload.release_id and row.release_id and row.release_id != upload.release_id:
        raise InvalidField("release_id", f"symbol set {row.ref} already belongs to release {row.release_id}")
    row.release_id = row.release_id or upload.release_id


def _open(deps: Deps, row: SymbolSet) -> str:
    """A new one-time upload token for `row` (stored hashed), valid for `UPLOAD_LIFETIME`."""
    token = secrets.token_urlsafe(24)
    row.upload_token_hash = _digest(token)
    row.upload_expires_at = deps.now() + UPLOAD_LIFETIME
    return token


def _check_token(deps: Deps, row: SymbolSet, token: str) -> None:
    expires = as_utc(row.upload_expires_at)
    if (
        row.upload_token_hash is None
        or expires is None
        or expires <= deps.now()
        or not hmac.compare_digest(row.upload_token_hash, _digest(token))
    ):
        raise InvalidField("token", "the upload token is wrong, used or expired; start the upload again")


def _record_failure(deps: Deps, team_id: int, symbol_set_id: UUID, reason: str) -> None:
    with deps.transaction() as session:
        row = symbol_set(session, team_id, symbol_set_id)
        if row is not None:
            row.failure_reason = reason[:1000]
            session.add(row)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _uuid(value: str) -> UUID:
    try:
        return UUID(str(value))
    except ValueError as exc:
        raise InvalidField("content_hashes", f"{value!r} is not a symbol set id") from exc


@contextmanager
def _unique() -> Iterator[None]:
    """Two starts of one new ref at once: the second meets the unique key and may simply retry."""
    try:
        yield
    except IntegrityError as exc:
        raise ConcurrentChange("another upload of the same chunk id started at once; retry") from exc
