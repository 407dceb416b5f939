"""`sightline scheduler --once`, `status`, `scanners backfill` and `scanners estimate`, in-process."""

from __future__ import annotations

import dataclasses
import json

import pytest
from typer.testing import CliRunner

from cli.main import app
from pipeline.names import QUEUES
from services.scanners import create_scanner

pytestmark = pytest.mark.db
RAGE = {
    "name": "Rage",
    "scanner_type": "monitor",
    "provider": "heuristic",
    "scanner_config": {"prompt": "Rage?", "rule": "rage_click"},
}


def run(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def test_a_backfilled_scanner_is_swept_by_one_tick_and_status_shows_it(world, monkeypatch):
    monkeypatch.setenv("SIGHTLINE_SETTLE_S", "0")
    from settings import get_settings

    get_settings.cache_clear()
    # Created as `sightline` would with settle 0: its watermark is now, after the scenarios settled.
    create_scanner(dataclasses.replace(world.deps, settings=get_settings(), _built={}), world.team_id, RAGE)
    before = json.loads(run("status", "--json").output)
    (rage,) = before["scanners"]
    assert rage["unswept"] == 0  # a new scanner starts at now − settle: what settled before is not its
    assert rage["estimated_monthly_observations"] > 0
    assert (
        "1 scanner(s) sweep from 2000-01-01"
        in run("scanners", "backfill", "Rage", "--since", "2000-01-01").output
    )
    assert json.loads(run("status", "--json").output)["scanners"][0]["unswept"] == len(world.scenarios)
    tick = run("scheduler", "--once")
    assert tick.exit_code == 0, tick.output
    assert f"Rage: {len(world.scenarios)} enqueued" in tick.output
    world.drain()
    after = json.loads(run("status", "--json").output)
    assert after["observations"] == {"succeeded": len(world.scenarios)}
    assert after["scanners"][0]["unswept"] == 0 and after["scanners"][0]["last_sweep_at"]
    assert after["scheduler"]["last_tick"]["enqueued"] == len(world.scenarios)
    assert set(after["queues"]) == set(QUEUES)
    assert after["queues"]["observe"] == {"ready": 0, "delayed": 0, "in_flight": 0, "dead": 0}
    idle = run("status", "--wait-idle", "5")
    assert idle.exit_code == 0 and "Rage" in idle.output and "6 succeeded" in idle.output


def test_estimate_and_backfill_refuse_bad_input_clearly(world):
    world.scanner(**RAGE)
    good = run("scanners", "estimate", "--query", '{"url_contains": "/checkout"}', "--sampling-rate", "0.5")
    assert good.exit_code == 0 and "observations a month" in good.output
    bad_key = run("scanners", "estimate", "--query", '{"browser": "firefox"}')
    assert bad_key.exit_code == 2 and "unknown keys browser" in bad_key.output
    tiny = run("scanners", "estimate", "--sampling-rate", "0.00001")
    assert tiny.exit_code == 2 and "sampling_rate" in tiny.output
    assert run("scanners", "backfill", "Rage", "--since", "yesterday-ish").exit_code == 2
    assert run("scanners", "backfill", "--since", "7d").exit_code == 2  # no scanner named, no --all
    assert run("scanners", "backfill", "Nope", "--since", "7d").exit_code == 2
