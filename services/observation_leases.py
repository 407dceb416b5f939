"""An observation attempt's lease (DESIGN §5): held while the attempt runs, lapsing when its worker stops.

A claim takes the row until `now + SIGHTLINE_OBSERVATION_LEASE_S` (90 s by default). While the
attempt runs, a heartbeat (`services.heartbeat`) renews the lease every third of that: the model
call alone may take minutes (and a re-prompt and the signals turn more), so the lease is kept alive
rather than sized for the longest attempt. Two renewals may fail in a row (the database busy, the process
paused) before the lease lapses. Once it has lapsed the worker is taken to have stopped: a
redelivered message takes the row over, or the reaper sends it again (`services.reapers`).

Every write of an attempt is fenced by its attempt number, so an attempt that lost its lease (taken
over while it was paused, say) can neither renew it nor write its result over its successor's.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from uuid import UUID

from models.observation_queries import renew_lease
from services.context import Deps
from services.heartbeat import BEATS_PER_LEASE, heartbeat


def lease_end(deps: Deps, now: datetime) -> datetime:
    """When a lease taken or renewed at `now` lapses."""
    return now + timedelta(seconds=deps.settings.observation_lease_s)


@contextmanager
def leased(deps: Deps, observation_id: UUID, attempt: int) -> Iterator[None]:
    """Keep renewing the attempt's lease until the block ends (or the attempt loses the row)."""
    every = deps.settings.observation_lease_s / BEATS_PER_LEASE
    with heartbeat(
        lambda: renew(deps, observation_id, attempt),
        every_s=every,
        name="observation-lease",
        observation_id=str(observation_id),
        attempt=attempt,
    ):
        yield


def renew(deps: Deps, observation_id: UUID, attempt: int) -> bool:
    """Extend the attempt's lease from now; False when another attempt holds the row, or it finished."""
    with deps.transaction() as session:
        return renew_lease(session, observation_id, attempt, lease_end(deps, deps.now()))
