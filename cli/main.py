"""`sightline`: set up the data folder, import recordings, read timelines, run workers.

A command's module is imported only when that command runs (or its own `--help` is asked), so a
command never waits for what the others import (the broker, Gemini, Slack, the scheduler):
`COMMANDS` names where each one lives, with the one-line summary `sightline --help` lists.
"""

from __future__ import annotations

import importlib

import typer
from rich.markup import escape
from typer.core import HAS_RICH, TyperCommand, TyperGroup

# name: (module, attribute: a command function or a Typer of subcommands, summary for `--help`).
# The summary is the first paragraph of the command's own help (tests/unit/test_cli_startup.py).
COMMANDS: dict[str, tuple[str, str, str]] = {
    "init": (
        "cli.init",
        "init_command",
        "Create the data folder, migrate the database and create the default organisation, team and user.",
    ),
    "import": (
        "cli.recordings",
        "import_command",
        'Import rrweb recordings: arrays, {"result": [...]}, PostHog JSONL blobs and PostHog exports.',
    ),
    "recordings": ("cli.recordings", "app", "Stored recordings."),
    "sources": ("cli.sources", "app", "Recording sources: PostHog projects polled for new recordings."),
    "timeline": (
        "cli.recordings",
        "timeline_command",
        "Print the timeline the model reads for one recording (redacted, within the token budget).",
    ),
    "scenarios": ("cli.scenarios", "app", "Synthetic recordings built by name."),
    "worker": (
        "cli.worker",
        "worker_command",
        "Run Dramatiq workers on REDIS_URL (or the embedded Redis) until Ctrl-C or SIGTERM.",
    ),
    "scanners": ("cli.scanners", "app", "Scanners: the questions asked about every session."),
    "apply": (
        "cli.scanners",
        "apply_command",
        "Scanners (and actions) as code: create or update each by name. Running it twice changes nothing.",
    ),
    "prompts": (
        "cli.prompts",
        "app",
        "Prompts: a library of named, versioned prompts that scanners and actions name (prompt_ref).",
    ),
    "scouts": (
        "cli.scouts",
        "app",
        "Scouts: detectors across sessions (error spikes, click hotspots, drop-offs, form abandonment).",
    ),
    "observe": (
        "cli.observations",
        "observe_command",
        "Observe sessions now, within the scanner's and the organisation's limits.",
    ),
    "observations": ("cli.observations", "app", "Observations: one scanner's look at one session."),
    "quota": (
        "cli.observations",
        "quota_command",
        "This month's credits: the organisation's limit, use (in-flight included) and what remains.",
    ),
    "scheduler": (
        "cli.scheduler",
        "scheduler_command",
        "Run the scheduler daemon: sweep scanners, fire due actions, reap stuck work.",
    ),
    "status": (
        "cli.scheduler",
        "status_command",
        "The scheduler's leader and last tick, scanners, actions, queues, workers and recent failures.",
    ),
    "up": (
        "cli.scheduler",
        "up_command",
        "Run the scheduler, a worker and the API together on the embedded defaults until Ctrl-C.",
    ),
    "reports": ("cli.reports", "app", "Reports: grouped findings, the team's inbox of problems."),
    "signals": ("cli.reports", "signals_app", "Signal processing: pause and resume grouping."),
    "actions": ("cli.actions", "app", "Actions: scheduled digests and alerts over observations."),
    "evaluations": (
        "cli.evaluations",
        "app",
        "Evaluations: checks of our own answers, by an LLM judge or heuristics.",
    ),
    "integrations": ("cli.integrations", "integrations_app", "Integrations: where actions deliver (Slack)."),
    "secrets": ("cli.integrations", "secrets_app", "Secrets at rest: re-encrypt them with a new key."),
    "api": (
        "cli.web",
        "api_command",
        "Serve the HTTP API until Ctrl-C; OpenAPI at /api/schema/, interactive docs at /api/docs/.",
    ),
    "users": ("cli.people", "users_app", "People: who signs in to the pages and owns API keys."),
    "keys": ("cli.people", "keys_app", "Personal API keys: shown once, stored hashed, revocable."),
    "tokens": (
        "cli.tokens",
        "app",
        "Project ingest tokens: write-only, safe in a web page; they only add recordings to their team.",
    ),
}


class LazyGroup(TyperGroup):
    """A group that builds a command from its module on first use, and lists the others by summary."""

    listing_summaries = True  # False makes `--help` import every command (the test compares both)

    def __init__(self, **attrs) -> None:
        super().__init__(**attrs)
        self._listing = False

    def list_commands(self, ctx: typer.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: typer.Context, cmd_name: str):
        command = super().get_command(ctx, cmd_name)
        if command is not None or cmd_name not in COMMANDS:
            return command
        if self._listing and self.listing_summaries:
            return as_written(TyperCommand(cmd_name, help=COMMANDS[cmd_name][2]))
        command = load_command(cmd_name)
        self.add_command(command, cmd_name)
        return command

    def format_help(self, ctx: typer.Context, formatter) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False


def load_command(name: str):
    """The click command of `COMMANDS[name]`, importing its module; its help is printed as written."""
    module, attribute, _ = COMMANDS[name]
    target = getattr(importlib.import_module(module), attribute)
    if isinstance(target, typer.Typer):
        command = typer.main.get_group(target)
        command.name = name
        return as_written(command)
    single = typer.Typer(add_completion=False)
    single.command(name)(target)
    return as_written(typer.main.get_command(single))


def as_written(command):
    """`command` (and its subcommands) with Rich markup in its help escaped, where Rich renders it.

    Rich would read `[yes]` in `{verdict: [yes]}` as a style and drop it from `--help`.
    """
    if HAS_RICH and getattr(command, "rich_markup_mode", None) == "rich":
        for owner in (command, *command.params):
            for attribute in ("help", "short_help"):
                if getattr(owner, attribute, None):
                    setattr(owner, attribute, escape(getattr(owner, attribute)))
    for subcommand in getattr(command, "commands", {}).values():
        as_written(subcommand)
    return command


app = typer.Typer(
    name="sightline",
    cls=LazyGroup,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def sightline() -> None:
    """Sightline watches rrweb session recordings so you do not have to."""


def main() -> None:
    app()


if __name__ == "__main__":
    main()
