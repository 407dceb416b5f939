"""`sightline scenarios`: realistic synthetic recordings for demos and tests."""

from __future__ import annotations

from pathlib import Path

import orjson
import typer

import scenarios
from cli.context import friendly_errors, out
from pipeline.errors import RecordingError

app = typer.Typer(help="Synthetic recordings built by name.", no_args_is_help=True)


@app.command("list")
def list_command() -> None:
    """The scenario names and what each one shows."""
    for scenario in scenarios.build_all():
        out.print(f"[bold]{scenario.name}[/bold]  {scenario.description}", highlight=False)


@app.command("write")
@friendly_errors
def write_command(
    folder: Path = typer.Argument(..., help="Folder to write <name>.json files into (created if missing)."),
    name: list[str] = typer.Option(None, "--name", help="Only these scenarios (repeatable)."),
    start_ms: int = typer.Option(
        scenarios.DEFAULT_START_MS, help="Epoch milliseconds of each scenario's first event."
    ),
) -> None:
    """Write scenarios as rrweb JSON arrays, ready for `sightline import`."""
    try:
        chosen = [scenarios.build(item, start_ms) for item in name] if name else scenarios.build_all(start_ms)
    except ValueError as exc:
        raise RecordingError(str(exc)) from exc
    folder.mkdir(parents=True, exist_ok=True)
    for scenario in chosen:
        path = folder / f"{scenario.session_id}.json"
        path.write_bytes(orjson.dumps(scenario.events))
        out.print(f"wrote {path} ({len(scenario.events)} events)", highlight=False)
