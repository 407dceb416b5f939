"""Sessions for scouts to find: copies of the checkout scenario (a console error on paying, then rage
clicks) recorded two hours before `now` by distinct people, inside a scout's one-day window."""

from __future__ import annotations

from datetime import datetime, timedelta

from scenarios.catalog import build
from services import recordings


def recent_checkout_errors(world, now: datetime, count: int = 3) -> list[str]:
    """Store `count` copies of `checkout-js-error` started two hours before `now`; their session ids."""
    start_ms = int((now - timedelta(hours=2)).timestamp() * 1000)
    events = build("checkout-js-error", start_ms).events
    session_ids = [f"recent-checkout-{index}" for index in range(1, count + 1)]
    for index, session_id in enumerate(session_ids, start=1):
        recordings.store_events(world.deps, world.team_id, session_id, events, distinct_id=f"person-{index}")
    return session_ids
