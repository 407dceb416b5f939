"""`sightline worker`: Dramatiq worker threads in this process, or in several child processes."""

from __future__ import annotations

import gc
import multiprocessing
import signal
import threading
from typing import TYPE_CHECKING

import structlog
import typer

from cli.context import friendly_errors
from cli.context import settings as current_settings

if TYPE_CHECKING:
    from settings import Settings

log = structlog.get_logger(__name__)
STOP_TIMEOUT_MS = 30_000
SIGNAL_CHECK_S = 0.5


@friendly_errors
def worker_command(
    processes: int = typer.Option(1, min=1, help="Worker processes."),
    threads: int = typer.Option(4, min=1, help="Threads per process."),
    queues: list[str] = typer.Option(None, "--queue", "-q", help="Only these queues (repeatable)."),
) -> None:
    """Run Dramatiq workers on REDIS_URL (or the embedded Redis) until Ctrl-C or SIGTERM."""
    run_worker(current_settings(), processes=processes, threads=threads, queues=queues or None)


def serve(
    settings: Settings, threads: int, queues: list[str] | None, stop: threading.Event | None = None
) -> None:
    """Run a worker until SIGINT/SIGTERM (or `stop` is set), then let running messages finish."""
    from dramatiq import Worker

    from actors.broker import embedded_redis_url, setup_broker
    from integrations.logs import configure_logging

    configure_logging(settings.log_level, settings.log_format)
    broker = setup_broker(settings)
    stop = stop or _stop_on_signals()
    worker = Worker(
        broker, worker_threads=threads, queues=set(queues) if queues else None, worker_timeout=1000
    )
    worker.start()
    _freeze_start_up_objects()
    log.info(
        "worker_started",
        threads=threads,
        queues=sorted(broker.get_declared_queues()),
        redis=settings.redis_url or embedded_redis_url(),
    )
    # Timed: the kernel may hand SIGTERM to one of the worker threads, and its handler (which sets
    # `stop`) runs only when the main thread wakes up; an untimed wait might never (seen 1 in 12).
    while not stop.wait(SIGNAL_CHECK_S):
        pass
    log.info("worker_stopping")
    worker.stop(timeout=STOP_TIMEOUT_MS)
    broker.close()


def _freeze_start_up_objects() -> None:
    """Move what start-up made (modules, actors, settings, the engine) out of the collector's sight.

    Decoding a large recording allocates enough objects to trigger full collections, and each one
    walked every object of the process (~140 ms a time): a render pass went from 6.75 s to 4.69 s.
    Frozen objects are never collected, so this runs once, after start-up, not per message.
    """
    gc.collect()
    gc.freeze()


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    return stop


def run_worker(settings: Settings, *, processes: int, threads: int, queues: list[str] | None) -> None:
    """One process serves in place; several share one Redis (the embedded one is started here)."""
    from actors.broker import embedded_redis_url, redis_client

    if processes == 1:
        serve(settings, threads, queues)
        return
    if not settings.redis_url:
        redis_client(settings)  # starts the embedded server, which lives as long as this process
        settings = settings.model_copy(update={"redis_url": embedded_redis_url()})
    context = multiprocessing.get_context("spawn")
    children = [context.Process(target=serve, args=(settings, threads, queues)) for _ in range(processes)]
    for child in children:
        child.start()
    stop = _stop_on_signals()
    while not stop.wait(1.0):
        if not any(child.is_alive() for child in children):
            break
    for child in children:
        if child.is_alive():
            child.terminate()
    for child in children:
        child.join()
