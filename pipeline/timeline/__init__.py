"""The timeline: a recording rendered as the compact, private text the model reads (DESIGN §4)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from pipeline.metadata import RecordingMeta, compute_metadata
from pipeline.redact import Redactor
from pipeline.timeline.detect import detect_patterns
from pipeline.timeline.model import Moment, Pattern, order
from pipeline.timeline.render import collapse, estimate_tokens, fit_budget, header_lines, pattern_moment
from pipeline.timeline.walker import Walker

DEFAULT_BUDGET_TOKENS = 6000

__all__ = ["DEFAULT_BUDGET_TOKENS", "Moment", "Pattern", "Timeline", "render_timeline"]


@dataclass
class Timeline:
    text: str
    moments: list[Moment]
    patterns: list[Pattern]
    manifest: dict[str, int]
    token_estimate: int
    elided: int = 0
    warnings: list[str] = field(default_factory=list)
    pages: list[tuple[float, str]] = field(default_factory=list)  # (second, page) of each navigation


def render_timeline(
    events: Sequence[dict],
    *,
    budget_tokens: int = DEFAULT_BUDGET_TOKENS,
    session_id: str | None = None,
    meta: RecordingMeta | None = None,
    notes: Sequence[str] = (),
) -> Timeline:
    """Render sorted, checked events (`pipeline.intake.prepare_events`) within `budget_tokens`.

    `events` may be any sequence (a list, or `EncodedEvents` that decode as they are read). `meta`
    is the recording's metadata when the caller already has it (computed otherwise); `notes` are
    said in the header (what was left out at import).
    """
    redactor = Redactor()
    walk = Walker(events, redactor).run()
    patterns = detect_patterns(walk.facts)
    body = collapse(walk.moments)
    flagged = collapse([pattern_moment(pattern) for pattern in patterns])
    body = sorted(body + flagged, key=order)
    pages = list(dict.fromkeys(url for _, url, _ in walk.facts.navigations))
    shown_id = redactor.redact(session_id) if session_id else None
    counts = {"clicks": len(walk.facts.clicks), "inputs": walk.inputs}
    warnings = [*notes, *walk.warnings]
    header = header_lines(meta or compute_metadata(events), counts, pages, shown_id, warnings)
    lines, elided = fit_budget(header, body, budget_tokens)
    text = "\n".join(lines)
    pages_visited = [(t, url) for t, url, _ in walk.facts.navigations]
    return Timeline(
        text, body, patterns, redactor.manifest, estimate_tokens(text), elided, warnings, pages_visited
    )
