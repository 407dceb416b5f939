"""Stack traces of console errors: reading their frames, and showing them de-minified or not.

A frame comes from the rrweb console plugin's `trace` (stackframe's `fn (url:line:col)`), from a
stack written into the logged message (Chrome's `at fn (url:line:col)`, Firefox and Safari's
`fn@url:line:col`), or from a `$exception` event's `$exception_list` (posthog-js frames:
`filename`, `function`, `lineno`, `colno` and the `chunk_id` its build injected).

A frame is matched to an uploaded symbol set the way the reference does: by its `chunk_id` when the
frame has one, else by its file URL (without query or fragment). `resolve` takes the lookups as a
function, so the reading of source maps stays in its adapter. A frame left minified says why.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from pipeline.rrweb import CONSOLE_PLUGIN, EventType
from pipeline.timeline.console import console_message

MAX_FRAMES = 20  # the top of a stack says what failed; the rest is framework plumbing
TOP_FRAMES = 3  # what a signal shows of each stack it cites
MAX_SOURCE_LINE = 160
_CHROME = re.compile(
    r"^\s*(?:at\s+)?(?:(?P<fn>[^()]+?)\s+\()?(?P<url>[^\s()]+?):(?P<line>\d+):(?P<col>\d+)\)?\s*$"
)
_GECKO = re.compile(r"^\s*(?P<fn>[^@\s]*)@(?P<url>\S+?):(?P<line>\d+):(?P<col>\d+)\s*$")


@dataclass(frozen=True)
class Frame:
    """One frame as the browser wrote it: minified file, 1-based line and column."""

    url: str
    line: int
    column: int
    function: str | None = None
    chunk_id: str | None = None

    @property
    def ref(self) -> str:
        """The symbol set ref this frame is looked up by: its chunk id, else its file URL."""
        return self.chunk_id or file_ref(self.url)


@dataclass(frozen=True)
class Original:
    """Where a frame points in the original source, as a source map says."""

    file: str
    line: int
    column: int
    function: str | None
    source_line: str | None


@dataclass(frozen=True)
class ShownFrame:
    """A frame with its original position, or left minified with the reason (`note`)."""

    frame: Frame
    original: Original | None = None
    note: str | None = None


@dataclass(frozen=True)
class Trace:
    """A console error with its frames; `t` in seconds from the recording's first event."""

    t: float
    message: str
    frames: tuple[Frame, ...]


@dataclass(frozen=True)
class ShownTrace:
    """A console error with each of its frames de-minified or said to be minified."""

    trace: Trace
    frames: tuple[ShownFrame, ...]

    @property
    def text(self) -> str:
        return trace_text(self.trace.t, self.trace.message, self.frames)

    @property
    def top(self) -> str:
        """The error with the top `TOP_FRAMES` frames of its stack (where it was thrown)."""
        return trace_text(self.trace.t, self.trace.message, self.frames[:TOP_FRAMES])


# The outcome of looking a frame up: its original position, or why there is none.
Lookup = Callable[[Frame], "Original | str"]


def file_ref(url: str) -> str:
    """A file URL as symbol sets name it: without query string or fragment."""
    return url.split("#", 1)[0].split("?", 1)[0]


def parse_line(text: str) -> Frame | None:
    """The frame one line of a stack names, or None for a line that is not a frame."""
    found = _CHROME.match(text) or _GECKO.match(text)
    if found is None:
        return None
    function = (found["fn"] or "").strip()
    function = function.removeprefix("async ").removeprefix("new ").strip() or None
    return Frame(found["url"], int(found["line"]), int(found["col"]), function)


def parse_stack(lines: Iterable[object]) -> tuple[Frame, ...]:
    """The frames of a stack given as lines (or one string of lines), at most `MAX_FRAMES`."""
    frames: list[Frame] = []
    for item in lines:
        for text in str(item).splitlines() if isinstance(item, str) else ():
            frame = parse_line(text)
            if frame is not None and len(frames) < MAX_FRAMES:
                frames.append(frame)
    return tuple(frames)


def exception_frames(exception_list: object) -> tuple[Frame, ...]:
    """The frames of a posthog-js `$exception_list` (innermost last in the reference; shown first)."""
    frames: list[Frame] = []
    for exception in exception_list if isinstance(exception_list, list) else ():
        stack = exception.get("stacktrace") if isinstance(exception, dict) else None
        raw = stack.get("frames") if isinstance(stack, dict) else None
        for item in reversed(raw if isinstance(raw, list) else []):
            frame = _exception_frame(item)
            if frame is not None and len(frames) < MAX_FRAMES:
                frames.append(frame)
    return tuple(frames)


def _exception_frame(item: object) -> Frame | None:
    if not isinstance(item, dict):
        return None
    url, line, column = item.get("filename") or item.get("abs_path"), item.get("lineno"), item.get("colno")
    if not isinstance(url, str) or not isinstance(line, int) or isinstance(line, bool):
        return None
    function = item.get("function") if isinstance(item.get("function"), str) else None
    chunk = item.get("chunk_id") if isinstance(item.get("chunk_id"), str) else None
    return Frame(url, line, column if isinstance(column, int) else 1, function, chunk or None)


def refs_of(traces: Sequence[Trace]) -> set[str]:
    """Every symbol set ref the traces' frames are looked up by."""
    return {frame.ref for trace in traces for frame in trace.frames}


def thrown_between(traces: Sequence[ShownTrace], start: float, end: float, near: float) -> list[ShownTrace]:
    """The traces thrown from `start` to `end` seconds into the recording, give or take `near` (open
    bounds): the stacks a log line (`start == end`) or a finding's moments cite."""
    return [shown for shown in traces if start - near < shown.trace.t < end + near]


def resolve(frames: Sequence[Frame], lookup: Lookup) -> tuple[ShownFrame, ...]:
    """Each frame with its original position, or minified with what `lookup` said was wrong."""
    shown = []
    for frame in frames:
        found = lookup(frame)
        shown.append(
            ShownFrame(frame, original=found)
            if isinstance(found, Original)
            else ShownFrame(frame, note=found)
        )
    return tuple(shown)


def frame_text(shown: ShownFrame) -> str:
    """One frame as a stack line; a de-minified one with its line of source, a minified one with why."""
    frame, original = shown.frame, shown.original
    if original is None:
        where = f"{frame.url}:{frame.line}:{frame.column}"
        head = f"at {frame.function} ({where})" if frame.function else f"at {where}"
        return f"{head} [minified: {shown.note}]" if shown.note else head
    head = f"at {original.function or '<anonymous>'} ({original.file}:{original.line}:{original.column})"
    if original.source_line and original.source_line.strip():
        source = " ".join(original.source_line.split())
        source = source if len(source) <= MAX_SOURCE_LINE else source[: MAX_SOURCE_LINE - 1] + "…"
        return f"{head}: {source}"
    return head


def trace_text(t: float, message: str, frames: Sequence[ShownFrame]) -> str:
    """A console error and its stack, as lines for the model or a page (`[t=…]` as the timeline's)."""
    lines = [f"[t={round(t)}] console error: {message}"]
    lines += [f"    {frame_text(frame)}" for frame in frames]
    return "\n".join(lines)


def console_traces(events: Iterable[dict], redact: Callable[[str], str]) -> list[Trace]:
    """The console errors and `$exception` events of a recording's sorted events that carry frames.

    `t` is counted from the first event, as the timeline's; messages go through `redact`.
    """
    traces: list[Trace] = []
    start: float | None = None
    for event in events:
        stamp = event.get("timestamp")
        if not isinstance(stamp, int | float):
            continue
        start = stamp if start is None else start
        found = _trace_of(event)
        if found is not None:
            message, frames = found
            traces.append(Trace((stamp - start) / 1000, redact(message), frames))
    return traces


def _trace_of(event: dict) -> tuple[str, tuple[Frame, ...]] | None:
    data = event.get("data")
    if not isinstance(data, dict):
        return None
    payload = data.get("payload")
    if not isinstance(payload, dict):
        return None
    if event.get("type") == EventType.PLUGIN and data.get("plugin") == CONSOLE_PLUGIN:
        if payload.get("level") != "error":
            return None
        trace = payload.get("trace")
        frames = parse_stack(trace if isinstance(trace, list) else ())
        arguments = payload.get("payload")
        frames = frames or parse_stack(arguments if isinstance(arguments, list) else [arguments])
        message = console_message(payload).split(" at ", 1)[0].strip() or "(no message)"
    elif event.get("type") == EventType.CUSTOM and data.get("tag") == "$exception":
        frames = exception_frames(payload.get("$exception_list"))
        message = str(payload.get("$exception_message") or "unhandled exception")
    else:
        return None
    return (message, frames) if frames else None
