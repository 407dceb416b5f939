"""Scouts as rules: the canonical fleet, what a config may be set to, custom scouts as code, the run
limits, and when a scout is due. Pure: the use cases (`services.scouts`) load and write around it.

A custom scout (`sightline apply`, `scouts:`) is a metric counted per group over a window of
sessions, with a threshold and a baseline:

    scouts:
      - name: signals-scout-pricing-rage
        description: Rage clicks on the pricing page
        metric: pattern:rage_click      # pattern:<kind> | observations:<scanner name>
        group_by: element               # page | element | message
        threshold: 3                    # sessions in the window, at least
        baseline: trailing_7d           # none | trailing_7d (today ≥ 2× the trailing daily mean)
        run_interval_minutes: 60        # optional, like enabled and emit
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pipeline.errors import InvalidField
from pipeline.limits import MAX_INTEGER

PREFIX = "signals-scout-"
MAX_NAME = 128
DEFAULT_INTERVAL_MINUTES = 60
MIN_INTERVAL_MINUTES, MAX_INTERVAL_MINUTES = 10, 7 * 24 * 60
MAX_ENABLED_SCOUTS = 10
MAX_RUNS_PER_TICK = 5
MAX_RUNS_PER_DAY = 200
PATTERN_KINDS = ("rage_click", "dead_click", "error_click", "u_turn", "console_error", "network_error")
GROUP_KEYS = ("page", "element", "message")
BASELINES = ("none", "trailing_7d")
MAX_THRESHOLD = 100_000
CUSTOM_FIELDS = frozenset(
    {"name", "description", "metric", "group_by", "threshold", "baseline", "run_interval_minutes"}
    | {"enabled", "emit"}
)


@dataclass(frozen=True)
class Canonical:
    name: str
    description: str


CANONICAL = (
    Canonical(
        "signals-scout-error-spikes",
        "A console error or failed request on a page, today against its trailing 7-day daily mean.",
    ),
    Canonical(
        "signals-scout-frustration-hotspots",
        "An element that many distinct users rage-click or click without effect.",
    ),
    Canonical(
        "signals-scout-friction-drop-offs",
        "Pages where sessions end within seconds of an error or a dead click.",
    ),
    Canonical(
        "signals-scout-form-abandonment",
        "Forms people type into, then leave without submitting.",
    ),
)
CANONICAL_NAMES = frozenset(each.name for each in CANONICAL)


@dataclass(frozen=True)
class Limits:
    """The run limits the scheduler enforces, and today's use of them."""

    max_runs_per_tick: int
    max_runs_per_day: int
    runs_today: int

    @property
    def runs_remaining_today(self) -> int:
        return max(0, self.max_runs_per_day - self.runs_today)


def check_skill_name(name: Any, field: str = "skill_name") -> str:
    """`name` when it is a `signals-scout-*` name; `InvalidField` naming `field` otherwise."""
    if not isinstance(name, str) or not name.strip():
        raise InvalidField(field, f"write a scout's name, such as {PREFIX}error-spikes")
    if not name.startswith(PREFIX) or len(name) == len(PREFIX):
        raise InvalidField(field, f"{name!r} lacks the {PREFIX!r} prefix; name it {PREFIX}<what it finds>")
    if len(name) > MAX_NAME:
        raise InvalidField(field, f"is {len(name)} characters long; at most {MAX_NAME}")
    return name


def check_settings(values: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """`enabled`, `emit` and `run_interval_minutes` of `values` checked; `InvalidField` names the field."""
    checked: dict[str, Any] = {}
    for name in ("enabled", "emit"):
        if name in values:
            if not isinstance(values[name], bool):
                raise InvalidField(f"{prefix}{name}", "must be true or false")
            checked[name] = values[name]
    if "run_interval_minutes" in values:
        minutes = values["run_interval_minutes"]
        low, high = MIN_INTERVAL_MINUTES, MAX_INTERVAL_MINUTES
        if isinstance(minutes, bool) or not isinstance(minutes, int) or not low <= minutes <= high:
            raise InvalidField(f"{prefix}run_interval_minutes", f"must be whole minutes from {low} to {high}")
        checked["run_interval_minutes"] = minutes
    return checked


def check_enabled_count(enabled_after: int, maximum: int = MAX_ENABLED_SCOUTS) -> None:
    """`InvalidField` when enabling would leave more than `maximum` scouts enabled."""
    if enabled_after > maximum:
        raise InvalidField(
            "enabled", f"this project is at its maximum of {maximum} enabled scouts; disable one first"
        )


def check_custom(entry: dict[str, Any], where: str) -> dict[str, Any]:
    """A custom scout of an `apply` file, checked: its name, its settings and its definition
    (`{metric, group_by, threshold, baseline}`). `InvalidField` names `where` and the field."""
    unknown = sorted(set(entry) - CUSTOM_FIELDS)
    if unknown:
        raise InvalidField(
            f"{where}.{unknown[0]}", f"is not a scout field; use {', '.join(sorted(CUSTOM_FIELDS))}"
        )
    name = check_skill_name(entry.get("name"), f"{where}.name")
    if name in CANONICAL_NAMES:
        raise InvalidField(f"{where}.name", f"{name!r} is a canonical scout; choose another name")
    description = entry.get("description", "")
    if not isinstance(description, str):
        raise InvalidField(f"{where}.description", "must be text")
    definition = {
        "metric": _metric(entry.get("metric"), f"{where}.metric"),
        "group_by": _choice(entry.get("group_by"), GROUP_KEYS, f"{where}.group_by"),
        "threshold": _threshold(entry.get("threshold"), f"{where}.threshold"),
        "baseline": _choice(entry.get("baseline", "none"), BASELINES, f"{where}.baseline"),
    }
    settings = check_settings(entry, f"{where}.")
    return {"skill_name": name, "description": description, "definition": definition, **settings}


def _metric(value: Any, field: str) -> str:
    kinds = ", ".join(f"pattern:{kind}" for kind in PATTERN_KINDS)
    if not isinstance(value, str) or ":" not in value:
        raise InvalidField(field, f"write pattern:<kind> ({kinds}) or observations:<scanner name>")
    source, _, what = value.partition(":")
    if source == "pattern" and what in PATTERN_KINDS:
        return value
    if source == "observations" and what.strip():
        return value
    raise InvalidField(
        field, f"{value!r} is not a metric; write pattern:<kind> ({kinds}) or observations:<scanner>"
    )


def _choice(value: Any, choices: tuple[str, ...], field: str) -> str:
    if value not in choices:
        raise InvalidField(field, f"{value!r} is not one of {', '.join(choices)}")
    return value


def _threshold(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_THRESHOLD:
        raise InvalidField(field, f"must be a whole number of sessions from 1 to {MAX_THRESHOLD}")
    return value


def due_at(last_run_at: datetime | None, interval_minutes: int, now: datetime) -> datetime | None:
    """The scheduled time of a scout's due run (on its interval's grid), or None when not due yet.

    A run's time is `now` floored to the interval, so two schedulers ticking in the same slot name
    the same run and the unique (scout, scheduled time) keeps one.
    """
    step = timedelta(minutes=max(1, min(interval_minutes, MAX_INTEGER)))
    slot = (
        datetime.min.replace(tzinfo=now.tzinfo)
        + ((now - datetime.min.replace(tzinfo=now.tzinfo)) // step) * step
    )
    if last_run_at is not None and last_run_at >= slot:
        return None
    return slot


def runs_allowed(limits: Limits, wanted: int) -> int:
    """How many of `wanted` due runs may start now: within this tick's and today's caps."""
    return max(0, min(wanted, limits.max_runs_per_tick, limits.runs_remaining_today))
