"""Actions (DESIGN §8): validation, the observation window, selection, digests and alerts. Pure.

The window of a run is [previous completed run's scheduled_at, this run's scheduled_at) on the
observations' `completed_at` (the last 24 h for a first run), so consecutive runs tile: no
observation is in two of them, and a failed run's observations roll into the next successful one.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pipeline.errors import InvalidField
from pipeline.prompt_library import validate_ref
from pipeline.schedule import next_occurrence, validate_rule
from pipeline.slack_text import defang
from pipeline.translation import language_code

MODES = ("group_summary", "alert")
VERDICTS = ("yes", "no", "inconclusive")
SELECTION_KEYS = ("scanner_ids", "verdict", "tags", "min_score", "max_score")
ALERT_METRICS = ("count", "avg_score")
ALERT_WINDOWS = (1, 3, 7, 14, 30)
ALERT_FREQUENCIES = ("on_breach", "every_match")
TARGET_TYPES = ("slack", "slack_webhook", "webhook", "log")
MAX_PROMPT_GUIDE = 500
SYNTHESIS_CAP = 100
FIRST_WINDOW = timedelta(hours=24)
DEFAULT_DIGEST_RULE = "FREQ=DAILY;BYHOUR=8;BYMINUTE=0"


def _number(field: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidField(field, f"{value!r} is not a number")
    return float(value)


def validate_selection(selection: object, scanner_ids: Sequence[str]) -> dict[str, Any]:
    """`scanner_ids` must belong to the team (`scanner_ids` is the team's); unknown keys are refused."""
    if selection in (None, {}):
        return {}
    if not isinstance(selection, Mapping):
        raise InvalidField("selection", "must be an object such as {verdict: [yes]}")
    unknown = sorted(set(selection) - set(SELECTION_KEYS))
    if unknown:
        supported = ", ".join(SELECTION_KEYS)
        raise InvalidField("selection", f"unknown keys {', '.join(unknown)}; supported: {supported}")
    out: dict[str, Any] = {}
    if "scanner_ids" in selection:
        out["scanner_ids"] = _selected_scanners(selection["scanner_ids"], scanner_ids)
    if "verdict" in selection:
        out["verdict"] = _selected_verdicts(selection["verdict"])
    if "tags" in selection:
        tags = selection["tags"] if isinstance(selection["tags"], list) else [selection["tags"]]
        if not tags or len(tags) > 100 or not all(isinstance(t, str) and t.strip() for t in tags):
            raise InvalidField("selection.tags", "give 1 to 100 tags")
        out["tags"] = [t.strip() for t in tags]
    for key in ("min_score", "max_score"):
        if key in selection and selection[key] is not None:
            out[key] = _number(f"selection.{key}", selection[key])
    if "min_score" in out and "max_score" in out and out["min_score"] > out["max_score"]:
        raise InvalidField("selection.min_score", "must not be above max_score")
    return out


def _selected_scanners(given: object, scanner_ids: Sequence[str]) -> list[str]:
    given = given or []
    if not isinstance(given, list | tuple):
        raise InvalidField("selection.scanner_ids", "must be a list of scanner ids")
    ids = [str(item) for item in given]
    missing = [item for item in ids if item not in scanner_ids]
    if not ids or missing:
        detail = ", ".join(missing) or "none given"
        raise InvalidField("selection.scanner_ids", f"not scanners of this team: {detail}")
    return ids


def _selected_verdicts(given: object) -> list[Any]:
    verdicts = given if isinstance(given, list) else [given]
    # YAML reads a bare yes/no as true/false: take them as the verdicts they were meant to be.
    verdicts = [{True: "yes", False: "no"}.get(v, v) if isinstance(v, bool) else v for v in verdicts]
    if not verdicts or any(v not in VERDICTS for v in verdicts):
        raise InvalidField("selection.verdict", f"give some of {', '.join(VERDICTS)}")
    return verdicts


def validate_alert(config: object) -> dict[str, Any]:
    if not isinstance(config, Mapping):
        raise InvalidField("alert_config", "an alert needs {metric, threshold, window_days, frequency}")
    unknown = sorted(set(config) - {"metric", "threshold", "window_days", "frequency"})
    if unknown:
        raise InvalidField("alert_config", f"unknown keys {', '.join(unknown)}")
    metric = config.get("metric", "count")
    if metric not in ALERT_METRICS:
        raise InvalidField("alert_config.metric", f"{metric!r} is not one of {', '.join(ALERT_METRICS)}")
    threshold = _number("alert_config.threshold", config.get("threshold"))
    window = config.get("window_days", 1)
    if window not in ALERT_WINDOWS:
        raise InvalidField("alert_config.window_days", f"{window!r} is not one of 1, 3, 7, 14, 30")
    frequency = config.get("frequency", "on_breach")
    if frequency not in ALERT_FREQUENCIES:
        raise InvalidField("alert_config.frequency", f"{frequency!r} is not on_breach or every_match")
    return {"metric": metric, "threshold": threshold, "window_days": window, "frequency": frequency}


_URL = re.compile(r"^https?://[^\s/]+")


def validate_targets(targets: object) -> list[dict[str, Any]]:
    if targets is None:
        return []
    if not isinstance(targets, list):
        raise InvalidField("delivery_config", "must be a list of targets such as [{type: log}]")
    out = []
    for index, target in enumerate(targets):
        field = f"delivery_config[{index}]"
        if not isinstance(target, Mapping) or target.get("type") not in TARGET_TYPES:
            raise InvalidField(f"{field}.type", f"give one of {', '.join(TARGET_TYPES)}")
        kind = target["type"]
        allowed = {
            "slack": {"type", "integration_id", "channel"},
            "slack_webhook": {"type", "url"},
            "webhook": {"type", "url", "secret"},
            "log": {"type"},
        }[kind]
        unknown = sorted(set(target) - allowed)
        if unknown:
            raise InvalidField(field, f"unknown keys {', '.join(unknown)} for a {kind} target")
        if kind == "slack" and not (target.get("integration_id") and target.get("channel")):
            raise InvalidField(field, "a slack target needs integration_id and channel")
        if kind in ("slack_webhook", "webhook") and not _URL.match(str(target.get("url", ""))):
            raise InvalidField(f"{field}.url", "must be an http(s) URL")
        if kind == "webhook" and not str(target.get("secret", "")).strip():
            raise InvalidField(f"{field}.secret", "a webhook needs a secret to sign its body with")
        out.append({key: target[key] for key in sorted(allowed) if key in target})
    return out


def target_key(target: Mapping[str, Any]) -> str:
    """The normalised, secret-free name of a target: the Delivery row's unique key. A stored target
    whose secrets are encrypted carries it (`key`, see integrations/secrets.py)."""
    if "key" in target:
        return str(target["key"])
    kind = target["type"]
    if kind == "slack":
        return f"slack:{target['integration_id']}:{target['channel']}"
    if kind in ("slack_webhook", "webhook"):
        return f"{kind}:{hashlib.sha256(str(target['url']).encode()).hexdigest()[:16]}"
    return "log"


def validate_action(data: Mapping[str, Any], *, now: datetime, scanner_ids: Sequence[str]) -> dict[str, Any]:
    """A whole action definition, normalised; `InvalidField` names the first bad field."""
    name = str(data.get("name") or "").strip()
    if not name or len(name) > 255:
        raise InvalidField("name", "give a name of 1 to 255 characters")
    mode = data.get("mode", "group_summary")
    if mode not in MODES:
        raise InvalidField("mode", f"{mode!r} is not one of {', '.join(MODES)}")
    trigger = data.get("trigger_config") or {}
    if not isinstance(trigger, Mapping):
        raise InvalidField("trigger_config", "must be {rrule, timezone}")
    rule, timezone = trigger.get("rrule", ""), trigger.get("timezone") or "UTC"
    validate_rule(rule, timezone, now=now)
    return {
        "name": name,
        "mode": mode,
        "enabled": bool(data.get("enabled", True)),
        "trigger_config": {"rrule": rule.strip(), "timezone": timezone},
        "selection": validate_selection(data.get("selection"), scanner_ids),
        "synthesis_config": validate_synthesis(data.get("synthesis_config")),
        "delivery_config": validate_targets(data.get("delivery_config")),
        "alert_config": validate_alert(data.get("alert_config")) if mode == "alert" else None,
    }


def validate_synthesis(config: object) -> dict[str, Any]:
    """`{prompt_guide}` (≤500 characters), or `{prompt_ref}` naming a library prompt to guide the
    digest instead (not both); `{}` for neither; with an optional `language` (a BCP 47 code: the
    digest is written in it). Other keys are ignored."""
    config = config or {}
    if not isinstance(config, Mapping):
        raise InvalidField("synthesis_config", "must be {prompt_guide} or {prompt_ref}")
    language = config.get("language")
    chosen = {"language": language_code(language, "synthesis_config.language")} if language else {}
    guide = config.get("prompt_guide") or ""
    if not isinstance(guide, str) or len(guide) > MAX_PROMPT_GUIDE:
        raise InvalidField("synthesis_config.prompt_guide", f"at most {MAX_PROMPT_GUIDE} characters")
    if config.get("prompt_ref") is None:
        return {"prompt_guide": guide, **chosen} if guide else chosen
    if guide:
        raise InvalidField("synthesis_config.prompt_ref", "give prompt_guide or prompt_ref, not both")
    return {"prompt_ref": validate_ref(config["prompt_ref"], "synthesis_config.prompt_ref"), **chosen}


def next_run(
    trigger_config: Mapping[str, Any] | None, created_at: datetime, after: datetime
) -> datetime | None:
    """An action's next occurrence strictly after `after` (None: the rule has ended); `InvalidField`
    for a rule or timezone that no longer parses."""
    config = trigger_config or {}
    rule, timezone = config.get("rrule", ""), config.get("timezone") or "UTC"
    return next_occurrence(rule, timezone, created_at=created_at, after=after)


def window(previous_completed: datetime | None, scheduled_at: datetime) -> tuple[datetime, datetime]:
    return (previous_completed or scheduled_at - FIRST_WINDOW), scheduled_at


def matches(selection: Mapping[str, Any], row: Any) -> bool:
    """Does a succeeded observation (verdict, score, tags, freeform tags) pass the selection?"""
    if "verdict" in selection and row.result_verdict not in selection["verdict"]:
        return False
    if "tags" in selection:
        freeform = ((row.scanner_result or {}).get("model_output") or {}).get("tags_freeform") or []
        if not set(selection["tags"]) & (set(row.result_tags or []) | set(freeform)):
            return False
    for key, ok in (("min_score", lambda s, v: s >= v), ("max_score", lambda s, v: s <= v)):
        if key in selection and (row.result_score is None or not ok(row.result_score, selection[key])):
            return False
    return True


def sample_evenly(rows: Sequence[Any], cap: int = SYNTHESIS_CAP) -> list[Any]:
    """Newest first; past `cap`, every (n/cap)-th by recency rank, so the sample spans the window."""
    ordered = sorted(rows, key=lambda row: (row.created_at, str(row.id)), reverse=True)
    if len(ordered) <= cap:
        return ordered
    step = len(ordered) / cap
    return [ordered[int(index * step)] for index in range(cap)]


def descriptor(row: Any) -> str:
    output = (row.scanner_result or {}).get("model_output") or {}
    if row.result_verdict:
        return f"verdict={row.result_verdict}"
    if row.result_score is not None:
        return f"score={row.result_score:g}"
    if row.result_tags:
        return "tags=" + ", ".join(row.result_tags)
    return defang(str(output.get("title") or "summary"))


def observation_text(row: Any) -> str:
    output = (row.scanner_result or {}).get("model_output") or {}
    text = output.get("summary") or output.get("reasoning") or ""
    return defang(re.sub(r"\s*\(t \d+(?:\.\d+)?\)", "", str(text)))[:600]


def lines(rows: Sequence[Any]) -> list[str]:
    """One line per observation, `[obs N]` being its index in `rows`."""
    return [
        f"- [obs {index}] ({row.created_at:%Y-%m-%d}) {descriptor(row)}: {observation_text(row)}"
        for index, row in enumerate(rows)
    ]


def extractive_digest(title: str, rows: Sequence[Any], total: int) -> str:
    """The digest without a model: counts by verdict, tag and score band, then examples."""
    parts = [
        f"**{title}**: {total} observation{'s' if total != 1 else ''}"
        + (f" (sampled {len(rows)})" if total > len(rows) else "")
    ]
    verdicts = Counter(row.result_verdict for row in rows if row.result_verdict)
    tags = Counter(tag for row in rows for tag in (row.result_tags or []))
    bands = Counter(f"{int(row.result_score)}" for row in rows if row.result_score is not None)
    for label, counts in (("Verdicts", verdicts), ("Tags", tags), ("Scores", bands)):
        if counts:
            shown = ", ".join(f"{defang(str(key))} {count}" for key, count in counts.most_common(10))
            parts.append(f"- {label}: {shown}")
    every = lines(rows)

    # Examples: the notable first (a yes, a high score, a tag), in citation order.
    def interest(i: int) -> tuple:
        row = rows[i]
        return (row.result_verdict != "yes", -(row.result_score or 0), not row.result_tags, i)

    notable = sorted(range(len(rows)), key=interest)
    examples = [every[i] for i in sorted(notable[:5])]
    if examples:
        parts.append("Examples:")
        parts.extend(examples)
    return "\n".join(parts)


@dataclass(frozen=True)
class AlertResult:
    value: float
    breached: bool
    fires: bool
    reason: str  # fired | not_breached | still_breached | no_new_matches


def evaluate_alert(
    config: Mapping[str, Any], rows: Sequence[Any], *, previously_breached: bool, new_rows: Sequence[Any] = ()
) -> AlertResult:
    """Deterministic: the metric over the window against the threshold."""
    if config["metric"] == "avg_score":
        scores = [row.result_score for row in rows if row.result_score is not None]
        value = sum(scores) / len(scores) if scores else 0.0
    else:
        value = float(len(rows))
    breached = value >= config["threshold"]
    if config["frequency"] == "every_match":
        fires = bool(new_rows) and breached
        reason = "fired" if fires else ("no_new_matches" if breached else "not_breached")
        return AlertResult(value, breached, fires, reason)
    if not breached:
        return AlertResult(value, False, False, "not_breached")
    if previously_breached:
        return AlertResult(value, True, False, "still_breached")
    return AlertResult(value, True, True, "fired")
