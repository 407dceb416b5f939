"""A rendered timeline as bytes and back, so a recording's analysis is kept and read instead of redone.

The bytes are gzip-compressed JSON that name their format version and the key they were rendered
for (`services.analysis_cache` says what goes into it). Decoding gives `None`, never an error, for
bytes of another format version or key, and for bytes that are not a timeline at all (a truncated
or foreign file): the caller renders again and replaces them.
"""

from __future__ import annotations

import gzip
import zlib
from typing import Any

import orjson

from pipeline.timeline import Timeline
from pipeline.timeline.model import Moment, Pattern

# Bump when the shape below changes; what the renderer produces is the key's business.
FORMAT_VERSION = 1
_COMPRESS_LEVEL = 1  # the bytes are small and read far more often than written: speed over size
_UNREADABLE = (ValueError, TypeError, KeyError, IndexError, EOFError, OSError, zlib.error)


def encode_timeline(timeline: Timeline, key: str) -> bytes:
    """The timeline as compressed JSON, stamped with the format version and `key`."""
    document = {
        "format": FORMAT_VERSION,
        "key": key,
        "text": timeline.text,
        "moments": [
            [m.t, m.kind, m.text, m.priority, m.count, m.until, list(m.kinds)] for m in timeline.moments
        ],
        "patterns": [[p.kind, p.t, p.text, p.target] for p in timeline.patterns],
        "manifest": timeline.manifest,
        "token_estimate": timeline.token_estimate,
        "elided": timeline.elided,
        "warnings": timeline.warnings,
        "pages": timeline.pages,
    }
    return gzip.compress(orjson.dumps(document), compresslevel=_COMPRESS_LEVEL, mtime=0)


def decode_timeline(data: bytes, key: str) -> Timeline | None:
    """The timeline `encode_timeline(timeline, key)` made, or None when `data` is of another format
    version, was made for another key, or cannot be read."""
    try:
        document = orjson.loads(gzip.decompress(data))
        if document["format"] != FORMAT_VERSION or document["key"] != key:
            return None
        return _timeline(document)
    except _UNREADABLE:
        return None


def _timeline(document: dict[str, Any]) -> Timeline:
    return Timeline(
        text=document["text"],
        moments=[
            Moment(t, kind, text, priority, count, until, tuple(kinds))
            for t, kind, text, priority, count, until, kinds in document["moments"]
        ],
        patterns=[Pattern(kind, t, text, target) for kind, t, text, target in document["patterns"]],
        manifest=dict(document["manifest"]),
        token_estimate=int(document["token_estimate"]),
        elided=int(document["elided"]),
        warnings=list(document["warnings"]),
        pages=[(t, url) for t, url in document["pages"]],
    )
