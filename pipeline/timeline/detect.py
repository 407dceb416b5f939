"""Frustration detectors (DESIGN §4): rage clicks, dead clicks, u-turns and error clicks.

Each reads the `Facts` of one walk and returns `Pattern`s at the second they happened.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right

from pipeline.timeline.model import Click, Facts, Pattern

RAGE_MIN_CLICKS = 3
RAGE_WINDOW_S = 1.0
RAGE_RADIUS_PX = 30.0
DEAD_CLICK_WAIT_S = 1.0
# A full page load rarely paints within 1 s; a navigation this soon after a click answers it.
DEAD_CLICK_NAVIGATION_S = 3.0
U_TURN_S = 5.0
ERROR_CLICK_S = 1.0
SELECTION_WAIT_S = 1.0


def detect_patterns(facts: Facts) -> list[Pattern]:
    """Every pattern found, ordered by time."""
    bursts = rage_bursts(facts)
    in_burst = {id(click) for burst in bursts for click in burst[1:]}
    patterns = [_rage_pattern(burst) for burst in bursts]
    patterns += dead_clicks(facts, in_burst)
    patterns += u_turns(facts)
    patterns += error_clicks(facts, in_burst)
    return sorted(patterns, key=lambda pattern: pattern.t)


def _near(first: Click, other: Click) -> bool:
    if first.x is None or first.y is None or other.x is None or other.y is None:
        return first.description == other.description
    return ((first.x - other.x) ** 2 + (first.y - other.y) ** 2) ** 0.5 <= RAGE_RADIUS_PX


def rage_bursts(facts: Facts) -> list[list[Click]]:
    """Runs of ≥3 clicks within 1 s and 30 px of the first; a triple-click that selects text is not one.

    A run is a maximal sequence of clicks each ≤1 s after the previous and near the run's first
    click; it is a rage burst when three of its clicks fall within one second. Linear in clicks.
    """
    clicks, bursts, index = facts.clicks, [], 0
    while index < len(clicks):
        first, end = clicks[index], index + 1
        while (
            end < len(clicks)
            and clicks[end].t - clicks[end - 1].t <= RAGE_WINDOW_S
            and _near(first, clicks[end])
        ):
            end += 1
        burst = clicks[index:end]
        if len(burst) >= RAGE_MIN_CLICKS and _dense(burst) and not _selects_text(burst, facts):
            bursts.append(burst)
        index = end
    return bursts


def _dense(burst: list[Click]) -> bool:
    return any(
        burst[i + RAGE_MIN_CLICKS - 1].t - burst[i].t <= RAGE_WINDOW_S
        for i in range(len(burst) - RAGE_MIN_CLICKS + 1)
    )


def _selects_text(burst: list[Click], facts: Facts) -> bool:
    """Three clicks with a double-click among them, on text or followed by a selection."""
    if len(burst) != RAGE_MIN_CLICKS:
        return False
    start, end = burst[0].t, burst[-1].t
    if not any(start <= t <= end for t in facts.double_clicks):
        return False
    selected = any(start <= t <= end + SELECTION_WAIT_S for t in facts.selections)
    return selected or not burst[0].interactive


def _rage_pattern(burst: list[Click]) -> Pattern:
    span = burst[-1].t - burst[0].t
    text = f"rage click: {len(burst)} clicks in {span:.1f} s on {burst[0].description}"
    return Pattern("rage_click", burst[0].t, text, burst[0].description)


def _responded(facts: Facts, click: Click) -> bool:
    """Did the page change (mutation, navigation, reload or scroll) within 1 s after the click?

    A page load within 3 s answers it too; so, for all we know, does the recording ending within
    those 3 s (the page unloading stops the recorder).
    """
    deadline, page_deadline = click.t + DEAD_CLICK_WAIT_S, click.t + DEAD_CLICK_NAVIGATION_S
    mutations = facts.mutations.get(click.window, [])
    position = bisect_right(mutations, click.t)
    if position < len(mutations) and mutations[position] <= deadline:
        return True
    if facts.ends.get(click.window, float("inf")) < page_deadline:
        return True
    if any(click.t < t <= page_deadline for t, _, _ in facts.navigations + facts.reloads):
        return True
    position = bisect_right(facts.scrolls, click.t)
    return position < len(facts.scrolls) and facts.scrolls[position] <= deadline


def dead_clicks(facts: Facts, skip: set[int]) -> list[Pattern]:
    """Clicks on interactive (or disabled) elements that nothing answered within 1 s.

    Left out: form fields (a click into one focuses it, which the DOM does not show) and links
    that open a new tab, another origin or app, or a download (the answer is not in this page).
    """
    patterns = []
    for click in facts.clicks:
        candidate = (click.interactive or click.disabled) and not click.field and not click.leaves
        if id(click) in skip or not candidate or _responded(facts, click):
            continue
        text = f"dead click: nothing happened after clicking {click.description}"
        patterns.append(Pattern("dead_click", click.t, text, click.description))
    return patterns


def u_turns(facts: Facts) -> list[Pattern]:
    """Going back to the previous page within 5 s of arriving on a new one (same window).

    Narrower than "any page left within 5 s", which flags every quick hop through a docs
    sidebar: a u-turn is arriving somewhere and turning straight back. Reloads are not
    navigations here: reloading a page neither arrives anywhere nor turns back.
    """
    patterns: list[Pattern] = []
    history: dict[str | None, list[tuple[float, str]]] = {}
    for t, url, window in facts.navigations:
        trail = history.setdefault(window, [])
        if len(trail) >= 2 and trail[-2][1] == url and t - trail[-1][0] <= U_TURN_S:
            text = f"u-turn: back to {url} {t - trail[-1][0]:.1f} s after arriving on {trail[-1][1]}"
            patterns.append(Pattern("u_turn", t, text, trail[-1][1]))
        trail.append((t, url))
    return patterns


def error_clicks(facts: Facts, skip: set[int]) -> list[Pattern]:
    """Clicks followed within 1 s by a console error, an exception or an error the page shows."""
    patterns, times = [], [t for t, _ in facts.errors]
    for click in facts.clicks:
        position = bisect_left(times, click.t)
        if id(click) in skip or position == len(times) or times[position] > click.t + ERROR_CLICK_S:
            continue
        error = facts.errors[position]
        text = f"error click: {error[1][:80]} {error[0] - click.t:.1f} s after clicking {click.description}"
        patterns.append(Pattern("error_click", click.t, text, click.description))
    return patterns
