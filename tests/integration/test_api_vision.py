"""The Vision API beyond scanner CRUD: creators, stats, estimate, observe and quota, on a real
database, the embedded Redis, a real worker and the fake Gemini."""

from __future__ import annotations

import pytest
from sqlmodel import select

from integrations.fake_gemini import FakeReply
from models import Observation, Organization, Team
from services import recordings
from services.auth import create_user
from services.observations import observe_sessions
from services.scanners import create_scanner
from tests.integration.api_support import check_envelope, check_fields, check_observation, check_user
from tests.support.world import build_world, close_world

pytestmark = pytest.mark.db
VISION = "/api/environments/{team}/vision"
CHECKOUT, SIGNUP, U_TURN = "scenario-checkout-js-error", "scenario-smooth-signup", "scenario-u-turn"
MONITOR = {
    "name": "Payment failed",
    "scanner_type": "monitor",
    "scanner_config": {"prompt": "Did payment fail?"},
}
RAGE = {
    "name": "Rage",
    "scanner_type": "monitor",
    "provider": "heuristic",
    "scanner_config": {"prompt": "Rage?", "rule": "rage_click"},
}
YES = FakeReply.json({"reasoning": "Pay threw (t 25).", "verdict": "yes", "confidence": 0.8})
ESTIMATE_FIELDS = (
    "matched_sessions_in_window",
    "window_days",
    "estimated_observations_per_month",
    "sampling_rate",
)
QUOTA_FIELDS = (
    *("monthly_quota", "usage_this_month", "remaining", "exhausted"),
    *("period_start", "period_end", "projected_monthly_observations"),
)


def vision(api, path: str = "") -> str:
    return VISION.format(team=api.team_id) + path


def create(api, spec: dict) -> dict:
    created = api.post(vision(api, "/scanners"), json=spec)
    assert created.status_code == 201, created.text
    return created.json()


def rows(world) -> list[Observation]:
    return world.rows(Observation)


def test_creators_name_each_person_who_created_a_scanner_once_in_the_user_shape(world, api):
    mine = create(api, RAGE)["created_by"]
    create(api, {**RAGE, "name": "Rage again"})
    world.scanner(**{**RAGE, "name": "From the CLI"})  # the CLI creates as no one
    creators = api.get(vision(api, "/scanners/creators/")).json()["creators"]
    assert len(creators) == 1
    check_user(creators[0])
    assert creators[0] == mine


def test_scanner_stats_count_the_whole_team_by_type_whatever_the_list_filters(api):
    create(api, RAGE)
    create(api, {**RAGE, "name": "Paused", "enabled": False})
    create(api, {**MONITOR, "scanner_type": "scorer", "scanner_config": {"prompt": "How bad?"}})
    stats = api.get(vision(api, "/scanners/stats"), params={"enabled": "true"}).json()
    assert (stats["total"], stats["enabled"]) == (3, 2)
    assert stats["by_type"] == {
        "monitor": {"enabled": 1, "total": 2},
        "classifier": {"enabled": 0, "total": 0},
        "scorer": {"enabled": 1, "total": 1},
        "summarizer": {"enabled": 0, "total": 0},
    }


def test_estimate_answers_the_seed_fields_and_names_a_bad_query_or_rate(api):
    response = api.post(vision(api, "/scanners/estimate"), json={"query": {"url_contains": "/checkout"}})
    assert response.status_code == 200, response.text
    body = response.json()
    check_fields(body, ESTIMATE_FIELDS)
    assert body["sampling_rate"] == 1 and body["matched_sessions_in_window"] >= 1
    half = api.post(vision(api, "/scanners/estimate/"), json={"sampling_rate": 0.5}).json()
    assert half["estimated_observations_per_month"] == round(half["matched_sessions_in_window"] * 30 * 0.5)
    bad_query = api.post(vision(api, "/scanners/estimate"), json={"query": {"colour": "red"}})
    assert bad_query.status_code == 400 and bad_query.json()["attr"] == "query"
    bad_rate = api.post(vision(api, "/scanners/estimate"), json={"sampling_rate": 2})
    assert bad_rate.status_code == 400 and bad_rate.json()["attr"] == "sampling_rate"


def test_observe_through_the_api_reaches_succeeded_with_the_real_worker_and_reads_back_in_the_seed_shape(
    world, api
):
    world.fake.default = lambda request: YES
    scanner = create(api, MONITOR)
    started = api.post(vision(api, f"/scanners/{scanner['id']}/observe/"), json={"session_id": CHECKOUT})
    assert started.status_code == 202, started.text
    workflow_id = started.json()["workflow_id"]
    world.drain()
    listed = api.get(vision(api, f"/scanners/{scanner['id']}/observations")).json()
    [row] = check_envelope(listed)
    check_observation(row)
    assert (row["status"], row["workflow_id"], row["session_id"]) == ("succeeded", workflow_id, CHECKOUT)
    assert row["triggered_by"] == "on_demand" and row["scanner_snapshot"]["scanner_version"] == 1
    assert row["scanner_result"]["model_output"]["verdict"] == "yes"
    check_user(row["triggered_by_user"])
    one = api.get(vision(api, f"/scanners/{scanner['id']}/observations/{row['id']}")).json()
    anywhere = api.get(vision(api, f"/observations/{row['id']}/")).json()
    assert one == anywhere == row
    by_session = api.get(vision(api, "/observations"), params={"session_id": CHECKOUT}).json()
    assert [each["id"] for each in check_envelope(by_session)] == [row["id"]]


def test_observing_a_session_again_answers_200_with_its_observation(world, api):
    scanner = create(api, RAGE)
    path = vision(api, f"/scanners/{scanner['id']}/observe")
    assert api.post(path, json={"session_id": CHECKOUT}).status_code == 202
    world.drain()
    again = api.post(path, json={"session_id": CHECKOUT})
    assert again.status_code == 200
    assert again.json() == {"observation_id": str(rows(world)[0].id)}


def test_observe_several_sessions_reports_each_outcome_as_sightline_observe_does(world, api):
    scanner = create(api, RAGE)
    path = vision(api, f"/scanners/{scanner['id']}/observe")
    first = api.post(path, json={"session_ids": [CHECKOUT]}).json()
    world.drain()
    response = api.post(path, json={"session_ids": [CHECKOUT, SIGNUP, U_TURN, SIGNUP]})
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["started"] == 2
    assert [(each["session_id"], each["outcome"]) for each in body["results"]] == [
        (CHECKOUT, "already_scanned"),
        (SIGNUP, "started"),
        (U_TURN, "started"),
    ]
    assert body["results"][0]["observation_id"] == first["results"][0]["observation_id"]
    world.drain()
    assert {row.status for row in rows(world)} == {"succeeded"} and len(rows(world)) == 3


def test_an_unknown_session_is_refused_with_400_naming_it_and_nothing_starts(world, api):
    scanner = create(api, RAGE)
    path = vision(api, f"/scanners/{scanner['id']}/observe")
    one = api.post(path, json={"session_id": "never-recorded"})
    assert one.status_code == 400 and one.json()["attr"] == "session_id"
    assert "never-recorded" in one.json()["detail"]
    several = api.post(path, json={"session_ids": [CHECKOUT, "never-recorded"]})
    assert several.status_code == 400 and several.json()["attr"] == "session_ids"
    nothing = api.post(path, json={})
    assert nothing.status_code == 400 and nothing.json()["attr"] == "session_id"
    assert rows(world) == []


def test_the_cli_refuses_an_unknown_session_too(world, api):
    from typer.testing import CliRunner

    from cli.main import app

    create(api, RAGE)
    result = CliRunner().invoke(app, ["observe", "Rage", "never-recorded"], catch_exceptions=False)
    assert result.exit_code == 2 and "no recording of 'never-recorded'" in result.output
    assert rows(world) == []


def set_credit_limit(world, limit: int | None) -> None:
    with world.deps.transaction() as session:
        session.exec(select(Organization)).one().monthly_credit_limit = limit


def test_past_the_credit_limit_one_session_is_402_and_several_are_skipped_quota(world, api):
    set_credit_limit(world, 0)
    scanner = create(api, MONITOR)
    path = vision(api, f"/scanners/{scanner['id']}/observe")
    refused = api.post(path, json={"session_id": CHECKOUT})
    assert refused.status_code == 402 and refused.json()["code"] == "quota_exhausted"
    several = api.post(path, json={"session_ids": [CHECKOUT, SIGNUP]}).json()
    assert several["started"] == 0 and {each["outcome"] for each in several["results"]} == {"skipped_quota"}
    assert rows(world) == []


@pytest.fixture
def capped_world(sightline_home, database_url, monkeypatch):
    built = build_world(monkeypatch, database_url, SIGHTLINE_IN_FLIGHT_PER_SCANNER="1")
    yield built
    close_world(built)


def test_past_the_in_flight_cap_one_session_is_429(capped_world):
    from tests.integration.api_support import api_for

    api = api_for(capped_world)
    capped_world.stop_worker()  # the first observation stays in flight
    path = vision(api, f"/scanners/{create(api, RAGE)['id']}/observe")
    assert api.post(path, json={"session_id": CHECKOUT}).status_code == 202
    refused = api.post(path, json={"session_id": SIGNUP})
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    assert len(rows(capped_world)) == 1


def test_quota_reports_this_months_credits_in_the_seed_shape(world, api):
    world.fake.default = lambda request: YES
    set_credit_limit(world, 100)
    scanner = create(api, MONITOR)
    api.post(vision(api, f"/scanners/{scanner['id']}/observe"), json={"session_id": CHECKOUT})
    world.drain()
    body = api.get(vision(api, "/quota/")).json()
    check_fields(body, QUOTA_FIELDS)
    assert (body["monthly_quota"], body["usage_this_month"], body["remaining"]) == (100, 5, 95)
    assert body["exhausted"] is False and body["period_start"] < body["period_end"]
    assert body["projected_monthly_observations"] == scanner["estimated_monthly_observations"] > 0
    set_credit_limit(world, None)
    uncapped = api.get(vision(api, "/quota")).json()
    assert uncapped["monthly_quota"] is None and uncapped["remaining"] is None and not uncapped["exhausted"]


def elsewhere(world) -> tuple[str, str]:
    """A second team with its own scanner, recording and observation: (scanner id, observation id)."""
    with world.deps.transaction() as session:
        organization = Organization(name="Elsewhere")
        session.add(organization)
        session.flush()
        team = Team(organization_id=organization.id, name="Elsewhere")
        session.add(team)
        session.flush()
        team_id = team.id
    create_user(world.deps, f"owner-{team_id}@example.com", team_id=team_id)
    scenario = world.scenarios["checkout-js-error"]
    recordings.store_events(world.deps, team_id, "their-session", scenario.events)
    scanner = create_scanner(world.deps, team_id, RAGE)
    [outcome] = observe_sessions(world.deps, team_id, str(scanner.id), ["their-session"])
    world.drain()
    return str(scanner.id), str(outcome.observation_id)


def test_another_teams_scanner_and_observation_are_404(world, api):
    their_scanner, their_observation = elsewhere(world)
    ours = create(api, RAGE)
    for path in (
        f"/scanners/{their_scanner}/observations",
        f"/scanners/{their_scanner}/observations/stats",
        f"/scanners/{their_scanner}/observations/{their_observation}",
        f"/scanners/{ours['id']}/observations/{their_observation}",
        f"/observations/{their_observation}",
    ):
        assert api.get(vision(api, path)).status_code == 404, path
    observe = api.post(vision(api, f"/scanners/{their_scanner}/observe"), json={"session_id": CHECKOUT})
    assert observe.status_code == 404
    by_session = api.get(vision(api, "/observations"), params={"session_id": "their-session"}).json()
    assert by_session["count"] == 0


def test_reading_observations_needs_the_recordings_scope_and_observing_needs_write(world, api):
    from services.auth import create_key

    scanner = create(api, RAGE)
    key = create_key(world.deps, "scanners only", ["replay_scanner:read"]).secret
    headers = {"Authorization": f"Bearer {key}"}
    allowed = ("/quota", "/scanners/stats", "/scanners/creators")
    for path in allowed:
        assert api.client.get(vision(api, path), headers=headers).status_code == 200, path
    for path in (f"/scanners/{scanner['id']}/observations", f"/observations?session_id={CHECKOUT}"):
        refused = api.client.get(vision(api, path), headers=headers)
        assert refused.status_code == 403 and "session_recording:read" in refused.json()["detail"], path
    estimate = api.client.post(vision(api, "/scanners/estimate"), json={}, headers=headers)
    assert estimate.status_code == 403
    observe = api.client.post(
        vision(api, f"/scanners/{scanner['id']}/observe"), json={"session_id": CHECKOUT}, headers=headers
    )
    assert observe.status_code == 403 and rows(world) == []
