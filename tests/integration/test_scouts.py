"""Scouts over HTTP as the seed page writes them, and runs: dry run, emitting once per period, limits."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import pytest
from sqlmodel import select

from models import Recording, ScoutRun, Signal, as_utc
from pipeline import scouts as rules
from services import scout_runs, scouts
from services.scanners import apply_scanners
from tests.integration.api_support import check_fields, other_team_key

pytestmark = pytest.mark.db
SCOUT = "/api/environments/{team}/signals/scout"
CONFIG_FIELDS = (
    "id",
    "skill_name",
    "description",
    "scout_origin",
    "enabled",
    "emit",
    "run_interval_minutes",
    "last_run_at",
    "created_at",
)


def url(api, tail: str) -> str:
    return SCOUT.format(team=api.team_id) + tail


def custom(name: str, **fields) -> dict:
    return {"name": name, "metric": "pattern:console_error", "group_by": "page", "threshold": 1, **fields}


def test_sync_seeds_the_canonical_fleet_once_in_the_seed_shape(api):
    first = api.post(url(api, "/configs/sync"))
    again = api.post(url(api, "/configs/sync"))

    assert first.status_code == again.status_code == 200
    names = [each["skill_name"] for each in first.json()]
    assert names == sorted(rules.CANONICAL_NAMES) and again.json() == first.json()
    check_fields(first.json()[0], CONFIG_FIELDS)
    assert api.get(url(api, "/configs")).json() == first.json()


def test_create_is_an_upsert_and_refuses_unknown_or_unprefixed_skills(api):
    created = api.post(url(api, "/configs"), json={"skill_name": "signals-scout-error-spikes", "emit": False})
    applied = api.post(
        url(api, "/configs"), json={"skill_name": "signals-scout-error-spikes", "run_interval_minutes": 30}
    )
    unknown = api.post(url(api, "/configs"), json={"skill_name": "signals-scout-nothing-here"})
    unprefixed = api.post(url(api, "/configs"), json={"skill_name": "error-spikes"})

    assert created.status_code == 201 and created.json()["emit"] is False
    assert applied.status_code == 200 and applied.json()["run_interval_minutes"] == 30
    assert applied.json()["emit"] is False and applied.json()["id"] == created.json()["id"]
    assert unknown.status_code == 400 and unknown.json()["attr"] == "skill_name"
    assert unprefixed.status_code == 400 and "signals-scout-" in unprefixed.json()["detail"]


def test_patch_tunes_one_scout_refuses_past_the_enabled_maximum_and_hides_other_teams(api, world):
    fleet = api.post(url(api, "/configs/sync")).json()
    extra = [custom(f"signals-scout-c{n}") for n in range(rules.MAX_ENABLED_SCOUTS - len(fleet))]
    apply_scanners(
        world.deps, api.team_id, {"scouts": [*extra, custom("signals-scout-off", enabled=False)]}, source="f"
    )
    off = next(
        each for each in api.get(url(api, "/configs")).json() if each["skill_name"] == "signals-scout-off"
    )

    tuned = api.patch(
        url(api, f"/configs/{fleet[0]['id']}"), json={"emit": False, "run_interval_minutes": 15}
    )
    over = api.patch(url(api, f"/configs/{off['id']}"), json={"enabled": True})
    bad = api.patch(url(api, f"/configs/{fleet[0]['id']}"), json={"run_interval_minutes": 1})
    stranger = other_team_key(world)
    theirs = api.patch(
        url(api, f"/configs/{fleet[0]['id']}"),
        json={"emit": True},
        headers={"Authorization": f"Bearer {stranger}"},
    )

    assert tuned.status_code == 200 and (tuned.json()["emit"], tuned.json()["run_interval_minutes"]) == (
        False,
        15,
    )
    assert over.status_code == 400 and "maximum" in over.json()["detail"]
    assert bad.status_code == 400 and bad.json()["attr"] == "run_interval_minutes"
    assert theirs.status_code == 404


def test_an_invalid_custom_scout_in_apply_is_refused_naming_the_field(world):
    with pytest.raises(Exception) as raised:
        apply_scanners(
            world.deps, world.team_id, {"scouts": [custom("signals-scout-x", group_by="user")]}, source="f"
        )
    assert "scouts[0].group_by" in str(raised.value)


def test_metadata_names_the_enforced_limits_and_the_profile_is_cached_until_refreshed(api):
    body = api.get(url(api, "/metadata/current")).json()
    assert body["limits"] == {
        "max_runs_per_tick": rules.MAX_RUNS_PER_TICK,
        "max_runs_per_day": rules.MAX_RUNS_PER_DAY,
        "runs_today": 0,
        "runs_remaining_today": rules.MAX_RUNS_PER_DAY,
    }
    first = api.get(url(api, "/project_profile/current")).json()
    cached = api.get(url(api, "/project_profile/current")).json()
    fresh = api.get(url(api, "/project_profile/current"), params={"force_refresh": "true"}).json()
    assert first["profile_id"] == cached["profile_id"] != fresh["profile_id"]
    assert "existing_inbox_reports" in first["payload"]["inventory"]


def _after_the_scenarios(world):
    with world.deps.read() as session:
        starts = [as_utc(row.start_time) for row in session.exec(select(Recording))]
    return max(starts) + timedelta(hours=1)


def _run_all(world, now):
    claimed = scout_runs.claim_due_scouts(world.deps, now=now)
    for run_id in claimed.run_ids:
        scout_runs.run_scout(world.deps, UUID(run_id))
    return claimed


def test_a_dry_run_records_what_it_would_emit_and_an_emitting_run_emits_once_per_period(world):
    apply_scanners(
        world.deps, world.team_id, {"scouts": [custom("signals-scout-errors", emit=False)]}, source="f"
    )
    now = _after_the_scenarios(world)

    _run_all(world, now)
    (dry,) = world.rows(ScoutRun)
    assert dry.status == "completed" and not dry.emit and dry.emitted_count == 0 and dry.findings
    assert dry.summary.startswith("would emit") and not world.rows(Signal)
    assert {"sessions", "distinct_users", "examples"} <= set(dry.findings[0]["evidence"])

    config = scouts.configs(world.deps, world.team_id)[0]
    scouts.update(world.deps, world.team_id, config.id, {"emit": True})
    _run_all(world, now + timedelta(hours=1))
    _run_all(world, now + timedelta(hours=2))
    emitted = [run for run in world.rows(ScoutRun) if run.emit]
    signals = world.rows(Signal)
    assert len(emitted) == 2 and emitted[0].emitted_count == len(signals) > 0
    assert all(
        s.source_id.startswith("scout:signals-scout-errors:") and s.source_product == "scouts"
        for s in signals
    )


def test_a_run_is_claimed_once_per_slot_and_runs_past_the_caps_are_refused(world, monkeypatch):
    names = [f"signals-scout-c{n}" for n in range(4)]
    apply_scanners(world.deps, world.team_id, {"scouts": [custom(name) for name in names]}, source="f")
    now = _after_the_scenarios(world)
    monkeypatch.setattr(rules, "MAX_RUNS_PER_TICK", 3)
    monkeypatch.setattr(rules, "MAX_RUNS_PER_DAY", 5)

    first = scout_runs.claim_due_scouts(world.deps, now=now)
    same_slot = scout_runs.claim_due_scouts(world.deps, now=now + timedelta(minutes=1))
    later = scout_runs.claim_due_scouts(world.deps, now=now + timedelta(hours=1))

    assert (first.claimed, first.refused) == (3, 1)
    assert (same_slot.claimed, same_slot.refused) == (1, 0)
    assert (later.claimed, later.refused) == (1, 3)
    assert scouts.limits(world.deps, world.team_id, now=now + timedelta(hours=1)).runs_remaining_today == 0
