"""API key scopes (the reference's): which a key may hold, and what an endpoint needs of them.

`object:write` implies `object:read`; `*` is every scope. Pure: the API and the CLI check with these.
"""

from __future__ import annotations

from collections.abc import Iterable

from pipeline.errors import InvalidField

OBJECTS = (
    "replay_scanner",
    "session_recording",
    "vision_action",
    "task",
    "signal_scout",
    "llm_prompt",
    "evaluation",
    "llm_analytics",
    "logs",
    "error_tracking",
    "query",
)
SCOPES = tuple(f"{name}:{access}" for name in OBJECTS for access in ("read", "write"))
ALL = "*"


def validate_scopes(scopes: Iterable[str]) -> list[str]:
    """The scopes, deduplicated in order; `InvalidField` naming an unknown one."""
    chosen = list(dict.fromkeys(scope.strip() for scope in scopes))
    if not chosen:
        raise InvalidField("scope", f"give at least one: {', '.join((ALL, *SCOPES))}")
    unknown = [scope for scope in chosen if scope != ALL and scope not in SCOPES]
    if unknown:
        raise InvalidField("scope", f"unknown {', '.join(unknown)}; known: {', '.join((ALL, *SCOPES))}")
    return chosen


def missing(required: Iterable[str], granted: Iterable[str]) -> list[str]:
    """The required scopes that `granted` does not cover (write covers read; `*` covers all)."""
    held = set(granted)
    if ALL in held:
        return []
    covered = held | {scope.replace(":write", ":read") for scope in held if scope.endswith(":write")}
    return [scope for scope in required if scope not in covered]
