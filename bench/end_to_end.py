"""End to end: a backfill drained through `sightline up` against the same worker draining the same
observations enqueued directly (issue #16, target ratio ≥ 0.9).

Run: `.venv/bin/python -m bench.end_to_end [--sessions 500]`

N sessions (copies of the real recordings in ../shared/recordings with new ids, round robin; the
synthetic scenarios, with a message, when that folder is absent), settled a day ago, and the four
heuristic scanners of examples/heuristic-scanners.yaml, backfilled over them. Their signals are
off: grouping is not what this measures, and without a scheduler nothing would group them.

- through the scheduler: `sightline up --threads 8 --processes 1 --no-api` with the default
  settings, timed from its start to the end of `sightline status --wait-idle`;
- direct: in a second data folder with the same sessions and scanners, every observation the first
  run made is enqueued at once (no scheduler, the scanners marked swept), then `sightline worker
  --threads 8` is timed from its start to the end of `status --wait-idle`.

Both runs use one Redis started by this process (REDIS_URL for the children) and their own SQLite
database. The ratio is observations per second through the scheduler ÷ direct.

Then, unless `--quick`:
- scale: the same backfill through `sightline up --processes 2` in a third data folder, against
  the one-process run (target ≥ 1.7× on two cores);
- latency: sessions arriving at a steady rate (`--rate` a second for `--arrivals-s`) while `up`
  runs with SIGHTLINE_SETTLE_S=5 and SIGHTLINE_SWEEP_INTERVAL_S=`--sweep-interval`; for each
  observation, the time from its session settling (last event stored + settle) to its result,
  p50 and p99. A scanner that is caught up waits for its next sweep slot, so the bound is about the
  sweep interval plus a tick (the default interval is 300 s; the bench shortens it to keep the run short).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

from bench.common import RECORDINGS_DIR, ROOT, command_line

SCANNERS_FILE = ROOT / "examples" / "heuristic-scanners.yaml"
COMMAND = [sys.executable, "-P", "-m", "cli.main"]
WAIT_IDLE_S = "3600"


def _sources() -> list:
    """Parsed recordings to copy: the real ones that are eligible, else the synthetic scenarios."""
    from integrations.recording_files import read_recording
    from pipeline.intake import Limits
    from scenarios import build, names

    parsed = []
    if RECORDINGS_DIR.is_dir():
        for path in sorted(RECORDINGS_DIR.glob("*.json")):
            with read_recording(path, Limits()) as recording:
                recording.pairs = list(recording.pairs)
                parsed.append((path.name, recording))
    if parsed:
        return parsed
    print(f"  no recordings at {RECORDINGS_DIR}: copying the synthetic scenarios instead", flush=True)
    from pipeline.formats import ParsedRecording

    return [
        (name, ParsedRecording("events", [(None, e) for e in build(name).events], None)) for name in names()
    ]


class Run:
    """One data folder: its database, the sessions and scanners, and the children's environment."""

    def __init__(self, folder: Path, redis_url: str, sessions: int, sources: list):
        self.env = {
            **os.environ,
            "SIGHTLINE_HOME": str(folder),
            "REDIS_URL": redis_url,
            "SIGHTLINE_REDIS_NAMESPACE": f"bench-e2e-{folder.name}",
            "SIGHTLINE_LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        self.env.pop("DATABASE_URL", None)
        from actors.broker import process_deps
        from integrations.storage import database
        from models.db import session_scope
        from models.migrate import upgrade
        from models.queries import ensure_defaults
        from settings import Settings

        # In this process only: the direct run enqueues everything at once, past the in-flight caps.
        self.settings = Settings(
            SIGHTLINE_HOME=folder,
            REDIS_URL=redis_url,
            SIGHTLINE_REDIS_NAMESPACE=self.env["SIGHTLINE_REDIS_NAMESPACE"],
            SIGHTLINE_IN_FLIGHT_PER_SCANNER=1_000_000,
            SIGHTLINE_IN_FLIGHT_PER_TEAM=1_000_000,
        )
        upgrade(database(self.settings).engine)
        with session_scope(database(self.settings).sessions) as session:
            self.team_id = ensure_defaults(session, "UTC")[1].id
        self.deps = process_deps(self.settings)
        self._fill(sessions, sources)

    def _fill(self, count: int, sources: list) -> None:
        from services.recordings import store
        from services.scanners import apply_scanners, backfill

        settled = datetime.now(UTC) - timedelta(days=1)
        for index in range(count):
            name, parsed = sources[index % len(sources)]
            sid = f"e2e-{index:05}-{name[:20]}"  # stored as `sightline import` stores a file
            store(self.deps, self.team_id, sid, parsed, ingested_at=settled, analyse=True)
        document = yaml.safe_load(SCANNERS_FILE.read_text())
        for scanner in document["scanners"]:
            scanner["emits_signals"] = False
        apply_scanners(self.deps, self.team_id, document, source=str(SCANNERS_FILE))
        backfill(self.deps, self.team_id, [], since="2d", every=True)

    def start(self, *arguments: str, **env: str) -> subprocess.Popen:
        return subprocess.Popen([*COMMAND, *arguments], env={**self.env, **env}, stdout=subprocess.DEVNULL)

    def settle_latencies(self, settle_s: float) -> list[float]:
        """Seconds from each finished observation's session settling to its result."""
        from sqlmodel import select

        from models import Observation, Recording, as_utc

        with self.deps.read() as session:
            rows = session.exec(
                select(Observation.completed_at, Recording.last_ingested_at)
                .join(Recording, Recording.session_id == Observation.session_id)
                .where(Observation.completed_at.is_not(None))  # type: ignore[union-attr]
            )
            return [(as_utc(done) - as_utc(stored)).total_seconds() - settle_s for done, stored in rows]

    def wait_idle(self) -> None:
        subprocess.run(
            [*COMMAND, "status", "--wait-idle", WAIT_IDLE_S],
            env=self.env,
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def finished(self) -> list[tuple[str, str]]:
        from sqlmodel import select

        from models import Observation, Scanner

        with self.deps.read() as session:
            rows = session.exec(
                select(Scanner.name, Observation.session_id).join(
                    Scanner, Scanner.id == Observation.scanner_id
                )
            )
            return [(name, session_id) for name, session_id in rows]

    def enqueue(self, pairs: list[tuple[str, str]]) -> None:
        """Every observation at once, and every scanner marked swept (so `--wait-idle` can see rest)."""
        import sqlalchemy as sa

        from models import Recording, Scanner
        from services.observations import MAX_SESSIONS_PER_REQUEST, observe_sessions

        by_scanner: dict[str, list[str]] = {}
        for name, session_id in pairs:
            by_scanner.setdefault(name, []).append(session_id)
        for name, ids in by_scanner.items():
            for offset in range(0, len(ids), MAX_SESSIONS_PER_REQUEST):
                observe_sessions(
                    self.deps, self.team_id, name, ids[offset : offset + MAX_SESSIONS_PER_REQUEST]
                )
        with self.deps.transaction() as session:
            last = session.exec(
                sa.select(Recording.last_ingested_at, Recording.session_id)
                .order_by(Recording.last_ingested_at.desc(), Recording.session_id.desc())  # type: ignore[union-attr]
                .limit(1)
            ).one()
            swept = {
                "last_swept_at": last[0],
                "last_seen_session_id": last[1],
                "sweep_slot": 10**12,
                "last_sweep_at": datetime.now(UTC),
            }
            session.exec(sa.update(Scanner).values(**swept))  # type: ignore[call-overload]


def _stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()


def _timed(run: Run, *arguments: str) -> float:
    started = time.perf_counter()
    process = run.start(*arguments)
    try:
        run.wait_idle()
        return time.perf_counter() - started
    finally:
        _stop(process)


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _arrivals(root: Path, redis_url: str, sources: list, args: argparse.Namespace) -> None:
    """Sessions stored at a steady rate while `up` runs; settle-to-observed p50/p99."""
    from services.recordings import store

    settle_s = 5
    run = Run(root / "arrivals", redis_url, 0, sources)
    count = int(args.rate * args.arrivals_s)
    process = run.start(
        "up",
        "--threads",
        "8",
        "--processes",
        "1",
        "--no-api",
        SIGHTLINE_SETTLE_S=str(settle_s),
        SIGHTLINE_SWEEP_INTERVAL_S=str(args.sweep_interval),
    )
    try:
        began = time.perf_counter()
        for index in range(count):
            name, parsed = sources[index % len(sources)]
            store(
                run.deps, run.team_id, f"live-{index:05}-{name[:20]}", parsed, ingested_at=datetime.now(UTC)
            )
            time.sleep(max(0.0, began + (index + 1) / args.rate - time.perf_counter()))
        time.sleep(settle_s + 1)
        run.wait_idle()
    finally:
        _stop(process)
    latencies = run.settle_latencies(settle_s)
    print(
        f"  latency: {count} sessions arriving at {args.rate:g}/s for {args.arrivals_s} s, "
        f"SIGHTLINE_SWEEP_INTERVAL_S={args.sweep_interval}: {len(latencies)} observations, "
        f"settle-to-observed p50 {_percentile(latencies, 0.5):.1f} s, "
        f"p99 {_percentile(latencies, 0.99):.1f} s "
        f"(bound ≈ the sweep interval + a tick)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=500)
    parser.add_argument("--quick", action="store_true", help="only the ratio: no scale or latency run")
    parser.add_argument("--rate", type=float, default=2.0, help="sessions a second in the latency run")
    parser.add_argument("--arrivals-s", type=int, default=60, help="how long sessions arrive for")
    parser.add_argument("--sweep-interval", type=int, default=30, help="the latency run's sweep interval")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        os.environ.update(SIGHTLINE_HOME=str(root / "redis-home"), SIGHTLINE_LOG_LEVEL="WARNING")
        os.environ.pop("REDIS_URL", None)
        from actors.broker import embedded_redis_url, redis_client
        from integrations.logs import configure_logging
        from settings import get_settings

        configure_logging("WARNING", "console")
        get_settings.cache_clear()
        redis_client(get_settings())  # one embedded server for both runs, alive while this process is
        redis_url = embedded_redis_url() or ""
        sources = _sources()
        began = time.perf_counter()
        through = Run(root / "scheduler", redis_url, args.sessions, sources)
        direct = Run(root / "direct", redis_url, args.sessions, sources)
        print(
            f"  {args.sessions} sessions ({len(sources)} recordings copied) × 4 heuristic scanners, "
            f"stored twice in {time.perf_counter() - began:.0f} s",
            flush=True,
        )
        scheduled_s = _timed(through, "up", "--threads", "8", "--processes", "1", "--no-api")
        pairs = through.finished()
        direct.enqueue(pairs)
        direct_s = _timed(direct, "worker", "--threads", "8", "--processes", "1")
        assert len(direct.finished()) == len(pairs)
        scheduled, straight = len(pairs) / scheduled_s, len(pairs) / direct_s
        print(
            f"  through `sightline up`: {len(pairs)} observations in {scheduled_s:.1f} s = {scheduled:.1f}/s"
        )
        print(f"  enqueued directly:      {len(pairs)} observations in {direct_s:.1f} s = {straight:.1f}/s")
        if not args.quick:
            scale = Run(root / "scale", redis_url, args.sessions, sources)
            two_s = _timed(scale, "up", "--threads", "8", "--processes", "2", "--no-api")
            finished = len(scale.finished())
            two = finished / two_s
            print(f"  through `up --processes 2`: {finished} observations in {two_s:.1f} s = {two:.1f}/s")
            print(f"  scale: 2 worker processes ÷ 1 = {two / scheduled:.2f}× (target ≥ 1.7× on two cores)")
            _arrivals(root, redis_url, sources, args)
        print(f"$ {command_line()} {' '.join(sys.argv[1:])}".rstrip())
        print(f"ratio {scheduled / straight:.2f} (target ≥ 0.9)")


if __name__ == "__main__":
    main()
