"""`sightline scouts …`: the team's scouts (problems no single session shows), their runs and limits.

Custom scouts are written in `apply` files (`scouts: [...]`); these commands seed, list and switch
them, and show what their runs found or would have emitted.
"""

from __future__ import annotations

import typer
from rich.markup import escape

from cli.context import friendly_errors, out, print_table, team_deps
from pipeline.errors import InvalidField, NotFoundError
from services import scouts as service

app = typer.Typer(
    help="Scouts: detectors across sessions (error spikes, click hotspots, drop-offs, form abandonment).",
    no_args_is_help=True,
)
TEAM = typer.Option(None, "--team", help="Team id (default: the first team).")


@app.command("list")
@friendly_errors
def list_command(team: int = TEAM) -> None:
    """The team's scouts: enabled, emitting or dry-run, how often, when they last ran."""
    deps, team_id = team_deps(team)
    rows = [
        (
            each.skill_name,
            "yes" if each.enabled else "no",
            "emit" if each.emit else "dry run",
            f"{each.run_interval_minutes} min",
            each.last_run_at.isoformat(timespec="seconds") if each.last_run_at else "-",
            each.scout_origin,
        )
        for each in service.configs(deps, team_id)
    ]
    print_table(("scout", "enabled", "mode", "every", "last run", "origin"), rows)


@app.command("sync")
@friendly_errors
def sync_command(team: int = TEAM) -> None:
    """Seed the canonical scouts the team does not have yet (enabled up to the maximum)."""
    deps, team_id = team_deps(team)
    found = service.sync(deps, team_id)
    out.print(f"{len(found)} scout(s); `sightline scouts list` shows them", highlight=False)


@app.command("set")
@friendly_errors
def set_command(
    name: str = typer.Argument(..., help="The scout's name, e.g. signals-scout-error-spikes."),
    enabled: bool = typer.Option(None, "--enabled/--disabled", help="Run it, or not."),
    emit: bool = typer.Option(None, "--emit/--dry-run", help="Emit signals, or record what it would."),
    every: int = typer.Option(None, "--every", help="Minutes between runs."),
    team: int = TEAM,
) -> None:
    """Switch a scout on or off, between emitting and a dry run, or change how often it runs."""
    deps, team_id = team_deps(team)
    changes = {"enabled": enabled, "emit": emit, "run_interval_minutes": every}
    changes = {key: value for key, value in changes.items() if value is not None}
    if not changes:
        raise InvalidField(
            "--enabled", "say what to change: --enabled/--disabled, --emit/--dry-run or --every"
        )
    config = next((each for each in service.configs(deps, team_id) if each.skill_name == name), None)
    if config is None:
        raise NotFoundError(f"no scout {name!r} in this team; `sightline scouts list` shows them")
    changed = service.update(deps, team_id, config.id, changes)
    mode = "emit" if changed.emit else "dry run"
    state = "enabled" if changed.enabled else "disabled"
    out.print(
        f"{escape(changed.skill_name)}: {state}, {mode}, every {changed.run_interval_minutes} min",
        highlight=False,
    )


@app.command("runs")
@friendly_errors
def runs_command(
    limit: int = typer.Option(20, "--limit", min=1, max=100, help="At most this many, newest first."),
    team: int = TEAM,
) -> None:
    """Recent runs: when, status, and what each emitted (or, dry, would have)."""
    deps, team_id = team_deps(team)
    rows = [
        (
            run.skill_name,
            run.scheduled_at.isoformat(timespec="minutes"),
            str(run.status),
            str(run.emitted_count) if run.emit else f"({len(run.findings)} would)",
            (run.error or run.summary or "")[:80],
        )
        for run in service.runs(deps, team_id, limit=limit)
    ]
    print_table(("scout", "scheduled", "status", "emitted", "summary"), rows)


@app.command("limits")
@friendly_errors
def limits_command(team: int = TEAM) -> None:
    """The run limits the scheduler enforces, and today's runs against them."""
    deps, team_id = team_deps(team)
    found = service.limits(deps, team_id)
    out.print(
        f"at most {found.max_runs_per_tick} runs a tick and {found.max_runs_per_day} a day; "
        f"{found.runs_today} today, {found.runs_remaining_today} left",
        highlight=False,
    )
