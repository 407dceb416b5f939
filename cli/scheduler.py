"""`sightline scheduler`, `sightline status` and `sightline up`."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time

import structlog
import typer
from rich.markup import escape

from cli.context import err, friendly_errors, migrated_database, out, print_table, settings

# How often `status --wait-idle` looks again: idle is noticed within this of it happening.
WAIT_IDLE_POLL_S = 0.25

log = structlog.get_logger(__name__)


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    return stop


@friendly_errors
def scheduler_command(
    once: bool = typer.Option(False, "--once", help="Run one tick and exit."),
    interval: float = typer.Option(None, help="Seconds between ticks (default SIGHTLINE_SCHEDULER_TICK_S)."),
) -> None:
    """Run the scheduler daemon: sweep scanners, fire due actions, reap stuck work.

    Safe to run on several machines: one leads (a Redis lock), the others wait and take over
    when it stops. Stops cleanly on Ctrl-C or SIGTERM.
    """
    from actors.broker import broker_for, embedded_redis_url, process_deps
    from scheduler.daemon import Scheduler

    current = settings()
    if interval is not None:
        current = current.model_copy(update={"scheduler_tick_s": interval})
    migrated_database(current)
    broker = broker_for(current)
    scheduler = Scheduler(process_deps(current))
    stop = _stop_on_signals()
    log.info(
        "scheduler_started",
        tick_s=current.scheduler_tick_s,
        who=scheduler.leadership.who,
        redis=current.redis_url or embedded_redis_url(),
    )
    if once:
        report = scheduler.tick()
        scheduler.leadership.step_down()
        out.print(json.dumps(_summary(report.__dict__), indent=2))
    else:
        scheduler.run(stop)
    broker.close()
    log.info("scheduler_stopped")


def _summary(report: dict) -> dict:
    return {key: value for key, value in report.items() if key != "swept"} | {
        "swept": [
            f"{s['name']}: {s['enqueued']} enqueued of {s['examined']} examined {s['stopped']}".strip()
            for s in report.get("swept", [])
        ]
    }


def _idle(data: dict) -> bool:
    """Every enabled scanner swept up to now (but those waiting for a setting, which no sweep takes),
    no observation waiting or running, every signal grouped and no report being summarised."""
    busy = sum(data["observations"].get(status, 0) for status in ("pending", "running"))
    busy += data["signals"]["ungrouped"]
    busy += sum(data["reports"].get(status, 0) for status in ("candidate", "in_progress"))
    scanners = [
        s for s in data["scanners"] if s["enabled"] and s["sampling_rate"] > 0 and not s.get("waiting_for")
    ]
    return busy == 0 and all(s["last_sweep_at"] and s["unswept"] == 0 for s in scanners)


def _wait_idle(deps, timeout: float) -> dict:
    from rich.progress import Progress, TextColumn

    from services.status import status

    deadline = time.monotonic() + timeout
    with Progress(TextColumn("{task.description}"), transient=True, console=err) as progress:
        task = progress.add_task("waiting for the scheduler and workers")
        while True:
            data = status(deps)
            if _idle(data):
                return data
            if time.monotonic() > deadline:
                err.print(f"still busy after {timeout:g} s", highlight=False)
                raise typer.Exit(1)
            counts = ", ".join(f"{n} {s}" for s, n in sorted(data["observations"].items()))
            unswept = sum(s["unswept"] for s in data["scanners"] if s["enabled"])
            progress.update(task, description=f"waiting: {counts or 'no observations'}; {unswept} unswept")
            time.sleep(WAIT_IDLE_POLL_S)


@friendly_errors
def status_command(
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object, for machines."),
    wait_idle: float = typer.Option(
        None,
        "--wait-idle",
        metavar="SECONDS",
        help="First wait (at most SECONDS) until every scanner is swept and no observation is pending "
        "or running; exit 1 if that does not happen in time.",
    ),
    check: bool = typer.Option(
        False,
        "--check",
        help="A probe: print nothing else, exit 1 when no scheduler leads or no worker is alive.",
    ),
) -> None:
    """The scheduler's leader and last tick, scanners, actions, queues, workers and recent failures."""
    from actors.broker import process_deps
    from services.health import problems
    from services.status import status

    current = settings()
    migrated_database(current)
    deps = process_deps(current)
    data = _wait_idle(deps, wait_idle) if wait_idle is not None else status(deps)
    if check:
        found = problems(data)
        for problem in found:
            out.print(f"unhealthy: {problem}", highlight=False)
        if found:
            raise typer.Exit(1)
        out.print(f"healthy: a leader and {len(data['workers'])} live worker(s)", highlight=False)
        return
    if as_json:
        out.file.write(json.dumps(data, indent=2) + "\n")
        return
    _print_summary(data)
    _print_tables(data)
    alive = data["workers"]
    workers = "".join(f"\n  {escape(w['who'])} ({w['threads']} threads)" for w in alive)
    out.print(f"Workers alive: {len(alive)}{workers}", highlight=False)
    failures = ", ".join(f"{actor} {count}" for actor, count in data["failures_last_hour"].items())
    out.print(f"Failed jobs (last hour): {failures or 'none'}", highlight=False)
    kinds = ", ".join(f"{kind} {count}" for kind, count in data["observation_failures_last_hour"].items())
    out.print(f"Failed observations (last hour): {kinds or 'none'}", highlight=False)


def _print_summary(data: dict) -> None:
    leader, tick = data["scheduler"]["leader"], data["scheduler"]["last_tick"]
    out.print(f"Scheduler: {'leader ' + leader['who'] if leader else 'no leader running'}", highlight=False)
    if tick:
        out.print(
            f"Last tick: {tick['at']} ({tick['duration_ms']} ms): {len(tick['swept'])} swept, "
            f"{tick['enqueued']} enqueued, {tick['actions'].get('claimed', 0)} actions claimed",
            highlight=False,
        )
    counts = ", ".join(f"{count} {status}" for status, count in sorted(data["observations"].items()))
    out.print(f"Observations: {counts or 'none'}", highlight=False)
    reports = ", ".join(f"{count} {status}" for status, count in sorted(data["reports"].items()))
    ungrouped = data["signals"]["ungrouped"]
    out.print(f"Signals: {ungrouped} waiting to be grouped; reports: {reports or 'none'}", highlight=False)


def _eta(backlog: int, seconds: float | None) -> str:
    """'-' with nothing left, '?' with nothing finished lately to go by, else about how long."""
    if not backlog:
        return "-"
    if seconds is None:
        return f"{backlog} left, ?"
    if seconds < 120:
        return f"{backlog} left, {seconds:.0f} s"
    if seconds < 7200:
        return f"{backlog} left, {seconds / 60:.0f} min"
    return f"{backlog} left, {seconds / 3600:.1f} h"


def _print_tables(data: dict) -> None:
    scanners = [
        (
            s["name"],
            "yes" if s["enabled"] else "no",
            f"{s['sampling_rate']:g}",
            s["last_sweep_at"] or "-",
            f"waiting for {s['waiting_for']}" if s.get("waiting_for") else s["next_sweep_at"] or "-",
            str(s["unswept"]),
            str(s["settling"]),
            f"{s['drain_per_min']:g}",
            _eta(s["backlog"], s["backlog_eta_s"]),
            str(s["estimated_monthly_observations"] or 0),
        )
        for s in data["scanners"]
    ]
    columns = (
        "scanner",
        "enabled",
        "rate",
        "last sweep",
        "next sweep",
        "unswept",
        "settling",
        "done/min",
        "backlog ETA",
        "est./month",
    )
    print_table(columns, scanners, title="Scanners")
    if data["actions"]:
        actions = [
            (a["name"], "yes" if a["enabled"] else "no", a["next_run_at"] or "-", a["last_run_at"] or "-")
            for a in data["actions"]
        ]
        print_table(("action", "enabled", "next run", "last run"), actions, title="Actions")
    queues = [
        (name, *(str(depth[key]) for key in ("ready", "delayed", "in_flight", "dead")))
        for name, depth in data["queues"].items()
    ]
    print_table(("queue", "ready", "delayed", "in flight", "dead"), queues, title="Queues")


@friendly_errors
def up_command(
    threads: int = typer.Option(4, min=1, help="Worker threads."),
    processes: int = typer.Option(1, min=1, help="Worker processes."),
    api: bool = typer.Option(True, "--api/--no-api", help="Also serve the HTTP API (SIGHTLINE_API_PORT)."),
) -> None:
    """Run the scheduler, a worker and the API together on the embedded defaults until Ctrl-C."""
    from actors.broker import embedded_redis_url, redis_client
    from settings import child_environment

    current = settings()
    migrated_database(current)
    stop = _stop_on_signals()  # before anything starts: a SIGTERM from now on stops what did
    overrides = {}
    if not current.redis_url:
        redis_client(current)  # one embedded server for the children, alive as long as this process
        overrides["REDIS_URL"] = embedded_redis_url() or ""
    env = child_environment(**overrides)
    # -P: the current folder stays off the import path, so a project's own `settings.py` (Django's)
    # cannot stand in for ours.
    command = [sys.executable, "-P", "-m", "cli.main"]
    worker = [*command, "worker", "--threads", str(threads), "--processes", str(processes)]
    children = {
        "worker": subprocess.Popen(worker, env=env),
        "scheduler": subprocess.Popen([*command, "scheduler"], env=env),
    }
    if api:
        children["api"] = subprocess.Popen([*command, "api"], env=env)
    # Facts in the log (JSON when it is not a terminal), not plain lines among the children's.
    log.info(
        "up_started",
        pids={name: child.pid for name, child in children.items()},
        api=f"http://{current.api_host}:{current.api_port}/api/docs/" if api else None,
        stop="Ctrl-C",
    )
    while not stop.wait(0.5):
        ended = [name for name, child in children.items() if child.poll() is not None]
        if "api" in ended:  # the pipeline goes on without it (its port may be taken)
            log.warning("up_api_stopped", going_on=["scheduler", "worker"])
            children.pop("api")
            ended.remove("api")
        if ended:
            log.warning("up_child_stopped", stopped=ended, stopping=sorted(set(children) - set(ended)))
            break
    for child in children.values():
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 40
    for child in children.values():
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
    log.info("up_stopped")
