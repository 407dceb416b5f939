"""Scanners: validating a definition, deciding when its version bumps, freezing its snapshot.

Every rejection is an `InvalidField` naming the field and the fix (DESIGN §5, STYLE §6).
"""

from __future__ import annotations

import math
import re
from typing import Any

from pipeline.errors import InvalidField
from pipeline.heuristics import CALM_TAG, HEURISTIC_RULES, HEURISTIC_TAGS
from pipeline.limits import MAX_INTEGER
from pipeline.prompt_library import Resolved, resolved_config, validate_ref

SCANNER_TYPES = ("monitor", "classifier", "scorer", "summarizer")
PROVIDERS = ("google", "heuristic")
# The fields a person sets (CLI flags, YAML, the API, the pages); every other column is ours.
EDITABLE = (
    "name",
    "description",
    "scanner_type",
    "scanner_config",
    "query",
    "sampling_rate",
    "provider",
    "model",
    "enabled",
    "emits_signals",
    "credit_limit",
)
MAX_PROMPT = 20_000
MAX_NAME, MAX_DESCRIPTION = 255, 1_000
MAX_TAGS, MAX_TAG_LENGTH = 100, 100
SAMPLING_PRECISION = 10_000
MIN_SAMPLING_RATE = 1 / SAMPLING_PRECISION
LENGTHS = ("short", "medium", "long")
# A change to any of these makes a new version: observations record the version they ran with.
VERSIONED_FIELDS = (
    "scanner_type",
    "scanner_config",
    "query",
    "sampling_rate",
    "provider",
    "model",
    "emits_signals",
)
# `prompt_ref` names a library prompt instead of `prompt` (pipeline/prompt_library.py).
_CONFIG_KEYS = {
    "monitor": {"prompt", "prompt_ref", "allow_inconclusive", "rule"},
    "classifier": {"prompt", "prompt_ref", "tags", "multi_label", "allow_freeform_tags"},
    "scorer": {"prompt", "prompt_ref", "scale"},
    "summarizer": {"prompt", "prompt_ref", "length"},
}
_QUERY_KEYS = {
    "urls",
    "url_contains",
    "min_duration_s",
    "min_active_s",
    "has_console_errors",
    "device_type",
    "distinct_ids",
    "custom_events",
}


def slugify(tag: str) -> str:
    """Lowercase; runs of characters outside [a-z0-9_-] become `_`; `_` trimmed at both ends."""
    return re.sub(r"[^a-z0-9_-]+", "_", tag.lower()).strip("_")


def validate_sampling_rate(rate: object) -> float:
    if isinstance(rate, bool) or not isinstance(rate, int | float) or not math.isfinite(rate):
        raise InvalidField("sampling_rate", f"{rate!r} is not a number; use a value from 0 to 1")
    if not 0 <= rate <= 1:
        raise InvalidField("sampling_rate", f"{rate} is outside 0..1; use 1 to observe every session")
    if 0 < rate < MIN_SAMPLING_RATE:
        raise InvalidField(
            "sampling_rate", f"{rate} is below the {MIN_SAMPLING_RATE} minimum; use 0 to pause the scanner"
        )
    return float(rate)


def _prompt(config: dict) -> dict[str, Any]:
    """`{prompt}` written in the config, or `{prompt_ref}` naming a library prompt (not both)."""
    if "prompt_ref" in config:
        if config.get("prompt") not in (None, ""):
            raise InvalidField("scanner_config.prompt_ref", "give prompt or prompt_ref, not both")
        return {"prompt_ref": validate_ref(config["prompt_ref"], "scanner_config.prompt_ref")}
    prompt = config.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise InvalidField(
            "scanner_config.prompt",
            "is required: say what the scanner should look for (or name a library prompt: prompt_ref)",
        )
    if len(prompt) > MAX_PROMPT:
        raise InvalidField(
            "scanner_config.prompt", f"is {len(prompt):,} characters; keep it under {MAX_PROMPT:,}"
        )
    return {"prompt": prompt.strip()}


def _flag(config: dict, key: str, default: bool) -> bool:
    value = config.get(key, default)
    if not isinstance(value, bool):
        raise InvalidField(f"scanner_config.{key}", f"{value!r} is not true or false")
    return value


def _tags(config: dict, provider: str) -> list[str]:
    tags = config.get("tags")
    if not isinstance(tags, list) or not 1 <= len(tags) <= MAX_TAGS:
        raise InvalidField("scanner_config.tags", f"give a list of 1 to {MAX_TAGS} tags")
    slugs: list[str] = []
    for tag in tags:
        if not isinstance(tag, str) or not tag.strip() or len(tag) > MAX_TAG_LENGTH:
            raise InvalidField(
                "scanner_config.tags", f"{tag!r}: each tag is 1 to {MAX_TAG_LENGTH} characters"
            )
        slug = slugify(tag)
        if not re.search(r"[a-z0-9]", slug):
            raise InvalidField("scanner_config.tags", f"{tag!r} has no letters or digits")
        if slug in slugs:
            raise InvalidField("scanner_config.tags", f"{tag!r} repeats {slug!r} once slugified; remove one")
        slugs.append(slug)
    unknown = sorted(set(slugs) - set(HEURISTIC_TAGS))
    if provider == "heuristic" and unknown:
        raise InvalidField(
            "scanner_config.tags",
            f"heuristic classifiers only know {', '.join(HEURISTIC_TAGS)}; remove {', '.join(unknown)}",
        )
    if provider == "heuristic" and CALM_TAG not in slugs:
        raise InvalidField(
            "scanner_config.tags", f"heuristic classifiers need the tag {CALM_TAG} for calm sessions"
        )
    return slugs


def _scale(config: dict) -> dict:
    scale = config.get("scale", {"min": 1, "max": 5})
    if not isinstance(scale, dict) or set(scale) - {"min", "max", "label"}:
        raise InvalidField("scanner_config.scale", "is {min, max, label?}, e.g. {min: 1, max: 5}")
    low, high = scale.get("min", 1), scale.get("max", 5)
    numbers = all(
        isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in (low, high)
    )
    if not numbers or low >= high:
        raise InvalidField("scanner_config.scale", f"min {low!r} must be a number below max {high!r}")
    label = scale.get("label")
    if label is not None and (not isinstance(label, str) or len(label) > MAX_TAG_LENGTH):
        raise InvalidField("scanner_config.scale.label", f"is text of at most {MAX_TAG_LENGTH} characters")
    return {"min": low, "max": high, **({"label": label} if label else {})}


def validate_config(scanner_type: object, config: object, provider: str) -> dict[str, Any]:
    """The normalised config of a scanner of `scanner_type`; unknown keys are refused."""
    if not isinstance(scanner_type, str) or scanner_type not in SCANNER_TYPES:
        raise InvalidField("scanner_type", f"{scanner_type!r} is not one of {', '.join(SCANNER_TYPES)}")
    if not isinstance(config, dict):
        raise InvalidField("scanner_config", "must be an object with at least a prompt")
    unknown = sorted(set(config) - _CONFIG_KEYS[scanner_type])
    if unknown:
        allowed = ", ".join(sorted(_CONFIG_KEYS[scanner_type]))
        raise InvalidField(
            "scanner_config", f"unknown keys {', '.join(unknown)}; a {scanner_type} takes {allowed}"
        )
    normalised: dict[str, Any] = _prompt(config)
    if scanner_type == "monitor":
        normalised["allow_inconclusive"] = _flag(config, "allow_inconclusive", False)
        normalised.update(_rule(config, provider))
    elif scanner_type == "classifier":
        normalised["tags"] = _tags(config, provider)
        normalised["multi_label"] = _flag(config, "multi_label", True)
        normalised["allow_freeform_tags"] = _flag(config, "allow_freeform_tags", False)
    elif scanner_type == "scorer":
        normalised["scale"] = _scale(config)
    else:
        length = config.get("length", "medium")
        if length not in LENGTHS:
            raise InvalidField("scanner_config.length", f"{length!r} is not one of {', '.join(LENGTHS)}")
        normalised["length"] = length
    return normalised


def _rule(config: dict, provider: str) -> dict[str, str]:
    rule = config.get("rule")
    if rule is None and provider != "heuristic":
        return {}
    if rule not in HEURISTIC_RULES:
        raise InvalidField(
            "scanner_config.rule", f"{rule!r}: a heuristic monitor needs one of {', '.join(HEURISTIC_RULES)}"
        )
    return {"rule": rule}


def _text(data: dict, key: str, limit: int, required: bool) -> str:
    value = data.get(key, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise InvalidField(key, "is required text" if required else "must be text")
    if len(value) > limit:
        raise InvalidField(key, f"is {len(value):,} characters; the limit is {limit:,}")
    return value.strip()


def validate_scanner(data: dict, *, default_model: str, prices: dict[str, int]) -> dict[str, Any]:
    """A complete, normalised scanner definition from user input (CLI flags or a YAML entry).

    Raises `InvalidField` naming the first bad field. The model must be in the price table so
    that every observation can be billed.
    """
    from pipeline.query import validate_query

    allowed = set(EDITABLE)
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise InvalidField(
            "scanner", f"unknown keys {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}"
        )
    provider = data.get("provider", "google")
    if provider not in PROVIDERS:
        raise InvalidField("provider", f"{provider!r} is not one of {', '.join(PROVIDERS)}")
    model = data.get("model") or (default_model if provider == "google" else "heuristic")
    if provider == "google" and model not in prices:
        raise InvalidField("model", f"{model!r} has no price; use one of {', '.join(sorted(prices))}")
    scanner_type = data.get("scanner_type")
    return {
        "name": _text(data, "name", MAX_NAME, required=True),
        "description": _text(data, "description", MAX_DESCRIPTION, required=False),
        "scanner_type": scanner_type,
        "scanner_config": validate_config(scanner_type, data.get("scanner_config"), provider),
        "query": validate_query(data.get("query")),
        "sampling_rate": validate_sampling_rate(data.get("sampling_rate", 1.0)),
        "provider": provider,
        "model": model,
        "enabled": _bool(data, "enabled", True),
        "emits_signals": _bool(data, "emits_signals", False),
        "credit_limit": _credit_limit(data.get("credit_limit")),
    }


def _bool(data: dict, key: str, default: bool) -> bool:
    value = data.get(key, default)
    if not isinstance(value, bool):
        raise InvalidField(key, f"{value!r} is not true or false")
    return value


def _credit_limit(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_INTEGER:
        raise InvalidField(
            "credit_limit",
            f"{value!r} is not a whole number of credits from 0 to {MAX_INTEGER} (or null for none)",
        )
    return value


def changed_fields(current: dict[str, Any], proposed: dict[str, Any]) -> list[str]:
    """The fields whose proposed value differs from the current one, in definition order."""
    return [key for key, value in proposed.items() if current.get(key) != value]


def bumps_version(changed: list[str]) -> bool:
    if "scanner_type" in changed:
        raise InvalidField("scanner_type", "cannot change; create a new scanner instead")
    return any(field in VERSIONED_FIELDS for field in changed)


def snapshot(scanner: Any, prompt: Resolved | None = None) -> dict[str, Any]:
    """The frozen copy of a scanner that an observation keeps (its answer stays explainable); a
    scanner whose config names a library prompt freezes `prompt`, what its `prompt_ref` resolved to."""
    return {
        "id": str(scanner.id),
        "name": scanner.name,
        "scanner_type": str(scanner.scanner_type),
        "scanner_version": scanner.scanner_version,
        "provider": str(scanner.provider),
        "model": scanner.model,
        "emits_signals": scanner.emits_signals,
        "scanner_config": resolved_config(scanner.scanner_config, prompt),
    }
