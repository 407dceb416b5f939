"""From moments to text: collapse repeats, add the header, enforce the token budget out loud."""

from __future__ import annotations

from collections import Counter

from pipeline.metadata import RecordingMeta
from pipeline.timeline.model import ESSENTIAL, Moment, Pattern

CHARS_PER_TOKEN = 4
MAX_HEADER_PAGES = 8
_ELISION_RESERVE = 160
PAIR_REPEAT_S = 1.5  # a pair repeating further apart than this is separate moments, not a run
MAX_RUN_S = 10.0  # from a run's first moment to its last: a longer run hides what happened in it
_PAGE_LOADS = frozenset({"navigate", "reload"})  # never collapsed, so no run crosses one


def estimate_tokens(text: str) -> int:
    return (len(text) + CHARS_PER_TOKEN - 1) // CHARS_PER_TOKEN


def collapse(moments: list[Moment]) -> list[Moment]:
    """Repeats become one line with a count (`×12`): single moments, then alternating pairs.

    A pair such as a click that throws the same console error each time collapses to
    `click button "Pay"; then console error: … ×4`. A run never crosses a navigation or a reload
    and spans at most `MAX_RUN_S` from its first moment to its last; past that a new run starts.
    """
    return _collapse_pairs(_collapse_singles(moments))


def _same(first: Moment, second: Moment) -> bool:
    return first.kind == second.kind and first.text == second.text and first.count == second.count


def _collapse_singles(moments: list[Moment]) -> list[Moment]:
    collapsed: list[Moment] = []
    for moment in moments:
        last = collapsed[-1] if collapsed else None
        if (
            last is not None
            and last.kind == moment.kind
            and last.text == moment.text
            and moment.kind not in _PAGE_LOADS
            and moment.t - last.t <= MAX_RUN_S
        ):
            last.count += 1
            last.until = moment.t
        else:
            collapsed.append(Moment(moment.t, moment.kind, moment.text, moment.priority))
    return collapsed


def _collapse_pairs(moments: list[Moment]) -> list[Moment]:
    result: list[Moment] = []
    index = 0
    while index < len(moments):
        first = moments[index]
        second = moments[index + 1] if index + 1 < len(moments) else None
        repeats = 1
        while (
            second is not None
            and index + 2 * repeats + 1 < len(moments)
            and _same(moments[index + 2 * repeats], first)
            and _same(moments[index + 2 * repeats + 1], second)
            and moments[index + 2 * repeats].t - moments[index + 2 * repeats - 2].t <= PAIR_REPEAT_S
            and moments[index + 2 * repeats + 1].t - first.t <= MAX_RUN_S
        ):
            repeats += 1
        if (
            repeats == 1
            or second is None
            or first.count > 1
            or second.count > 1
            or {first.kind, second.kind} & _PAGE_LOADS
        ):
            result.append(first)
            index += 1
            continue
        text = f"{first.text}; then {second.text}"
        until = moments[index + 2 * repeats - 1].t
        priority = min(first.priority, second.priority)
        result.append(Moment(first.t, first.kind, text, priority, repeats, until, (first.kind, second.kind)))
        index += 2 * repeats
    return result


def stamp(t: float) -> str:
    return f"[t={round(t)}]"


def moment_line(moment: Moment) -> str:
    line = f"{stamp(moment.t)} {moment.text}"
    if moment.count > 1:
        line += f" ×{moment.count}"
        if moment.until is not None and round(moment.until) != round(moment.t):
            line += f" (until t={round(moment.until)})"
    return line


def pattern_moment(pattern: Pattern) -> Moment:
    return Moment(pattern.t, pattern.kind, f"⚠ {pattern.text}", ESSENTIAL)


def header_lines(
    meta: RecordingMeta, counts: dict[str, int], pages: list[str], session_id: str | None, warnings: list[str]
) -> list[str]:
    """The header: what the session was, in one line, then its pages and notes.

    `counts` are the person's clicks and inputs as the walk saw them (the lines below count the
    same moments), not the raw event counts of the metadata.
    """
    viewport = f" {meta.viewport['width']}×{meta.viewport['height']}" if meta.viewport else ""
    name = f"Session {session_id} · " if session_id else ""
    lines = [
        f"{name}{meta.device_type}{viewport} · {_duration(meta.duration_s)} long, "
        f"{_duration(meta.active_s)} active · {counts['clicks']} clicks · {counts['inputs']} inputs · "
        f"{meta.console_error_count} console errors",
    ]
    if pages:
        shown = ", ".join(pages[:MAX_HEADER_PAGES])
        more = f" (+{len(pages) - MAX_HEADER_PAGES} more)" if len(pages) > MAX_HEADER_PAGES else ""
        lines.append(f"Pages: {shown}{more}")
    lines.extend(f"Note: {warning}" for warning in warnings)
    lines.append("Times are seconds from the start; [masked] marks a value that is never shown.")
    return lines


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


def fit_budget(header: list[str], body: list[Moment], budget_tokens: int) -> tuple[list[str], int]:
    """The lines that fit `budget_tokens`, lowest priority dropped first, with an elision line."""
    budget_chars = budget_tokens * CHARS_PER_TOKEN
    lines = [moment_line(moment) for moment in body]
    total = sum(len(line) + 1 for line in header + lines)
    if total <= budget_chars:
        return header + lines, 0
    need = total - budget_chars + _ELISION_RESERVE
    dropped: set[int] = set()
    for priority in sorted({moment.priority for moment in body}, reverse=True):
        if priority == ESSENTIAL or need <= 0:
            break
        need = _drop_evenly(body, lines, priority, need, dropped)
    kept = [line for index, line in enumerate(lines) if index not in dropped]
    kinds = Counter(body[index].kind for index in dropped)
    truncated = 0
    while need > 0 and kept:
        need -= len(kept.pop()) + 1
        truncated += 1
    return [*header, _elision_line(kinds, truncated, budget_tokens), *kept], len(dropped) + truncated


def _drop_evenly(body: list[Moment], lines: list[str], priority: int, need: int, dropped: set[int]) -> int:
    """Drop lines of one priority spread evenly over the session until `need` chars are freed."""
    candidates = [index for index, moment in enumerate(body) if moment.priority == priority]
    available = sum(len(lines[index]) + 1 for index in candidates)
    share, carry = min(1.0, need / available) if available else 1.0, 0.0
    for index in candidates:
        carry += share
        if carry >= 1.0 - 1e-9 and need > 0:
            carry -= 1.0
            dropped.add(index)
            need -= len(lines[index]) + 1
    for index in candidates:
        if need <= 0:
            break
        if index not in dropped:
            dropped.add(index)
            need -= len(lines[index]) + 1
    return need


def _elision_line(kinds: Counter, truncated: int, budget_tokens: int) -> str:
    parts = [f"{kind} ×{count}" for kind, count in kinds.most_common()]
    if truncated:
        parts.append(f"the last {truncated} lines")
    return f"[elided to fit the {budget_tokens:,}-token budget: {', '.join(parts)}]"
