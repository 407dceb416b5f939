"""Grouping speed: per-signal assignment time with 50,000 and 100,000 grouped signals in the window.

Run: `.venv/bin/python -m bench.grouping_speed [--signals 300]` (DATABASE_URL for PostgreSQL).
A SQLite database (in a temporary folder) holds N grouped signals in N/5 reports, as float32 vectors
(clustered unit vectors, one cluster per report; embedding is excluded from the measure). Then
`--signals` new signals are assigned one by one exactly as `group_signals` does: best match per
report over the pool (numpy), the decision, and the one-transaction write of signal, report weight
and count, promotion check and match metadata. Prints median and p95 per signal, the ratio of the
100,000 to the 50,000 run, and the once-per-batch pool load. Target: median < 5 ms, ratio < 2.5.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from bench.common import command_line

DIMENSIONS = 256
PER_REPORT = 5


def _vectors(rng: np.random.Generator, centres: np.ndarray, which: np.ndarray) -> np.ndarray:
    noisy = centres[which] + rng.normal(0, 0.06, size=(len(which), centres.shape[1])).astype(np.float32)
    return (noisy / np.linalg.norm(noisy, axis=1, keepdims=True)).astype(np.float32)


def measure(size: int, new: int, root: Path) -> tuple[list[float], float]:
    import sqlalchemy as sa

    from actors.broker import process_deps
    from integrations.storage import database
    from models import Signal, SignalReport, session_scope
    from models.migrate import upgrade
    from models.queries import ensure_defaults
    from models.signal_queries import pool_rows
    from pipeline.embeddings import from_bytes, to_bytes
    from pipeline.grouping import Pool, thresholds_for
    from services.grouping import Batch, GroupResult, Pending, assign
    from settings import Settings

    settings = Settings(SIGHTLINE_HOME=root / f"size-{size}")
    db = database(settings)
    upgrade(db.engine)
    with session_scope(db.sessions) as session:
        team_id = ensure_defaults(session)[1].id
    rng = np.random.default_rng(size)
    reports = size // PER_REPORT
    centres = rng.normal(size=(reports, DIMENSIONS)).astype(np.float32)
    now = datetime.now(UTC)
    report_ids = [uuid.uuid4() for _ in range(reports)]
    with db.engine.begin() as connection:
        connection.execute(
            sa.insert(SignalReport),
            [
                {
                    "id": rid,
                    "team_id": team_id,
                    "title": f"report {i}",
                    "status": "potential",
                    "total_weight": 0.5 * PER_REPORT,
                    "signal_count": PER_REPORT,
                    "signals_at_run": 10**6,
                    "run_count": 0,
                    "created_at": now,
                    "updated_at": now,
                }
                for i, rid in enumerate(report_ids)
            ],
        )
        which = np.repeat(np.arange(reports), PER_REPORT)
        vectors = _vectors(rng, centres, which)
        rows = []
        for index, (cluster, vector) in enumerate(zip(which, vectors, strict=True)):
            created = now - timedelta(days=20) + timedelta(seconds=index)
            rows.append(
                {
                    "id": uuid.uuid4(),
                    "team_id": team_id,
                    "source_product": "bench",
                    "source_type": "bench",
                    "source_id": f"old:{index}",
                    "description": f"finding {index}",
                    "weight": 0.5,
                    "extra": {},
                    "embedding": to_bytes(vector),
                    "embedding_model": "hashing-v1-256",
                    "report_id": report_ids[cluster],
                    "deleted": False,
                    "created_at": created,
                    "grouped_at": created,
                }
            )
            if len(rows) == 5_000:
                connection.execute(sa.insert(Signal), rows)
                rows = []
        if rows:
            connection.execute(sa.insert(Signal), rows)
        fresh = []
        for index in range(new):
            sid = uuid.uuid4()
            fresh.append(
                {
                    "id": sid,
                    "team_id": team_id,
                    "source_product": "bench",
                    "source_type": "bench",
                    "source_id": f"new:{index}",
                    "description": f"new finding {index}",
                    "weight": 0.5,
                    "extra": {},
                    "deleted": False,
                    "created_at": now + timedelta(seconds=index),
                }
            )
        connection.execute(sa.insert(Signal), fresh)
        if db.engine.dialect.name == "sqlite":
            connection.execute(sa.text("ANALYZE"))
    started = time.perf_counter()
    with db.sessions() as session:
        loaded = pool_rows(session, team_id, "hashing-v1-256", now - timedelta(days=30))
    pool = Pool(
        DIMENSIONS, np.stack([from_bytes(row.embedding) for row in loaded]), [row.report_id for row in loaded]
    )
    load_s = time.perf_counter() - started
    assert pool.count == size
    # New signals: half near an existing report (joins), half far from all (founds a report).
    near = _vectors(rng, centres, rng.integers(0, reports, size=new))
    far = rng.normal(size=(new, DIMENSIONS)).astype(np.float32)
    far /= np.linalg.norm(far, axis=1, keepdims=True)
    chosen = np.where((np.arange(new) % 2 == 0)[:, None], near, far)
    batch = Batch(
        process_deps(settings),
        team_id,
        "hashing-v1-256",
        pool,
        thresholds_for("hashing-v1-256"),
        None,
        now - timedelta(days=30),
        GroupResult(),
    )
    started = time.perf_counter()
    pool.score_batch(chosen)  # once per batch, as group_signals does
    load_s += time.perf_counter() - started
    times = []
    for index, (row, vector) in enumerate(zip(fresh, chosen, strict=True)):
        signal = Pending(row["id"], row["description"], 0.5, {}, None)
        began = time.perf_counter()
        assign(batch, signal, vector, datetime.now(UTC), index)
        times.append(time.perf_counter() - began)
    assert batch.result.grouped == new, batch.result
    db.engine.dispose()
    return times, load_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--signals", type=int, default=300)
    args = parser.parse_args()
    print(f"$ {command_line()} --signals {args.signals}")
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        for size in (50_000, 100_000):
            times, load_s = measure(size, args.signals, Path(folder))
            ms = sorted(t * 1000 for t in times)
            median, p95 = statistics.median(ms), ms[int(len(ms) * 0.95) - 1]
            results[size] = median
            print(
                f"  {size:>7,} grouped signals: per-signal assignment median {median:.2f} ms, "
                f"p95 {p95:.2f} ms ({len(ms)} signals); once per batch (pool load and batch scoring) "
                f"{load_s:.2f} s"
            )
    print(
        f"  100,000 / 50,000 median ratio = {results[100_000] / results[50_000]:.2f} "
        "(target < 2.5; median target < 5 ms)"
    )


if __name__ == "__main__":
    main()
