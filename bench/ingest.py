"""Live ingest throughput through uvicorn, against a bare endpoint that only reads the same bodies.

Run: `.venv/bin/python -m bench.ingest [--batches 100] [--per-session 20]`
(PostgreSQL: set `DATABASE_URL=postgresql+psycopg://…`; the bench works in a schema of its own).

The events are a real recording's (../shared/recordings), cut into batches of 50 in their order.
Eight client threads (keep-alive connections) each send `--batches` batches with a project ingest
token; each client records one session for `--per-session` batches (1,000 events by default, a few
minutes of a busy page) and then starts another, as recorders in eight browser tabs would. The same
bodies first go to `POST /bench/bare`, which reads each body and answers a constant. Targets: batches/s
at least 0.5 of the bare endpoint's, and p99 batch latency under 100 ms. No worker runs during the
load; afterwards the waiting batches are merged into their recordings in this process (one
thread), timed separately: that is the work `compact_recording` does.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx
import orjson

from bench.api import _database_name, _environment, _free_port, serve
from bench.common import command_line, recordings

CLIENTS = 8
EVENTS_PER_BATCH = 50
RECORDING = "posthog-homepage.json"

SERVER = """
import sys, uvicorn
from fastapi import Request
from api.server import app_factory
app = app_factory()

@app.post("/bench/bare")
async def bare(request: Request):
    await request.body()
    return {"status": "ok"}

app.get("/bench/ready")(lambda: {"status": "ok"})
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
"""


def real_events() -> list[dict]:
    from integrations.recording_files import read_recording
    from pipeline.intake import Limits

    path = next((p for p in recordings() if p.name == RECORDING), recordings()[0])
    with read_recording(path, Limits(64 * 2**20, 512 * 2**20)) as parsed:
        events = [event for _, event in parsed.pairs]
    return sorted(events, key=lambda event: event["timestamp"])


def bodies(events: list[dict], client: int, batches: int, per_session: int) -> list[bytes]:
    """The batches one client sends, in order: a new session every `per_session` batches."""
    out, session = [], ""
    for index in range(batches):
        if index % per_session == 0:
            session = f"bench-{client}-{uuid.uuid4().hex[:8]}"
        start = (index % per_session) * EVENTS_PER_BATCH % max(1, len(events) - EVENTS_PER_BATCH)
        batch = {
            "session_id": session,
            "window_id": "w1",
            "distinct_id": f"person-{client}",
            "batch_id": uuid.uuid4().hex,
            "events": events[start : start + EVENTS_PER_BATCH],
        }
        out.append(orjson.dumps(batch))
    return out


def load(url: str, token: str, work: list[list[bytes]]) -> tuple[list[float], float]:
    """(latencies in ms, batches per second) of one thread per client sending its bodies."""
    latencies: list[float] = []
    lock = threading.Lock()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def client(mine_bodies: list[bytes]) -> None:
        mine = []
        with httpx.Client(headers=headers, timeout=60) as http:
            for body in mine_bodies:
                began = time.perf_counter()
                response = http.post(url, content=body)
                mine.append((time.perf_counter() - began) * 1000)
                assert response.status_code == 200, response.text[:300]
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(each,)) for each in work]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, len(latencies) / (time.perf_counter() - began)


def seed() -> str:
    from actors.broker import process_deps
    from services.ingest import create_token
    from services.setup import initialise
    from settings import get_settings

    deps = process_deps(get_settings())
    team_id = initialise(deps).team_id
    return create_token(deps, team_id, "bench").secret


def row(name: str, latencies: list[float], rate: float, bare_rate: float) -> str:
    cuts = statistics.quantiles(latencies, n=100)
    ratio = rate / bare_rate if bare_rate else 0.0
    events = rate * EVENTS_PER_BATCH
    return f"{name:34} {cuts[49]:>7.1f} {cuts[98]:>7.1f} {rate:>9.0f} {events:>9.0f} {ratio:>6.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=100, help="per client")
    parser.add_argument("--per-session", type=int, default=20, help="batches per session")
    args = parser.parse_args()
    print(f"$ {command_line()} --batches {args.batches} --per-session {args.per_session}")
    events = real_events()
    with tempfile.TemporaryDirectory() as folder:
        environment = _environment(Path(folder))
        environment["SIGHTLINE_INGEST_RATE_LIMIT"] = "100000000/minute"
        os.environ.update(environment)
        token = seed()
        port = _free_port()
        server = serve(port, environment, SERVER, "/bench/ready")
        try:
            base = f"http://127.0.0.1:{port}"
            ingest = f"{base}/api/environments/1/recordings/ingest"
            warm = [bodies(events, c, 3, args.per_session) for c in range(CLIENTS)]
            load(ingest, token, warm)
            load(f"{base}/bench/bare", token, warm)
            work = [bodies(events, c, args.batches, args.per_session) for c in range(CLIENTS)]
            size = statistics.mean(len(body) for each in work for body in each) / 1024
            print(
                f"database: {_database_name()}; {CLIENTS} clients × {args.batches} batches of "
                f"{EVENTS_PER_BATCH} events ({size:.0f} KiB on average), from {RECORDING}"
            )
            print(
                f"{'endpoint':34} {'p50 ms':>7} {'p99 ms':>7} {'batches/s':>9} {'events/s':>9} {'ratio':>6}"
            )
            bare_latencies, bare_rate = load(f"{base}/bench/bare", token, work)
            print(row("bare (reads the body)", bare_latencies, bare_rate, bare_rate))
            latencies, rate = load(ingest, token, work)
            print(row("ingest (stored, durable)", latencies, rate, bare_rate))
        finally:
            server.terminate()
            server.wait(timeout=30)
        sessions, seconds = merge_all(work)
    events = sum(len(each) for each in work) * EVENTS_PER_BATCH
    print(
        f"then merged in one worker thread: {sessions} sessions, {events} events in {seconds:.1f} s "
        f"({events / seconds:.0f} events/s, {sessions / seconds:.1f} sessions/s)"
    )
    print("ratio = batches/s ÷ the bare endpoint's; targets: ratio ≥ 0.5, p99 < 100 ms")


def merge_all(work: list[list[bytes]]) -> tuple[int, float]:
    """Merge every session the load left waiting, as the `compact_recording` actor does (no worker
    ran during the load, so each session's batches are merged once, all together)."""
    from actors.broker import process_deps
    from services.ingest import merge_waiting
    from settings import get_settings

    get_settings.cache_clear()
    deps = process_deps(get_settings())
    sessions = sorted({orjson.loads(body)["session_id"] for each in work for body in each})
    began = time.perf_counter()
    for session_id in sessions:
        merge_waiting(deps, 1, session_id)
    return len(sessions), time.perf_counter() - began


if __name__ == "__main__":
    main()
