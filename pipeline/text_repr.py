"""Text representations (`llm_analytics/text_repr`), pure: a recording's timeline in its compact
rendering, an observation as text, and the budget they are cut to.

`detailed` is what the model reads: a recording's timeline exactly as `sightline timeline` prints it,
an observation's question, answer and the timeline lines each citation points at. `compact` keeps
what matters most: the timeline's header and its essential moments and actions (navigations, errors,
detected patterns, clicks; not scrolls, idle gaps nor other detail), an observation's question and
answer without the cited lines. Both are cut to a token budget out loud: a last line says what was cut.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pipeline.timeline import Timeline
from pipeline.timeline.model import ACTION
from pipeline.timeline.render import CHARS_PER_TOKEN, fit_budget

Rendering = Literal["compact", "detailed"]
RENDERINGS: tuple[Rendering, ...] = ("compact", "detailed")
_BODY_START = ("[t=", "[elided")


@dataclass(frozen=True)
class Text:
    text: str
    truncated: bool


@dataclass(frozen=True)
class AnswerField:
    """One field of an observation's answer and, for each second it cites, the timeline lines there."""

    name: str
    value: Any
    cited: list[tuple[str, list[str]]] = field(default_factory=list)


@dataclass(frozen=True)
class ObservationText:
    """What an observation's text is made of (plain values, so this module never reads a row)."""

    observation_id: str
    scanner: str
    scanner_type: str
    version: object
    session_id: str
    status: str
    question: str
    fields: Sequence[AnswerField]
    error_reason: str | None = None
    downgraded: bool = False


def recording_text(timeline: Timeline, rendering: Rendering, budget_tokens: int) -> Text:
    """The timeline as `rendering` asks. `timeline` was rendered within `budget_tokens` (detailed is
    its text as it is); compact keeps the header and the moments of priority ACTION or above."""
    if rendering == "detailed":
        return Text(timeline.text, timeline.elided > 0)
    kept = [moment for moment in timeline.moments if moment.priority <= ACTION]
    fitted, elided = fit_budget(_header(timeline.text.splitlines()), kept, budget_tokens)
    return Text("\n".join(fitted), elided > 0)


def _header(lines: list[str]) -> list[str]:
    header = []
    for line in lines:
        if line.startswith(_BODY_START):
            break
        header.append(line)
    return header


def observation_text(found: ObservationText, rendering: Rendering, budget_tokens: int) -> Text:
    """The observation as text: who asked what of which session, then the answer field by field
    (detailed: each citation followed by the timeline lines it points at), cut to the budget."""
    lines = [
        f"Observation {found.observation_id} · {found.scanner} v{found.version} ({found.scanner_type}) "
        f"· session {found.session_id} · {found.status}",
        f"Question: {found.question}" if found.question else "Question: (none)",
    ]
    if found.error_reason:
        lines.append(f"Reason: {found.error_reason}")
    lines.append("Answer:" if found.fields else "Answer: (none yet)")
    for item in found.fields:
        lines.append(f"  {item.name}: {_value(item.value)}")
        if rendering == "detailed":
            lines += [f"    (t {second}) → {line}" for second, shown in item.cited for line in shown]
    if found.downgraded:
        lines.append("Note: the verdict was downgraded from yes: no cited moment is in the timeline.")
    return cut("\n".join(lines), budget_tokens)


def _value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)


def cut(text: str, budget_tokens: int) -> Text:
    """`text` within `budget_tokens` (≈4 characters each): whole lines kept from the start, then a
    line saying how many were cut. A first line longer than the budget is cut at the budget."""
    limit = budget_tokens * CHARS_PER_TOKEN
    if len(text) <= limit:
        return Text(text, False)
    lines, kept, used = text.splitlines(), [], 0
    reserve = 80
    for line in lines:
        if used + len(line) + 1 > limit - reserve:
            break
        kept.append(line)
        used += len(line) + 1
    if not kept:
        kept = [lines[0][: max(0, limit - reserve)]]
    note = f"[cut to fit the {budget_tokens:,}-token budget: the last {len(lines) - len(kept)} lines]"
    return Text("\n".join([*kept, note]), True)
