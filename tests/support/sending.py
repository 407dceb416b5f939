"""A `Sender` that keeps its messages (the fake of the queue port), for tests that call a use case
themselves while a real worker runs: the messages the use case sends are recorded, not handed to
that worker, so nothing else acts on the same rows meanwhile."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from pipeline.names import Route
from services.context import Deps


class RecordingSender:
    def __init__(self) -> None:
        self.sent: list[tuple[str, tuple[object, ...], int | None]] = []

    def send(self, route: Route, *args: object, delay_ms: int | None = None, **options: object) -> None:
        self.sent.append((route.actor, args, delay_ms))

    def send_each(self, route: Route, ids: Iterable[object]) -> int:
        count = 0
        for item in ids:
            self.send(route, str(item))
            count += 1
        return count

    def to(self, actor: str) -> list[object]:
        """The first argument of every message sent to `actor`, in order."""
        return [args[0] for name, args, _ in self.sent if name == actor]


def quiet(deps: Deps) -> tuple[Deps, RecordingSender]:
    """A copy of `deps` whose messages are recorded instead of sent, and the recorder."""
    sender = RecordingSender()
    return dataclasses.replace(deps, sender_factory=lambda: sender, _built={}), sender
