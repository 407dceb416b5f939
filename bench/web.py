"""Page speed in the headless browser, and the /metrics scrape, with a large database.

Run: `.venv/bin/python -m bench.web [--observations 100000] [--reports 10000] [--loads 20]`
(PostgreSQL: set `DATABASE_URL=postgresql+psycopg://…`, as for `bench.api`).

The database of `bench.api` (that many observations of 20 scanners and reports), as many actor
attempts in the job history, and one stored recording with an observation citing a moment of it.
`sightline api` runs under uvicorn in a child process; Debian's Chromium (headless, through
Playwright) signs in as an operator and loads the observation page (with its replay), the reports
inbox, the operators' dashboard and the job history `--loads` times each. From the Navigation
Timing of each load: time to first byte (request start to response start) and DOMContentLoaded.
The scrape of `/metrics` is timed with an HTTP client.
Targets: TTFB < 100 ms, DOMContentLoaded < 1 s, scrape < 50 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bench.api import _database_name, _environment, _free_port, seed, serve
from bench.common import command_line

PASSWORD = "bench password 123"
SESSION = "scenario-checkout-js-error"


def add_observed_recording() -> str:
    """Store the checkout scenario and a succeeded observation of it that cites t=25; its id."""
    from sqlmodel import select

    from actors.broker import process_deps
    from models import Observation, Scanner
    from scenarios.catalog import build
    from services.auth import create_key, create_user
    from services.recordings import store_events
    from settings import get_settings

    deps = process_deps(get_settings())
    store_events(deps, 1, SESSION, build("checkout-js-error").events)
    create_user(deps, "ops@bench.local", password=PASSWORD, operator=True)
    key = create_key(deps, "metrics", ["*"], email="ops@bench.local").secret
    with deps.transaction() as session:
        scanner = session.exec(select(Scanner)).first()
        assert scanner is not None
        observation = Observation(
            id=uuid.uuid4(),
            team_id=1,
            scanner_id=scanner.id,
            session_id=SESSION,
            status="succeeded",
            workflow_id=f"observe-{scanner.id}-{SESSION}",
            scanner_snapshot={"name": scanner.name, "scanner_type": "monitor", "scanner_version": 1},
            scanner_result={
                "model_output": {
                    "reasoning": "Pay threw an error (t 25).",
                    "verdict": "yes",
                    "evidence": {"citations": [25.0], "supported": [25.0], "unsupported": []},
                }
            },
            result_verdict="yes",
            created_at=datetime.now(UTC),
            completed_at=datetime.now(UTC),
        )
        session.add(observation)
    os.environ["BENCH_METRICS_KEY"] = key
    return str(observation.id)


def add_job_history(count: int) -> None:
    """One actor attempt per observation (a fifth of them failed), so /metrics and /ops/jobs read a
    history as long as a busy month's."""
    from actors.broker import process_deps
    from models import JobRun
    from models.base import table_of
    from settings import get_settings

    deps = process_deps(get_settings())
    now = datetime.now(UTC)
    rows = [
        {
            "id": uuid.uuid4(),
            "message_id": uuid.uuid4().hex,
            "actor": ("observe_session", "run_action", "deliver", "group_signals")[index % 4],
            "queue": "observe",
            "attempt": 1,
            "status": "failed" if index % 5 == 0 else "succeeded",
            "started_at": now,
            "finished_at": now,
            "duration_ms": float(index % 900),
            "error": "ProviderRejected: refused" if index % 5 == 0 else None,
            "tokens": None,
        }
        for index in range(count)
    ]
    with deps.transaction() as session:
        for start in range(0, count, 5_000):
            session.connection().execute(table_of(JobRun).insert(), rows[start : start + 5_000])


def browse(base: str, paths: dict[str, str], loads: int) -> dict[str, tuple[list[float], list[float]]]:
    from tests.support.browser import browser_page, chromium_or_skip

    timings: dict[str, tuple[list[float], list[float]]] = {}
    with browser_page(chromium_or_skip()) as page:
        page.goto(base + "/signin")
        page.fill("input[name=email]", "ops@bench.local")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(base + "/")
        for name, path in paths.items():
            first_byte, loaded = [], []
            for index in range(loads + 2):
                page.goto(base + path, wait_until="domcontentloaded")
                timing = page.evaluate(
                    "(() => { const t = performance.getEntriesByType('navigation')[0]; return"
                    " [t.responseStart - t.requestStart, t.domContentLoadedEventEnd - t.startTime]; })()"
                )
                if index >= 2:  # two warm-up loads
                    first_byte.append(timing[0])
                    loaded.append(timing[1])
            timings[name] = (first_byte, loaded)
    return timings


def scrape(base: str, count: int) -> list[float]:
    headers = {"Authorization": f"Bearer {os.environ['BENCH_METRICS_KEY']}"}
    took = []
    with httpx.Client(base_url=base, headers=headers) as client:
        for index in range(count + 2):
            began = time.perf_counter()
            response = client.get("/metrics")
            assert response.status_code == 200, response.text[:200]
            if index >= 2:
                took.append((time.perf_counter() - began) * 1000)
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--observations", type=int, default=100_000)
    parser.add_argument("--reports", type=int, default=10_000)
    parser.add_argument("--loads", type=int, default=20)
    args = parser.parse_args()
    sizes = f"--observations {args.observations} --reports {args.reports} --loads {args.loads}"
    print(f"$ {command_line()} {sizes}")
    with tempfile.TemporaryDirectory() as folder:
        environment = _environment(Path(folder))
        os.environ.update(environment)
        seed(args.observations, args.reports)
        observation_id = add_observed_recording()
        add_job_history(args.observations)
        port = _free_port()
        server = serve(port, environment)
        try:
            base = f"http://127.0.0.1:{port}"
            paths = {
                "observation (with its replay)": f"/observations/{observation_id}",
                "reports inbox": "/reports",
                "operators' dashboard": "/ops",
                "job history": "/ops/jobs",
            }
            timings = browse(base, paths, args.loads)
            scrapes = scrape(base, args.loads)
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(f"database: {_database_name()}; Debian's Chromium, headless; {args.loads} loads per page")
    print(f"{'page':32} {'TTFB p50':>9} {'TTFB max':>9} {'DCL p50':>8} {'DCL max':>8}  (ms)")
    for name, (first_byte, loaded) in timings.items():
        print(
            f"{name:32} {statistics.median(first_byte):>9.1f} {max(first_byte):>9.1f}"
            f" {statistics.median(loaded):>8.1f} {max(loaded):>8.1f}"
        )
    print(f"{'/metrics scrape':32} {statistics.median(scrapes):>9.1f} {max(scrapes):>9.1f}")
    print("targets: TTFB < 100 ms, DOMContentLoaded (DCL) < 1000 ms, /metrics < 50 ms")


if __name__ == "__main__":
    main()
