"""The reports inbox and a report in Debian's Chromium: bulk-suppress two reports, restore one; a
report's signal opens its session's replay at the signal's moment."""

from __future__ import annotations

import pytest
from sqlmodel import select

from api.app import create_app
from models import Observation, SignalReport
from services.auth import create_user
from services.signals import group_signals
from tests.support.browser import (
    browser_page,
    chromium_or_skip,
    screenshot_dir,
    served,
    sign_in,
    sign_in_to,
    wait_until,
)

pytestmark = [pytest.mark.db, pytest.mark.browser]
PASSWORD = "correct horse battery"
CHECKOUT = "scenario-checkout-js-error"


@pytest.fixture
def inbox(world):
    """Reports grouped from the signals of heuristic observations of the checkout session."""
    scanner = world.scanner(
        scanner_type="monitor",
        provider="heuristic",
        emits_signals=True,
        scanner_config={"prompt": "Any frustration?", "rule": "any_frustration"},
    )
    [row] = world.observe(scanner, CHECKOUT)
    assert str(row.status) == "succeeded", row.error_reason
    group_signals(world.deps, world.team_id)
    with world.deps.read() as session:
        reports = session.exec(select(SignalReport).order_by(SignalReport.title)).all()
    assert len(reports) >= 3, [report.title for report in reports]
    create_user(world.deps, "ada@example.com", password=PASSWORD)
    return row, reports


def statuses(world) -> dict[str, str]:
    with world.deps.read() as session:
        return {str(r.id): str(r.status) for r in session.exec(select(SignalReport)).all()}


def test_bulk_suppress_two_restore_one_and_a_signal_opens_the_replay_at_its_moment(world, inbox, tmp_path):
    row, reports = inbox
    first, second = str(reports[0].id), str(reports[1].id)
    chromium = chromium_or_skip()
    with served(create_app(world.deps)) as base, browser_page(chromium) as page:
        sign_in_to(page, base, "/reports", "ada@example.com", PASSWORD)
        assert page.locator("table.list tbody tr").count() == len(reports)
        page.screenshot(path=str(screenshot_dir(tmp_path) / "inbox.png"), full_page=True)
        page.check(f"input[name=ids][value='{first}']")
        page.check(f"input[name=ids][value='{second}']")
        page.click("button[name=action][value=suppress]")
        page.wait_for_selector(".flash")
        assert "2 changed" in page.inner_text(".flash")
        assert (statuses(world)[first], statuses(world)[second]) == ("suppressed", "suppressed")
        assert page.locator(f"input[name=ids][value='{first}']").count() == 0  # the inbox hides them
        page.select_option("select[name=status]", "suppressed")
        page.click("form.filters button[type=submit]")
        page.check(f"input[name=ids][value='{first}']")
        page.click("button[name=action][value=restore]")
        page.wait_for_selector(".flash")
        assert (statuses(world)[first], statuses(world)[second]) == ("potential", "suppressed")

        page.goto(f"{base}/reports/{reports[2].id}")
        link = page.locator("a.replay-link").first
        href = link.get_attribute("href")
        assert href.startswith(f"/observations/{row.id}#t=")
        moment = int(href.split("#t=")[1])
        link.click()
        wait_until(page, "window.sightlineReplay !== undefined")
        page.wait_for_timeout(300)
        assert abs(page.evaluate("window.sightlineReplay.currentSecond()") - moment) <= 1


def test_the_inbox_refuses_a_bulk_form_without_its_token_and_hides_another_teams_reports(world, inbox):
    import httpx

    _, reports = inbox
    with served(create_app(world.deps)) as base, httpx.Client(base_url=base) as client:
        sign_in(client, "ada@example.com", PASSWORD)
        refused = client.post("/reports/bulk", data={"ids": [str(reports[0].id)], "action": "suppress"})
        assert refused.status_code == 403
        assert statuses(world)[str(reports[0].id)] == "potential"
        assert client.get(f"/reports/{reports[0].id}").status_code == 200
        assert client.get("/reports/00000000-0000-0000-0000-000000000000").status_code == 404
    with world.deps.read() as session:
        assert session.exec(select(Observation)).first() is not None
