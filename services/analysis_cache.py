"""A recording's analysis, computed once per version and budget and read by every scanner that observes it.

The analysis is the rendered `Timeline`: its text and moments, the patterns the detectors found,
and what the heuristics and the evidence check read (pages, manifest, token estimate). Rendering a
real recording means reading, decompressing and decoding every event (milliseconds, and enough
objects to trigger full garbage collections); four scanners observing one session used to do it
four times. Now an observation looks in this process's memory (a small LRU), then in the blob
store, beside the recording's blob (`{blob_ref}.analysis`: gzip JSON, `pipeline.timeline.codec`),
and only then renders, and keeps what it rendered in both.

The key is what the analysis is a function of:
- the recording's `blob_ref`: every store of new events writes a new blob under a new ref
  (`services.recordings.store`, which live ingest merges through as well), so more events are a new
  key and the old analysis is never read again;
- the header digest: the metadata and import notes read from the row. They are written with the
  ref today, so this only guards against a later change that updates them alone;
- the token budget (SIGHTLINE_TIMELINE_BUDGET_TOKENS);
- the renderer: a digest of the `pipeline` package's source, so any change to the rendering code
  (or to the stored format, `FORMAT_VERSION`) is a new key without anyone remembering to bump one.

A stored analysis made for another key (an older renderer, another budget) or unreadable is ignored
and replaced. Storing is best effort: an analysis that cannot be stored is logged and the
observation goes on with the one it rendered. The analysis of a blob goes with the blob: retention
deletes both (`services.retention.remove_blobs`), and the orphan check removes one whose blob is gone
(replaced by a newer version, or deleted while an observation was storing its analysis).
"""

from __future__ import annotations

import hashlib
import threading
from collections import Counter, OrderedDict
from collections.abc import Callable
from functools import cache
from pathlib import Path

import orjson
import structlog

import pipeline
from integrations.blobstore import BlobStore
from models import Recording
from pipeline.errors import BlobMissing, SightlineError
from pipeline.timeline import Timeline
from pipeline.timeline.codec import FORMAT_VERSION, decode_timeline, encode_timeline
from services.recordings import import_notes, recording_meta, stored_timeline

log = structlog.get_logger(__name__)
ANALYSIS_SUFFIX = ".analysis"
# Recordings held in memory: the sessions a worker is observing now, for each of their scanners. A
# sweep sends one scanner's sessions (up to SIGHTLINE_SWEEP_LIMIT, 1,000) before the next scanner's,
# so this holds a sweep's worth: a timeline is small (2-13 KB in memory for the real recordings of
# ../shared/recordings; its text is bounded by the token budget), and one read back from the store
# costs ~0.1 ms of file reading and decoding per observation.
MEMORY_SIZE = 1024
_STRIPES = 64  # locks for rendering: two threads never render the same recording at once


def analysis_ref(blob_ref: str) -> str:
    """Where the analysis of the blob `blob_ref` is stored: beside it, so it goes with it."""
    return blob_ref + ANALYSIS_SUFFIX


def analysed_blob(ref: str) -> str | None:
    """The blob ref whose analysis `ref` is, or None when `ref` is not an analysis."""
    return ref.removesuffix(ANALYSIS_SUFFIX) if ref.endswith(ANALYSIS_SUFFIX) else None


@cache
def renderer_version() -> str:
    """A digest of the rendering code (the `pipeline` package's source) and the stored format."""
    digest = hashlib.sha256(f"format {FORMAT_VERSION}".encode())
    root = Path(pipeline.__file__).parent
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def analysis_key(row: Recording, budget_tokens: int) -> str:
    """The key of a recording's analysis (see the module docstring): renderer, budget, header, blob."""
    header = orjson.dumps([recording_meta(row), import_notes(row)], option=orjson.OPT_SORT_KEYS)
    return f"{renderer_version()}:{budget_tokens}:{hashlib.sha256(header).hexdigest()[:16]}:{row.blob_ref}"


class AnalysisCache:
    """The process's analyses in memory, in front of those stored in the blob store.

    `counts` says where each analysis came from (`memory`, `stored`, `rendered`) and how many
    stored ones were `ignored` (another key, unreadable) or could not be stored (`store_failed`).
    The timelines it hands out are shared between threads: read them, never change them.
    """

    def __init__(self, size: int = MEMORY_SIZE):
        self.size = size
        self.counts: Counter[str] = Counter()
        self._memory: OrderedDict[str, Timeline] = OrderedDict()
        self._lock = threading.Lock()
        self._stripes = [threading.Lock() for _ in range(_STRIPES)]

    def clear(self) -> None:
        with self._lock:
            self._memory.clear()
            self.counts.clear()

    def timeline(self, key: str, blobs: BlobStore, blob_ref: str, render: Callable[[], Timeline]) -> Timeline:
        """The analysis under `key`: from memory, else stored beside `blob_ref`, else `render()`-ed
        (and kept in both). Raises what `render` raises."""
        found = self._find(key, blobs, blob_ref, render)
        assert found is not None  # rendered when nothing else had it
        return found

    def at_hand(self, key: str, blobs: BlobStore, blob_ref: str) -> Timeline | None:
        """The analysis under `key` from memory, or stored beside `blob_ref` when the store reads
        locally (then kept in memory); never rendered, never a network request."""
        if not blobs.reads_locally:
            return self._recall(key)
        return self._find(key, blobs, blob_ref, None)

    def _find(
        self, key: str, blobs: BlobStore, blob_ref: str, render: Callable[[], Timeline] | None
    ) -> Timeline | None:
        """Memory, else the store, else `render()` (when given); what was found is kept in memory."""
        found = self._recall(key)
        if found is not None:
            return found
        # A recording's scanners are often observed at the same moment: one thread renders it while
        # the others wait for its result, instead of each rendering it.
        with self._stripes[hash(key) % _STRIPES]:
            found = self._recall(key, count=False)
            if found is not None:
                self._count("memory")
                return found
            # Without a render to follow, an unusable stored one is not counted: the attempt that
            # renders it does.
            found = self._load(key, blobs, blob_ref, quiet=render is None)
            if found is None and render is not None:
                found = self._render(key, blobs, blob_ref, render)
            if found is not None:
                self._remember(key, found)
        return found

    def _recall(self, key: str, *, count: bool = True) -> Timeline | None:
        with self._lock:
            found = self._memory.get(key)
            if found is not None:
                self._memory.move_to_end(key)
                if count:
                    self.counts["memory"] += 1
            return found

    def _remember(self, key: str, timeline: Timeline) -> None:
        with self._lock:
            self._memory[key] = timeline
            while len(self._memory) > self.size:
                self._memory.popitem(last=False)

    def _count(self, what: str) -> None:
        with self._lock:
            self.counts[what] += 1

    def _load(self, key: str, blobs: BlobStore, blob_ref: str, *, quiet: bool = False) -> Timeline | None:
        """The stored analysis, or None when there is none usable (it is then rendered again);
        `quiet`: an unusable one is neither logged nor counted (the attempt that renders does it)."""
        try:
            data = blobs.get(analysis_ref(blob_ref))
        except BlobMissing:
            return None
        except (OSError, SightlineError) as exc:  # reading the blob itself will say what is wrong
            if quiet:
                return None
            log.warning("analysis_read_failed", blob_ref=blob_ref, error=type(exc).__name__)
            return None
        timeline = decode_timeline(data, key)
        if timeline is not None or not quiet:
            self._count("ignored" if timeline is None else "stored")
        return timeline

    def _render(self, key: str, blobs: BlobStore, blob_ref: str, render: Callable[[], Timeline]) -> Timeline:
        timeline = render()
        self._count("rendered")
        try:
            blobs.put(analysis_ref(blob_ref), encode_timeline(timeline, key))
        except Exception as exc:  # a cache: whatever keeps it from being stored must not fail the analysis
            self._count("store_failed")
            log.warning("analysis_store_failed", blob_ref=blob_ref, error=type(exc).__name__)
        return timeline


# One per process, like the process's other caches; `clear()` empties it (tests, benchmarks).
ANALYSES = AnalysisCache()


def recording_timeline(
    blobs: BlobStore, row: Recording, *, budget_tokens: int, analyses: AnalysisCache | None = None
) -> Timeline:
    """`services.recordings.stored_timeline` of the recording (without its session id in the header),
    rendered once per key and shared: from `analyses` (the process's by default), else stored, else
    rendered and kept. Raises `BlobMissing` and `BlobStoreUnavailable` as rendering does."""
    key = analysis_key(row, budget_tokens)
    render = lambda: stored_timeline(blobs, row, budget_tokens=budget_tokens)  # noqa: E731
    return (analyses or ANALYSES).timeline(key, blobs, row.blob_ref, render)


def timeline_at_hand(blobs: BlobStore, row: Recording, *, budget_tokens: int) -> Timeline | None:
    """The recording's analysis when it costs microseconds: held in this process's memory, or stored
    in a blob store that reads locally (an import stores it: `services.recordings`). None otherwise:
    nothing is rendered, and no network request made."""
    return ANALYSES.at_hand(analysis_key(row, budget_tokens), blobs, row.blob_ref)
