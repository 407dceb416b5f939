"""Shared by the API tests: a client of the real app on the world's database, keys, and field checks.

The `api` fixture (tests/integration/conftest.py) is `api_for(world)`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient

from api.app import create_app
from services.auth import create_key, create_user

# The reference's user shape (`created_by`, `triggered_by_user`).
USER_FIELDS = (
    "id",
    "uuid",
    "distinct_id",
    "first_name",
    "last_name",
    "email",
    "is_email_verified",
    "hedgehog_config",
    "role_at_organization",
)
ENVELOPE_FIELDS = ("count", "next", "previous", "results")


@dataclass
class Api:
    """A client of the app, authenticated with a key of every scope, on the world's team."""

    client: TestClient
    key: str
    team_id: int

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    def get(self, path: str, **options: Any):
        return self.client.get(path, headers={**self.headers, **options.pop("headers", {})}, **options)

    def post(self, path: str, json: Any = None, **options: Any):
        return self.client.post(
            path, json=json, headers={**self.headers, **options.pop("headers", {})}, **options
        )

    def patch(self, path: str, json: Any = None, **options: Any):
        return self.client.patch(
            path, json=json, headers={**self.headers, **options.pop("headers", {})}, **options
        )

    def delete(self, path: str, **options: Any):
        return self.client.delete(path, headers={**self.headers, **options.pop("headers", {})}, **options)


def api_for(world) -> Api:
    """The app on the world's deps, and a key of every scope for the default team."""
    key = create_key(world.deps, "tests", ["*"]).secret
    return Api(TestClient(create_app(world.deps)), key, world.team_id)


def other_team_key(world, scopes: Iterable[str] = ("*",)) -> str:
    """A key of a person who is a member of a second team only (never of the world's team)."""
    from models import Organization, Team

    with world.deps.transaction() as session:
        organization = Organization(name="Elsewhere")
        session.add(organization)
        session.flush()
        team = Team(organization_id=organization.id, name="Elsewhere")
        session.add(team)
        session.flush()
        team_id = team.id
    email = f"stranger-{team_id}@example.com"
    create_user(world.deps, email, team_id=team_id)
    return create_key(world.deps, "stranger", list(scopes), email=email).secret


def check_fields(body: dict[str, Any], fields: Iterable[str]) -> None:
    """Every field the reference names is in `body` (ours may add more)."""
    missing = [name for name in fields if name not in body]
    assert not missing, f"missing {missing} in {sorted(body)}"


def check_user(value: dict[str, Any] | None) -> None:
    assert value is not None
    check_fields(value, USER_FIELDS)


def check_envelope(body: dict[str, Any]) -> list[dict[str, Any]]:
    check_fields(body, ENVELOPE_FIELDS)
    return body["results"]


# Vision observations, as the reference writes them.
OBSERVATION_FIELDS = (
    *("id", "scanner_id", "session_id", "status", "error_reason", "workflow_id"),
    *("scanner_snapshot", "scanner_result", "triggered_by", "triggered_by_user"),
    *("started_at", "completed_at", "created_at"),
)
SNAPSHOT_FIELDS = (
    "name",
    "scanner_type",
    "scanner_version",
    "model",
    "provider",
    "emits_signals",
    "scanner_config",
)
RESULT_FIELDS = ("model_output", "signals_count")


def check_observation(body: dict[str, Any]) -> None:
    """An observation with the reference's fields, its snapshot's and its result's."""
    check_fields(body, OBSERVATION_FIELDS)
    check_fields(body["scanner_snapshot"], SNAPSHOT_FIELDS)
    check_fields(body["scanner_result"], RESULT_FIELDS)
