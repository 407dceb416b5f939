"""A heartbeat for held work: while a block runs, a thread renews what it holds (a row's lease, a
Redis lock) every third of the lease, so a lease can be short — it lapses soon after its worker
stops — however long the work itself takes.

    with heartbeat(lambda: renew(...), every_s=lease_s / 3, name="delivery-lease"):
        ...the work...

`renew` returns False when the hold was lost (taken over, finished): the heartbeat then stops. An
exception from `renew` (the database or Redis briefly away) is logged and tried again next beat;
the lease outlives two missed beats.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import structlog

log = structlog.get_logger(__name__)
BEATS_PER_LEASE = 3


@contextmanager
def heartbeat(renew: Callable[[], bool], *, every_s: float, name: str, **context: object) -> Iterator[None]:
    """Call `renew` every `every_s` seconds until the block ends, or `renew` says the hold is lost."""
    stop = threading.Event()
    keeper = threading.Thread(
        target=_beat, args=(renew, every_s, stop, name, context), name=name, daemon=True
    )
    keeper.start()
    try:
        yield
    finally:
        stop.set()  # a renewal still in flight is harmless: every renewal is fenced by its holder


def _beat(renew: Callable[[], bool], every_s: float, stop: threading.Event, name: str, context: dict) -> None:
    while not stop.wait(every_s):
        try:
            held = renew()
        except Exception as exc:  # any store error: try again next beat
            log.warning("lease_not_renewed", lease=name, error=type(exc).__name__, **context)
            continue
        if not held:
            if not stop.is_set():
                log.warning("lease_lost", lease=name, **context)
            return
