"""`sightline scouts …` against a real database: seed, list, switch to a dry run and back, the
limits, and the refusals that name what is wrong."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.db
SPIKES = "signals-scout-error-spikes"


def test_sync_list_set_and_limits(sightline):
    synced = sightline("scouts", "sync")
    assert synced.exit_code == 0, synced.output
    listed = sightline("scouts", "list")
    assert SPIKES in listed.output and "emit" in listed.output

    dry = sightline("scouts", "set", SPIKES, "--dry-run", "--every", "30")
    assert dry.exit_code == 0, dry.output
    assert f"{SPIKES}: enabled, dry run, every 30 min" in dry.output
    off = sightline("scouts", "set", SPIKES, "--disabled", "--emit")
    assert f"{SPIKES}: disabled, emit, every 30 min" in off.output

    limits = sightline("scouts", "limits")
    assert "at most 5 runs a tick and 200 a day; 0 today, 200 left" in limits.output
    runs = sightline("scouts", "runs")
    assert runs.exit_code == 0, runs.output


def test_an_unknown_scout_or_no_change_is_refused_by_name(sightline):
    sightline("scouts", "sync")
    unknown = sightline("scouts", "set", "signals-scout-nope", "--disabled")
    nothing = sightline("scouts", "set", SPIKES)
    assert unknown.exit_code == 2 and "no scout 'signals-scout-nope'" in unknown.output
    assert nothing.exit_code == 2 and "--enabled" in nothing.output
