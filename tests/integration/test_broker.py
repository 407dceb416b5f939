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
from sqlmodel import select

from actors import broker as broker_module
from integrations.embedded_redis import EmbeddedRedis
from integrations.storage import database
from models import JobRun
from models.migrate import upgrade
from settings import get_settings

pytestmark = pytest.mark.db


@pytest.fixture
def real_broker(sightline_home, database_url, monkeypatch):
    """`setup_broker()` on the embedded Redis and this test's database; stopped afterwards."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SIGHTLINE_REDIS_NAMESPACE", "test-broker")
    get_settings.cache_clear()
    upgrade(database(get_settings()).engine)
    monkeypatch.setattr(broker_module, "_embedded", None)
    broker = broker_module.setup_broker()
    yield broker
    broker.close()
    embedded = broker_module._embedded
    if embedded is not None:
        embedded.stop()


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


def test_the_broker_really_uses_redis(real_broker):
    @dramatiq.actor(queue_name="parked", broker=real_broker)
    def parked():
        pass

    parked.send()
    client = real_broker.client
    assert client.llen("test-broker:parked") == 1
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
    while time.monotonic() < deadline:
        try:
            redis.Redis(unix_socket_path=socket_file, socket_connect_timeout=0.5).ping()
        except (redis.ConnectionError, FileNotFoundError, OSError):
            return
        time.sleep(0.2)
    pytest.fail("the embedded redis-server outlived the process that started it")


def test_embedded_redis_stop_is_idempotent(tmp_path):
    server = EmbeddedRedis(tmp_path)
    assert server.running()
    server.stop()
    server.stop()


def test_processes_starting_together_share_one_embedded_redis(tmp_path):
    script = textwrap.dedent(
        f"""
        from pathlib import Path
        from integrations.embedded_redis import EmbeddedRedis
        server = EmbeddedRedis(Path({str(tmp_path)!r}))
        print(server.socket_file, flush=True)
        import time; time.sleep(2)
        """
    )
    starts = [
        subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True) for _ in range(3)
    ]
    sockets = {process.stdout.readline().strip() for process in starts}
    for process in starts:
        process.wait(timeout=60)
    assert len(sockets) == 1
