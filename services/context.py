"""What a use case is given: the settings, the unit of work, and the adapters it may need.

Each process builds one `Deps` in its composition root (`cli/context.py`, `actors/broker.py`, the
scheduler, the API) and passes it to every use case it calls. The expensive adapters (Redis, the
broker, Gemini) are built on first use, so a command that needs none of them never pays for them.
The unit of work is `deps.transaction()`: one session, committed when the block ends, rolled back
when it raises.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sqlmodel import Session

from integrations.blobstore import BlobStore
from models.base import utcnow
from models.db import SessionFactory, session_scope
from pipeline.intake import Limits
from settings import Settings

if TYPE_CHECKING:
    import redis

    from integrations.gemini import GeminiGateway
    from integrations.queues import Sender


@dataclass
class Deps:
    """The settings and adapters of one process; see the module docstring."""

    settings: Settings
    sessions: SessionFactory
    blobs: BlobStore
    redis_factory: Callable[[], redis.Redis]
    sender_factory: Callable[[], Sender]
    clock: Callable[[], datetime] = utcnow
    _built: dict = field(default_factory=dict, repr=False)
    _building: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """The unit of work: commit at the end of the block, roll back if it raises."""
        with session_scope(self.sessions) as session:
            yield session

    def read(self) -> Session:
        """A session for reading only (`with deps.read() as session:`); nothing is committed."""
        return self.sessions()

    def now(self) -> datetime:
        return self.clock()

    def redis(self) -> redis.Redis:
        return self._once("redis", self.redis_factory)

    def sender(self) -> Sender:
        return self._once("sender", self.sender_factory)

    def gemini(self) -> GeminiGateway:
        """The process's Gemini gateway; `ConfigurationError` when no key is set."""
        from integrations.gemini import gemini_gateway

        return gemini_gateway(self.settings, self.redis)

    @property
    def limits(self) -> Limits:
        return Limits(self.settings.max_event_bytes, self.settings.max_recording_bytes)

    def _once(self, name: str, factory: Callable):
        """Build an adapter once, even when the API's threads ask for it at the same moment: a
        second Redis client would be dropped, and closing it closes its connections under whoever
        still reads from them."""
        if name not in self._built:
            with self._building:
                if name not in self._built:
                    self._built[name] = factory()
        return self._built[name]
