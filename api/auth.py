"""Who may call an endpoint: a personal API key (`Authorization: Bearer KEY`), its scopes, its team.

`caller(*scopes)` is each endpoint's dependency. The order never leaks what exists: no or a bad,
unknown or revoked key is 401; a key without a scope the endpoint needs is 403 naming it; a team
the key may not see (its owner is not a member, or the key is limited to another) is 404, exactly
as an object of another team is. Every authenticated call counts against the key's rate limit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.errors import ApiError, not_found
from api.throttle import throttle
from pipeline.scopes import missing
from services.auth import Principal, authenticate_key
from services.context import Deps

bearer = HTTPBearer(auto_error=False, description="A personal API key: `sightline keys create`.")


@dataclass(frozen=True)
class Caller:
    """An authenticated, authorised request: the use cases' `Deps`, who asks, and the team it names."""

    deps: Deps
    principal: Principal
    team_id: int


def deps_of(request: Request) -> Deps:
    return request.app.state.deps


def principal(request: Request, credentials: HTTPAuthorizationCredentials | None) -> Principal:
    """The key's holder; 401 without a valid key, 429 past the key's rate."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        detail = "Authentication credentials were not provided."
        raise ApiError(401, "authentication_error", "not_authenticated", detail)
    found = authenticate_key(deps_of(request), credentials.credentials)
    if found is None:
        raise ApiError(401, "authentication_error", "authentication_failed", "Invalid personal API key.")
    request.scope.setdefault("state", {})["api_key_id"] = str(found.key_id)
    throttle(request, str(found.key_id))
    return found


def caller(*scopes: str) -> Callable[..., Caller]:
    """The dependency of an endpoint that needs `scopes` on the team in its path."""

    # Declared through `Security`, so the schema lists each operation's scopes as the seed pages do.
    def dependency(
        request: Request,
        credentials: HTTPAuthorizationCredentials | None = Security(bearer, scopes=list(scopes)),
    ) -> Caller:
        who = principal(request, credentials)
        lacking = missing(scopes, who.scopes)
        if lacking:
            detail = f"API key missing required scope '{lacking[0]}'"
            raise ApiError(403, "authentication_error", "permission_denied", detail)
        team = _team_in_path(request)
        if team is None or not who.can_see(team):
            raise not_found()
        return Caller(deps_of(request), who, team)

    dependency.__doc__ = f"Requires the scopes {', '.join(scopes)}."
    return dependency


def _team_in_path(request: Request) -> int | None:
    raw = request.path_params.get("environment_id", request.path_params.get("project_id"))
    try:
        return int(raw)
    except (TypeError, ValueError):
        return None
