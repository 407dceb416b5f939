"""Recording events on disk: one gzip-compressed JSON file per stored version of a session."""

from __future__ import annotations

import gzip
import hashlib
import os
from pathlib import Path

import orjson

COMPRESS_LEVEL = 3


class BlobStore:
    """Files under `root`, named by team, session hash and content hash so a write never overwrites."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def write(self, team_id: int, session_id: str, events: list[dict]) -> tuple[str, int]:
        """Store `events`; returns (blob_ref, uncompressed size in bytes). Atomic: temp file then rename."""
        payload = orjson.dumps(events)
        session_key = hashlib.sha256(session_id.encode()).hexdigest()[:24]
        content_key = hashlib.sha256(payload).hexdigest()[:12]
        ref = f"{team_id}/{session_key}-{content_key}.json.gz"
        path = self.root / ref
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            temporary = path.with_suffix(f".tmp{os.getpid()}")
            temporary.write_bytes(gzip.compress(payload, compresslevel=COMPRESS_LEVEL))
            os.replace(temporary, path)
        return ref, len(payload)

    def read(self, ref: str) -> list[dict]:
        return orjson.loads(gzip.decompress((self.root / ref).read_bytes()))

    def delete(self, ref: str) -> None:
        (self.root / ref).unlink(missing_ok=True)
