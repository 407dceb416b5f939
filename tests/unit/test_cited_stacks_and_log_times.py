"""The two small rules behind signals' stacks and explainLogWithAI's timestamp: which traces a span of
moments cites, and whether a time names the moment a line was logged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from pipeline.log_explain import logged_at
from pipeline.stack_frames import Frame, ShownFrame, ShownTrace, Trace, thrown_between

LOGGED = datetime(2026, 3, 1, 12, 0, 5, 250_000, tzinfo=UTC)


def shown(t: float) -> ShownTrace:
    frame = Frame("https://shop.example/app.min.js", 1, 45, "r")
    return ShownTrace(Trace(t, f"error at {t}", (frame,)), (ShownFrame(frame, note="no source map"),))


def test_a_span_cites_the_traces_thrown_inside_it_give_or_take_the_margin_open_at_both_ends():
    traces = [shown(t) for t in (23.0, 24.2, 25.0, 26.9, 27.0)]

    cited = thrown_between(traces, 25, 26, near=1.0)

    assert [each.trace.t for each in cited] == [24.2, 25.0, 26.9]


def test_a_log_line_s_own_moment_cites_only_the_trace_logged_with_it():
    traces = [shown(t) for t in (11.4, 12.0, 12.6)]

    assert [each.trace.t for each in thrown_between(traces, 12.0, 12.0, near=0.5)] == [12.0]


def test_a_time_names_a_line_to_the_second_in_any_offset_and_naive_is_utc():
    assert logged_at(LOGGED, LOGGED)
    assert logged_at(LOGGED, LOGGED.replace(microsecond=0))
    assert logged_at(LOGGED, LOGGED.astimezone(timezone(timedelta(hours=-5))))
    assert logged_at(LOGGED, LOGGED.replace(tzinfo=None))
    assert not logged_at(LOGGED, LOGGED + timedelta(seconds=1))
    assert not logged_at(LOGGED, LOGGED.replace(tzinfo=None) + timedelta(hours=1))
