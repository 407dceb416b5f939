"""`--help` prints every command's text as written: Rich markup never eats `[yes]` or `[rage_click]`."""

from __future__ import annotations

import importlib
import re

import typer
from typer.testing import CliRunner

from cli.main import COMMANDS, app

BRACKETED = re.compile(r"\[[^\[\]\s]*\]")


def help_text(*args: str) -> str:
    runner = CliRunner(env={"COLUMNS": "200"})  # Rich reads the width from the environment
    result = runner.invoke(app, [*args, "--help"], catch_exceptions=False, terminal_width=200)
    assert result.exit_code == 0, result.output
    return result.output


def written(name: str):
    """The command as its module defines it, before `cli.main` prepares its help for Rich."""
    module, attribute, _ = COMMANDS[name]
    target = getattr(importlib.import_module(module), attribute)
    if isinstance(target, typer.Typer):
        return typer.main.get_group(target)
    single = typer.Typer(add_completion=False)
    single.command(name)(target)
    return typer.main.get_command(single)


def texts_with_brackets(command, path: tuple[str, ...]):
    """(command path, bracketed word) for every `[word]` in a help text, subcommands included."""
    texts = [command.help or "", *(getattr(param, "help", None) or "" for param in command.params)]
    for text in texts:
        yield from ((path, word) for word in BRACKETED.findall(text))
    for name, subcommand in getattr(command, "commands", {}).items():
        yield from texts_with_brackets(subcommand, (*path, name))


def test_the_selection_example_of_actions_create_keeps_its_brackets():
    assert "YAML/JSON, e.g. '{verdict: [yes], tags: [rage_click]}'." in help_text("actions", "create")


def test_every_bracketed_word_in_a_help_text_is_printed():
    found = [item for name in COMMANDS for item in texts_with_brackets(written(name), (name,))]
    assert (("actions", "create"), "[yes]") in found
    missing = [(path, word) for path, word in found if word not in help_text(*path)]
    assert not missing
