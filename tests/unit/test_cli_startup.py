"""`sightline` imports a command's module only when that command runs: `--help` lists every command
from `cli.main.COMMANDS` without loading the database, the broker or the Gemini and Slack clients."""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from cli.main import COMMANDS, LazyGroup, app

HEAVY = ("sqlalchemy", "sqlmodel", "alembic", "redis", "dramatiq", "google.genai", "slack_sdk", "numpy")


def help_text(*args: str) -> str:
    result = CliRunner().invoke(app, [*args, "--help"], catch_exceptions=False, terminal_width=200)
    assert result.exit_code == 0, result.output
    return result.output


def test_help_lists_each_command_with_the_first_paragraph_of_its_own_help(monkeypatch):
    listed = help_text()
    monkeypatch.setattr(LazyGroup, "listing_summaries", False)  # build every real command instead
    assert help_text() == listed
    assert all(name in listed for name in COMMANDS)


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_command_has_its_help(name):
    assert f"sightline {name}" in help_text(name)


def test_help_loads_no_database_broker_or_model_client():
    script = (
        "import sys\nfrom cli.main import main\nsys.argv = ['sightline', '--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]"
