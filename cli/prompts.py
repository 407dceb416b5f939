"""`sightline prompts …`: the prompt library (each change a new version, delete is soft)."""

from __future__ import annotations

from pathlib import Path

import typer
import yaml
from rich.markup import escape

from cli.context import friendly_errors, out, print_table, team_deps
from pipeline import as_code
from pipeline.errors import InvalidField, NotFoundError
from services import prompts as service
from services.prompts import PromptView

app = typer.Typer(
    help="Prompts: a library of named, versioned prompts that scanners and actions name (prompt_ref).",
    no_args_is_help=True,
)
TEAM = typer.Option(None, "--team", help="Team id (default: the first team).")
TEXT = typer.Option(None, "--text", help="The prompt's text.")
FILE = typer.Option(None, "--file", help="Read the prompt's text from this file (instead of --text).")
REF = typer.Argument(..., help="The prompt's name, or its id (a deleted prompt only by id).")


def _text(text: str | None, file: Path | None, required: bool) -> str | None:
    """The text from --text or --file (not both); `InvalidField` naming the option otherwise."""
    if text is not None and file is not None:
        raise InvalidField("--file", "give --text or --file, not both")
    if file is not None:
        try:
            return file.read_text()
        except OSError as exc:
            raise NotFoundError(f"cannot read {file} ({exc.strerror})") from exc
    if text is None and required:
        raise InvalidField("--text", "give the prompt's text with --text or --file")
    return text


@app.command("create")
@friendly_errors
def create_command(
    name: str = typer.Argument(..., help="Unique among the team's prompts: letters, digits, '.', '_', '-'."),
    text: str = TEXT,
    file: Path = FILE,
    team: int = TEAM,
) -> None:
    """Create a prompt (version 1)."""
    deps, team_id = team_deps(team)
    created = service.create_prompt(deps, team_id, {"name": name, "prompt": _text(text, file, True)})
    out.print(f"created prompt {escape(created.name)} ({created.id}), version 1", highlight=False)


@app.command("list")
@friendly_errors
def list_command(
    deleted: bool = typer.Option(False, "--deleted", help="List the deleted prompts instead."),
    team: int = TEAM,
) -> None:
    """The team's prompts by name (the deleted ones with --deleted)."""
    deps, team_id = team_deps(team)
    _, found = service.prompts(deps, team_id, deleted=deleted)
    rows = [
        (each.name, str(each.version), each.updated_at.isoformat(timespec="seconds"), str(each.id))
        for each in found
    ]
    print_table(("name", "version", "updated", "id"), rows)


@app.command("show")
@friendly_errors
def show_command(
    prompt: str = REF,
    version: int = typer.Option(None, "--version", help="A version (default: the latest)."),
    team: int = TEAM,
) -> None:
    """One version of a prompt, as a YAML file for `sightline apply` (`prompts: [...]`)."""
    deps, team_id = team_deps(team)
    shown = service.prompt(deps, team_id, prompt, version=version)
    state = ", deleted" if shown.deleted else ""
    out.print(f"# id: {shown.id}, version {shown.version} of {shown.latest_version}{state}", highlight=False)
    document = as_code.document(prompts=[{"name": shown.name, "prompt": shown.prompt}])
    out.print(escape(yaml.safe_dump(document, sort_keys=False, allow_unicode=True)), highlight=False)


@app.command("edit")
@friendly_errors
def edit_command(
    prompt: str = REF,
    text: str = TEXT,
    file: Path = FILE,
    rename: str = typer.Option(
        None, "--rename", help="A new name (refused while a scanner or action names it)."
    ),
    team: int = TEAM,
) -> None:
    """Change a prompt's text or name: a new version. Observations already made keep the text they used."""
    deps, team_id = team_deps(team)
    changes = {"prompt": _text(text, file, False), "name": rename}
    edited = service.update_prompt(deps, team_id, prompt, {k: v for k, v in changes.items() if v is not None})
    _said(edited, f"version {edited.prompt.version}")


@app.command("history")
@friendly_errors
def history_command(prompt: str = REF, team: int = TEAM) -> None:
    """Every version of a prompt, newest first."""
    deps, team_id = team_deps(team)
    rows = [_version_row(each) for each in service.history(deps, team_id, prompt)]
    print_table(("version", "name", "written", "text"), rows)


def _version_row(each: PromptView) -> tuple[str, ...]:
    first = each.prompt.strip().splitlines()[0] if each.prompt.strip() else ""
    return (str(each.version), each.name, each.updated_at.isoformat(timespec="seconds"), first[:60])


@app.command("delete")
@friendly_errors
def delete_command(prompt: str = REF, team: int = TEAM) -> None:
    """Delete a prompt (soft): it leaves the list and can no longer be named, but every version stays
    readable by id. Refused while a scanner or action names it."""
    deps, team_id = team_deps(team)
    _said(service.update_prompt(deps, team_id, prompt, {"deleted": True}), "deleted; restore it by id")


@app.command("restore")
@friendly_errors
def restore_command(prompt: str = REF, team: int = TEAM) -> None:
    """Restore a deleted prompt (by id), when no live prompt has taken its name."""
    deps, team_id = team_deps(team)
    _said(service.update_prompt(deps, team_id, prompt, {"deleted": False}), "restored")


def _said(edited: service.Edited, what: str) -> None:
    shown = edited.prompt
    message = f"prompt {shown.name} ({shown.id}): {what}" if edited.changed else "nothing changed"
    out.print(escape(message), highlight=False)
