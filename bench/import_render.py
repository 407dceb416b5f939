"""Import + render throughput over the real recordings, as a ratio to stdlib `json.loads`.

Run: `make bench` or `.venv/bin/python -m bench.import_render [--repeat N]`.
Both sides get the same bytes in the same run; each figure is the best of N runs.
- pipeline: parse (any format), check and sort events, metadata, timeline render.
- import:   the same plus gzip-compressing the events to a blob file and upserting the row in SQLite
            (the path `sightline import` takes, minus the progress bar).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from actors.broker import process_deps
from bench.common import best_of, command_line, recordings
from integrations.storage import database
from models.migrate import upgrade
from models.queries import ensure_defaults
from pipeline.formats import parse_recording
from pipeline.intake import prepare_events
from pipeline.metadata import compute_metadata
from pipeline.timeline import render_timeline
from services.context import Deps
from services.recordings import store_events
from settings import Settings


def pipeline(raw: bytes) -> None:
    events = prepare_events(parse_recording(raw))
    render_timeline(events, meta=compute_metadata(events))


def full_import(deps: Deps, team_id: int, session_id: str, raw: bytes) -> None:
    events = prepare_events(parse_recording(raw))
    store_events(deps, team_id, session_id, events)
    render_timeline(events)


def importer_in(folder: Path) -> tuple[Deps, int]:
    settings = Settings(SIGHTLINE_HOME=folder, DATABASE_URL=f"sqlite:///{folder / 'bench.db'}")
    deps = process_deps(settings)
    upgrade(database(settings).engine)
    with deps.transaction() as session:
        team = ensure_defaults(session)[1]
    return deps, team.id


def measure(raw: bytes, importer: tuple[Deps, int], label: str, repeat: int) -> dict[str, float]:
    """Best-of-`repeat` seconds for json.loads, our pipeline and a full import, on the same bytes."""
    # A fresh session id per run so every import really stores (nothing is "unchanged").
    ids = iter(f"{label}-{run}" for run in range(repeat))
    return best_of(
        {
            "json": lambda: json.loads(raw),
            "pipeline": lambda: pipeline(raw),
            "import": lambda: full_import(*importer, next(ids), raw),
        },
        repeat,
    )


def row(name: str, size: str, times: dict[str, float]) -> str:
    cells = [f"{name:34} {size:>10}", f"{times['json'] * 1000:>9.1f}ms"]
    for key in ("pipeline", "import"):
        cells.append(f"{times[key] * 1000:>7.1f}ms {times['json'] / times[key]:>6.2f}")
    return " ".join(cells)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    totals = {"json": 0.0, "pipeline": 0.0, "import": 0.0}
    print(f"$ {command_line()} --repeat {args.repeat}")
    print(f"{'recording':34} {'bytes':>10}  json.loads  pipeline  ratio    import  ratio")
    with tempfile.TemporaryDirectory() as folder:
        importer = importer_in(Path(folder))
        for path in recordings():
            raw = path.read_bytes()
            times = measure(raw, importer, path.stem, args.repeat)
            for key, value in times.items():
                totals[key] += value
            print(row(path.name, f"{len(raw):,}", times))
    print(row("all recordings", "", totals))
    print(
        "ratio = json.loads time / our time for the same bytes (higher is better; target ≥ 1.0 for pipeline)"
    )


if __name__ == "__main__":
    main()
