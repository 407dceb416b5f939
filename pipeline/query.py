"""The `query` filter of a scanner: which recordings it looks at (validated, and matched in memory)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pipeline.errors import InvalidField

DEVICE_TYPES = ("desktop", "mobile")
_LIST_KEYS = ("urls", "distinct_ids", "custom_events")
_NUMBER_KEYS = ("min_duration_s", "min_active_s")
QUERY_KEYS = (*_LIST_KEYS, "url_contains", *_NUMBER_KEYS, "has_console_errors", "device_type")
MAX_LIST = 100


def _strings(key: str, value: object) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or len(value) > MAX_LIST:
        raise InvalidField(f"query.{key}", f"give 1 to {MAX_LIST} strings")
    if not all(isinstance(item, str) and item.strip() for item in value):
        raise InvalidField(f"query.{key}", "every entry must be non-empty text")
    return [item.strip() for item in value]


def validate_query(query: object) -> dict[str, Any]:
    """The normalised filter; keys outside `QUERY_KEYS` are refused by name."""
    if query is None:
        return {}
    if not isinstance(query, dict):
        raise InvalidField("query", "must be an object such as {url_contains: /checkout}")
    unknown = sorted(set(query) - set(QUERY_KEYS))
    if unknown:
        raise InvalidField("query", f"unknown keys {', '.join(unknown)}; supported: {', '.join(QUERY_KEYS)}")
    normalised: dict[str, Any] = {}
    for key in (*_LIST_KEYS, "url_contains"):
        if key in query:
            normalised[key] = _strings(key, query[key])
    for key in _NUMBER_KEYS:
        if key in query:
            value = query[key]
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise InvalidField(f"query.{key}", f"{value!r} is not a number of seconds ≥ 0")
            normalised[key] = value
    if "has_console_errors" in query:
        if not isinstance(query["has_console_errors"], bool):
            raise InvalidField("query.has_console_errors", "is true or false")
        normalised["has_console_errors"] = query["has_console_errors"]
    if "device_type" in query:
        if query["device_type"] not in DEVICE_TYPES:
            raise InvalidField("query.device_type", f"{query['device_type']!r} is not one of desktop, mobile")
        normalised["device_type"] = query["device_type"]
    return normalised


def matches(query: Mapping[str, Any], recording: Mapping[Any, Any]) -> bool:
    """Does a recording (its metadata as a mapping: urls, duration_s, …) pass the filter?"""
    urls = [url.rstrip("/") for url in recording.get("urls") or ()]
    checks = (
        "urls" not in query or any(url.rstrip("/") in urls for url in query["urls"]),
        "url_contains" not in query or any(part in url for part in query["url_contains"] for url in urls),
        recording.get("duration_s", 0) >= query.get("min_duration_s", 0),
        recording.get("active_s", 0) >= query.get("min_active_s", 0),
        "has_console_errors" not in query
        or (recording.get("console_error_count", 0) > 0) == query["has_console_errors"],
        "device_type" not in query or recording.get("device_type") == query["device_type"],
        "distinct_ids" not in query or recording.get("distinct_id") in query["distinct_ids"],
        "custom_events" not in query
        or bool(set(recording.get("custom_events") or ()) & set(query["custom_events"])),
    )
    return all(checks)
