"""The heuristic provider: answers every scanner type from the timeline's detected patterns.

No key, no network: what it says is what the detectors found, with citations to the second.
"""

from __future__ import annotations

import re
from typing import Any

from pipeline.timeline.model import clicks_shown

HEURISTIC_RULES = ("rage_click", "dead_click", "u_turn", "error_click", "console_error", "any_frustration")
HEURISTIC_TAGS = ("rage_click", "dead_click", "u_turn", "error_click", "console_error", "no_friction")
CALM_TAG = "no_friction"
_SEVERITY = {"rage_click": 2.0, "error_click": 2.0, "dead_click": 1.0, "u_turn": 1.0, "console_error": 0.5}
_SEVERE_AT = 4.0
_FINDINGS = {
    "rage_click": ("ux_friction", 0.8, "Rage clicks on {target} at {page}"),
    "error_click": ("bug", 0.8, "Error after clicking {target} at {page}"),
    "dead_click": ("ux_friction", 0.6, "Dead click on {target} at {page}"),
    "u_turn": ("design_flaw", 0.5, "Visitors turn straight back from {target}"),
}


def _seen(timeline: Any) -> dict[str, list[Any]]:
    """Patterns by kind, plus console errors as moments."""
    seen: dict[str, list[Any]] = {}
    for pattern in timeline.patterns:
        seen.setdefault(pattern.kind, []).append(pattern)
    errors = [moment for moment in timeline.moments if moment.kind == "console_error"]
    if errors:
        seen["console_error"] = errors
    return seen


def _cite(items: list[Any]) -> str:
    return ", ".join(f"(t {round(item.t)})" for item in items[:3])


def _describe(kind: str, items: list[Any]) -> str:
    label = kind.replace("_", " ")
    return f"{len(items)} {label}{'s' if len(items) > 1 else ''} {_cite(items)}"


def heuristic_answer(scanner_type: str, config: dict, timeline: Any) -> dict[str, Any]:
    """A result of the same shape the model's checked answer has."""
    seen = _seen(timeline)
    answer = {"monitor": _monitor, "classifier": _classifier, "scorer": _scorer}.get(scanner_type, _summary)
    return answer(config, seen, timeline)


def _monitor(config: dict, seen: dict, timeline: Any) -> dict[str, Any]:
    rule = config.get("rule", "any_frustration")
    kinds = [kind for kind in seen if kind != "console_error"] if rule == "any_frustration" else [rule]
    fired = {kind: seen[kind] for kind in kinds if kind in seen}
    if fired:
        reasoning = "Detected " + "; ".join(_describe(kind, items) for kind, items in fired.items()) + "."
        return {"reasoning": reasoning, "verdict": "yes", "confidence": 0.9}
    reasoning = f"No {rule.replace('_', ' ')} was detected in this session."
    return {"reasoning": reasoning, "verdict": "no", "confidence": 0.8}


def _classifier(config: dict, seen: dict, timeline: Any) -> dict[str, Any]:
    ranked = sorted((kind for kind in seen if kind in config["tags"]), key=lambda k: -_SEVERITY.get(k, 0))
    tags = ranked or [CALM_TAG]
    if not config.get("multi_label", True):
        tags = tags[:1]
    reasons = [_describe(kind, seen[kind]) for kind in tags if kind in seen]
    reasoning = "Detected " + "; ".join(reasons) + "." if reasons else "No friction was detected."
    return {"reasoning": reasoning, "tags": tags, "tags_freeform": [], "confidence": 0.9}


def _scorer(config: dict, seen: dict, timeline: Any) -> dict[str, Any]:
    scale = config["scale"]
    severity = sum(_SEVERITY.get(kind, 0) * len(items) for kind, items in seen.items())
    fraction = min(1.0, severity / _SEVERE_AT)
    score = round(scale["min"] + fraction * (scale["max"] - scale["min"]), 2)
    parts = [_describe(kind, items) for kind, items in seen.items()]
    reasoning = (
        f"Frustration score from {'; '.join(parts)}." if parts else "No frustration signal was detected."
    )
    result = {"reasoning": reasoning, "score": score, "confidence": 0.7}
    return {**result, "label": scale["label"]} if scale.get("label") else result


def _summary(config: dict, seen: dict, timeline: Any) -> dict[str, Any]:
    """A visit summary counted from the moments the timeline shows (a `×3` line is three clicks)."""
    pages = [url for _, url in timeline.pages] or ["(no page)"]
    opened = round(timeline.pages[0][0]) if timeline.pages else 0
    clicks = [moment for moment in timeline.moments if clicks_shown(moment)]
    click_count = sum(clicks_shown(moment) for moment in timeline.moments)
    problems = list(dict.fromkeys(f"{pattern.text} (t {round(pattern.t)})" for pattern in timeline.patterns))
    route = f"{pages[0]} → {pages[-1]}" if len(pages) > 1 else pages[0]
    title = f"{route}: {click_count} clicks, {len(problems)} problems"[:120]
    summary = (
        f"The visitor opened {pages[0]} (t {opened}) and visited {len(pages)} page(s), "
        f"clicking {click_count} times."
    )
    if problems:
        summary += " Problems: " + "; ".join(problems[:5]) + "."
    outcome = f"Ended on {pages[-1]}" + (
        " after running into trouble." if problems else " without visible trouble."
    )
    keywords = _keywords(pages, clicks)
    return {
        "title": title,
        "summary": summary,
        "intent": f"Reach {pages[-1]}",
        "outcome": outcome,
        "friction_points": [pattern.text.lower() for pattern in timeline.patterns][:10],
        "keywords": keywords,
        "confidence": 0.6,
    }


def _keywords(pages: list[str], clicks: list[Any]) -> list[str]:
    words = [part for url in pages for part in re.split(r"[/?#=&._-]+", url.lower()) if len(part) > 2]
    words += [match.lower() for click in clicks for match in re.findall(r'"([^"]{3,30})"', click.text)]
    return list(dict.fromkeys(words))[:15]


def _plain(target: str) -> str:
    """`button.primary "Pay"` → `button "Pay"`: descriptions stay stable when class names change."""
    return re.sub(r"^([a-z][a-z0-9-]*)[^\s\"]*", r"\1", target)


def page_at(timeline: Any, second: float) -> str:
    page = ""
    for t, url in timeline.pages:
        if t <= second:
            page = url
    return page or "the first page"


def heuristic_findings(timeline: Any) -> list[dict[str, Any]]:
    """One finding per distinct detected problem, with a stable description."""
    findings, seen = [], set()
    for pattern in timeline.patterns:
        problem_type, confidence, template = _FINDINGS[pattern.kind]
        description = template.format(target=_plain(pattern.target), page=page_at(timeline, pattern.t))
        if description in seen:
            continue
        seen.add(description)
        headline = " ".join(description.split(" at ")[0].split()[:8])
        findings.append(
            {
                "problem_type": problem_type,
                "start_time": round(pattern.t),
                "end_time": round(pattern.t) + 1,
                "url": page_at(timeline, pattern.t),
                "headline": headline,
                "description": description,
                "confidence": confidence,
                "fingerprint": f"{pattern.kind}:{_plain(pattern.target)}"[:255],
            }
        )
    return findings
