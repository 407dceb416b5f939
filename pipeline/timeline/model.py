"""The timeline's vocabulary: moments the walker finds, facts the detectors read, patterns they find."""

from __future__ import annotations

from dataclasses import dataclass, field

# Priorities: what the budget keeps longest. 0 is never elided before everything else is.
ESSENTIAL, ACTION, DETAIL, NOISE = 0, 1, 2, 3


@dataclass
class Moment:
    """One timeline line; a collapsed run stands for `count` repeats of it until `until`.

    A collapsed alternating pair (`click …; then console error: …`) keeps both kinds in `kinds`.
    """

    t: float
    kind: str
    text: str
    priority: int
    count: int = 1
    until: float | None = None
    kinds: tuple[str, ...] = ()


def order(moment: Moment) -> tuple:
    """Timeline order: by second, an idle gap last within its second (it closes it), then by time."""
    return (round(moment.t), moment.kind == "idle", moment.t)


def clicks_shown(moment: Moment) -> int:
    """How many clicks (or taps) the moment's line stands for, repeats and pairs included."""
    kinds = moment.kinds or (moment.kind,)
    return moment.count * kinds.count("click")


@dataclass
class Click:
    t: float
    x: float | None
    y: float | None
    window: str | None
    description: str
    interactive: bool
    disabled: bool
    tap: bool = False
    field: bool = False  # a form field: clicking it focuses it, which leaves no trace in the DOM
    node: object = None  # the element the recording names (it may sit inside the target)
    target: object = None  # the element described: the nearest interactive ancestor or itself
    leaves: bool = False  # a link to a new tab, a download or another origin: the answer is elsewhere


@dataclass
class Pattern:
    """A detected frustration: `kind` is rage_click, dead_click, u_turn or error_click."""

    kind: str
    t: float
    text: str
    target: str = ""


@dataclass
class Facts:
    """What the detectors need, gathered in one pass over the events (times in seconds)."""

    clicks: list[Click] = field(default_factory=list)
    navigations: list[tuple[float, str, str | None]] = field(default_factory=list)
    reloads: list[tuple[float, str, str | None]] = field(default_factory=list)
    ends: dict[str | None, float] = field(default_factory=dict)  # each window's last event
    mutations: dict[str | None, list[float]] = field(default_factory=dict)
    scrolls: list[float] = field(default_factory=list)
    errors: list[tuple[float, str]] = field(default_factory=list)  # console errors and errors shown
    selections: list[float] = field(default_factory=list)
    double_clicks: list[float] = field(default_factory=list)
