"""API list latency and throughput through uvicorn, against a bare endpoint of the same server.

Run: `.venv/bin/python -m bench.api [--observations 100000] [--reports 10000] [--requests 400]`
(PostgreSQL: set `DATABASE_URL=postgresql+psycopg://…`; the bench works in a schema of its own).

One database holds that many observations (of 20 scanners, a quarter of them failed) and reports.
`sightline api` code is served by uvicorn in a child process with one extra route, `GET /bench/bare`,
returning a constant. Four client threads (keep-alive connections) each send `--requests` requests
to one endpoint at a time: a page of 100 observations filtered by scanner and status, a page of 100
reports, and the bare endpoint. Targets: p99 < 50 ms for a page of 100; requests/s of each list at
least 0.3 of the bare endpoint's.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import sqlalchemy as sa

from bench.common import ROOT, command_line

CLIENTS = 4
SCANNERS = 20
BATCH = 5_000


def seed(observations: int, reports: int) -> tuple[str, str]:
    """Fill the database; (a key with every scope, a scanner id to filter by)."""
    from actors.broker import process_deps
    from models import Observation, Scanner, SignalReport
    from models.base import table_of
    from services.auth import create_key
    from services.setup import initialise
    from settings import get_settings

    deps = process_deps(get_settings())
    team_id = initialise(deps).team_id
    now = datetime.now(UTC)
    scanner_rows = [_scanner(team_id, index, now) for index in range(SCANNERS)]
    with deps.transaction() as session:
        session.connection().execute(table_of(Scanner).insert(), scanner_rows)
        for start in range(0, observations, BATCH):
            rows = [
                _observation(team_id, scanner_rows, index, now)
                for index in range(start, min(start + BATCH, observations))
            ]
            session.connection().execute(table_of(Observation).insert(), rows)
        for start in range(0, reports, BATCH):
            rows = [_report(team_id, index, now) for index in range(start, min(start + BATCH, reports))]
            session.connection().execute(table_of(SignalReport).insert(), rows)
    with deps.transaction() as session:
        if session.get_bind().dialect.name == "postgresql":  # as autovacuum would after a bulk load
            session.connection().execute(sa.text("ANALYZE"))
    return create_key(deps, "bench", ["*"]).secret, str(scanner_rows[0]["id"])


def _scanner(team_id: int, index: int, now: datetime) -> dict:
    return {
        "id": uuid.uuid4(),
        "team_id": team_id,
        "name": f"bench scanner {index}",
        "description": "",
        "scanner_type": "monitor",
        "scanner_config": {"prompt": "Rage?", "rule": "rage_click"},
        "query": {},
        "sampling_rate": 1.0,
        "provider": "heuristic",
        "model": "heuristic",
        "enabled": False,
        "emits_signals": False,
        "scanner_version": 1,
        "created_at": now,
        "updated_at": now,
    }


def _observation(team_id: int, scanners: list[dict], index: int, now: datetime) -> dict:
    scanner = scanners[index % SCANNERS]
    failed = (index // SCANNERS) % 4 == 0  # a quarter of each scanner's
    created = now - timedelta(seconds=index)
    return {
        "id": uuid.uuid4(),
        "team_id": team_id,
        "scanner_id": scanner["id"],
        "session_id": f"s-{index:07}",
        "status": "failed" if failed else "succeeded",
        "workflow_id": f"observe-{scanner['id']}-s-{index:07}",
        "error_reason": "provider_rejected:refused" if failed else None,
        "scanner_snapshot": {
            "name": scanner["name"],
            "scanner_type": "monitor",
            "scanner_version": 1,
            "model": "heuristic",
            "provider": "heuristic",
            "emits_signals": False,
            "scanner_config": scanner["scanner_config"],
        },
        "scanner_result": None
        if failed
        else {
            "model_output": {"reasoning": "No rage (t 3).", "verdict": "no", "confidence": 0.8},
            "signals_count": 0,
        },
        "result_verdict": None if failed else random.choice(("yes", "no")),
        "triggered_by": "schedule",
        "send_count": 1,
        "created_at": created,
        "started_at": created,
        "completed_at": created,
    }


def _report(team_id: int, index: int, now: datetime) -> dict:
    moment = now - timedelta(minutes=index)
    return {
        "id": uuid.uuid4(),
        "team_id": team_id,
        "title": f"Report {index}",
        "summary": "Pay fails.",
        "status": random.choice(("potential", "ready", "candidate")),
        "total_weight": 0.5 + index % 3,
        "signal_count": 1 + index % 5,
        "signals_at_run": 3,
        "run_count": 0,
        "created_at": moment,
        "updated_at": moment,
    }


def load(url: str, key: str, requests: int) -> tuple[list[float], float]:
    """(latencies in ms, requests per second) of `CLIENTS` threads sending `requests` each."""
    latencies: list[float] = []
    lock = threading.Lock()

    def client() -> None:
        mine = []
        with httpx.Client(headers={"Authorization": f"Bearer {key}"}, timeout=30) as http:
            for _ in range(requests):
                began = time.perf_counter()
                response = http.get(url)
                mine.append((time.perf_counter() - began) * 1000)
                assert response.status_code == 200, response.text[:300]
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, len(latencies) / (time.perf_counter() - began)


def serve(
    port: int, environment: dict[str, str], code: str = "", ready: str = "/bench/bare"
) -> subprocess.Popen:
    """uvicorn in a child process running `code` (default: the app and the bare endpoint); waits
    until `ready` answers."""
    server = subprocess.Popen(
        [sys.executable, "-c", code or SERVER, str(port)],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=open(os.environ.get("BENCH_SERVER_LOG", os.devnull), "w"),  # noqa: SIM115
    )
    for _ in range(200):
        try:
            if httpx.get(f"http://127.0.0.1:{port}{ready}", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.05)
    server.kill()
    raise SystemExit("the API did not start")


SERVER = """
import sys, uvicorn
from api.server import app_factory
app = app_factory()
app.get("/bench/bare")(lambda: {"status": "ok"})
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
"""


def row(name: str, latencies: list[float], rate: float, bare_rate: float) -> str:
    cuts = statistics.quantiles(latencies, n=100)
    ratio = rate / bare_rate if bare_rate else 0.0
    return f"{name:44} {cuts[49]:>7.1f} {cuts[98]:>7.1f} {rate:>8.0f} {ratio:>6.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--observations", type=int, default=100_000)
    parser.add_argument("--reports", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=400, help="per client and endpoint")
    args = parser.parse_args()
    sizes = f"--observations {args.observations} --reports {args.reports} --requests {args.requests}"
    print(f"$ {command_line()} {sizes}")
    with tempfile.TemporaryDirectory() as folder:
        environment = _environment(Path(folder))
        os.environ.update(environment)
        key, scanner_id = seed(args.observations, args.reports)
        port = _free_port()
        server = serve(port, environment)
        try:
            base = f"http://127.0.0.1:{port}"
            endpoints = {
                "bare endpoint (a constant)": "/bench/bare",
                "observations of a scanner, failed, page of 100": (
                    f"/api/environments/1/vision/scanners/{scanner_id}/observations?status=failed&limit=100"
                ),
                "observations of a scanner, all, page 30": (
                    f"/api/environments/1/vision/scanners/{scanner_id}/observations?limit=100&offset=2900"
                ),
                "reports, page of 100": "/api/projects/1/signals/reports?limit=100",
            }
            print(f"database: {_database_name()}; {CLIENTS} clients × {args.requests} requests per endpoint")
            print(f"{'endpoint':44} {'p50 ms':>7} {'p99 ms':>7} {'req/s':>8} {'ratio':>6}")
            bare_rate = 0.0
            for name, path in endpoints.items():
                load(base + path, key, 20)  # warm up
                latencies, rate = load(base + path, key, args.requests)
                bare_rate = bare_rate or rate
                print(row(name, latencies, rate, bare_rate))
        finally:
            server.terminate()
            server.wait(timeout=30)
    print("ratio = requests/s ÷ the bare endpoint's; targets: p99 < 50 ms for a page of 100, ratio ≥ 0.3")


def _environment(folder: Path) -> dict[str, str]:
    environment = {
        **os.environ,
        "SIGHTLINE_HOME": str(folder / "home"),
        "SIGHTLINE_LOG_LEVEL": "WARNING",
        "SIGHTLINE_API_RATE_LIMIT": "100000000/minute",
        "PYTHONPATH": str(ROOT),
    }
    environment.pop("REDIS_URL", None)
    database_url = os.environ.get("DATABASE_URL")
    if database_url:
        environment["DATABASE_URL"] = _own_schema(database_url)
    return environment


def _own_schema(database_url: str) -> str:
    """A fresh schema on the server for this run (first on the search path), so nothing else is touched."""
    import sqlalchemy as sa

    schema = f"bench_api_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    url = sa.make_url(database_url).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


def _database_name() -> str:
    return "PostgreSQL" if os.environ.get("DATABASE_URL") else "SQLite"


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


if __name__ == "__main__":
    main()
