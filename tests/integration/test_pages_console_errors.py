"""The session page lists the session's console errors and failed requests, each linking to its
explanation: explained once (the moments around it, without a model here) and then shown beside the
line, escaped; the form is refused without its token, and another team's line is not found."""

from __future__ import annotations

import re

import httpx
import pytest
from sqlmodel import select

from api.app import create_app
from models import Team
from services.auth import create_user
from tests.integration.api_support import other_team_key
from tests.support.browser import form_token, served, sign_in

pytestmark = [pytest.mark.db]
PASSWORD = "correct horse battery"
CHECKOUT = "scenario-checkout-js-error"


def test_a_console_error_links_to_its_explanation_which_is_then_shown_beside_it(world, monkeypatch):
    monkeypatch.setattr(world.deps.settings, "gemini_api_key", None)  # explained from the moments
    create_user(world.deps, "ada@example.com", password=PASSWORD)
    other_team_key(world)
    with world.deps.read() as session:
        second = max(team.id for team in session.exec(select(Team)).all() if team.id != world.team_id)
    create_user(world.deps, "eve@example.com", password=PASSWORD, team_id=second)
    page = f"/sessions/{CHECKOUT}"
    with served(create_app(world.deps)) as base, httpx.Client(base_url=base) as ada:
        sign_in(ada, "ada@example.com", PASSWORD)
        before = ada.get(page).text
        explain_paths = re.findall(r'action="(/logs/[0-9a-f-]+/explain)"', before)
        assert explain_paths and "Console errors" in before
        token = form_token(before)
        assert ada.post(explain_paths[0], data={"csrf_token": "guess"}).status_code == 403
        done = ada.post(explain_paths[0], data={"csrf_token": token})
        assert done.status_code == 303 and done.headers["location"].startswith(f"{page}#log-")
        after = ada.get(page).text
        with httpx.Client(base_url=base) as eve:
            sign_in(eve, "eve@example.com", PASSWORD)
            theirs = eve.post(explain_paths[0], data={"csrf_token": form_token(eve.get("/").text)})
    assert 'class="explanation"' in after and explain_paths[0] not in after
    assert "(t " in after  # the explanation cites the moments around the error
    assert theirs.status_code == 404
