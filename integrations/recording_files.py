"""Recording files as a source: finding them, and reading one within the size limit.

A file above `STREAM_ABOVE_BYTES` is parsed one event at a time while it is read, so memory stays
near the size of its events as compact JSON; a `.gz` file is inflated as it is read, never past
the recording limit (a gzip bomb costs the limit, not the machine).
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from pipeline.errors import RecordingError
from pipeline.formats import ParsedRecording, Readable, parse_recording, stream_recording
from pipeline.intake import MB, Limits

RECORDING_SUFFIXES = (".json", ".jsonl", ".ndjson", ".json.gz", ".jsonl.gz")
STREAM_ABOVE_BYTES = 32 * MB  # smaller files are parsed whole (faster); larger ones event by event


def recording_files(paths: Iterable[Path]) -> Iterator[Path]:
    """Each file named, and each recording file inside each folder named (sorted, recursive)."""
    for path in paths:
        if path.is_dir():
            yield from sorted(
                p for p in path.rglob("*") if p.is_file() and p.name.endswith(RECORDING_SUFFIXES)
            )
        else:
            yield path


def session_id_from_name(path: Path) -> str:
    name = path.name
    for suffix in sorted(RECORDING_SUFFIXES, key=len, reverse=True):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


@contextmanager
def read_recording(path: Path, limits: Limits) -> Iterator[ParsedRecording]:
    """The parsed file, open while its events are read (a large file is streamed from disk).

    Raises `RecordingError` when the file, or what a `.gz` file inflates to, is over the limit.
    """
    compressed = path.name.endswith(".gz")
    size = path.stat().st_size
    if not compressed and size > limits.max_recording_bytes:
        raise RecordingError(_too_large(f"the file is {size / MB:.1f} MB", limits))
    with path.open("rb") as raw:
        stream: Readable = gzip.GzipFile(fileobj=raw) if compressed else raw
        bounded = _Bounded(stream, limits, compressed)
        head = bounded.read(STREAM_ABOVE_BYTES)
        parsed = None
        if len(head) == STREAM_ABOVE_BYTES:
            parsed = stream_recording(bounded, head)
            if parsed is None:
                head += bounded.read()
        yield parsed or parse_recording(head)


def read_recording_bytes(raw: bytes, limits: Limits) -> ParsedRecording:
    """A recording held in memory (fetched from a source), parsed as a file's bytes would be.

    Raises `RecordingError` when it is over the recording limit or holds nothing readable.
    """
    if len(raw) > limits.max_recording_bytes:
        raise RecordingError(_too_large(f"the recording is {len(raw) / MB:.1f} MB", limits))
    return parse_recording(raw)


class _Bounded:
    """Reads from a stream, refusing to go past the recording limit (and translating gzip errors)."""

    def __init__(self, stream: Readable, limits: Limits, compressed: bool):
        self.stream, self.limits, self.compressed, self.total = stream, limits, compressed, 0

    def read(self, size: int = -1) -> bytes:
        allowed = self.limits.max_recording_bytes + 1 - self.total
        try:
            data = self.stream.read(allowed if size is None or size < 0 else min(size, allowed))
        except (OSError, EOFError, zlib.error) as exc:
            if not self.compressed or isinstance(exc, FileNotFoundError | PermissionError):
                raise
            raise RecordingError("the .gz file cannot be decompressed") from exc
        self.total += len(data)
        if self.total > self.limits.max_recording_bytes:
            what = "the .gz file inflates past" if self.compressed else "the file grew past"
            raise RecordingError(_too_large(what, self.limits, compare=False))
        return data


def _too_large(what: str, limits: Limits, compare: bool = True) -> str:
    limit = f"{limits.max_recording_bytes // MB} MB"
    joined = f"{what}, over the {limit} limit" if compare else f"{what} the {limit} limit"
    return f"{joined} (SIGHTLINE_MAX_RECORDING_BYTES); nothing was stored"
