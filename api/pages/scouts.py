"""Scouts (`/scouts`): the team's scout configs with a form each (enabled, emit or dry run, run
interval), the run limits the scheduler enforces today, and the newest runs with every finding's
evidence, each example session linked to its replay at the moment. The forms call the same use
cases (`services.scouts`), and so give the same refusals, as the API and the CLI."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from api.pages.web import check_csrf, current_team, deps_of, not_found_page, render, viewer
from pipeline.errors import InvalidField, NotFoundError
from services import scouts as use
from services.web_sessions import SignedIn

router = APIRouter(include_in_schema=False)
RECENT_RUNS = 20


@router.get("/scouts")
def scout_list(request: Request, who: Annotated[SignedIn, Depends(viewer)], team: str = "") -> Response:
    team_id = current_team(who, team)
    return _page(request, who, team_id, flash=request.query_params.get("done", "")[:300])


@router.post("/scouts/sync")
def sync(
    request: Request,
    who: Annotated[SignedIn, Depends(viewer)],
    team: Annotated[str, Form(max_length=20)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    """Seed the canonical scouts the team lacks (as `POST …/scout/configs/sync`)."""
    check_csrf(who, csrf_token)
    team_id = current_team(who, team)
    if team_id is None:
        return not_found_page(request, who)
    fleet = use.sync(deps_of(request), team_id)
    return _back(team_id, f"synced: {len(fleet)} scouts")


@router.post("/scouts/{config_id}")
def update(
    request: Request,
    config_id: str,
    who: Annotated[SignedIn, Depends(viewer)],
    team: Annotated[str, Form(max_length=20)] = "",
    enabled: Annotated[str, Form(max_length=8)] = "",
    emit: Annotated[str, Form(max_length=8)] = "",
    run_interval_minutes: Annotated[str, Form(max_length=20)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    """Set one config's `enabled`, `emit` and `run_interval_minutes` (as `PATCH …/configs/:id`).
    An unticked box is false, a blank interval is left as it is; another team's config is the 404 page."""
    check_csrf(who, csrf_token)
    team_id = current_team(who, team)
    changes: dict[str, object] = {"enabled": enabled == "on", "emit": emit == "on"}
    if run_interval_minutes.strip():  # left blank: unchanged
        changes["run_interval_minutes"] = _minutes(run_interval_minutes)
    try:
        if team_id is None:
            raise NotFoundError("not a member of any team")
        done = use.update(deps_of(request), team_id, UUID(config_id), changes, user_id=who.principal.user_id)
    except (NotFoundError, ValueError):  # ValueError: not a config id at all
        return not_found_page(request, who)
    except InvalidField as exc:
        return _page(request, who, team_id, error=str(exc), status_code=400)
    mode = "emitting" if done.emit else "dry run"
    state = "enabled" if done.enabled else "disabled"
    every = f"every {done.run_interval_minutes} minutes"
    return _back(team_id, f"saved {done.skill_name}: {state}, {mode}, {every}")


def _minutes(text: str) -> int | str:
    """Whole minutes when the field is a number; otherwise the text, which the use case refuses by name."""
    stripped = text.strip()
    return int(stripped) if stripped.lstrip("-").isdigit() else stripped


def _back(team_id: int, done: str) -> RedirectResponse:
    return RedirectResponse(f"/scouts?{urlencode({'team': team_id, 'done': done})}", status_code=303)


def _page(
    request: Request,
    who: SignedIn,
    team_id: int | None,
    *,
    flash: str = "",
    error: str = "",
    status_code: int = 200,
) -> Response:
    shown = use.overview(deps_of(request), team_id, runs_shown=RECENT_RUNS) if team_id is not None else None
    return render(
        request,
        "scouts.html",
        status_code=status_code,
        who=who,
        team_id=team_id,
        overview=shown,
        flash=flash,
        error=error,
    )
