"""The "Translate" control of the observation and report pages: in Chromium, an observation's answer
shown in French (the model's text escaped, never markup); over HTTP, a report's title and summary
translated once and then read from the cache, the form refused without its token, another team's
report not found, and no Gemini key said plainly."""

from __future__ import annotations

import httpx
import pytest
from sqlmodel import select

from api.app import create_app
from integrations.fake_gemini import FakeReply
from models import SignalReport, Team
from services.auth import create_user
from tests.integration.api_support import other_team_key
from tests.support.browser import (
    browser_page,
    chromium_or_skip,
    form_token,
    screenshot_dir,
    served,
    sign_in,
    sign_in_to,
)

pytestmark = [pytest.mark.db]
PASSWORD = "correct horse battery"
RULE = {"prompt": "Did the visitor rage?", "rule": "rage_click"}
HOSTILE = "Le visiteur a cliqué <img src=x onerror=\"document.title='owned'\"> (t 3)"


@pytest.fixture
def observed(world):
    scanner = world.scanner(name="rage", scanner_type="monitor", provider="heuristic", scanner_config=RULE)
    [row] = world.observe(scanner, next(iter(world.scenarios.values())).session_id)
    assert str(row.status) == "succeeded", row.error_reason
    create_user(world.deps, "ada@example.com", password=PASSWORD)
    return row


@pytest.fixture
def report(world):
    with world.deps.transaction() as session:
        found = SignalReport(
            team_id=world.team_id, title="Pay fails", summary="Pay throws.", status="ready", total_weight=1
        )
        session.add(found)
        session.flush()
        return found.id


@pytest.mark.browser
def test_an_observation_is_shown_translated_and_the_models_text_stays_text(world, observed, tmp_path):
    chromium = chromium_or_skip()
    world.fake.script(FakeReply.json({"translation": HOSTILE, "detected_language": "en"}))
    with served(create_app(world.deps)) as base, browser_page(chromium) as page:
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        sign_in_to(page, base, f"/observations/{observed.id}", "ada@example.com", PASSWORD)
        page.fill(".translate-form input[name=language]", "fr")
        page.click(".translate-form button[type=submit]")
        page.wait_for_selector(".translation .translated")
        assert "lang=fr" in page.url
        assert page.inner_text(".translation .translated") == HOSTILE
        assert page.locator(".translation img").count() == 0 and page.title() != "owned"
        page.screenshot(path=str(screenshot_dir(tmp_path) / "observation-translated.png"), full_page=True)
        assert errors == []
    (request,) = world.fake.generate_requests()
    assert "Translate the text into French (fr)." in request.text()


def test_a_report_is_translated_once_then_read_from_the_cache(world, report):
    create_user(world.deps, "ada@example.com", password=PASSWORD)
    world.fake.script(FakeReply.json({"translation": "Le paiement échoue\n\nLe paiement lève une erreur."}))
    page = f"/reports/{report}"
    with served(create_app(world.deps)) as base, httpx.Client(base_url=base) as ada:
        sign_in(ada, "ada@example.com", PASSWORD)
        token = form_token(ada.get(page).text)
        asked = {"language": "fr", "team": str(world.team_id), "csrf_token": token}
        assert ada.post(f"{page}/translate", data={**asked, "csrf_token": "guess"}).status_code == 403
        for _ in range(2):
            done = ada.post(f"{page}/translate", data=asked)
            assert done.status_code == 303 and "lang=fr" in done.headers["location"]
        shown = ada.get(done.headers["location"]).text
    assert "Le paiement échoue" in shown and 'lang="fr"' in shown
    assert len(world.fake.generate_requests()) == 1


def test_another_teams_report_is_not_found_and_a_missing_key_is_said(world, report, monkeypatch):
    other_team_key(world)
    with world.deps.read() as session:
        second = max(team.id for team in session.exec(select(Team)).all() if team.id != world.team_id)
    create_user(world.deps, "eve@example.com", password=PASSWORD, team_id=second)
    create_user(world.deps, "ada@example.com", password=PASSWORD)
    monkeypatch.setattr(world.deps.settings, "gemini_api_key", None)
    page = f"/reports/{report}"
    with served(create_app(world.deps)) as base:
        with httpx.Client(base_url=base) as eve:
            sign_in(eve, "eve@example.com", PASSWORD)
            token = form_token(eve.get("/").text)
            refused = eve.post(f"{page}/translate", data={"language": "fr", "csrf_token": token})
            assert refused.status_code == 404
        with httpx.Client(base_url=base) as ada:
            sign_in(ada, "ada@example.com", PASSWORD)
            token = form_token(ada.get(page).text)
            done = ada.post(f"{page}/translate", data={"language": "fr", "csrf_token": token})
            shown = ada.get(done.headers["location"]).text
            bad = ada.post(f"{page}/translate", data={"language": "<b>x</b>", "csrf_token": token})
            refused_code = ada.get(bad.headers["location"]).text
    assert "GEMINI_API_KEY" in shown and 'role="alert"' in shown
    assert "is not a language code" in refused_code and "<b>x</b>" not in refused_code
    assert world.fake.generate_requests() == []
