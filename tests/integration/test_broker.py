"""The embedded Redis, a real RedisBroker and Worker, and the JobRun middleware."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import dramatiq
import pytest
import redis
from dramatiq import Worker
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlmodel import select

from actors import broker as broker_module
from integrations.embedded_redis import EmbeddedRedis
from integrations.storage import database
from models import JobRun
from models.migrate import upgrade
from settings import get_settings
from tests.support import migrated

pytestmark = pytest.mark.db


@pytest.fixture
def real_broker(sightline_home, database_url, monkeypatch):
    """`setup_broker()` on this test's Redis and database; an embedded server it started is stopped."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    get_settings.cache_clear()
    migrated.copy_to(database_url)  # at head already (tests/support/migrated.py)
    upgrade(database(get_settings()).engine)
    monkeypatch.setattr(broker_module, "_embedded", None)
    broker = broker_module.setup_broker()
    yield broker
    broker.close()
    embedded = broker_module._embedded
    if embedded is not None:
        embedded.stop()


def answers(socket_file: str) -> bool:
    """Whether a server answers on `socket_file` (asked once: a dead socket is not retried)."""
    client = redis.Redis(
        unix_socket_path=socket_file, socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 0)
    )
    try:
        alive = bool(client.ping())
        # QUIT: the server drops this connection now, not when it next notices the socket closed.
        # Otherwise this nameless probe could still be listed when another process asks whether it
        # is the last one on the server, and that process would (rightly) leave the server running.
        client.execute_command("QUIT")
        return alive
    except (redis.ConnectionError, OSError):
        return False
    finally:
        client.close()


def job_runs() -> list[JobRun]:
    with database(get_settings()).sessions() as session:
        return list(session.exec(select(JobRun).order_by(JobRun.started_at)))


def test_a_real_worker_processes_a_message_and_a_job_run_is_written(real_broker):
    seen = []

    @dramatiq.actor(queue_name="default", max_retries=0, broker=real_broker)
    def remember(value):
        seen.append(value)

    @dramatiq.actor(queue_name="default", max_retries=0, broker=real_broker)
    def explode():
        raise ValueError("boom")

    worker = Worker(real_broker, worker_timeout=100, worker_threads=2)
    worker.start()
    try:
        message = remember.send(42)
        explode.send()
        real_broker.join("default", timeout=20_000)
        worker.join()
    finally:
        worker.stop()
    assert seen == [42]
    runs = {run.actor: run for run in job_runs()}
    assert runs["remember"].status == "succeeded"
    assert runs["remember"].message_id == message.message_id
    assert (runs["remember"].queue, runs["remember"].attempt) == ("default", 1)
    assert runs["explode"].status == "failed"
    assert runs["explode"].error == "ValueError: boom"


@pytest.mark.embedded_redis
def test_the_broker_really_uses_redis(real_broker):
    @dramatiq.actor(queue_name="parked", broker=real_broker)
    def parked():
        pass

    parked.send()
    client = real_broker.client
    assert client.llen(f"{get_settings().redis_namespace}:parked") == 1
    assert broker_module.embedded_redis_url().startswith("unix://")


def test_embedded_redis_stops_when_its_process_exits(tmp_path):
    script = textwrap.dedent(
        f"""
        from pathlib import Path
        from integrations.embedded_redis import EmbeddedRedis
        server = EmbeddedRedis(Path({str(tmp_path)!r}))
        server.client().set("alive", "yes")
        print(server.socket_file, flush=True)
        """
    )
    output = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    socket_file = output.stdout.strip().splitlines()[-1]
    deadline = time.monotonic() + 10
    while answers(socket_file) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not answers(socket_file), "the embedded redis-server outlived the process that started it"


def test_embedded_redis_stop_is_idempotent(tmp_path):
    server = EmbeddedRedis(tmp_path)
    assert server.running()
    server.stop()
    server.stop()


def test_processes_starting_together_share_one_embedded_redis(tmp_path):
    starts = [join_embedded_redis(tmp_path) for _ in range(3)]
    sockets = {process.stdout.readline().strip() for process in starts}
    assert len(sockets) == 1
    for process in starts:  # all leaving at once: still, the last one out stops the server
        process.stdin.close()
    for process in starts:
        assert process.wait(timeout=60) == 0
    assert not answers(sockets.pop())


def test_the_last_process_to_leave_stops_the_server_and_its_queued_messages_survive(tmp_path):
    server = EmbeddedRedis(tmp_path)
    server.client().rpush("queue", "message")
    other = join_embedded_redis(tmp_path)
    assert other.stdout.readline().strip() == server.socket_file
    server.stop()  # another process is connected: the server stays
    assert answers(server.socket_file)
    other.stdin.close()
    assert other.wait(timeout=60) == 0
    assert not answers(server.socket_file)  # the last one out stopped it, saving first
    again = EmbeddedRedis(tmp_path)
    try:
        assert again.client().lrange("queue", 0, -1) == [b"message"]
    finally:
        again.stop()


def join_embedded_redis(data_dir) -> subprocess.Popen:
    """Another process on the embedded Redis of `data_dir`: it prints the socket, then stays until its
    stdin is closed, and leaves as every process does (`EmbeddedRedis.stop` at exit)."""
    script = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from integrations.embedded_redis import EmbeddedRedis
        server = EmbeddedRedis(Path({str(data_dir)!r}))
        print(server.socket_file, flush=True)
        sys.stdin.read()
        """
    )
    return subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
