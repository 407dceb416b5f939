"""An observation attempt's lease (DESIGN §5): held while the attempt runs, lapsing when its worker stops.

A claim takes the row until `now + SIGHTLINE_OBSERVATION_LEASE_S` (90 s by default). While the
attempt runs, the process's lease keeper renews it every third of that: the model call alone may
take minutes (and a re-prompt and the signals turn more), so the lease is kept alive rather than
sized for the longest attempt. Two renewals may fail in a row (the database busy, the process
paused) before the lease lapses. Once it has lapsed the worker is taken to have stopped: a
redelivered message takes the row over, or the reaper sends it again (`services.reapers`).

One keeper thread per process (per database and lease length) renews every lease the process
holds in one UPDATE per beat. A thread per attempt, as `services.heartbeat` gives the rarer
holds, cost a thread start and stop on every observation, most of which take milliseconds.

Every write of an attempt is fenced by its attempt number, so an attempt that lost its lease (taken
over while it was paused, say) can neither renew it nor write its result over its successor's.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from uuid import UUID

import structlog

from models.observation_queries import renew_lease, renew_leases
from services.context import Deps
from services.heartbeat import BEATS_PER_LEASE

log = structlog.get_logger(__name__)


def lease_end(deps: Deps, now: datetime) -> datetime:
    """When a lease taken or renewed at `now` lapses."""
    return now + timedelta(seconds=deps.settings.observation_lease_s)


@contextmanager
def leased(deps: Deps, observation_id: UUID, attempt: int) -> Iterator[None]:
    """Keep renewing the attempt's lease until the block ends (or the attempt loses the row)."""
    keeper = _keeper(deps)
    keeper.hold(observation_id, attempt)
    try:
        yield
    finally:
        keeper.release(observation_id, attempt)


def renew(deps: Deps, observation_id: UUID, attempt: int) -> bool:
    """Extend the attempt's lease from now; False when another attempt holds the row, or it finished."""
    with deps.transaction() as session:
        return renew_lease(session, observation_id, attempt, lease_end(deps, deps.now()))


class LeaseKeeper:
    """The leases one process holds, renewed together by one daemon thread, which runs while there
    are leases to keep (it ends at a beat that finds none, and the next hold starts it again).

    A renewal still in flight when its attempt ends is harmless: it is fenced by the attempt, and
    the attempt's last write clears the lease.
    """

    def __init__(self, deps: Deps):
        self.deps = deps
        self.every_s = deps.settings.observation_lease_s / BEATS_PER_LEASE
        self._held: dict[UUID, int] = {}
        self._lock = threading.Lock()
        self._running = False

    def hold(self, observation_id: UUID, attempt: int) -> None:
        with self._lock:
            self._held[observation_id] = attempt
            if not self._running:
                self._running = True
                threading.Thread(target=self._run, name="observation-leases", daemon=True).start()

    def release(self, observation_id: UUID, attempt: int) -> bool:
        """Stop renewing the attempt's lease; False when it was not held (already released)."""
        with self._lock:
            if self._held.get(observation_id) != attempt:
                return False
            del self._held[observation_id]
            return True

    def beat(self) -> None:
        """Renew every held lease from now; forget the attempts that lost their row."""
        with self._lock:
            held = list(self._held.items())
        if not held:
            return
        with self.deps.transaction() as session:
            kept = renew_leases(session, held, lease_end(self.deps, self.deps.now()))
        for observation_id, attempt in held:
            if observation_id not in kept and self.release(observation_id, attempt):
                log.warning("lease_lost", lease="observation-lease", observation_id=str(observation_id))

    def _run(self) -> None:
        while True:
            time.sleep(self.every_s)
            with self._lock:
                if not self._held:
                    self._running = False
                    return
            try:
                self.beat()
            except Exception as exc:  # the database briefly away: try again next beat
                log.warning("lease_not_renewed", lease="observation-lease", error=type(exc).__name__)


_keepers: dict[tuple[object, int], LeaseKeeper] = {}
_keepers_lock = threading.Lock()


def _keeper(deps: Deps) -> LeaseKeeper:
    """The process's keeper for this database and lease length (tests run several of each)."""
    key = (deps.sessions, deps.settings.observation_lease_s)
    with _keepers_lock:
        keeper = _keepers.get(key)
        if keeper is None:
            keeper = _keepers[key] = LeaseKeeper(deps)
        return keeper
