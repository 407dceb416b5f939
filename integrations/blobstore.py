"""Recording events on disk: one gzip-compressed file per stored version of a session.

A blob is JSON Lines (one event per line), written and read as a stream, so neither side ever
holds the whole recording as one string. Blobs written before that change hold one JSON array
(`.json.gz`) and are still read.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import secrets
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

import orjson

COMPRESS_LEVEL = 3
_LEGACY_SUFFIX = ".json.gz"


class BlobStore:
    """Files under `root`, named by team, session hash, content hash and a random part: a write never
    overwrites."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def write(self, team_id: int, session_id: str, events: Iterable[dict]) -> tuple[str, int]:
        """Store `events`; returns (blob_ref, uncompressed size in bytes)."""
        return self.write_lines(team_id, session_id, map(orjson.dumps, events))

    def write_lines(self, team_id: int, session_id: str, lines: Iterable[bytes]) -> tuple[str, int]:
        """Store one encoded event per line; returns (blob_ref, uncompressed size in bytes).

        Atomic: a temporary file is renamed into place once complete; it is removed on failure.
        """
        session_key = hashlib.sha256(session_id.encode()).hexdigest()[:24]
        folder = self.root / str(team_id)
        folder.mkdir(parents=True, exist_ok=True)
        # Unique per writer: two threads may write the same session at once (concurrent ingest).
        temporary = folder / f".{session_key}.tmp{os.getpid()}-{threading.get_ident()}"
        digest, size = hashlib.sha256(), 0
        try:
            with gzip.open(temporary, "wb", compresslevel=COMPRESS_LEVEL) as out:
                for line in lines:
                    out.write(line)
                    out.write(b"\n")
                    digest.update(line)
                    size += len(line) + 1
            # A random part as well as the content's hash: two writers of the same events get two
            # blobs, so one discarding its own never removes the other's.
            ref = f"{team_id}/{session_key}-{digest.hexdigest()[:12]}{secrets.token_hex(4)}.jsonl.gz"
            os.replace(temporary, self.root / ref)
        finally:
            temporary.unlink(missing_ok=True)
        return ref, size

    def lines(self, ref: str) -> Iterator[bytes]:
        """The encoded events of a blob, one at a time. Raises `OSError` when it is missing."""
        path = self.root / ref
        if ref.endswith(_LEGACY_SUFFIX):
            yield from map(orjson.dumps, orjson.loads(gzip.decompress(path.read_bytes())))
            return
        with gzip.open(path, "rb") as stream:
            for line in stream:
                yield line.rstrip(b"\n")

    def events(self, ref: str) -> Iterator[dict]:
        """The events of a blob, decoded one at a time."""
        return map(orjson.loads, self.lines(ref))

    def read(self, ref: str) -> list[dict]:
        return list(self.events(ref))

    def delete(self, ref: str) -> None:
        (self.root / ref).unlink(missing_ok=True)
