"""Which unacknowledged messages go back on their queues: a dead worker's at once, an id stranded in a
live worker's ack set once it went unreported for long enough, nothing a worker reports holding."""

from __future__ import annotations

from pipeline.redelivery import Unacked, redeliver, suspect_key

NOW = 1_800_000_000.0
TIMEOUT, STRANDED = 60.0, 60.0


def decide(seen: Unacked, suspects: dict[str, float] | None = None, now: float = NOW):
    return redeliver(seen, suspects or {}, now, heartbeat_timeout_s=TIMEOUT, stranded_after_s=STRANDED)


def test_a_worker_without_a_heartbeat_or_a_report_is_dead_and_all_it_fetched_is_requeued():
    seen = Unacked(
        acks={("dead", "observe"): frozenset({"b", "a"}), ("dead", "observe.DQ"): frozenset({"c"})},
        heartbeats={"dead": NOW - TIMEOUT - 1},
        holding={},
    )

    decision = decide(seen)

    assert decision.requeue == {("dead", "observe"): ["a", "b"], ("dead", "observe.DQ"): ["c"]}
    assert decision.dead_workers == {"dead"} and decision.suspects == {}


def test_a_dead_process_that_holds_nothing_is_forgotten_and_a_live_one_is_not():
    seen = Unacked(acks={}, heartbeats={"gone": NOW - TIMEOUT - 1, "here": NOW}, holding={})

    decision = decide(seen)

    assert decision.forget == {"gone"} and decision.requeue == {}


def test_a_worker_with_a_recent_heartbeat_or_a_report_is_alive():
    seen = Unacked(
        acks={("beating", "observe"): frozenset({"a"}), ("reporting", "observe"): frozenset({"b"})},
        heartbeats={"beating": NOW - TIMEOUT + 1, "reporting": NOW - 600},
        holding={"reporting": frozenset({"b"})},
    )

    assert decide(seen).requeue == {}


def test_an_id_a_live_worker_does_not_report_is_suspected_then_requeued_once_stranded_long_enough():
    seen = Unacked(
        acks={("live", "observe"): frozenset({"held", "lost"})},
        heartbeats={"live": NOW},
        holding={"live": frozenset({"held"})},
    )

    first = decide(seen)
    assert first.requeue == {} and first.suspects == {suspect_key("live", "observe", "lost"): NOW}
    almost = decide(seen, first.suspects, NOW + STRANDED - 1)
    assert almost.requeue == {} and almost.suspects == first.suspects
    stranded = decide(seen, first.suspects, NOW + STRANDED)
    assert stranded.requeue == {("live", "observe"): ["lost"]} and stranded.suspects == {}


def test_a_suspect_the_worker_reports_again_or_that_left_the_ack_set_is_forgotten():
    suspects = {
        suspect_key("live", "observe", "late"): NOW - 600,
        suspect_key("live", "observe", "acked"): NOW,
    }
    seen = Unacked(
        acks={("live", "observe"): frozenset({"late"})},
        heartbeats={"live": NOW},
        holding={"live": frozenset({"late"})},  # its report had not caught up with the fetch
    )

    decision = decide(seen, suspects, NOW + STRANDED)

    assert decision.requeue == {} and decision.suspects == {}


def test_a_live_worker_that_reports_nothing_is_left_alone():
    seen = Unacked(acks={("other", "observe"): frozenset({"a"})}, heartbeats={"other": NOW}, holding={})

    assert decide(seen, {suspect_key("other", "observe", "a"): NOW - 600}).requeue == {}
