"""`sightline scanners …` and `sightline apply FILE.yaml` (scanners as code)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
import yaml
from rich.markup import escape

from cli.context import (
    friendly_errors,
    json_option,
    load_yaml,
    out,
    print_table,
    set_options,
    team_deps,
    warn,
)
from pipeline.errors import NotFoundError
from pipeline.scanners import SCANNER_TYPES
from services import scanners as service

app = typer.Typer(help="Scanners: the questions asked about every session.", no_args_is_help=True)
TEAM = typer.Option(None, "--team", help="Team id (default: the first team).")


def _config(
    prompt, tags, multi_label, freeform, scale_min, scale_max, scale_label, length, rule, config
) -> dict:
    """The scanner_config from flags (or --config JSON, which wins)."""
    if config is not None:
        return json_option(config, "scanner_config")
    values: dict[str, Any] = {"prompt": prompt} if prompt is not None else {}
    optional = {
        "tags": tags or None,
        "multi_label": multi_label,
        "allow_freeform_tags": freeform,
        "length": length,
        "rule": rule,
    }
    values.update({key: value for key, value in optional.items() if value is not None})
    if scale_min is not None or scale_max is not None:
        values["scale"] = {"min": scale_min if scale_min is not None else 1, "max": scale_max or 5}
        if scale_label:
            values["scale"]["label"] = scale_label
    return values


@app.command("create")
@friendly_errors
def create_command(
    name: str = typer.Option(..., help="Unique within the team."),
    scanner_type: str = typer.Option(..., "--type", help=f"One of {', '.join(SCANNER_TYPES)}."),
    prompt: str = typer.Option(None, help="What the scanner looks for (required unless --config)."),
    provider: str = typer.Option(
        "google", help="google (Gemini) or heuristic (offline, from detected patterns)."
    ),
    model: str = typer.Option(None, help="Gemini model (default SIGHTLINE_DEFAULT_MODEL)."),
    tags: list[str] = typer.Option(None, "--tag", help="Classifier tag (repeat)."),
    multi_label: bool = typer.Option(
        None, "--multi-label/--single-label", help="Classifier: several tags or one."
    ),
    freeform: bool = typer.Option(
        None, "--freeform-tags/--no-freeform-tags", help="Classifier: own tags allowed."
    ),
    scale_min: float = typer.Option(None, help="Scorer: lowest score (default 1)."),
    scale_max: float = typer.Option(None, help="Scorer: highest score (default 5)."),
    scale_label: str = typer.Option(None, help="Scorer: what the score measures."),
    length: str = typer.Option(None, help="Summarizer: short, medium or long."),
    rule: str = typer.Option(None, help="Heuristic monitor: rage_click, dead_click, u_turn, error_click, …"),
    config: str = typer.Option(None, help="The whole scanner_config as JSON (instead of the flags above)."),
    query: str = typer.Option(None, help='Recordings filter as JSON, e.g. {"url_contains": "/checkout"}.'),
    sampling_rate: float = typer.Option(1.0, help="Share of sessions observed, 0 to 1 (0 pauses)."),
    emits_signals: bool = typer.Option(False, help="Also report product problems as signals."),
    credit_limit: int = typer.Option(None, help="Monthly credits this scanner may spend."),
    description: str = typer.Option("", help="What the scanner is for."),
    team: int = TEAM,
) -> None:
    """Create a scanner."""
    deps, team_id = team_deps(team)
    data = {
        "name": name,
        "description": description,
        "scanner_type": scanner_type,
        "provider": provider,
        "scanner_config": _config(
            prompt, tags, multi_label, freeform, scale_min, scale_max, scale_label, length, rule, config
        ),
        "query": json_option(query, "query"),
        "sampling_rate": sampling_rate,
        "emits_signals": emits_signals,
        "credit_limit": credit_limit,
        **({"model": model} if model else {}),
    }
    created = service.create_scanner(deps, team_id, data)
    out.print(f"created scanner {escape(created.name)} ({created.id}), version 1", highlight=False)
    warn(created.warnings)


@app.command("list")
@friendly_errors
def list_command(team: int = TEAM) -> None:
    """The team's scanners."""
    deps, team_id = team_deps(team)
    rows = [_row(found) for found in service.scanners(deps, team_id)]
    columns = ("name", "type", "provider", "model", "sampling", "enabled", "version", "est./month", "id")
    print_table(columns, rows)


def _row(found: service.ScannerView) -> tuple[str, ...]:
    spec = found.definition
    return (
        found.name,
        spec["scanner_type"],
        spec["provider"],
        spec["model"],
        f"{spec['sampling_rate']:g}",
        "yes" if spec["enabled"] else "no",
        str(found.version),
        str(found.estimated_monthly_observations),
        str(found.id),
    )


@app.command("show")
@friendly_errors
def show_command(scanner: str = typer.Argument(..., help="Name or id."), team: int = TEAM) -> None:
    """A scanner's whole definition, as a YAML file for `sightline apply` (`scanners: [...]`)."""
    deps, team_id = team_deps(team)
    shown = service.scanner(deps, team_id, scanner)
    out.print(f"# id: {shown.id}, scanner_version: {shown.version} (apply finds it by name)", highlight=False)
    out.print(escape(yaml.safe_dump(shown.document(), sort_keys=False, allow_unicode=True)), highlight=False)


@app.command("update")
@friendly_errors
def update_command(
    scanner: str = typer.Argument(..., help="Name or id."),
    set_: list[str] = typer.Option(
        None, "--set", help="FIELD=VALUE (VALUE is YAML), e.g. --set sampling_rate=0.5"
    ),
    team: int = TEAM,
) -> None:
    """Change fields of a scanner; the version goes up when what it does changes."""
    deps, team_id = team_deps(team)
    updated = service.update_scanner(deps, team_id, scanner, set_options(set_))
    changed = f"changed {', '.join(updated.changed)}; version {updated.version}"
    out.print(changed if updated.changed else "nothing changed", highlight=False)
    warn(updated.warnings)


@app.command("estimate")
@friendly_errors
def estimate_command(
    query: str = typer.Option(None, help='The query filter as JSON, e.g. \'{"url_contains": "/checkout"}\'.'),
    sampling_rate: float = typer.Option(1.0, "--sampling-rate", help="0..1 (0.0001 at least, or 0)."),
    team: int = TEAM,
) -> None:
    """How many observations a month a proposed scanner would make, from the last 30 days of data."""
    deps, team_id = team_deps(team)
    found = service.estimate_scanner(deps, team_id, json_option(query, "query"), sampling_rate)
    out.print(
        f"about {found.estimated_observations_per_month} observations a month "
        f"({found.matched_sessions_in_window} matching sessions in {found.window_days:g} days of data)",
        highlight=False,
    )


@app.command("backfill")
@friendly_errors
def backfill_command(
    scanners: list[str] = typer.Argument(None, help="Names or ids."),
    since: str = typer.Option(..., help="Look again at sessions ending after this: 2026-01-31, or 7d, 12h."),
    all_scanners: bool = typer.Option(False, "--all", help="Every scanner of the team."),
    team: int = TEAM,
) -> None:
    """Move scanners' sweep watermark back, so the scheduler's next sweep also takes older sessions.

    Sessions a scanner already observed are not observed again.
    """
    deps, team_id = team_deps(team)
    done = service.backfill(deps, team_id, scanners or [], since=since, every=all_scanners)
    out.print(
        f"{len(done.names)} scanner(s) sweep from {done.since.isoformat()} at the next tick", highlight=False
    )


@app.command("delete")
@friendly_errors
def delete_command(scanner: str = typer.Argument(..., help="Name or id."), team: int = TEAM) -> None:
    """Delete a scanner that has no observations (disable it otherwise: --set enabled=false)."""
    deps, team_id = team_deps(team)
    service.delete_scanner(deps, team_id, scanner)
    out.print(f"deleted scanner {escape(scanner)}", highlight=False)


@friendly_errors
def apply_command(
    file: Path = typer.Argument(
        ..., help="YAML: a list of scanners, or {prompts: [...], scanners: [...], actions: [...]}."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print what would change; change nothing."),
    team: int = TEAM,
) -> None:
    """Scanners (and actions) as code: create or update each by name. Running it twice changes nothing.

    A `prompts:` section writes library prompts first (a changed text is a new version), so a scanner
    or an action of the same file may name one: `scanner_config: {prompt_ref: {name: …}}`.
    """
    document = _read_yaml(file)
    deps, team_id = team_deps(team)
    applied = service.apply_scanners(deps, team_id, document, source=str(file), dry_run=dry_run)
    verb = "would be " if dry_run else ""
    for each in applied:
        detail = f" ({', '.join(each.changed)})" if each.changed else ""
        named = f"{each.kind} {each.name}" if each.kind else each.name
        out.print(f"{escape(named)}: {verb}{each.action}{detail}", highlight=False)
        warn(each.warnings)


def _read_yaml(file: Path) -> Any:
    try:
        text = file.read_text()
    except OSError as exc:
        raise NotFoundError(f"cannot read {file} ({exc.strerror})") from exc
    return load_yaml(text, str(file))
