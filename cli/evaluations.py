"""`sightline evaluations …`: checks of our own answers, their runs, and the report."""

from __future__ import annotations

import typer
import yaml
from rich.markup import escape

from cli.context import friendly_errors, json_option, out, print_table, set_options, team_deps
from models.evaluation_queries import EvaluationFilters
from pipeline.evaluation_report import Summary
from pipeline.evaluations import CHECKS
from services import evaluation_report, evaluation_runs
from services import evaluations as service

app = typer.Typer(help="Evaluations: checks of our own answers, by an LLM judge or heuristics.")
TEAM = typer.Option(None, "--team", help="Team id (default: the first team).")


@app.command("create")
@friendly_errors
def create_command(
    name: str = typer.Option(..., help="What the evaluation checks."),
    judge: str = typer.Option(None, help="llm_judge: the question the judge answers about each answer."),
    check: list[str] = typer.Option(None, "--check", help=f"heuristic: one of {', '.join(CHECKS)} (repeat)."),
    model: str = typer.Option(None, help="llm_judge: the Gemini model (default SIGHTLINE_DEFAULT_MODEL)."),
    score: bool = typer.Option(
        False, help="A score (output_config min/max/pass_threshold) instead of pass/fail."
    ),
    output_config: str = typer.Option(None, help='JSON, e.g. {"allows_na": true} or {"min": 1, "max": 5}.'),
    conditions: str = typer.Option(
        None, help='JSON: {"scanners": [...], "verdicts": ["yes"], "sampling_rate": 0.5, "max_per_day": 500}.'
    ),
    enabled: bool = typer.Option(True, help="Also evaluate new observations automatically."),
    description: str = typer.Option("", help="What the evaluation is for."),
    team: int = TEAM,
) -> None:
    """Create an evaluation: `--judge "…"` (llm_judge) or `--check NAME` (heuristic)."""
    deps, team_id = team_deps(team)
    kind = "llm_judge" if judge is not None else "heuristic"
    config = (
        {"prompt": judge, **({"model": model} if model else {})} if judge is not None else {"checks": check}
    )
    data = {
        "name": name,
        "description": description,
        "enabled": enabled,
        "evaluation_type": kind,
        "evaluation_config": config,
        "output_type": "score" if score else "boolean",
        "output_config": json_option(output_config, "output_config"),
        "conditions": json_option(conditions, "conditions"),
    }
    created = service.create_evaluation(deps, team_id, data)
    out.print(f"created evaluation {escape(name)} ({created.id}), {kind}", highlight=False)


@app.command("list")
@friendly_errors
def list_command(team: int = TEAM) -> None:
    """The team's evaluations."""
    deps, team_id = team_deps(team)
    _, found = service.evaluation_page(deps, team_id, EvaluationFilters(), "name", 1000, 0)
    rows = [
        (
            item.definition["name"],
            item.definition["evaluation_type"],
            item.definition["output_type"],
            "yes" if item.definition["enabled"] else "no",
            str(item.id),
        )
        for item in found
    ]
    print_table(("name", "type", "output", "enabled", "id"), rows)


@app.command("show")
@friendly_errors
def show_command(evaluation: str = typer.Argument(..., help="Name or id."), team: int = TEAM) -> None:
    """An evaluation's whole definition."""
    deps, team_id = team_deps(team)
    shown = service.evaluation(deps, team_id, evaluation)
    out.print(f"# id: {shown.id}", highlight=False)
    out.print(escape(yaml.safe_dump(shown.definition, sort_keys=False, allow_unicode=True)), highlight=False)


@app.command("update")
@friendly_errors
def update_command(
    evaluation: str = typer.Argument(..., help="Name or id."),
    values: list[str] = typer.Option(..., "--set", help="field=value (value as YAML); repeat."),
    team: int = TEAM,
) -> None:
    """Change fields, e.g. `--set enabled=false`; `--set deleted=true` deletes it."""
    deps, team_id = team_deps(team)
    service.update_evaluation(deps, team_id, evaluation, set_options(values))
    out.print(f"updated evaluation {escape(evaluation)}", highlight=False)


@app.command("run")
@friendly_errors
def run_command(
    evaluation: str = typer.Argument(..., help="Name or id."),
    observation: str = typer.Option(None, help="One observation id."),
    scanner: str = typer.Option(None, help="A scanner (name or id): its observations in the window."),
    since: str = typer.Option(None, help="Window start, ISO 8601 (default: 7 days before --until)."),
    until: str = typer.Option(None, help="Window end, ISO 8601 (default: now)."),
    team: int = TEAM,
) -> None:
    """Evaluate now: one observation, or a scanner's observations in a window; workers write results."""
    deps, team_id = team_deps(team)
    target = {"observation_id": observation, "scanner_id": scanner, "since": since, "until": until}
    started = evaluation_runs.start_run(deps, team_id, evaluation, {k: v for k, v in target.items() if v})
    more = " (the window held more: the oldest were taken)" if started.truncated else ""
    out.print(f"run {started.run_id}: {started.observations} observations queued{more}", highlight=False)


@app.command("report")
@friendly_errors
def report_command(
    days: int = typer.Option(30, min=1, max=366, help="Results of the last N days."),
    scanner: str = typer.Option(None, help="Only this scanner (name or id)."),
    grouping_pairs: int = typer.Option(
        20, min=0, max=200, help="Pairs of each kind the judge reads for grouping quality (0: skip)."
    ),
    team: int = TEAM,
) -> None:
    """Per scanner and evaluation: pass rate, and agreement with people's thumbs (precision of `yes`)."""
    deps, team_id = team_deps(team)
    summaries = evaluation_report.evaluation_report(deps, team_id, days=days, scanner=scanner)
    columns = ("scanner", "evaluation", "evaluated", "pass rate", "labelled", "agreement")
    columns += ("yes precision (people)", "false positives", "yes precision (evaluation)")
    print_table(columns, [_row(summary) for summary in summaries], title=f"Evaluations, last {days} days")
    for summary in summaries:
        days_line = ", ".join(f"{day} {p}/{n}" for day, (p, n) in sorted(summary.by_day.items()))
        out.print(f"{escape(summary.scanner)} · {escape(summary.evaluation)}: {days_line}", highlight=False)
    if grouping_pairs:  # the team's grouping quality, one judge call a pair (`reports grouping-quality`)
        figure = evaluation_report.grouping_figure(deps, team_id, pairs=grouping_pairs)
        out.print(escape(figure.line()), highlight=False)


def _row(summary: Summary) -> tuple[str, ...]:
    return (
        summary.scanner,
        summary.evaluation,
        str(summary.evaluated),
        _percent(summary.pass_rate),
        str(summary.labelled),
        _percent(summary.agreement),
        _percent(summary.yes_precision_people),
        _percent(summary.false_positive_rate),
        _percent(summary.yes_precision_evaluation),
    )


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"
