"""`sightline users` and `sightline keys`: the people who use the API and pages, and their API keys."""

from __future__ import annotations

import getpass
import sys

import typer

from cli.context import deps, friendly_errors, migrated_database, out, print_table
from pipeline.scopes import ALL, SCOPES

users_app = typer.Typer(help="People: who signs in to the pages and owns API keys.", no_args_is_help=True)
keys_app = typer.Typer(help="Personal API keys: shown once, stored hashed, revocable.", no_args_is_help=True)


def _deps():
    current = deps()
    migrated_database(current.settings)
    return current


@users_app.command("create")
@friendly_errors
def create_user_command(
    email: str = typer.Option(..., "--email", help="Their email: what they sign in with."),
    password: bool = typer.Option(
        False, "--password", help="Ask for a password (10+ characters), so they can sign in to the pages."
    ),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from the first line of standard input (scripts)."
    ),
    operator: bool = typer.Option(False, "--operator", help="May also see the operator pages."),
    team: int = typer.Option(None, "--team", help="The team they join (default: the first team)."),
) -> None:
    """Create a person, a member of one team; `--password` asks for their password twice."""
    from services.auth import create_user

    secret = _read_password() if password_stdin else (_ask_password() if password else None)
    user = create_user(_deps(), email, password=secret, operator=operator, team_id=team)
    role = "operator" if operator else "member"
    out.print(f"created {user.email} ({role}, id {user.id})", highlight=False)


@users_app.command("list")
@friendly_errors
def list_users_command() -> None:
    """Every person, their role and teams."""
    from services.auth import users

    rows = [
        (user.email, str(user.role), ", ".join(map(str, teams)) or "-", "yes" if user.password_hash else "no")
        for user, teams in users(_deps())
    ]
    print_table(("email", "role", "teams", "password"), rows, title="Users")


@users_app.command("add-member")
@friendly_errors
def add_member_command(
    email: str = typer.Option(..., "--email"), team: int = typer.Option(..., "--team", help="Team id.")
) -> None:
    """Give a person access to another team."""
    from services.auth import add_member

    added = add_member(_deps(), email, team)
    out.print(f"{email} {'is now' if added else 'was already'} a member of team {team}", highlight=False)


@users_app.command("set-password")
@friendly_errors
def set_password_command(email: str = typer.Option(..., "--email")) -> None:
    """Set (or change) a person's password; it is asked for twice, never taken from the command line."""
    from services.auth import set_password

    set_password(_deps(), email, _ask_password())
    out.print(f"password set for {email}", highlight=False)


def _read_password() -> str:
    return sys.stdin.readline().rstrip("\r\n")


def _ask_password() -> str:
    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        from pipeline.errors import InvalidField

        raise InvalidField("password", "the two entries differ")
    return first


@keys_app.command("create")
@friendly_errors
def create_key_command(
    label: str = typer.Option(..., "--label", help="What the key is for, to recognise it in `keys list`."),
    scope: list[str] = typer.Option(
        ...,
        "--scope",
        help=f"Repeatable: {ALL} (everything) or one of {', '.join(SCOPES)}; write implies read.",
    ),
    team: int = typer.Option(
        None, "--team", help="Limit the key to this team (default: all its owner's teams)."
    ),
    user: str = typer.Option(None, "--user", help="The owner's email (default: the first user)."),
) -> None:
    """Create a personal API key; the key is printed once, alone on the last line, and never again."""
    from services.auth import create_key

    created = create_key(_deps(), label, scope, email=user, team_id=team)
    where = f"team {team}" if team is not None else "every team of its owner"
    out.print(
        f"key {created.key.id} ({created.key.mask_value}), scopes {', '.join(created.key.scopes)}, {where}"
    )
    out.print("Store it now: it is not shown again. Send it as `Authorization: Bearer KEY`.", highlight=False)
    out.file.write(created.secret + "\n")


@keys_app.command("list")
@friendly_errors
def list_keys_command() -> None:
    """Every key: its mask, owner, scopes, team, last use, and whether it is revoked."""
    from services.auth import keys

    rows = [
        (
            str(key.id)[:8],
            key.mask_value,
            key.label,
            email,
            ",".join(key.scopes),
            str(key.team_id) if key.team_id is not None else "all",
            key.last_used_at.isoformat(timespec="seconds") if key.last_used_at else "never",
            "revoked" if key.revoked_at else "active",
        )
        for key, email in keys(_deps())
    ]
    print_table(
        ("id", "key", "label", "owner", "scopes", "team", "last used", "state"), rows, title="API keys"
    )


@keys_app.command("revoke")
@friendly_errors
def revoke_key_command(
    key: str = typer.Argument(..., help="The key's id (8+ characters of it) or its mask."),
) -> None:
    """Revoke a key: every request with it is refused (401) from now on."""
    from services.auth import revoke_key

    revoked = revoke_key(_deps(), key)
    out.print(f"revoked {revoked.id} ({revoked.mask_value})", highlight=False)
