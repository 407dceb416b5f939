"""The pure parts of a sweep: which recordings a plan takes, where its watermark stops, slots, estimates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pipeline.errors import InvalidField
from pipeline.sampling import slot_start, sweep_offset, sweep_slot
from pipeline.schedule import parse_since
from pipeline.sweep import Backlogged, Candidate, drain_eta_s, estimate_monthly, plan_sweep, share_top_ups

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
CUTOFF = NOW - timedelta(minutes=35)
START = (CUTOFF - timedelta(hours=1), "")


def candidate(session_id: str, end: datetime, *, ingested: datetime | None = None, **meta) -> Candidate:
    values = {"duration_s": 60.0, "active_s": 30.0, "event_count": 100, "urls": ["https://a.example/"]}
    values.update(meta)
    return Candidate(session_id, end, ingested or end, **values)


def plan(rows, *, limit=100, query=None, rate=1.0):
    return plan_sweep(
        rows, watermark=START, cutoff=CUTOFF, query=query or {}, scanner_id="s1", rate=rate, limit=limit
    )


def test_a_full_batch_stops_the_watermark_before_the_first_recording_not_taken():
    end = CUTOFF - timedelta(minutes=5)
    rows = [candidate(f"s{i:02}", end) for i in range(5)]
    result = plan(rows, limit=3)
    assert [row.session_id for row in result.chosen] == ["s00", "s01", "s02"]
    assert result.watermark == (end, "s02")
    assert result.stopped == "full"


def test_rejected_recordings_are_walked_past_and_never_block():
    end = CUTOFF - timedelta(minutes=5)
    rows = [
        candidate("short", end, duration_s=3),  # ineligible
        candidate("other-page", end, urls=["https://a.example/about"]),  # not in the query
        candidate("wanted", end, urls=["https://a.example/checkout"]),
    ]
    result = plan(rows, query={"url_contains": ["/checkout"]})
    assert [row.session_id for row in result.chosen] == ["wanted"]
    assert result.watermark == (end, "wanted") and result.examined == 3 and result.stopped == ""


def test_an_unsettled_recording_holds_the_watermark_before_it():
    end = CUTOFF - timedelta(minutes=5)
    rows = [candidate("a", end), candidate("b", end, ingested=NOW), candidate("c", end)]
    result = plan(rows)
    assert [row.session_id for row in result.chosen] == ["a"]
    assert result.watermark == (end, "a") and result.stopped == "unsettled"


def test_the_watermark_follows_the_settle_order_not_the_end_time():
    settled = CUTOFF - timedelta(minutes=5)
    old_session = candidate("old-export", CUTOFF - timedelta(days=30), ingested=settled)
    result = plan([old_session])
    assert [row.session_id for row in result.chosen] == ["old-export"]
    assert result.watermark == (settled, "old-export")


def test_a_zero_limit_takes_nothing_and_keeps_the_watermark_before_the_first_wanted_one():
    end = CUTOFF - timedelta(minutes=5)
    result = plan([candidate("short", end, duration_s=2), candidate("a", end)], limit=0)
    assert result.chosen == [] and result.watermark == (end, "short") and result.stopped == "full"


def test_sampling_in_a_plan_is_the_deterministic_sample():
    end = CUTOFF - timedelta(minutes=5)
    rows = [candidate(f"session-{i}", end) for i in range(2_000)]
    first = [row.session_id for row in plan(rows, rate=0.1, limit=10_000).chosen]
    again = [row.session_id for row in plan(rows, rate=0.1, limit=10_000).chosen]
    assert first == again and 150 < len(first) < 250


def test_sweep_slots_are_staggered_by_scanner_and_advance_once_per_interval():
    interval = 300
    offsets = {sweep_offset(f"scanner-{i}", interval) for i in range(50)}
    assert len(offsets) > 30  # spread over the interval, not all on one tick
    now = NOW.timestamp()
    slot = sweep_slot("scanner-1", now, interval)
    assert sweep_slot("scanner-1", now + interval, interval) == slot + 1
    start = slot_start("scanner-1", slot + 1, interval)
    assert now < start <= now + interval
    assert sweep_slot("scanner-1", start, interval) == slot + 1
    assert sweep_slot("scanner-1", start - 0.001, interval) == slot


def test_estimates_scale_matching_sessions_per_day_to_a_month():
    assert estimate_monthly(70, 7, 1.0) == 300
    assert estimate_monthly(70, 7, 0.1) == 30
    assert estimate_monthly(5, 0.2, 1.0) == 150  # less than a day of data counts as one day
    assert estimate_monthly(0, 30, 1.0) == 0 and estimate_monthly(10, 30, 0) == 0


def test_since_takes_dates_and_durations():
    assert parse_since("7d", now=NOW) == NOW - timedelta(days=7)
    assert parse_since("12h", now=NOW) == NOW - timedelta(hours=12)
    assert parse_since("2026-01-31", now=NOW) == datetime(2026, 1, 31, tzinfo=UTC)
    with pytest.raises(InvalidField, match="neither a date"):
        parse_since("last tuesday", now=NOW)


def test_a_long_walk_stops_after_max_examined_and_resumes_from_there():
    end = CUTOFF - timedelta(minutes=5)
    rows = [candidate(f"s{i:03}", end) for i in range(50)]
    first = plan_sweep(
        rows,
        watermark=START,
        cutoff=CUTOFF,
        query={},
        scanner_id="s1",
        rate=0.0001,
        limit=10,
        max_examined=20,
    )
    assert first.examined == 20 and first.stopped == "walked" and first.watermark == (end, "s019")


def _backlogged(key: str, team_id: int, minutes_ago: int, room: int = 150) -> Backlogged:
    return Backlogged(
        key, team_id, datetime(2026, 1, 1, 12, tzinfo=UTC) - timedelta(minutes=minutes_ago), room
    )


def test_top_ups_share_a_tick_equally_and_skip_scanners_without_room():
    waiting = [_backlogged("a", 1, 3), _backlogged("b", 1, 2), _backlogged("full", 1, 9, room=0)]
    shares = share_top_ups(waiting, per_tick=200, least=50)
    assert [(item.key, take) for item, take in shares] == [("a", 100), ("b", 100)]


def test_a_top_up_takes_no_more_than_the_room_left():
    shares = share_top_ups([_backlogged("a", 1, 1, room=7)], per_tick=1000, least=50)
    assert [(item.key, take) for item, take in shares] == [("a", 7)]


def test_teams_take_turns_so_a_team_with_many_backlogged_scanners_does_not_fill_the_tick():
    many = [_backlogged(f"big-{index}", 1, 60 - index) for index in range(10)]
    shares = share_top_ups([*many, _backlogged("small", 2, 1)], per_tick=150, least=50)
    assert [item.key for item, _ in shares] == ["big-0", "small", "big-1"]


def test_scanners_left_out_of_a_tick_go_first_on_the_next():
    first = share_top_ups([_backlogged("a", 1, 5), _backlogged("b", 1, 4)], per_tick=60, least=50)
    assert [(item.key, take) for item, take in first] == [("a", 50)]  # no thin 10 for b
    # a was just topped up, b was not: b leads the next tick.
    second = share_top_ups([_backlogged("a", 1, 0), _backlogged("b", 1, 4)], per_tick=60, least=50)
    assert [item.key for item, _ in second] == ["b"]


def test_a_backlog_eta_follows_the_recent_drain_rate():
    assert drain_eta_s(300, finished=600, window_s=600) == 300
    assert drain_eta_s(0, finished=0, window_s=600) == 0
    assert drain_eta_s(10, finished=0, window_s=600) is None
