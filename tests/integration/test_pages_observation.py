"""The observation page in Debian's Chromium: sign in, the replay of a real recording plays, a
citation seeks the player to its moment and highlights the timeline, a thumbs-down with a note is
stored; signed out it redirects; another team's person gets 404; a form without the token is refused."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from sqlmodel import select

from api.app import create_app
from integrations.fake_gemini import FakeReply
from models import ObservationLabel
from services import recordings
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
    wait_until,
)

pytestmark = [pytest.mark.db, pytest.mark.recordings, pytest.mark.browser]
PASSWORD = "correct horse battery"
RECORDING = "posthog-homepage.json"


@pytest.fixture
def observed(world, recordings_dir):
    """A succeeded monitor observation of a real recording whose answer cites a real moment."""
    session_id = world.import_file(recordings_dir / RECORDING).session_id
    timeline = recordings.timeline(world.deps, world.team_id, session_id)
    seconds = [int(line[3:].split("]")[0]) for line in timeline.text.splitlines() if line.startswith("[t=")]
    cited = next(second for second in seconds if second >= 5)
    world.fake.default = lambda request: FakeReply.json(
        {"reasoning": f"The visitor clicked around (t {cited}).", "verdict": "yes", "confidence": 0.7}
    )
    scanner = world.scanner(scanner_type="monitor", scanner_config={"prompt": "Did anything go wrong?"})
    [row] = world.observe(scanner, session_id)
    assert str(row.status) == "succeeded", row.error_reason
    create_user(world.deps, "ada@example.com", password=PASSWORD)
    return row, cited


def test_a_citation_seeks_the_replay_and_a_thumbs_down_is_stored(world, observed, tmp_path):
    row, cited = observed
    chromium = chromium_or_skip()
    with served(create_app(world.deps)) as base, browser_page(chromium) as page:
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        sign_in_to(page, base, f"/observations/{row.id}", "ada@example.com", PASSWORD)
        wait_until(page, "window.sightlineReplay !== undefined")
        assert page.locator(".rr-player").count() == 1
        page.click(f"dd a.cite[data-seek='{cited}']")
        page.wait_for_timeout(300)
        at = page.evaluate("window.sightlineReplay.currentSecond()")
        assert abs(at - cited) <= 1, (at, cited)
        highlighted = page.locator("#timeline li.now")
        assert highlighted.count() == 1
        assert abs(int(highlighted.get_attribute("data-second")) - cited) <= 2
        page.evaluate("window.sightlineReplay.player.play()")
        page.wait_for_timeout(1200)
        assert page.evaluate("window.sightlineReplay.currentSecond()") > at  # it plays
        page.screenshot(path=str(screenshot_dir(tmp_path) / "observation.png"), full_page=True)
        page.fill("textarea[name=note]", "It only hovered, nothing went wrong")
        page.click("button[value=down]")
        page.wait_for_selector(".labels .label-down")
        page.click(f"a[href='/sessions/{row.session_id}']")
        wait_until(page, "window.sightlineReplay !== undefined")
        assert page.locator(f"table.list a[href='/observations/{row.id}']").count() == 1
        assert page.locator("dl.facts code").count() >= 1  # the pages it visited
        page.screenshot(path=str(screenshot_dir(tmp_path) / "session.png"), full_page=True)
        assert errors == []
    with world.deps.read() as session:
        [label] = session.exec(select(ObservationLabel)).all()
    assert (str(label.rating), label.note, label.scanner_id) == (
        "down",
        "It only hovered, nothing went wrong",
        row.scanner_id,
    )


def test_signed_out_redirects_another_team_is_404_and_a_form_without_its_token_is_refused(world, observed):
    row, _ = observed
    page, events = f"/observations/{row.id}", f"/recordings/{row.team_id}/events/{row.session_id}"
    other_team_key(world)  # a second team, with a member of its own
    create_user(world.deps, "eve@example.com", password=PASSWORD, team_id=_second_team(world))
    with served(create_app(world.deps)) as base:
        with httpx.Client(base_url=base) as anonymous:
            first = anonymous.get(page)
            assert first.status_code == 303 and first.headers["location"] == f"/signin?next={page}"
            assert anonymous.get(events).status_code == 303
            no_token = anonymous.post("/signin", data={"email": "ada@example.com", "password": PASSWORD})
            assert no_token.status_code == 403 and "sightline_session" not in no_token.cookies
        with signed_in_as(base, "ada@example.com") as ada:
            assert ada.get(page).status_code == 200
            assert ada.post(f"{page}/label", data={"rating": "up"}).status_code == 403
            assert ada.post(f"{page}/label", data={"rating": "up", "csrf_token": "guess"}).status_code == 403
            assert ada.get("/observations/not-an-id").status_code == 404
            assert ada.get(f"/sessions/{row.session_id}").status_code == 200
            assert ada.get("/sessions/no-such-session").status_code == 404
        with signed_in_as(base, "eve@example.com") as eve:
            assert eve.get(page).status_code == 404
            assert eve.get(f"/sessions/{row.session_id}").status_code == 404
            assert eve.get(events).status_code == 404
            token = form_token(eve.get("/").text)
            assert eve.post(f"{page}/label", data={"rating": "up", "csrf_token": token}).status_code == 404
    with world.deps.read() as session:
        assert session.exec(select(ObservationLabel)).all() == []


@contextmanager
def signed_in_as(base: str, email: str) -> Iterator[httpx.Client]:
    """A client that signed in through the form (its CSRF cookie and token) and keeps the session."""
    client = httpx.Client(base_url=base)
    sign_in(client, email, PASSWORD)
    try:
        yield client
    finally:
        client.close()


def _second_team(world) -> int:
    from models import Team

    with world.deps.read() as session:
        return max(team.id for team in session.exec(select(Team)).all() if team.id != world.team_id)
