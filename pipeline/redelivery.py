"""Which fetched but unacknowledged messages go back on their queues (DESIGN §6): a pure decision
from what Redis holds and the time.

Dramatiq's Redis broker moves each message a worker fetches into that worker's ack set
(`{namespace}:__acks__.{worker}.{queue}`), where it stays until the worker acknowledges it. An id
stays there with nobody working on it in two ways:

- The worker died. Its Dramatiq heartbeat is older than the broker's heartbeat timeout and it no
  longer reports what it holds. Dramatiq itself requeues such ids only during its probabilistic
  maintenance (minutes after the fact); the scheduler does it on its next tick.
- The worker lives but never got the fetch's reply (Redis went down after running the fetch): the
  id sits in its ack set and the worker does not report holding it. Workers report every few
  seconds, so a fetch just made is not in a report yet: an id is stranded only once it was seen so
  for `stranded_after_s`, across several reports.

A worker alive by its heartbeat that reports nothing (not a Sightline worker) is left alone. A dead
one that holds nothing is forgotten (its heartbeat removed), as Dramatiq's maintenance does: every
process that sends a message leaves a heartbeat behind.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

AckSet = tuple[str, str]  # (worker id, queue name)


@dataclass(frozen=True)
class Unacked:
    """What Redis holds about fetched messages."""

    acks: Mapping[AckSet, frozenset[str]]  # each ack set's message ids
    heartbeats: Mapping[str, float]  # worker id → its last Dramatiq heartbeat, epoch seconds
    holding: Mapping[str, frozenset[str]]  # worker id → the ids it reports holding (workers alive)


@dataclass(frozen=True)
class Redelivery:
    """The ids to put back on each ack set's queue, and the suspects to remember until next time."""

    requeue: dict[AckSet, list[str]] = field(default_factory=dict)
    suspects: dict[str, float] = field(default_factory=dict)  # `suspect_key` → first seen unheld, seconds
    dead_workers: set[str] = field(default_factory=set)
    forget: set[str] = field(default_factory=set)  # dead workers that hold nothing


def suspect_key(worker: str, queue: str, message_id: str) -> str:
    return f"{worker} {queue} {message_id}"


def redeliver(
    seen: Unacked,
    suspects: Mapping[str, float],
    now: float,
    *,
    heartbeat_timeout_s: float,
    stranded_after_s: float,
) -> Redelivery:
    """What to requeue at `now` (epoch seconds), given the suspects remembered from earlier passes."""
    decision = Redelivery()
    for (worker, queue), ids in seen.acks.items():
        if not ids:
            continue
        if _dead(seen, worker, now, heartbeat_timeout_s):
            decision.dead_workers.add(worker)
            decision.requeue[(worker, queue)] = sorted(ids)
        elif worker in seen.holding:
            stranded = _stranded(
                decision, suspects, (worker, queue), ids - seen.holding[worker], now, stranded_after_s
            )
            if stranded:
                decision.requeue[(worker, queue)] = stranded
    holders = {worker for worker, _ in seen.acks}
    for worker in seen.heartbeats.keys() - holders:
        if _dead(seen, worker, now, heartbeat_timeout_s):
            decision.forget.add(worker)
    return decision


def _dead(seen: Unacked, worker: str, now: float, heartbeat_timeout_s: float) -> bool:
    """No report and no heartbeat within the timeout (a worker never heard of is dead too)."""
    beat = seen.heartbeats.get(worker)
    return worker not in seen.holding and (beat is None or now - beat > heartbeat_timeout_s)


def _stranded(
    decision: Redelivery,
    suspects: Mapping[str, float],
    ack_set: AckSet,
    unheld: frozenset[str],
    now: float,
    stranded_after_s: float,
) -> list[str]:
    """The unheld ids suspected for long enough; the others are remembered (since when) in `decision`."""
    stranded = []
    for message_id in sorted(unheld):
        key = suspect_key(*ack_set, message_id)
        since = suspects.get(key, now)
        if now - since >= stranded_after_s:
            stranded.append(message_id)
        else:
            decision.suspects[key] = since
    return stranded
