"""Observation throughput: orchestration overhead, and model-bound throughput under the rate limiter.

Run: `make bench` or `.venv/bin/python -m bench.observe_throughput [--count N] [--skip-rate-limit]`.
1. Overhead: N observations, N/4 recordings each observed by 4 heuristic scanners (an instant
   in-process model, so what is measured is creating the pending rows in batches of 200, sending
   them eight to an `observe_batch` message, the claim, the recording's analysis (rendered and
   stored when the recording was imported, read once from the store and shared by its 4 scanners)
   and the success transaction) against N no-op actor messages, on the same embedded-Redis broker,
   one worker process with 8 threads and the same middleware (each side writes one JobRun row per
   message). Each clock runs from the first request or send until the queue is drained. Ratio =
   no-op time / observation time; target ≥ 0.5, on the synthetic session and on copies of the real
   recordings of ../shared/recordings (skipped when the folder is absent).
2. Model-bound: the fake Gemini answering in 500 ms, 8 threads: observations per second against the
   theoretical 16/s; target ≥ 95%. The worker is warmed first by one observation per thread (its
   Gemini client, connections and imports, built once in a long-running worker), then the clock
   runs from the first request to the last observation written.
3. Rate limit: 60 requests/minute configured, 75 observations: the most requests answered by the
   fake in any 60-second window; target ≤ 60 (takes about 75 s).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid
from pathlib import Path

import dramatiq
from dramatiq import Worker

from bench.common import RECORDINGS_DIR, command_line
from integrations.fake_gemini import FakeGemini, FakeReply
from scenarios import build

REPLY = FakeReply.json({"reasoning": "Pay threw (t 25).", "verdict": "yes", "confidence": 0.8})
MONITOR = {"scanner_type": "monitor", "scanner_config": {"prompt": "Did the payment fail?"}}
RULES = ("rage_click", "dead_click", "u_turn", "any_frustration")  # the overhead's 4 scanners per recording


class Bench:
    """A data folder, database, broker and an 8-thread worker, configured through the environment."""

    def __init__(self, home: Path, fake: FakeGemini, **env: str):
        os.environ.update(
            SIGHTLINE_HOME=str(home),
            GEMINI_API_KEY="bench",
            GEMINI_BASE_URL=fake.url,
            SIGHTLINE_REDIS_NAMESPACE=f"bench-{uuid.uuid4().hex[:6]}",
            SIGHTLINE_IN_FLIGHT_PER_SCANNER="100000",
            SIGHTLINE_IN_FLIGHT_PER_TEAM="100000",
            SIGHTLINE_LOG_LEVEL="WARNING",
            **env,
        )
        for key in ("DATABASE_URL", "REDIS_URL"):
            os.environ.pop(key, None)
        from actors.broker import setup_broker
        from integrations.logs import configure_logging
        from integrations.storage import database
        from models.db import session_scope
        from models.migrate import upgrade
        from models.queries import ensure_defaults
        from settings import get_settings

        get_settings.cache_clear()
        self.settings = get_settings()
        configure_logging("WARNING", "console")
        self.db = database(self.settings)
        upgrade(self.db.engine)
        with session_scope(self.db.sessions) as session:
            self.team_id = ensure_defaults(session, "UTC")[1].id
        self.broker = setup_broker(self.settings)
        self.worker = Worker(self.broker, worker_threads=8, worker_timeout=100)
        self.worker.start()

    def sessions(self, count: int) -> list[str]:
        from actors.broker import process_deps
        from services.recordings import store_events

        deps = process_deps(self.settings)
        events = build("checkout-js-error").events
        ids = [f"bench-{index}" for index in range(count)]
        for session_id in ids:
            store_events(deps, self.team_id, session_id, events)
        return ids

    def observe(self, spec: dict, session_ids: list[str]) -> float:
        """Seconds from the first request to the last observation written."""
        return self.observe_each([spec], session_ids)

    def observe_each(self, specs: list[dict], session_ids: list[str]) -> float:
        """Seconds from the first request to the last observation written: each scanner's
        observations of `session_ids` requested one scanner after another (as a tick's sweeps send
        them), then drained."""
        from actors.broker import process_deps
        from services.observations import MAX_SESSIONS_PER_REQUEST, observe_sessions
        from services.scanners import create_scanner

        deps = process_deps(self.settings)
        scanners = [create_scanner(deps, self.team_id, {"name": uuid.uuid4().hex, **spec}) for spec in specs]
        started = time.perf_counter()
        for scanner in scanners:
            for offset in range(0, len(session_ids), MAX_SESSIONS_PER_REQUEST):
                batch = session_ids[offset : offset + MAX_SESSIONS_PER_REQUEST]
                observe_sessions(deps, self.team_id, str(scanner.id), batch)
        self.broker.join("observe", interval=5, timeout=3_600_000)
        self.worker.join()
        return time.perf_counter() - started

    def noop(self, count: int) -> float:
        actor = dramatiq.actor(lambda: None, actor_name="bench_noop", queue_name="bench", broker=self.broker)
        started = time.perf_counter()
        for _ in range(count):
            actor.send()
        self.broker.join("bench", interval=5, timeout=3_600_000)
        self.worker.join()
        return time.perf_counter() - started

    def close(self) -> None:
        from actors import broker as broker_module

        self.worker.stop()
        self.broker.close()
        if broker_module._embedded is not None:
            broker_module._embedded.stop()
            broker_module._embedded = None


def overhead(count: int) -> None:
    """The ratio on the synthetic session, then on copies of the real recordings (when present)."""
    overhead_on("synthetic session", [build("checkout-js-error").events], count)
    real = real_recordings()
    if not real:
        print(f"overhead on real recordings: skipped, no eligible recording in {RECORDINGS_DIR}")
        return
    overhead_on(f"real recordings ({len(real)})", list(real.values()), count)


def real_recordings() -> dict[str, list[dict]]:
    """The events of each real recording a scanner would observe (the 12 s one is too short)."""
    from pipeline.formats import parse_recording
    from pipeline.intake import prepare_events
    from pipeline.limits import eligibility
    from pipeline.metadata import compute_metadata

    found = {}
    for path in sorted(RECORDINGS_DIR.glob("*.json")) if RECORDINGS_DIR.is_dir() else []:
        events = prepare_events(parse_recording(path.read_bytes()))
        if eligibility(compute_metadata(events)) is None:
            found[path.name] = events
    return found


def overhead_on(label: str, sources: list[list[dict]], count: int) -> None:
    """`count` observations: `count / 4` recordings (copies of `sources` in turn, each under a new
    session id, stored as `sightline import` stores a file) each observed by 4 heuristic scanners,
    requested one scanner after another as a tick's sweeps send them, then drained; against `count`
    no-op messages sent, then drained."""
    from actors.broker import process_deps
    from services.analysis_cache import ANALYSES
    from services.recordings import store_events

    with tempfile.TemporaryDirectory() as home, FakeGemini() as fake:
        bench = Bench(Path(home), fake)
        deps, ids = process_deps(bench.settings), [f"bench-{index}" for index in range(count // len(RULES))]
        for index, session_id in enumerate(ids):
            # As `sightline import` stores a file: with its analysis.
            store_events(deps, bench.team_id, session_id, sources[index % len(sources)], analyse=True)
        noop = bench.noop(len(ids) * len(RULES))
        ANALYSES.clear()
        observe = bench.observe_each([heuristic(rule) for rule in RULES], ids)
        bench.close()
    total = len(ids) * len(RULES)
    print(
        f"overhead, {label}: {total} no-op messages {noop:.2f} s, {len(ids)} recordings × {len(RULES)} "
        f"scanners {observe:.2f} s, ratio {noop / observe:.2f} (target ≥ 0.5); analyses: "
        + ", ".join(f"{what} {number}" for what, number in sorted(ANALYSES.counts.items()))
    )


def heuristic(rule: str) -> dict:
    return {**MONITOR, "provider": "heuristic", "scanner_config": {"prompt": "p", "rule": rule}}


def gemini_run(count: int, latency_s: float, per_minute: int, warm_up: int = 0) -> tuple[float, list[float]]:
    """Seconds for `count` Gemini observations after `warm_up` unclocked ones, and when the fake
    answered each clocked request."""
    with (
        tempfile.TemporaryDirectory() as home,
        FakeGemini(latency_s=latency_s, default=lambda request: REPLY) as fake,
    ):
        bench = Bench(
            Path(home), fake, SIGHTLINE_GEMINI_RPM=str(per_minute), SIGHTLINE_GEMINI_CONCURRENCY="8"
        )
        ids = bench.sessions(warm_up + count)
        if warm_up:
            bench.observe(MONITOR, ids[:warm_up])
        warmed = len(fake.generate_requests())
        elapsed = bench.observe(MONITOR, ids[warm_up:])
        bench.close()
        return elapsed, sorted(request.at for request in fake.generate_requests()[warmed:])


def model_bound(count: int) -> None:
    elapsed, _ = gemini_run(count, latency_s=0.5, per_minute=100_000, warm_up=8)
    rate = count / elapsed
    print(
        f"model-bound: {count} observations in {elapsed:.1f} s with 500 ms replies and 8 threads: "
        f"{rate:.1f}/s of the theoretical 16/s = {rate / 16:.1%} (target ≥ 95%)"
    )


def rate_limited(count: int) -> None:
    elapsed, times = gemini_run(count, latency_s=0.05, per_minute=60)
    busiest = max(sum(1 for other in times if start <= other < start + 60) for start in times)
    print(
        f"rate limit: {len(times)} requests in {elapsed:.0f} s with 60/min configured; busiest 60 s window "
        f"held {busiest} requests (target ≤ 60)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--skip-rate-limit", action="store_true")
    args = parser.parse_args()
    print(f"$ {command_line()} --count {args.count}{' --skip-rate-limit' if args.skip_rate_limit else ''}")
    overhead(args.count)
    model_bound(320)
    if not args.skip_rate_limit:
        rate_limited(75)


if __name__ == "__main__":
    main()
