"""Where an observation's CPU goes: per-step CPU time of the overhead run of `bench.observe_throughput`.

Run: `.venv/bin/python -m bench.observe_steps [--count N] [--real]`.

The same setup as the overhead ratio (N observations: N/4 recordings, stored as an import stores
them, × 4 heuristic scanners; one worker process of 8 threads) and N no-op messages, with the steps
of an attempt wrapped in timers of the calling thread's CPU time (`time.thread_time`). It prints the
process's CPU per observation and per no-op message, then each step's CPU per observation and its
number of calls. A step's time includes the steps it calls; the timers themselves cost a few
microseconds a call. `--real` uses copies of the real recordings instead of the synthetic session.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dramatiq

from bench.common import command_line
from bench.observe_throughput import RULES, Bench, heuristic, real_recordings
from integrations.fake_gemini import FakeGemini
from scenarios import build

COST: defaultdict[str, float] = defaultdict(float)
CALLS: Counter[str] = Counter()
_LOCK = threading.Lock()


def _record(name: str, seconds: float) -> None:
    with _LOCK:
        COST[name] += seconds
        CALLS[name] += 1


def _timed(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        began = time.thread_time()
        try:
            return function(*args, **kwargs)
        finally:
            _record(name, time.thread_time() - began)

    return wrapper


def _timed_context(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """A context manager's entry and exit timed, not the block it holds."""

    @contextlib.contextmanager
    def wrapper(*args: Any, **kwargs: Any):
        began = time.thread_time()
        with function(*args, **kwargs):
            _record(f"{name} (enter)", time.thread_time() - began)
            yield
            began = time.thread_time()
        _record(f"{name} (exit)", time.thread_time() - began)

    return wrapper


def instrument() -> None:
    """Wrap the steps of an attempt (in the modules that call them) and the worker's per message work."""
    import dramatiq.worker

    import services.analysis_cache as cache
    import services.observations as observations
    import services.observe as observe
    from actors.jobruns import JobRunMiddleware

    for name in (
        "run_observation",
        "run_observations",
        "_claim_together",
        "claim_many_with_recordings",
        "claim_with_recording",
        "_instant",
        "_run_claimed",
        "_answer",
        "build_outcome",
        "move_status",
        "insert_receipt",
        "add_new_signals",
    ):
        setattr(observe, name, _timed(name, getattr(observe, name)))
    observe.leased = _timed_context("leased", observe.leased)
    cache.AnalysisCache._load = _timed("analysis read from the store", cache.AnalysisCache._load)
    cache.AnalysisCache._render = _timed("analysis rendered", cache.AnalysisCache._render)
    cache.analysis_key = _timed("analysis_key", cache.analysis_key)
    JobRunMiddleware.after_process_message = _timed("job run written", JobRunMiddleware.after_process_message)
    worker = dramatiq.worker._WorkerThread
    worker.process_message = _timed("worker: one message, all of it", worker.process_message)
    observations.dispatch = _timed("sending (dispatch)", observations.dispatch)
    observations.request_observations = _timed(
        "creating the pending rows (request_observations)", observations.request_observations
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--real", action="store_true", help="copies of ../shared/recordings")
    args = parser.parse_args()
    from actors.broker import process_deps
    from services.analysis_cache import ANALYSES
    from services.recordings import store_events

    sources = list(real_recordings().values()) if args.real else [build("checkout-js-error").events]
    with tempfile.TemporaryDirectory() as home, FakeGemini() as fake:
        bench = Bench(Path(home), fake)
        instrument()
        deps = process_deps(bench.settings)
        ids = [f"bench-{index}" for index in range(args.count // len(RULES))]
        for index, session_id in enumerate(ids):
            store_events(deps, bench.team_id, session_id, sources[index % len(sources)], analyse=True)
        actor = dramatiq.actor(lambda: None, actor_name="bench_noop", queue_name="bench", broker=bench.broker)
        COST.clear()
        CALLS.clear()
        began = time.process_time()
        noop_s = _noop(bench, actor, args.count)
        noop_cpu = time.process_time() - began
        noop_steps = dict(COST), Counter(CALLS)
        COST.clear()
        CALLS.clear()
        ANALYSES.clear()
        began = time.process_time()
        observe_s = bench.observe_each([heuristic(rule) for rule in RULES], ids)
        observe_cpu = time.process_time() - began
        bench.close()
    total = len(ids) * len(RULES)
    print(f"$ {command_line()} --count {args.count}{' --real' if args.real else ''}")
    print(
        f"no-op: {args.count} messages in {noop_s:.2f} s, "
        f"process CPU {1000 * noop_cpu / args.count:.3f} ms a message"
    )
    _steps(*noop_steps, args.count, "a message")
    print(
        f"observe: {total} observations in {observe_s:.2f} s, "
        f"process CPU {1000 * observe_cpu / total:.3f} ms an observation "
        f"(ratio {noop_s / observe_s:.2f}); analyses: {dict(ANALYSES.counts)}"
    )
    _steps(COST, CALLS, total, "an observation")


def _noop(bench: Bench, actor: dramatiq.Actor, count: int) -> float:
    began = time.perf_counter()
    for _ in range(count):
        actor.send()
    bench.broker.join("bench", interval=5, timeout=3_600_000)
    bench.worker.join()
    return time.perf_counter() - began


def _steps(cost: dict[str, float], calls: Counter[str], count: int, unit: str) -> None:
    for name, seconds in sorted(cost.items(), key=lambda item: -item[1]):
        print(f"  {name:52s} {1000 * seconds / count:7.3f} ms {unit} ({calls[name]} calls)")


if __name__ == "__main__":
    main()
