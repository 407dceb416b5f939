"""Console logs as logs and the events inside recordings, over HTTP: attributes, explanations
(cached until force_refresh), every events filter, CSV, tenancy and a refused `where`."""

from __future__ import annotations

import pytest
from sqlmodel import select

from models import RecordingEntry
from pipeline.log_entries import entry_uuid
from services import recordings
from settings import get_settings
from tests.integration.api_support import other_team_key

pytestmark = pytest.mark.db
LOGS = "/api/environments/{team}/logs"
EVENTS = "/api/environments/{team}/events"


def checkout(world):
    return world.scenarios["checkout-js-error"]


def attributes(api, **params):
    found = api.get(LOGS.format(team=api.team_id) + "/attributes", params=params)
    assert found.status_code == 200, found.text
    return {each["name"]: each for each in found.json()["results"]}


def first_error(world) -> RecordingEntry:
    with world.deps.read() as session:
        rows = session.exec(select(RecordingEntry).where(RecordingEntry.level == "error")).all()
    mine = [r for r in rows if r.stream == "log" and r.session_id == checkout(world).session_id]
    return min(mine, key=lambda r: r.seq)


def explain(api, uuid, **body):
    return api.post(LOGS.format(team=api.team_id) + "/explainLogWithAI", json={"uuid": str(uuid), **body})


def test_attributes_list_the_console_errors_of_a_recording_with_their_keys(api, world):
    found = attributes(api)

    assert {"level", "message_fingerprint", "page", "session_id", "distinct_id", "date"} <= set(found)
    assert found["level"]["values"][0] == {"value": "error", "count": found["level"]["values"][0]["count"]}
    sessions = [each["value"] for each in found["session_id"]["values"]]
    assert checkout(world).session_id in sessions
    messages = [each["value"] for each in found["message"]["values"]]
    assert any("Cannot read properties of undefined" in each for each in messages)
    assert [v["value"] for v in attributes(api, search="/checkout")["page"]["values"]] == ["/checkout"]


def test_an_entrys_uuid_is_stable_team_session_and_event_index(api, world):
    attributes(api)
    error = first_error(world)

    assert error.id == entry_uuid(world.team_id, error.session_id, error.seq, "log", 0)


def test_explain_cites_the_moments_before_the_error_and_is_cached_until_force_refresh(api, world):
    attributes(api)
    error = first_error(world)

    first = explain(api, error.id, timestamp=error.timestamp.isoformat())
    again = explain(api, error.id)
    refreshed = explain(api, error.id, force_refresh=True)

    assert first.status_code == 201, first.text
    body = first.json()
    assert body["uuid"] == str(error.id) and body["source"] == "moments" and body["cached"] is False
    assert "Pay" in body["explanation"] and "Just before" in body["explanation"]
    before = body["moments"]["before"]
    clicks = [m for m in before if m["kind"] == "click"]
    assert clicks and any(f"(t {round(m['t'])})" in body["explanation"] for m in clicks)
    assert again.json()["cached"] is True and again.json()["explanation"] == body["explanation"]
    assert refreshed.json()["cached"] is False


def test_explain_words_it_through_gemini_with_the_moments_fenced_as_data(api, world, monkeypatch):
    from integrations.fake_gemini import FakeReply

    monkeypatch.setenv("GEMINI_API_KEY", "test-key")
    get_settings.cache_clear()
    world.deps.settings = get_settings()
    world.fake.script(FakeReply.json({"explanation": "Pay threw after the click (t 25)."}))
    attributes(api)
    error = first_error(world)

    first = explain(api, error.id)
    again = explain(api, error.id)

    words, _, thrown = first.json()["explanation"].partition("\n\nWhere it was thrown:\n")
    assert words == "Pay threw after the click (t 25)." and first.json()["source"] == "gemini"
    assert "Cannot read properties of undefined" in thrown  # its stack, minified: no map uploaded
    assert again.json()["cached"] is True
    (request,) = world.fake.generate_requests()
    prompt = request.body["contents"][0]["parts"][0]["text"]
    assert prompt.index("<timeline>") < prompt.index(">>> the log line") < prompt.index("</timeline>")


def test_explain_of_an_unknown_or_another_teams_line_is_not_found(api, world):
    stranger = other_team_key(world)
    attributes(api)
    error = first_error(world)

    theirs = api.client.post(
        LOGS.format(team=api.team_id) + "/explainLogWithAI",
        json={"uuid": str(error.id)},
        headers={"Authorization": f"Bearer {stranger}"},
    )
    unknown = explain(api, entry_uuid(world.team_id, "nope", 1, "log"))

    assert theirs.status_code == 404 and unknown.status_code == 404


def events(api, **params):
    found = api.get(EVENTS.format(team=api.team_id), params=params)
    assert found.status_code == 200, found.text
    return found.json()


def test_events_are_page_views_clicks_with_their_element_and_console_errors_each_filter_works(api, world):
    session_id = checkout(world).session_id
    everything = events(api, limit=1000)
    clicks = events(api, event="$autocapture", limit=1000)["results"]
    mine = events(api, where=f"session_id = '{session_id}'", limit=1000)
    pay = events(api, where=f"session_id = '{session_id}' AND properties.element contains 'Pay'")
    errors_or_views = events(api, where="event = '$console_error' OR event = '$pageview'", limit=1000)
    on_checkout = events(api, properties='[{"key": "$current_url", "value": "/checkout"}]', limit=1000)
    middle = sorted(row["timestamp"] for row in mine["results"])[len(mine["results"]) // 2]

    assert {"$pageview", "$autocapture", "$console_error"} <= {row["event"] for row in everything["results"]}
    assert clicks and all(row["elements_chain"] for row in clicks)
    assert pay["count"] >= 1 and all("Pay" in row["elements_chain"] for row in pay["results"])
    assert {row["event"] for row in errors_or_views["results"]} == {"$console_error", "$pageview"}
    assert on_checkout["count"] and all(
        r["properties"]["$current_url"] == "/checkout" for r in on_checkout["results"]
    )
    assert all(row["timestamp"] > middle for row in events(api, after=middle, limit=1000)["results"])
    assert all(row["timestamp"] < middle for row in events(api, before=middle, limit=1000)["results"])
    selected = events(api, select='["event", "properties.$current_url"]', limit=2)
    assert set(selected["results"][0]) == {"event", "properties.$current_url"} and selected["next"]


def test_events_filter_by_distinct_and_person_id(api, world):
    recordings.store_events(
        world.deps, world.team_id, "with-person", checkout(world).events, distinct_id="ada"
    )

    by_distinct = events(api, distinct_id="ada", limit=1000)
    by_person = events(api, person_id="ada", limit=1000)

    assert by_distinct["count"] == by_person["count"] > 0
    assert {row["distinct_id"] for row in by_distinct["results"]} == {"ada"}


def test_events_as_csv_neutralise_formula_cells(api, world):
    story = checkout(world)
    shady = [*story.events]
    shady.append(
        {
            "type": 5,
            "data": {"tag": '=HYPERLINK("x")', "payload": {}},
            "timestamp": shady[-1]["timestamp"] + 1,
        }
    )
    recordings.store_events(world.deps, world.team_id, "shady", shady)

    found = api.get(
        EVENTS.format(team=api.team_id), params={"format": "csv", "where": "session_id = 'shady'"}
    )

    assert found.status_code == 200 and found.headers["content-type"].startswith("text/csv")
    lines = found.text.splitlines()
    assert lines[0].split(",")[:4] == ["id", "distinct_id", "properties", "event"]
    assert "'=HYPERLINK" in found.text and ",=HYPERLINK" not in found.text


def test_another_teams_events_are_never_returned(api, world):
    stranger = other_team_key(world)
    theirs = api.client.get(EVENTS.format(team=api.team_id), headers={"Authorization": f"Bearer {stranger}"})
    with world.deps.read() as session:
        from models import TeamMembership, User

        team = session.query(TeamMembership).join(User).filter(User.email.like("stranger-%")).first().team_id
    recordings.store_events(world.deps, team, "their-session", checkout(world).events, distinct_id="them")

    mine = events(api, limit=1000)

    assert theirs.status_code == 404
    assert all(row["distinct_id"] != "them" for row in mine["results"])
    assert all(row["properties"]["$session_id"] != "their-session" for row in mine["results"])


@pytest.mark.parametrize(
    "where",
    [
        "event = '$pageview'; DROP TABLE recording_entries",
        "event = '' OR 1=1 --",
        "sleep(5) = 1",
        "event = x",
        "(event = 'a'",
    ],
)
def test_a_where_outside_the_grammar_is_refused_naming_the_problem(api, where):
    refused = api.get(EVENTS.format(team=api.team_id), params={"where": where})

    assert refused.status_code == 400 and refused.json()["attr"] == "where"
    assert refused.json()["detail"]
