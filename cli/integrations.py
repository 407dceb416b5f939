"""`sightline integrations …` (Slack bot tokens) and `sightline secrets rotate`."""

from __future__ import annotations

import json

import typer
from rich.markup import escape

from cli.context import deps, friendly_errors, migrated_database, out, print_table, team_deps

integrations_app = typer.Typer(help="Integrations: where actions deliver (Slack).", no_args_is_help=True)
secrets_app = typer.Typer(help="Secrets at rest: re-encrypt them with a new key.", no_args_is_help=True)
TEAM = typer.Option(None, "--team", help="Team id (default: the first team).")
REF = typer.Argument(..., help="The integration's name or id.")


@integrations_app.command("add-slack")
@friendly_errors
def add_slack_command(
    token: str = typer.Option(
        ..., help="The bot token (xoxb-…); stored encrypted, never printed.", prompt=True, hide_input=True
    ),
    name: str = typer.Option(..., help="A name to recognise it by, unique in the team."),
    report_channel: str = typer.Option(None, help="Channel id for report cards (one per ready report)."),
    team: int = TEAM,
) -> None:
    """Check a Slack bot token with Slack (auth.test), then store it for `slack` targets."""
    from services.integrations import add_slack_integration

    deps, team_id = team_deps(team)
    integration_id, who, cards = add_slack_integration(
        deps, team_id, name=name, token=token, report_channel=report_channel
    )
    out.print(
        f"added Slack integration {escape(name)!r}: {integration_id} "
        f"(workspace {escape(who.workspace)!r}, bot {escape(who.bot)!r})",
        highlight=False,
    )
    if cards:
        out.print(f"sent {cards} report card(s) waiting for a Slack channel", highlight=False)


@integrations_app.command("list")
@friendly_errors
def list_command(team: int = TEAM, as_json: bool = typer.Option(False, "--json")) -> None:
    """The team's integrations (tokens only masked)."""
    from services.integrations import integrations_of

    deps, team_id = team_deps(team)
    rows = integrations_of(deps, team_id)
    if as_json:
        out.file.write(json.dumps(rows, indent=2) + "\n")
        return
    columns = ("id", "kind", "name", "workspace", "bot", "report channel", "token")
    keys = ("id", "kind", "name", "workspace", "bot", "report_channel", "token_mask")
    print_table(columns, [tuple(str(row.get(key, "-")) for key in keys) for row in rows])


@integrations_app.command("test")
@friendly_errors
def test_command(integration: str = REF, team: int = TEAM) -> None:
    """Ask Slack whose token an integration holds (auth.test); nothing is posted."""
    from services.integrations import check_integration

    deps, team_id = team_deps(team)
    who = check_integration(deps, team_id, integration)
    out.print(
        f"ok: workspace {escape(who.workspace)!r} ({escape(who.url)}), bot {escape(who.bot)!r}",
        highlight=False,
    )


@integrations_app.command("remove")
@friendly_errors
def remove_command(integration: str = REF, team: int = TEAM) -> None:
    """Delete an integration that no enabled action posts through."""
    from services.integrations import remove_integration

    deps, team_id = team_deps(team)
    removed = remove_integration(deps, team_id, integration)
    out.print(f"removed integration {escape(removed)!r}", highlight=False)


@integrations_app.command("rename")
@friendly_errors
def rename_command(
    integration: str = REF,
    new_name: str = typer.Argument(..., help="The new name, unique in the team."),
    team: int = TEAM,
) -> None:
    """Give an integration another name."""
    from services.integrations import rename_integration

    deps, team_id = team_deps(team)
    old = rename_integration(deps, team_id, integration, new_name)
    out.print(f"renamed integration {escape(old)!r} to {escape(new_name.strip())!r}", highlight=False)


@secrets_app.command("rotate")
@friendly_errors
def rotate_command(
    new_key: bool = typer.Option(
        False,
        "--new-key",
        help="First generate a key into $SIGHTLINE_HOME/secret.key (the older ones are dropped once "
        "every secret is re-encrypted). Not with SIGHTLINE_SECRET_KEY: change that variable instead.",
    ),
) -> None:
    """Re-encrypt every stored secret with the first key (SIGHTLINE_SECRET_KEY=new,old, or the key file)."""
    from services.secrets import rotate_secrets

    current = deps()
    migrated_database(current.settings)
    done = rotate_secrets(current, new_key=new_key)
    out.print(
        f"re-encrypted the secrets of {done.integrations} integration(s), {done.actions} action(s) "
        f"and {done.sources} source(s) with the first key",
        highlight=False,
    )
    if done.key_file:
        out.print(f"the key file {escape(done.key_file)} now holds the new key only", highlight=False)
