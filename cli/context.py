"""The CLI's composition root: settings, logging, the database and the team a command acts on."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any

import orjson
import typer
from rich.console import Console
from rich.markup import escape

from pipeline.errors import InvalidField, SightlineError

# Everything else is imported where it is used: `sightline --help` (and a command that needs no
# database) never pays for SQLAlchemy, the models or the broker.
if TYPE_CHECKING:
    from integrations.storage import Database
    from services.context import Deps
    from settings import Settings

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def settings() -> Settings:
    from integrations.logs import configure_logging
    from settings import get_settings

    current = get_settings()
    configure_logging(current.log_level, current.log_format)
    return current


def migrated_database(current: Settings) -> Database:
    from integrations.storage import database

    db = database(current)
    db.require_migrated()
    return db


def deps() -> Deps:
    """The use cases' dependencies for this command (settings read and logging set up first)."""
    from actors.broker import process_deps

    return process_deps(settings())


def team_deps(team_id: int | None) -> tuple[Deps, int]:
    """The common start of a command: its `Deps` on a migrated database, and the team it acts on."""
    from services.setup import resolve_team

    current = deps()
    migrated_database(current.settings)
    return current, resolve_team(current, team_id)


def friendly_errors(command: Callable) -> Callable:
    """Print a `SightlineError` as one red line and exit with status 2, instead of a traceback."""

    @wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except SightlineError as exc:
            err.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False, markup=True)
            sys.exit(2)

    return wrapper


def warn(messages: tuple[str, ...] | list[str]) -> None:
    """Each message as a yellow `warning:` line on stderr: the command did what it was asked."""
    for message in messages:
        err.print(f"[yellow]warning:[/yellow] {escape(message)}", highlight=False)


def print_table(columns: tuple[str, ...], rows: list[tuple[str, ...]], title: str | None = None) -> None:
    """A table on a terminal; tab-separated lines (header first) when piped, easy to cut and grep."""
    if out.is_terminal:
        from rich.table import Table

        table = Table(*columns, title=title)
        for row in rows:
            table.add_row(*(escape(cell) for cell in row))
        out.print(table)
    else:
        for row in [columns, *rows]:  # written directly: rich would expand the tabs into spaces
            out.file.write("\t".join(cell.replace("\t", " ").replace("\n", " ") for cell in row) + "\n")


def json_option(value: str | None, field: str) -> Any:
    """A JSON command-line value (None stays None); `InvalidField` naming the option when it is not JSON."""
    if value is None:
        return None
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        hint = 'quote it, e.g. \'{"key": "value"}\''
        raise InvalidField(field, f"is not valid JSON ({exc.msg}); {hint}") from exc


def yaml_option(value: str | None, field: str) -> Any:
    """A YAML (or JSON) command-line value (None stays None); see `load_yaml`."""
    return None if value is None else load_yaml(value, field)


def load_yaml(text: str, field: str) -> Any:
    """YAML (or JSON) text as values; `InvalidField` naming `field` when it is not YAML or nests too
    deeply for the parser (which recurses once per level)."""
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidField(field, f"is not valid YAML/JSON ({exc})") from exc
    except RecursionError as exc:
        raise InvalidField(field, "nests lists or mappings too deeply to read; flatten it") from exc


def set_options(items: list[str] | None) -> dict[str, Any]:
    """`--set FIELD=VALUE` options (VALUE is YAML) as a dict of changes."""
    changes = {}
    for item in items or []:
        field, sep, value = item.partition("=")
        if not field.strip() or not sep:
            raise InvalidField("--set", f"{item!r} is not FIELD=VALUE")
        changes[field.strip()] = yaml_option(value, field.strip())
    return changes


def exit_with(code: int) -> None:
    raise typer.Exit(code)
