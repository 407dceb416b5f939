"""Where recordings' events live: the `BlobStore` port, the folder adapter, and `blob_store(settings)`.

A blob is gzip-compressed JSON Lines (one encoded event per line), written and read as a stream, so
neither side ever holds the whole recording as one string. Its ref is
`{team_id}/{sha256(session_id)[:24]}-{sha256(content)[:12]}{random}.jsonl.gz`: a write never
overwrites another blob. Blobs written before JSON Lines hold one JSON array (`.json.gz`) and
are still read.

`blob_store(settings)` picks the adapter: the `blobs` folder of SIGHTLINE_HOME (`LocalBlobStore`)
when SIGHTLINE_BLOB_URL is unset, S3-compatible object storage (`integrations.s3_blobs`) for
`s3://bucket/prefix`, which every machine of a deployment can reach.
"""

from __future__ import annotations

import errno
import gzip
import hashlib
import os
import secrets
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING
from urllib.parse import urlsplit

import orjson

from integrations.private_files import FILE_MODE, FOLDER_MODE
from pipeline.errors import BlobMissing, BlobStoreUnavailable, ConfigurationError

if TYPE_CHECKING:
    from settings import Settings

COMPRESS_LEVEL = 3
LEGACY_SUFFIX = ".json.gz"


class BlobStore(ABC):
    """The port: store a session's events under a new ref, read them back, list and delete refs.

    A write is atomic: nothing is visible under a ref (nor left behind) until the blob is complete.
    Reading a ref that is not there raises `BlobMissing`. `location` names the store for people
    (a folder, `s3://bucket/prefix`); it never holds a credential.
    """

    location: str
    # Reading a blob is a local file read (microseconds for a small one), not a network request.
    reads_locally: bool = False

    @abstractmethod
    def write_lines(self, team_id: int, session_id: str, lines: Iterable[bytes]) -> tuple[str, int]:
        """Store one encoded event per line; returns (ref, uncompressed size in bytes)."""

    @abstractmethod
    def lines(self, ref: str) -> Iterator[bytes]:
        """The encoded events of a blob, one at a time. Raises `BlobMissing`."""

    @abstractmethod
    def delete(self, ref: str) -> None:
        """Remove a blob; one that is already gone is fine."""

    @abstractmethod
    def exists(self, ref: str) -> bool:
        """Whether a blob is stored under `ref`."""

    @abstractmethod
    def refs(self, prefix: str = "") -> Iterator[str]:
        """Every stored ref starting with `prefix` (`"3/"`: team 3's), for retention and orphan checks."""

    @abstractmethod
    def put(self, ref: str, data: bytes) -> None:
        """Store `data` as it is under a ref the caller names, replacing what was there: a file derived
        from a blob (its analysis), kept beside it. Atomic, as a blob's write is."""

    @abstractmethod
    def get(self, ref: str) -> bytes:
        """What `put` stored under `ref`. Raises `BlobMissing`."""

    def write(self, team_id: int, session_id: str, events: Iterable[dict]) -> tuple[str, int]:
        """Store `events`; returns (ref, uncompressed size in bytes)."""
        return self.write_lines(team_id, session_id, map(orjson.dumps, events))

    def events(self, ref: str) -> Iterator[dict]:
        """The events of a blob, decoded one at a time. Raises `BlobMissing`."""
        return map(orjson.loads, self.lines(ref))

    def read(self, ref: str) -> list[dict]:
        """Every event of a blob. Raises `BlobMissing`."""
        return list(self.events(ref))


# Errors of the folder itself while writing a blob (the recording being written is not at fault).
_STORE_ERRORS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EIO})


def session_key(session_id: str) -> str:
    """The session's part of a ref: a hash, so any session id makes a safe file or key name."""
    return hashlib.sha256(session_id.encode()).hexdigest()[:24]


def blob_ref(team_id: int, session_id: str, content_hash: str) -> str:
    """A new ref for this content. A random part as well as the content's hash: two writers of the
    same events get two blobs, so one discarding its own never removes the other's."""
    return f"{team_id}/{session_key(session_id)}-{content_hash}{secrets.token_hex(4)}.jsonl.gz"


def compress_lines(lines: Iterable[bytes], out: IO[bytes]) -> tuple[str, int]:
    """Write `lines` to `out` as gzip JSON Lines; returns (content hash, uncompressed size in bytes)."""
    digest, size = hashlib.sha256(), 0
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=COMPRESS_LEVEL) as stream:
        for line in lines:
            stream.write(line)
            stream.write(b"\n")
            digest.update(line)
            size += len(line) + 1
    return digest.hexdigest()[:12], size


def decompressed_lines(ref: str, compressed: IO[bytes]) -> Iterator[bytes]:
    """The encoded events of the blob `ref` read from `compressed`, in either format."""
    if ref.endswith(LEGACY_SUFFIX):
        yield from map(orjson.dumps, orjson.loads(gzip.decompress(compressed.read())))
        return
    with gzip.GzipFile(fileobj=compressed, mode="rb") as stream:
        for line in stream:
            yield line.rstrip(b"\n")


class LocalBlobStore(BlobStore):
    """Files under `root` (mode 0600, folders 0700); a write goes to a hidden temporary file that is
    renamed into place."""

    reads_locally = True

    def __init__(self, root: Path):
        self.root = Path(root)
        self.location = str(self.root)

    def write_lines(self, team_id: int, session_id: str, lines: Iterable[bytes]) -> tuple[str, int]:
        folder = self.root / str(team_id)
        if not folder.is_dir():
            folder.mkdir(parents=True, exist_ok=True)
            os.chmod(folder, FOLDER_MODE)
        # Unique per writer: two threads may write the same session at once (concurrent ingest).
        temporary = folder / f".{session_key(session_id)}.tmp{os.getpid()}-{threading.get_ident()}"
        try:
            with temporary.open("wb") as out:
                os.fchmod(out.fileno(), FILE_MODE)  # recordings are for this user only, whatever the umask
                content_hash, size = compress_lines(lines, out)
            ref = blob_ref(team_id, session_id, content_hash)
            os.replace(temporary, self.root / ref)
        except OSError as exc:
            if (unavailable := self._unavailable(exc)) is None:
                raise
            raise unavailable from exc
        finally:
            temporary.unlink(missing_ok=True)
        return ref, size

    def put(self, ref: str, data: bytes) -> None:
        """Into the folder of `ref`, which its blob's write made (`FileNotFoundError` without it)."""
        target = self.root / ref
        temporary = target.with_name(f".{target.name}.tmp{os.getpid()}-{threading.get_ident()}")
        try:
            with temporary.open("wb") as out:
                os.fchmod(out.fileno(), FILE_MODE)
                out.write(data)
            os.replace(temporary, target)
        except OSError as exc:
            if (unavailable := self._unavailable(exc)) is None:
                raise
            raise unavailable from exc
        finally:
            temporary.unlink(missing_ok=True)

    def get(self, ref: str) -> bytes:
        try:
            return (self.root / ref).read_bytes()
        except FileNotFoundError as exc:
            raise BlobMissing(ref, self.location) from exc

    def _unavailable(self, exc: OSError) -> BlobStoreUnavailable | None:
        """A write error that is the folder's fault (full, read-only, not ours), not the recording's,
        as `BlobStoreUnavailable` naming the folder; None for any other."""
        if isinstance(exc, BlobMissing) or exc.errno not in _STORE_ERRORS:
            return None
        return BlobStoreUnavailable(f"cannot write to {self.location}: {exc.strerror}", self.location)

    def lines(self, ref: str) -> Iterator[bytes]:
        try:
            compressed = (self.root / ref).open("rb")
        except FileNotFoundError as exc:
            raise BlobMissing(ref, self.location) from exc
        with compressed:
            yield from decompressed_lines(ref, compressed)

    def delete(self, ref: str) -> None:
        (self.root / ref).unlink(missing_ok=True)

    def exists(self, ref: str) -> bool:
        return (self.root / ref).is_file()

    def refs(self, prefix: str = "") -> Iterator[str]:
        """Files under the root whose ref starts with `prefix`; temporary files are not refs."""
        for folder, _, names in os.walk(self.root / prefix.rpartition("/")[0]):
            for name in sorted(names):
                ref = (Path(folder) / name).relative_to(self.root).as_posix()
                if not name.startswith(".") and ref.startswith(prefix):
                    yield ref


def blob_store(settings: Settings) -> BlobStore:
    """The store SIGHTLINE_BLOB_URL names: unset ⇒ the `blobs` folder of SIGHTLINE_HOME,
    `s3://bucket/prefix` ⇒ S3. Raises `ConfigurationError` for another scheme or unusable S3 settings.
    """
    if not settings.blob_url:
        return LocalBlobStore(settings.blob_dir)
    scheme = urlsplit(settings.blob_url).scheme
    if scheme == "s3":
        from integrations.s3_blobs import s3_blob_store  # the S3 client loads only when it is used

        return s3_blob_store(settings.blob_url, settings)
    raise ConfigurationError(
        f"SIGHTLINE_BLOB_URL has the scheme {scheme or 'none'!r}, which is not supported: use "
        f"s3://bucket/prefix, or leave it unset to keep recordings in {settings.blob_dir}"
    )
