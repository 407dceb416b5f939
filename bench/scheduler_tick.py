"""Scheduler tick cost against data size: the work should follow new sessions, not history.

Run: `.venv/bin/python -m bench.scheduler_tick [--rounds 3] [--sizes 100000 200000]`
(on PostgreSQL: set `DATABASE_URL=postgresql+psycopg://…/db`; each size gets its own schema).

Per size, one database holds that many older recordings (spread over the year before the
scanners' watermark), 200 enabled heuristic scanners (sampling 2%; half ask for `/checkout`
sessions) and 1,000 new settled sessions after the watermark. One tick is timed: every scanner
is due, so it sweeps all 200, inserts and sends their observations, checks actions and runs the
reapers. Between rounds the observations are deleted and the watermarks rewound. In-flight caps
are raised for the run so every sampled session is taken (with the default 300-per-team cap a
tick does far less). Estimates are marked fresh, as saving a scanner does: their daily refresh
reads 30 days of history by design and is not part of this measure. Target: larger/smaller
≤ 1.1, and the tick well under the 10 s interval.

Backlog (issue #16): 1,000 enabled scanners whose last sweep stopped "full", none due for its slot,
each with 100 wanted sessions left and free headroom. One tick is timed: the top-up stage shares
its per-tick bound among them (`services.sweeps.TOP_UP_PER_TICK`). Target: tick < 2 s.
`--only backlog` (or `history`) runs one part.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.common import command_line

SCANNERS = 200
NEW_SESSIONS = 1_000
BATCH = 5_000


def _env(home: Path, namespace: str) -> None:
    os.environ.update(
        SIGHTLINE_HOME=str(home),
        SIGHTLINE_REDIS_NAMESPACE=namespace,
        SIGHTLINE_IN_FLIGHT_PER_SCANNER="100000",
        SIGHTLINE_IN_FLIGHT_PER_TEAM="100000",
        SIGHTLINE_LOG_LEVEL="WARNING",
    )
    os.environ.pop("REDIS_URL", None)


def _recording_rows(team_id: int, count: int, *, first_end: datetime, last_end: datetime, prefix: str):
    span = (last_end - first_end).total_seconds()
    for index in range(count):
        end = first_end + timedelta(seconds=span * index / max(count - 1, 1))
        page = "https://shop.example/checkout" if index % 2 else "https://shop.example/"
        yield {
            "id": uuid.uuid4(),
            "team_id": team_id,
            "session_id": f"{prefix}-{index:07}",
            "distinct_id": None,
            "start_time": end - timedelta(minutes=3),
            "end_time": end,
            "duration_s": 180.0,
            "active_s": 60.0,
            "click_count": 5,
            "keypress_count": 0,
            "console_error_count": index % 3 == 0,
            "start_url": page,
            "urls": [page],
            "viewport": None,
            "device_type": "desktop",
            "custom_events": None,
            "event_count": 200,
            "size_bytes": 10_000,
            "blob_ref": "unused",
            "last_ingested_at": end,
            "created_at": end,
        }


class Setup:
    def __init__(self, size: int, database_url: str | None, root: Path):
        import sqlalchemy as sa

        from integrations.storage import database
        from models import Recording, Scanner, session_scope
        from models.migrate import upgrade
        from models.queries import ensure_defaults
        from settings import Settings

        self.size = size
        home = root / f"size-{size}"
        self.namespace = f"bench-tick-{size}-{uuid.uuid4().hex[:6]}"
        url = database_url
        if database_url:
            schema = f"bench_tick_{size}_{uuid.uuid4().hex[:6]}"
            admin = sa.create_engine(database_url)
            with admin.begin() as connection:
                connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
            admin.dispose()
            url = sa.make_url(database_url).update_query_dict({"options": f"-csearch_path={schema}"})
            url = url.render_as_string(hide_password=False)
        self.settings = Settings(
            SIGHTLINE_HOME=home,
            DATABASE_URL=url,
            SIGHTLINE_REDIS_NAMESPACE=self.namespace,
            SIGHTLINE_IN_FLIGHT_PER_SCANNER=100_000,
            SIGHTLINE_IN_FLIGHT_PER_TEAM=100_000,
        )
        self.db = database(self.settings)
        upgrade(self.db.engine)
        now = datetime.now(UTC)
        self.watermark = now - timedelta(hours=2)
        with session_scope(self.db.sessions) as session:
            self.team_id = ensure_defaults(session)[1].id
        started = time.perf_counter()
        rows = _recording_rows(
            self.team_id,
            size,
            first_end=self.watermark - timedelta(days=365),
            last_end=self.watermark - timedelta(minutes=1),
            prefix="old",
        )
        self._insert(Recording, rows)
        new = _recording_rows(
            self.team_id,
            NEW_SESSIONS,
            first_end=self.watermark + timedelta(minutes=1),
            last_end=now - timedelta(hours=1),
            prefix="new",
        )
        self._insert(Recording, new)
        with session_scope(self.db.sessions) as session:
            for index in range(SCANNERS):
                session.add(
                    Scanner(
                        # The same ids for every size: the same sample, so both databases do the same work.
                        id=uuid.uuid5(uuid.NAMESPACE_URL, f"sightline-bench-{index}"),
                        team_id=self.team_id,
                        name=f"bench-{index:03}",
                        scanner_type="monitor",
                        provider="heuristic",
                        model="heuristic",
                        scanner_config={"prompt": "Rage?", "rule": "rage_click"},
                        query={"url_contains": ["/checkout"]} if index % 2 else {},
                        sampling_rate=0.02,
                        last_swept_at=self.watermark,
                        estimated_monthly_observations=0,
                        estimated_at=now,
                    )
                )
        with self.db.engine.begin() as connection:  # a live database has planner statistics
            connection.execute(sa.text("ANALYZE"))
        print(
            f"  built {size:,} old + {NEW_SESSIONS:,} new recordings, {SCANNERS} scanners "
            f"in {time.perf_counter() - started:.0f} s",
            flush=True,
        )

    def _insert(self, model, rows) -> None:
        import sqlalchemy as sa

        batch = []
        with self.db.engine.begin() as connection:
            for row in rows:
                batch.append(row)
                if len(batch) >= BATCH:
                    connection.execute(sa.insert(model), batch)
                    batch = []
            if batch:
                connection.execute(sa.insert(model), batch)

    def reset(self, client) -> None:
        import sqlalchemy as sa

        from models import Observation, Scanner

        with self.db.engine.begin() as connection:
            connection.execute(sa.delete(Observation))
            rewound = {
                "last_swept_at": self.watermark,
                "last_seen_session_id": "",
                "sweep_slot": None,
                "sweep_stopped": "",
            }
            connection.execute(sa.update(Scanner).values(**rewound))
        for key in client.scan_iter(match=f"{self.namespace}:*"):
            client.delete(key)


BACKLOG_SCANNERS = 1_000
BACKLOG_SESSIONS = 100


def backlog_tick(root: Path, rounds: int) -> None:
    """Time one tick with every scanner backlogged (see the module's docstring)."""
    import sqlalchemy as sa

    from actors.broker import redis_client, setup_broker
    from integrations.blobstore import blob_store
    from integrations.queues import Sender
    from integrations.storage import database
    from models import Observation, Recording, Scanner, session_scope
    from models.migrate import upgrade
    from models.queries import ensure_defaults
    from scheduler.daemon import Scheduler
    from services.context import Deps
    from settings import Settings

    settings = Settings(
        SIGHTLINE_HOME=root / "backlog",
        SIGHTLINE_REDIS_NAMESPACE=f"bench-backlog-{uuid.uuid4().hex[:6]}",
        SIGHTLINE_IN_FLIGHT_PER_SCANNER=100_000,
        SIGHTLINE_IN_FLIGHT_PER_TEAM=100_000,
    )
    db = database(settings)
    upgrade(db.engine)
    now = datetime.now(UTC)
    watermark = now - timedelta(hours=2)
    with session_scope(db.sessions) as session:
        team_id = ensure_defaults(session)[1].id
    rows = _recording_rows(
        team_id,
        BACKLOG_SESSIONS,
        first_end=watermark + timedelta(minutes=1),
        last_end=now - timedelta(hours=1),
        prefix="backlog",
    )
    with db.engine.begin() as connection:
        connection.execute(sa.insert(Recording), list(rows))
        connection.execute(
            sa.insert(Scanner),
            [
                {
                    "id": uuid.uuid5(uuid.NAMESPACE_URL, f"sightline-backlog-{index}"),
                    "team_id": team_id,
                    "name": f"backlog-{index:04}",
                    "scanner_type": "monitor",
                    "provider": "heuristic",
                    "model": "heuristic",
                    "scanner_config": {"prompt": "Rage?", "rule": "rage_click"},
                    "query": {},
                    "sampling_rate": 1.0,
                    "estimated_monthly_observations": 0,
                    "estimated_at": now,
                }
                for index in range(BACKLOG_SCANNERS)
            ],
        )
    client = redis_client(settings)
    broker = setup_broker(settings)
    times, enqueued, swept = [], 0, 0
    for _ in range(rounds):
        with db.engine.begin() as connection:
            connection.execute(sa.delete(Observation))
            backlogged = {
                "last_swept_at": watermark,
                "last_seen_session_id": "",
                "sweep_slot": 10**12,  # not due for a slot: only top-ups sweep
                "sweep_stopped": "full",
                "last_sweep_at": now - timedelta(minutes=1),
                "sweeping_until": None,
            }
            connection.execute(sa.update(Scanner).values(**backlogged))
        deps = Deps(
            settings,
            db.sessions,
            blob_store(settings),
            redis_factory=lambda: client,
            sender_factory=lambda: Sender(broker),
        )
        scheduler = Scheduler(deps)
        started = time.perf_counter()
        report = scheduler.tick(datetime.now(UTC))
        times.append(time.perf_counter() - started)
        scheduler.leadership.step_down()
        enqueued, swept = report.enqueued, len(report.swept)
    print(
        f"  backlog: {BACKLOG_SCANNERS:,} scanners × {BACKLOG_SESSIONS} sessions of backlog each: "
        f"tick median "
        f"{statistics.median(times):.2f} s (min {min(times):.2f} s) over {rounds} rounds; {swept} topped up, "
        f"{enqueued:,} enqueued (target: tick < 2 s)"
    )
    broker.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sizes", type=int, nargs=2, default=[100_000, 200_000])
    parser.add_argument("--profile", action="store_true", help="Print where the last tick spent its time.")
    parser.add_argument("--only", choices=["history", "backlog"], help="Run one part.")
    args = parser.parse_args()
    database_url = os.environ.get("DATABASE_URL")
    only = f" --only {args.only}" if args.only else ""
    print(
        f"$ {command_line()} --rounds {args.rounds} --sizes {args.sizes[0]} {args.sizes[1]}{only}"
        f"   (database: {'PostgreSQL' if database_url else 'SQLite'})"
    )
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        _env(root, "bench-tick")
        if args.only != "history":
            backlog_tick(root, args.rounds)
        if args.only == "backlog":
            return
        from actors.broker import redis_client, setup_broker
        from integrations.blobstore import blob_store
        from integrations.queues import Sender
        from scheduler.daemon import Scheduler
        from services.context import Deps
        from settings import get_settings

        get_settings.cache_clear()
        setups = [Setup(size, database_url, root) for size in args.sizes]
        client = redis_client(get_settings())
        broker = setup_broker(get_settings())
        times: dict[int, list[float]] = {setup.size: [] for setup in setups}
        enqueued: dict[int, int] = {}
        for _ in range(args.rounds):
            for setup in setups:
                setup.reset(client)
                deps = Deps(
                    setup.settings,
                    setup.db.sessions,
                    blob_store(setup.settings),
                    redis_factory=lambda: client,
                    sender_factory=lambda: Sender(broker),
                )
                scheduler = Scheduler(deps)
                profiler = cProfile.Profile() if args.profile else None
                started = time.perf_counter()
                if profiler:
                    profiler.enable()
                report = scheduler.tick(datetime.now(UTC))
                times[setup.size].append(time.perf_counter() - started)
                if profiler:
                    profiler.disable()
                    pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
                scheduler.leadership.step_down()
                enqueued[setup.size] = report.enqueued
                assert len(report.swept) == SCANNERS, report.swept
        small, large = args.sizes
        for size in args.sizes:
            median, best = statistics.median(times[size]), min(times[size])
            print(
                f"  {size:>9,} older recordings: tick median {median:.2f} s (min {best:.2f} s) over "
                f"{args.rounds} rounds; {enqueued[size]:,} observations enqueued by {SCANNERS} scanners"
            )
        ratio = statistics.median(times[large]) / statistics.median(times[small])
        print(f"  larger/smaller = {ratio:.2f} (target ≤ 1.1); tick interval 10 s")
        broker.close()


if __name__ == "__main__":
    main()
