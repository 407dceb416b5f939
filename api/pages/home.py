"""The start page: the newest observations of the person's teams, each linked to its page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from api.pages.web import deps_of, render, viewer
from services.observations import observations
from services.web_sessions import SignedIn

router = APIRouter(include_in_schema=False)
NEWEST = 50


@router.get("/")
def home(request: Request, who: Annotated[SignedIn, Depends(viewer)]) -> Response:
    teams = sorted(who.principal.team_ids)
    found = [row for team in teams for row in observations(deps_of(request), team, limit=NEWEST)]
    found.sort(key=lambda row: row.created_at, reverse=True)
    return render(request, "home.html", who=who, observations=found[:NEWEST], teams=teams)
