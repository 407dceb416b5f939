"""The one place the broker is built (STYLE §5), and the composition root of a process's use cases.

`setup_broker()` makes a `RedisBroker` on `REDIS_URL`, or on an embedded redis-server when it is
unset, adds the JobRun middleware, sets it as Dramatiq's global broker and only then imports the
actor modules, because a Dramatiq actor binds to the global broker when it is declared.
`process_deps()` gives the `Deps` every use case of this process is called with.

Dramatiq, redis-py and the embedded server are imported when first used: a CLI command that only
reads the database never loads them (`tests/unit/test_cli_startup.py`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

import structlog

from integrations.blobstore import blob_store
from integrations.storage import database
from pipeline.names import BROKER_HEARTBEAT_TIMEOUT_MS
from services.context import Deps
from settings import Settings, get_settings

if TYPE_CHECKING:
    import redis
    from dramatiq.brokers.redis import RedisBroker

    from integrations.embedded_redis import EmbeddedRedis

log = structlog.get_logger(__name__)

# Modules that declare actors; later issues add theirs here.
ACTOR_MODULES: tuple[str, ...] = (
    "actors.observe",
    "actors.signals",
    "actors.actions",
    "actors.ingest",
    "actors.evaluations",
    "actors.scouts",
)

_embedded: EmbeddedRedis | None = None
_broker: tuple[Settings, RedisBroker] | None = None
_deps: Deps | None = None


def redis_client(settings: Settings) -> redis.Redis:
    """A client for `REDIS_URL`, or for this process's embedded server (started on first use)."""
    import redis

    from integrations.embedded_redis import EmbeddedRedis

    global _embedded
    if settings.redis_url:
        return redis.Redis.from_url(settings.redis_url)
    if _embedded is None:
        _embedded = EmbeddedRedis(settings.home / "redis")
        log.debug("embedded_redis_started", socket=_embedded.socket_file)
    return _embedded.client()


def embedded_redis_url() -> str | None:
    """The `unix://` URL of the embedded server, for child processes; None when not running."""
    return _embedded.url if _embedded is not None else None


def setup_broker(settings: Settings | None = None) -> RedisBroker:
    """Build the broker, make it Dramatiq's global broker, then declare every actor."""
    import dramatiq
    from dramatiq.brokers.redis import RedisBroker
    from dramatiq.middleware import CurrentMessage

    from actors.jobruns import JobRunMiddleware
    from actors.presence import WorkerPresence

    settings = settings or get_settings()
    client = redis_client(settings)
    # The scheduler's reaper requeues a dead worker's unacknowledged messages (`pipeline.redelivery`)
    # by the same heartbeat timeout; Dramatiq's own maintenance (a 0.1% chance per command) stays
    # on as a backstop.
    timeout = BROKER_HEARTBEAT_TIMEOUT_MS
    broker = RedisBroker(client=client, namespace=settings.redis_namespace, heartbeat_timeout=timeout)
    broker.add_middleware(CurrentMessage())
    broker.add_middleware(WorkerPresence(client, settings.redis_namespace))
    broker.add_middleware(JobRunMiddleware(database(settings).sessions, client, settings.redis_namespace))
    dramatiq.set_broker(broker)
    for name in ACTOR_MODULES:
        _bind_actors(importlib.import_module(name), broker)
    global _broker
    _broker = (settings, broker)
    return broker


def broker_for(settings: Settings) -> RedisBroker:
    """This process's broker for `settings`, set up on first use."""
    if _broker is not None and _broker[0] is settings:
        return _broker[1]
    return setup_broker(settings)


def process_deps(settings: Settings | None = None) -> Deps:
    """The `Deps` of this process (rebuilt when the settings object changes, as tests do)."""
    global _deps
    settings = settings or get_settings()
    if _deps is None or _deps.settings is not settings:
        _deps = Deps(
            settings=settings,
            sessions=database(settings).sessions,
            blobs=blob_store(settings),
            redis_factory=lambda: redis_client(settings),
            sender_factory=lambda: _sender(settings),
        )
    return _deps


def _sender(settings: Settings):
    from integrations.queues import Sender

    return Sender(broker_for(settings))


def _bind_actors(module, broker: RedisBroker) -> None:
    """Declare a module's actors on `broker`: a module imported once keeps actors bound to the first
    broker of the process, and a process (a test run, say) may build several."""
    import dramatiq

    for value in vars(module).values():
        if isinstance(value, dramatiq.Actor) and value.broker is not broker:
            value.broker = broker
            broker.declare_actor(value)
