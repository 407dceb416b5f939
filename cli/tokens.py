"""`sightline tokens`: project ingest tokens for live recording, and the web origins that may use them."""

from __future__ import annotations

import typer

from cli.context import friendly_errors, out, print_table, team_deps

app = typer.Typer(
    help="Project ingest tokens: write-only, safe in a web page; they only add recordings to their team.",
    no_args_is_help=True,
)
TEAM_HELP = "The team whose recordings it adds (default: the first team)."


@app.command("create")
@friendly_errors
def create_command(
    team: int = typer.Option(None, "--team", help=TEAM_HELP),
    label: str = typer.Option("", "--label", help="What the token is for (the site), to recognise it later."),
) -> None:
    """Create an ingest token; it is printed once, alone on the last line."""
    from services.ingest import create_token

    deps, team_id = team_deps(team)
    created = create_token(deps, team_id, label)
    out.print(
        f"ingest token {created.token.id} ({created.token.mask_value}) for team {team_id}", highlight=False
    )
    out.print(
        "Put it in the recorder snippet (see the README); pages on other origins also need "
        "`sightline tokens origins --add https://your.site`.",
        highlight=False,
    )
    out.file.write(created.secret + "\n")


@app.command("list")
@friendly_errors
def list_command(team: int = typer.Option(None, "--team", help="Only this team's tokens.")) -> None:
    """Every ingest token: its mask, team, label, last use, and whether it is revoked."""
    from services.ingest import tokens

    deps, _ = team_deps(None)
    rows = [
        (
            str(token.id)[:8],
            token.mask_value,
            str(token.team_id),
            token.label,
            token.last_used_at.isoformat(timespec="seconds") if token.last_used_at else "never",
            "revoked" if token.revoked_at else "active",
        )
        for token in tokens(deps, team)
    ]
    print_table(("id", "token", "team", "label", "last used", "state"), rows, title="Ingest tokens")


@app.command("revoke")
@friendly_errors
def revoke_command(
    token: str = typer.Argument(..., help="The token's id (8+ characters of it) or its mask."),
) -> None:
    """Revoke an ingest token: batches sent with it are refused (401) from now on."""
    from services.ingest import revoke_token

    deps, _ = team_deps(None)
    revoked = revoke_token(deps, token)
    out.print(f"revoked {revoked.id} ({revoked.mask_value})", highlight=False)


@app.command("origins")
@friendly_errors
def origins_command(
    add: list[str] = typer.Option(
        None, "--add", help="Repeatable: allow pages of this origin (https://host[:port])."
    ),
    remove: list[str] = typer.Option(None, "--remove", help="Repeatable: stop allowing this origin."),
    team: int = typer.Option(None, "--team", help=TEAM_HELP),
) -> None:
    """The web origins whose pages may send recordings (CORS); without options, list them."""
    from services.ingest import set_origins

    deps, team_id = team_deps(team)
    allowed = set_origins(deps, team_id, add=add or [], remove=remove or [])
    out.print(
        f"team {team_id} accepts recordings from: {', '.join(allowed) or 'no web origin'}", highlight=False
    )
