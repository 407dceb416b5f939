"""`sightline actions …` (`sightline integrations …` are in cli/integrations.py)."""

from __future__ import annotations

import typer
import yaml
from rich.markup import escape

from cli.context import friendly_errors, out, print_table, set_options, team_deps, yaml_option
from services import actions as use
from services.action_runs import wait_for_run

app = typer.Typer(help="Actions: scheduled digests and alerts over observations.", no_args_is_help=True)
TEAM = typer.Option(None, "--team", help="Team id (default: the first team).")


@app.command("create")
@friendly_errors
def create_command(
    name: str = typer.Option(..., help="Unique within the team."),
    scanner: str = typer.Option(..., help="The scanner (name or id) whose observations it summarises."),
    rrule: str = typer.Option(
        "FREQ=DAILY;BYHOUR=8;BYMINUTE=0", help="When it runs (RFC 5545 RRULE, no DTSTART)."
    ),
    timezone: str = typer.Option(None, help="IANA timezone of the rule (default: the team's)."),
    mode: str = typer.Option("group_summary", help="group_summary or alert."),
    selection: str = typer.Option(None, help="YAML/JSON, e.g. '{verdict: [yes], tags: [rage_click]}'."),
    alert: str = typer.Option(None, "--alert", help="YAML/JSON alert_config for mode alert."),
    prompt_guide: str = typer.Option(None, help="What the digest should focus on (≤500 chars)."),
    language: str = typer.Option(None, help="Write the digest in this language (a code: fr, de, pt-BR)."),
    target: list[str] = typer.Option(
        None, "--target", help="YAML/JSON target, repeatable, e.g. '{type: log}'."
    ),
    team: int = TEAM,
) -> None:
    """Create a scheduled digest or alert."""
    deps, team_id = team_deps(team)
    data = {
        "name": name,
        "mode": mode,
        "trigger_config": {"rrule": rrule, "timezone": timezone},
        "selection": yaml_option(selection, "selection"),
        "alert_config": yaml_option(alert, "alert"),
        "synthesis_config": {
            **({"prompt_guide": prompt_guide} if prompt_guide else {}),
            **({"language": language} if language else {}),
        },
        "delivery_config": [yaml_option(item, "target") for item in target or []] or [{"type": "log"}],
    }
    action = use.create_action(deps, team_id, scanner, data)
    upcoming = action.next_run_at.isoformat() if action.next_run_at else "never"
    out.print(f"created action {name!r}; next run {upcoming}", highlight=False)


@app.command("list")
@friendly_errors
def list_command(team: int = TEAM) -> None:
    """The team's actions and their next runs."""
    deps, team_id = team_deps(team)
    rows = [
        (
            a.name,
            str(a.mode),
            "yes" if a.enabled else "no",
            (a.trigger_config or {}).get("rrule", ""),
            (a.trigger_config or {}).get("timezone", ""),
            a.next_run_at.isoformat() if a.next_run_at else "-",
            ",".join(t["type"] for t in a.delivery_config or []) or "-",
        )
        for a in use.actions(deps, team_id)[1]
    ]
    print_table(("name", "mode", "enabled", "rrule", "timezone", "next run", "targets"), rows)


@app.command("show")
@friendly_errors
def show_command(
    action: str = typer.Argument(..., help="Name or id."),
    team: int = TEAM,
    runs: int = typer.Option(5, help="How many recent runs to show."),
) -> None:
    """An action's definition, as a YAML file for `sightline apply` (`actions: [...]`), and its recent
    runs as comments."""
    deps, team_id = team_deps(team)
    detail = use.action_detail(deps, team_id, action, runs)
    out.print(f"# id: {detail.id} (apply finds it by name)", highlight=False)
    out.print(escape(yaml.safe_dump(detail.document(), sort_keys=False, allow_unicode=True)), highlight=False)
    out.print("# recent runs (newest first):" if detail.runs else "# recent runs: none", highlight=False)
    for run in detail.runs:
        when, note = run.scheduled_at.isoformat(), " ".join((run.error or "").split())
        line = f"#   {run.id}  {when}  {run.status}  {run.observation_count} observations  {note}"
        out.print(escape(line.rstrip()), highlight=False)


@app.command("update")
@friendly_errors
def update_command(
    action: str = typer.Argument(..., help="Name or id."),
    set_: list[str] = typer.Option(
        None, "--set", help="FIELD=VALUE (VALUE is YAML), e.g. --set enabled=false"
    ),
    team: int = TEAM,
) -> None:
    """Change fields of an action (its schedule is recomputed; missed runs are not replayed)."""
    deps, team_id = team_deps(team)
    changed = use.update_action(deps, team_id, action, set_options(set_))
    out.print(f"changed {', '.join(changed)}" if changed else "nothing changed", highlight=False)


@app.command("delete")
@friendly_errors
def delete_command(action: str = typer.Argument(..., help="Name or id."), team: int = TEAM) -> None:
    """Delete an action that never ran; one that ran is disabled instead (its runs keep their history)."""
    deps, team_id = team_deps(team)
    done = use.delete_action(deps, team_id, action)
    note = " instead of deleted: it has runs, whose history is kept" if done == "disabled" else ""
    out.print(f"{done} action {escape(action)}{note}", highlight=False)


@app.command("run-now")
@friendly_errors
def run_now_command(
    action: str = typer.Argument(..., help="Name or id."),
    wait: bool = typer.Option(False, "--wait", help="Wait until the run and its deliveries finish."),
    timeout: float = typer.Option(120, help="With --wait: give up after this many seconds."),
    team: int = TEAM,
) -> None:
    """Run an action now, outside its schedule (a worker does the work)."""
    deps, team_id = team_deps(team)
    run_id = use.run_now(deps, team_id, action)
    out.print(f"started run {run_id}", highlight=False)
    if not wait:
        return
    progress = wait_for_run(deps, run_id, timeout)
    if progress is None:
        out.print(f"still running after {timeout:g} s (is a worker running?)", highlight=False)
        raise typer.Exit(1)
    out.print(f"run {progress.status}{': ' + progress.error if progress.error else ''}", highlight=False)
    for target, status, error in progress.deliveries:
        out.print(f"  {target}: {status}{' ' + error if error else ''}", highlight=False)
    if progress.markdown:
        out.print(escape(progress.markdown), highlight=False)


@app.command("retry-delivery")
@friendly_errors
def retry_delivery_command(
    delivery: str = typer.Argument(..., help="The failed delivery's id (see /ops)."),
) -> None:
    """Send a failed delivery again, after fixing its target (a token, a channel, a webhook)."""
    from services.delivery import retry_delivery

    deps, _ = team_deps(None)
    if not retry_delivery(deps, delivery):
        out.print(
            f"delivery {escape(delivery)} is not failed (or does not exist): nothing to retry",
            highlight=False,
        )
        raise typer.Exit(1)
    out.print(f"delivery {escape(delivery)} sent again (a worker posts it)", highlight=False)
