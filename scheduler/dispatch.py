"""Sending message ids to the workers' queues: the only thing the scheduler does with actors.

Actors of later issues (`run_action`, `group_signals`) may not be declared yet in this version;
their messages still go to their queues by name, where a worker that knows them will pick them up.
"""

from __future__ import annotations

from collections.abc import Iterable

import dramatiq
from dramatiq.errors import ActorNotFound

OBSERVE = ("observe", "observe_session")
RUN_ACTION = ("actions", "run_action")
GROUP_SIGNALS = ("signals", "group_signals")
DELIVER = ("deliver", "deliver")


class Dispatcher:
    def __init__(self, broker: dramatiq.Broker):
        self.broker = broker

    def send(self, route: tuple[str, str], *args) -> None:
        queue, actor_name = route
        try:
            self.broker.get_actor(actor_name).send(*args)
            return
        except ActorNotFound:
            pass
        self.broker.enqueue(
            dramatiq.Message(queue_name=queue, actor_name=actor_name, args=args, kwargs={}, options={})
        )

    def observe(self, observation_ids: Iterable[object]) -> int:
        count = 0
        for observation_id in observation_ids:
            self.send(OBSERVE, str(observation_id))
            count += 1
        return count
