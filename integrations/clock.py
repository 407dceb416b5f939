"""The one clock outside `pipeline/` (which never reads one): every "now" of the processes comes from here.

Tests that need another time pass `now` to the use case, or patch `utcnow` here.
"""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)
