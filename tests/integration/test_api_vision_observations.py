"""A scanner's observations through the API: filters, every order, pages, and the stats per type.

Heuristic scanners observe the six synthetic sessions with the world's real worker (no network).
"""

from __future__ import annotations

import pytest

from tests.integration.api_support import check_envelope, check_fields, check_observation

pytestmark = pytest.mark.db
VISION = "/api/environments/{team}/vision"
PENDING = "scenario-form-email"  # left in flight where a test needs an empty result
CONFIGS = {
    "monitor": {"prompt": "Rage?", "rule": "rage_click"},
    "classifier": {
        "prompt": "Which friction?",
        "tags": ["rage_click", "dead_click", "u_turn", "error_click", "console_error", "no_friction"],
    },
    "scorer": {"prompt": "How frustrating?", "scale": {"min": 1, "max": 5}},
    "summarizer": {"prompt": "A shop and a notes app.", "length": "short"},
}
STATS_FIELDS = ("status_counts", "coverage", "available_tags", "monitor", "classifier", "scorer")
STATUS_FIELDS = ("total", "succeeded", "failed", "ineligible", "in_flight", "success_rate")


def scanner_of(world, api, kind: str) -> str:
    body = {"name": kind, "scanner_type": kind, "provider": "heuristic", "scanner_config": CONFIGS[kind]}
    created = api.post(VISION.format(team=api.team_id) + "/scanners", json=body)
    assert created.status_code == 201, created.text
    return created.json()["id"]


def observe_all(world, api, scanner_id: str, *, leave_pending: bool = False) -> None:
    """Observe every scenario; with `leave_pending`, PENDING stays pending (the worker is stopped)."""
    sessions = [
        scenario.session_id for scenario in world.scenarios.values() if scenario.session_id != PENDING
    ]
    path = VISION.format(team=api.team_id) + f"/scanners/{scanner_id}/observe"
    assert api.post(path, json={"session_ids": sessions}).status_code == 202
    world.drain()
    if leave_pending:
        world.stop_worker()
    assert api.post(path, json={"session_id": PENDING}).status_code == 202
    if not leave_pending:
        world.drain()


def listed(api, scanner_id: str, **params) -> list[dict]:
    path = VISION.format(team=api.team_id) + f"/scanners/{scanner_id}/observations"
    response = api.get(path, params=params)
    assert response.status_code == 200, response.text
    return check_envelope(response.json())


def stats_of(api, scanner_id: str, **params) -> dict:
    path = VISION.format(team=api.team_id) + f"/scanners/{scanner_id}/observations/stats/"
    response = api.get(path, params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    check_fields(body, STATS_FIELDS)
    check_fields(body["status_counts"], STATUS_FIELDS)
    return body


def sessions(results: list[dict]) -> list[str]:
    return [row["session_id"] for row in results]


def test_filters_select_by_status_verdict_tags_session_and_trigger(world, api):
    monitor, classifier = scanner_of(world, api, "monitor"), scanner_of(world, api, "classifier")
    observe_all(world, api, monitor)
    observe_all(world, api, classifier)
    assert sessions(listed(api, monitor, verdict="yes")) == ["scenario-checkout-js-error"]
    assert len(listed(api, monitor, verdict="yes,no", status="succeeded", triggered_by="on_demand")) == 6
    assert listed(api, monitor, triggered_by="schedule") == []
    assert [row["result_verdict"] for row in listed(api, monitor, order_by="-result_verdict")][:2] == [
        "yes",
        "no",
    ]
    assert sessions(listed(api, monitor, session_id="scenario-u-turn")) == ["scenario-u-turn"]
    tagged = listed(api, classifier, tags="u_turn,dead_click", order_by="created_at")
    assert set(sessions(tagged)) == {
        "scenario-checkout-js-error",
        "scenario-dead-click-disabled",
        "scenario-u-turn",
    }
    for row in tagged:
        check_observation(row)


def test_unknown_filter_values_and_orders_are_400_naming_the_parameter(world, api):
    monitor = scanner_of(world, api, "monitor")
    path = VISION.format(team=api.team_id) + f"/scanners/{monitor}/observations"
    for params, field in (({"status": "lost"}, "status"), ({"triggered_by": "fate"}, "triggered_by")):
        response = api.get(path, params=params)
        assert response.status_code == 400 and response.json()["attr"] == field
    bad_order = api.get(path, params={"order_by": "session_id"})
    assert bad_order.status_code == 400 and bad_order.json()["attr"] == "order_by"


def test_every_order_puts_empty_values_last_both_ways(world, api):
    scorer = scanner_of(world, api, "scorer")
    observe_all(world, api, scorer, leave_pending=True)
    for order in ("result_score", "completed_at", "started_at"):
        for direction in ("", "-"):
            assert listed(api, scorer, order_by=direction + order)[-1]["session_id"] == PENDING, order
    scores = [row["result_score"] for row in listed(api, scorer, order_by="-result_score")]
    assert scores[:-1] == sorted(scores[:-1], reverse=True) and scores[-1] is None
    statuses = [row["status"] for row in listed(api, scorer, order_by="-status")]
    assert statuses == sorted(statuses, reverse=True)
    created = [row["created_at"] for row in listed(api, scorer, order_by="created_at")]
    assert created == sorted(created)


def test_ordering_by_scanner_version_follows_the_snapshot(world, api):
    monitor = scanner_of(world, api, "monitor")
    path = VISION.format(team=api.team_id) + f"/scanners/{monitor}"
    api.post(path + "/observe", json={"session_id": "scenario-u-turn"})
    world.drain()
    changed = api.patch(path, json={"scanner_config": {**CONFIGS["monitor"], "prompt": "Angry clicks?"}})
    assert changed.json()["scanner_version"] == 2
    api.post(path + "/observe", json={"session_id": "scenario-checkout-js-error"})
    world.drain()
    newest = listed(api, monitor, order_by="-scanner_version")
    assert [row["scanner_snapshot"]["scanner_version"] for row in newest] == [2, 1]
    assert [
        row["scanner_snapshot"]["scanner_version"] for row in listed(api, monitor, order_by="scanner_version")
    ] == [
        1,
        2,
    ]


def test_a_page_links_to_the_next_one(world, api):
    monitor = scanner_of(world, api, "monitor")
    observe_all(world, api, monitor)
    path = VISION.format(team=api.team_id) + f"/scanners/{monitor}/observations"
    first = api.get(path, params={"limit": 4, "order_by": "created_at"}).json()
    assert first["count"] == 6 and len(first["results"]) == 4 and "offset=4" in first["next"]
    second = api.client.get(first["next"], headers=api.headers).json()
    assert len(second["results"]) == 2 and second["next"] is None
    assert not set(sessions(first["results"])) & set(sessions(second["results"]))


def test_monitor_stats_count_verdicts_and_leave_the_other_types_null(world, api):
    monitor = scanner_of(world, api, "monitor")
    observe_all(world, api, monitor)
    stats = stats_of(api, monitor)
    assert stats["monitor"] == {"yes_total": 1, "no_total": 5, "inconclusive_total": 0}
    assert stats["classifier"] is None and stats["scorer"] is None and stats["available_tags"] == []
    assert stats["status_counts"]["total"] == stats["status_counts"]["succeeded"] == 6
    assert stats["status_counts"]["success_rate"] == 100
    assert stats["coverage"] == {"recent_sessions": 6, "total_sessions": 6, "recent_days": 14}
    filtered = stats_of(api, monitor, verdict="yes")
    assert filtered["status_counts"]["total"] == 1 and filtered["monitor"]["no_total"] == 0
    assert stats_of(api, monitor, recent_days=0)["coverage"]["recent_days"] == 1
    assert stats_of(api, monitor, recent_days=9999)["coverage"]["recent_days"] == 365


def test_classifier_stats_rank_tags_and_list_every_tag_seen(world, api):
    classifier = scanner_of(world, api, "classifier")
    observe_all(world, api, classifier)
    stats = stats_of(api, classifier)
    assert stats["monitor"] is None and stats["scorer"] is None
    section = stats["classifier"]
    assert section["fixed_ranked"][:2] == [
        {"tag": "no_friction", "count": 3},
        {"tag": "dead_click", "count": 2},
    ]
    assert section["freeform_ranked"] == [] and section["total_with_tags"] == 6
    assert stats["available_tags"] == sorted(CONFIGS["classifier"]["tags"])


def test_scorer_stats_summarise_scores_over_the_scale_and_count_what_is_in_flight(world, api):
    scorer = scanner_of(world, api, "scorer")
    observe_all(world, api, scorer, leave_pending=True)
    stats = stats_of(api, scorer)
    assert stats["monitor"] is None and stats["classifier"] is None
    assert stats["status_counts"]["in_flight"] == 1 and stats["status_counts"]["succeeded"] == 5
    summary, histogram = stats["scorer"]["summary"], stats["scorer"]["histogram"]
    assert summary["count"] == 5 and summary["min"] <= summary["median"] <= summary["max"]
    assert histogram["labels"] == ["1", "2", "3", "4", "5"] and sum(histogram["counts"]) == 5


def test_a_scanner_without_observations_has_zero_counts_and_empty_sections(world, api):
    summarizer, scorer = scanner_of(world, api, "summarizer"), scanner_of(world, api, "scorer")
    empty = stats_of(api, summarizer)
    assert empty["status_counts"]["total"] == 0 and empty["status_counts"]["success_rate"] is None
    assert (empty["monitor"], empty["classifier"], empty["scorer"]) == (None, None, None)
    assert stats_of(api, scorer)["scorer"] == {"summary": None, "histogram": None}


def test_a_sessions_observations_span_every_scanner_and_need_the_session_id(world, api):
    monitor, scorer = scanner_of(world, api, "monitor"), scanner_of(world, api, "scorer")
    observe_all(world, api, monitor)
    observe_all(world, api, scorer)
    path = VISION.format(team=api.team_id) + "/observations"
    found = api.get(path, params={"session_id": "scenario-u-turn", "order_by": "result_score"}).json()
    rows = check_envelope(found)
    assert {row["scanner_id"] for row in rows} == {monitor, scorer}
    assert rows[-1]["result_score"] is None  # the monitor's has no score: last
    missing = api.get(path)
    assert missing.status_code == 400 and missing.json()["attr"] == "session_id"
