"""What scouts find across sessions: each session as a digest of its friction moments, and the
detectors that count them per page, element or message. Pure: `services.scouts` builds the digests
from recordings' timelines and observations and passes `now`.

A finding names its evidence: how many times, in how many sessions, by how many distinct users, a
few example sessions with the second of the moment, and (for spikes) the trailing daily mean.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pipeline.timeline import Timeline

WINDOW = timedelta(days=1)
BASELINE_DAYS = 7
SPIKE_RATIO = 2.0
MIN_SESSIONS = 3  # the canonical scouts' threshold: a problem of one or two sessions is a scanner's
MIN_USERS = 3  # distinct users an element must frustrate to be a hotspot
DROP_OFF_S = 10.0  # a session ending this soon after friction dropped off because of it
MAX_EXAMPLES = 3
FRICTION = ("console_error", "network_error", "dead_click", "rage_click")
_ERROR_PREFIXES = ("console error: ", "network error: ", "page shows error ")


@dataclass(frozen=True)
class Event:
    """One moment of a session: when (seconds from its start), what, on which page, about what."""

    t: float
    kind: str
    page: str
    text: str
    element: str = ""


@dataclass(frozen=True)
class SessionDigest:
    session_id: str
    user: str
    start: datetime
    duration_s: float
    events: tuple[Event, ...] = ()


@dataclass
class Finding:
    key: str
    title: str
    count: int
    sessions: int
    distinct_users: int
    examples: list[dict[str, Any]]
    page: str | None = None
    baseline_daily: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def evidence(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "page": self.page,
            "count": self.count,
            "sessions": self.sessions,
            "distinct_users": self.distinct_users,
            "baseline_daily": self.baseline_daily,
            "examples": self.examples,
            **self.extra,
        }


def digest(
    session_id: str, user: str | None, start: datetime, duration_s: float, timeline: Timeline
) -> SessionDigest:
    """A recording's timeline as the events scouts count: errors, failed requests, inputs, clicks,
    navigations and the detected patterns, each with the page it happened on."""
    pages = sorted(timeline.pages)

    def page_at(t: float) -> str:
        current = pages[0][1] if pages else ""
        for at, url in pages:
            if at > t:
                break
            current = url
        return current

    events = [
        Event(m.t, m.kind, page_at(m.t), _message(m.text))
        for m in timeline.moments
        for _ in range(max(1, m.count) if m.kind in ("console_error", "network_error", "page_error") else 1)
        if m.kind in ("console_error", "network_error", "page_error", "input", "click", "navigate")
    ]
    events += [Event(p.t, p.kind, page_at(p.t), p.text, p.target) for p in timeline.patterns]
    return SessionDigest(session_id, user or session_id, start, duration_s, tuple(sorted(events, key=_when)))


def _when(event: Event) -> float:
    return event.t


def _message(text: str) -> str:
    for prefix in _ERROR_PREFIXES:
        if text.startswith(prefix):
            return text.removeprefix(prefix)
    return text


def short_key(key: str) -> str:
    """A group's key as 16 hex characters, for ids that must stay short (signal source ids)."""
    return hashlib.sha256(key.encode()).hexdigest()[:16]


@dataclass
class _Group:
    count: int = 0
    sessions: set[str] = field(default_factory=set)
    users: set[str] = field(default_factory=set)
    examples: list[dict[str, Any]] = field(default_factory=list)
    page: str | None = None

    def add(self, session: SessionDigest, event: Event) -> None:
        self.count += 1
        self.page = self.page or event.page
        if session.session_id in self.sessions:
            return
        self.sessions.add(session.session_id)
        self.users.add(session.user)
        if len(self.examples) < MAX_EXAMPLES:
            moment = {"session_id": session.session_id, "t": round(event.t, 1), "moment": event.text}
            self.examples.append(moment)


Keyer = Callable[[Event], str | None]


def _groups(
    sessions: Iterable[SessionDigest], match: Callable[[Event], bool], key: Keyer
) -> dict[str, _Group]:
    groups: dict[str, _Group] = defaultdict(_Group)
    for session in sorted(sessions, key=lambda each: (each.start, each.session_id)):
        for event in session.events:
            if match(event) and (name := key(event)) is not None:
                groups[name].add(session, event)
    return groups


def in_window(sessions: Sequence[SessionDigest], start: datetime, end: datetime) -> list[SessionDigest]:
    return [each for each in sessions if start <= each.start < end]


def counted(
    sessions: Sequence[SessionDigest],
    now: datetime,
    match: Callable[[Event], bool],
    key: Keyer,
    *,
    threshold: int,
    min_users: int = 1,
    baseline: bool = False,
) -> list[Finding]:
    """Groups of matching events in the last day with at least `threshold` sessions and `min_users`
    users; with `baseline`, only those at least `SPIKE_RATIO` × their trailing 7-day daily mean of
    sessions (a group new today counts against a mean of 1)."""
    today = _groups(in_window(sessions, now - WINDOW, now), match, key)
    before = _groups(in_window(sessions, now - WINDOW * (BASELINE_DAYS + 1), now - WINDOW), match, key)
    found = []
    for name, group in sorted(today.items()):
        if len(group.sessions) < threshold or len(group.users) < min_users:
            continue
        mean = len(before[name].sessions) / BASELINE_DAYS if name in before else 0.0
        if baseline and len(group.sessions) < SPIKE_RATIO * max(mean, 1.0):
            continue
        found.append(
            Finding(
                name,
                name,
                group.count,
                len(group.sessions),
                len(group.users),
                group.examples,
                group.page,
                round(mean, 2) if baseline else None,
            )
        )
    return sorted(found, key=lambda each: (-each.sessions, each.key))


def error_spikes(sessions: Sequence[SessionDigest], now: datetime) -> list[Finding]:
    """A console error or failed request on a page, today against its trailing 7-day daily mean."""
    found = counted(
        sessions,
        now,
        lambda e: e.kind in ("console_error", "network_error", "page_error"),
        lambda e: f"{e.page} | {e.text}",
        threshold=MIN_SESSIONS,
        baseline=True,
    )
    for each in found:
        page, _, message = each.key.partition(" | ")
        each.title = f"Error spike on {page}: {message}"
        each.extra = {"message": message}
    return found


def frustration_hotspots(sessions: Sequence[SessionDigest], now: datetime) -> list[Finding]:
    """An element that many distinct users rage-click or click without effect."""
    found = counted(
        sessions,
        now,
        lambda e: e.kind in ("rage_click", "dead_click") and bool(e.element),
        lambda e: f"{e.page} | {e.element}",
        threshold=MIN_SESSIONS,
        min_users=MIN_USERS,
    )
    for each in found:
        page, _, element = each.key.partition(" | ")
        each.title = f"Frustrating element on {page}: {element}"
        each.extra = {"element": element}
    return found


def friction_drop_offs(sessions: Sequence[SessionDigest], now: datetime) -> list[Finding]:
    """Pages where sessions end within `DROP_OFF_S` seconds of an error or a dead (or rage) click."""
    last_friction = {}
    for session in sessions:
        friction = [e for e in session.events if e.kind in FRICTION]
        if friction and session.duration_s - friction[-1].t <= DROP_OFF_S:
            last_friction[session.session_id] = friction[-1]
    ended = [
        SessionDigest(s.session_id, s.user, s.start, s.duration_s, (last_friction[s.session_id],))
        for s in sessions
        if s.session_id in last_friction
    ]
    found = counted(ended, now, lambda e: True, lambda e: e.page, threshold=MIN_SESSIONS)
    for each in found:
        each.title = f"Sessions end after friction on {each.key}"
    return found


def form_abandonment(sessions: Sequence[SessionDigest], now: datetime) -> list[Finding]:
    """Pages where people type into a form, then leave (another page, or the session ends) without a
    click on that page after their last keystroke: nothing was submitted."""
    abandoned = [
        SessionDigest(s.session_id, s.user, s.start, s.duration_s, tuple(_abandoned(s.events)))
        for s in sessions
    ]
    found = counted(abandoned, now, lambda e: True, lambda e: e.page, threshold=MIN_SESSIONS)
    for each in found:
        each.title = f"Form abandoned on {each.key}"
    return found


def _abandoned(events: Sequence[Event]) -> list[Event]:
    """The last input of each visit to a page that no click on that page followed."""
    found, typed = [], None
    for event in events:
        if event.kind == "input":
            typed = event
        elif typed is not None and event.kind == "click" and event.page == typed.page:
            typed = None
        elif typed is not None and event.kind == "navigate" and event.page != typed.page:
            found.append(typed)
            typed = None
    return found + ([typed] if typed is not None else [])


CANONICAL_DETECTORS: dict[str, Callable[[Sequence[SessionDigest], datetime], list[Finding]]] = {
    "signals-scout-error-spikes": error_spikes,
    "signals-scout-frustration-hotspots": frustration_hotspots,
    "signals-scout-friction-drop-offs": friction_drop_offs,
    "signals-scout-form-abandonment": form_abandonment,
}


def custom(definition: dict[str, Any], sessions: Sequence[SessionDigest], now: datetime) -> list[Finding]:
    """A custom scout (`pipeline.scouts.check_custom`): its metric's events per group, over the threshold."""
    source, _, what = definition["metric"].partition(":")
    kind = what if source == "pattern" else "observation"

    def match(event: Event) -> bool:
        return event.kind == kind and (source == "pattern" or event.text == what)

    group_by = definition["group_by"]

    def key(event: Event) -> str | None:
        named = {"page": event.page, "element": event.element, "message": event.text}
        return named[group_by] or None

    found = counted(
        sessions,
        now,
        match,
        key,
        threshold=definition["threshold"],
        baseline=definition["baseline"] != "none",
    )
    for each in found:
        each.title = f"{definition['metric']} by {group_by}: {each.key}"
    return found


def detect(
    skill_name: str, definition: dict[str, Any] | None, sessions: Sequence[SessionDigest], now: datetime
) -> list[Finding]:
    """What the scout finds in `sessions` at `now` (canonical by name, custom by definition)."""
    if definition is not None:
        return custom(definition, sessions, now)
    return CANONICAL_DETECTORS[skill_name](sessions, now)


def wording(skill_name: str, finding: Finding) -> str:
    """A finding in one deterministic sentence, naming its evidence (without a model)."""
    users = f"{finding.distinct_users} distinct user{'s' if finding.distinct_users != 1 else ''}"
    text = f"{finding.title}: {finding.count} times in {finding.sessions} sessions by {users} in the last day"
    if finding.baseline_daily is not None:
        text += f" (trailing 7-day mean {finding.baseline_daily:g} sessions a day)"
    examples = "; ".join(f"{e['session_id']} at {e['t']:g}s ({e['moment']})" for e in finding.examples)
    return f"{text}. Examples: {examples}." if examples else f"{text}."


def signal_row(
    skill_name: str, finding: Finding, period: str, description: str, source_product: str
) -> dict[str, Any]:
    """The signal a finding emits; its source id dedupes it per (scout, period, group)."""
    return {
        "source_product": source_product,
        "source_type": skill_name[:64],
        "source_id": f"scout:{skill_name}:{period}:{short_key(finding.key)}"[:255],
        "description": description,
        "weight": 0.5,
        "fingerprint": f"scout:{skill_name}:{finding.key}"[:255],
        "extra": {"scout": skill_name, "period": period, "evidence": finding.evidence()},
    }
