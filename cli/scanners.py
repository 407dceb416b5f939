"""`sightline scanners …` and `sightline apply FILE.yaml` (scanners as code)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer
import yaml
from rich.markup import escape
from sqlmodel import select

from cli.context import (
    friendly_errors,
    json_option,
    migrated_database,
    open_team,
    out,
    print_table,
    resolve_team,
    set_options,
    settings,
)
from integrations.action_store import apply_actions
from integrations.estimates import estimate
from integrations.scanner_store import apply_scanners, create_scanner, definition, rewind, update_scanner
from models.db import session_scope
from models.observation_queries import find_scanner
from models.vision import Scanner
from pipeline.errors import InvalidField, NotFoundError
from pipeline.query import validate_query
from pipeline.scanners import SCANNER_TYPES, validate_sampling_rate
from pipeline.schedule import parse_since

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
    current, db, team_id = open_team(team)
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
    with session_scope(db.sessions) as session:
        scanner = create_scanner(session, team_id, data, current)
        out.print(f"created scanner {escape(scanner.name)} ({scanner.id}), version 1", highlight=False)


def _load(session, team_id: int, ref: str) -> Scanner:
    scanner = find_scanner(session, team_id, ref)
    if scanner is None:
        raise NotFoundError(f"no scanner {ref!r} in team {team_id}; see `sightline scanners list`")
    return scanner


@app.command("list")
@friendly_errors
def list_command(team: int = TEAM) -> None:
    """The team's scanners."""
    _, db, team_id = open_team(team)
    with db.sessions() as session:
        scanners = session.exec(
            select(Scanner).where(Scanner.team_id == team_id).order_by(Scanner.name)
        ).all()
    rows = [
        (scanner.name, str(scanner.scanner_type), str(scanner.provider), scanner.model,
         f"{scanner.sampling_rate:g}", "yes" if scanner.enabled else "no", str(scanner.scanner_version),
         str(scanner.estimated_monthly_observations or 0), str(scanner.id))
        for scanner in scanners
    ]  # fmt: skip
    columns = ("name", "type", "provider", "model", "sampling", "enabled", "version", "est./month", "id")
    print_table(columns, rows)


@app.command("show")
@friendly_errors
def show_command(scanner: str = typer.Argument(..., help="Name or id."), team: int = TEAM) -> None:
    """A scanner's whole definition, as YAML (ready for `sightline apply`)."""
    _, db, team_id = open_team(team)
    with db.sessions() as session:
        found = _load(session, team_id, scanner)
        shown = {**definition(found), "id": str(found.id), "scanner_version": found.scanner_version}
    out.print(escape(yaml.safe_dump(shown, sort_keys=False, allow_unicode=True)), highlight=False)


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
    current, db, team_id = open_team(team)
    changes = set_options(set_)
    with session_scope(db.sessions) as session:
        found = _load(session, team_id, scanner)
        changed = update_scanner(session, found, changes, current)
        version = found.scanner_version
    out.print(
        f"changed {', '.join(changed)}; version {version}" if changed else "nothing changed", highlight=False
    )


@app.command("estimate")
@friendly_errors
def estimate_command(
    query: str = typer.Option(None, help='The query filter as JSON, e.g. \'{"url_contains": "/checkout"}\'.'),
    sampling_rate: float = typer.Option(1.0, "--sampling-rate", help="0..1 (0.0001 at least, or 0)."),
    team: int = TEAM,
) -> None:
    """How many observations a month a proposed scanner would make, from the last 30 days of data."""
    _, db, team_id = open_team(team)
    normalised = validate_query(json_option(query, "query"))
    rate = validate_sampling_rate(sampling_rate)
    with db.sessions() as session:
        count = estimate(session, team_id, normalised, rate)
    out.print(f"about {count} observations a month", highlight=False)


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
    _, db, team_id = open_team(team)
    start = parse_since(since, now=datetime.now(UTC))
    if not scanners and not all_scanners:
        raise InvalidField("scanners", "name at least one scanner, or pass --all")
    with session_scope(db.sessions) as session:
        if all_scanners:
            found = list(session.exec(select(Scanner).where(Scanner.team_id == team_id)))
        else:
            found = [_load(session, team_id, ref) for ref in scanners]
        for scanner in found:
            rewind(scanner, start)
            session.add(scanner)
        names = [scanner.name for scanner in found]
    out.print(f"{len(names)} scanner(s) sweep from {start.isoformat()} at the next tick", highlight=False)


@app.command("delete")
@friendly_errors
def delete_command(scanner: str = typer.Argument(..., help="Name or id."), team: int = TEAM) -> None:
    """Delete a scanner that has no observations (disable it otherwise: --set enabled=false)."""
    from models.vision import Observation

    _, db, team_id = open_team(team)
    with session_scope(db.sessions) as session:
        found = _load(session, team_id, scanner)
        if session.exec(select(Observation).where(Observation.scanner_id == found.id)).first() is not None:
            raise InvalidField("scanner", "it has observations; disable it instead (--set enabled=false)")
        session.delete(found)
    out.print(f"deleted scanner {escape(scanner)}", highlight=False)


@friendly_errors
def apply_command(
    file: Path = typer.Argument(..., help="YAML: a list of scanners, or {scanners: [...], actions: [...]}."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print what would change; change nothing."),
    team: int = TEAM,
) -> None:
    """Scanners (and actions) as code: create or update each by name. Running it twice changes nothing."""
    current = settings()
    entries, action_entries = _read_yaml(file)
    db = migrated_database(current)
    team_id = resolve_team(db, team)
    with session_scope(db.sessions) as session:
        applied = apply_scanners(session, team_id, entries, current, dry_run=dry_run)
        results = [(r.name, r.action, r.changed) for r in applied]
        session.flush()
        results += apply_actions(session, team_id, action_entries, now=datetime.now(UTC), dry_run=dry_run)
        if dry_run:
            session.rollback()
    verb = "would be " if dry_run else ""
    for name, action, changed in results:
        detail = f" ({', '.join(changed)})" if changed else ""
        out.print(f"{escape(name)}: {verb}{action}{detail}", highlight=False)


def _read_yaml(file: Path) -> tuple[list[dict], list[dict]]:
    try:
        document = yaml.safe_load(file.read_text())
    except OSError as exc:
        raise NotFoundError(f"cannot read {file} ({exc.strerror})") from exc
    except yaml.YAMLError as exc:
        raise InvalidField(str(file), f"is not valid YAML ({exc})") from exc
    entries = document.get("scanners", []) if isinstance(document, dict) else document
    actions = document.get("actions", []) if isinstance(document, dict) else []
    for what, items in (("scanners", entries), ("actions", actions)):
        if not isinstance(items, list) or not all(isinstance(entry, dict) for entry in items):
            raise InvalidField(str(file), f"must hold a list of {what} (scanners: [...], actions: [...])")
    return entries, actions
