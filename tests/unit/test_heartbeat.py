"""The heartbeat that keeps a lease or lock alive while work runs (services.heartbeat)."""

from __future__ import annotations

import threading
import time

from services.heartbeat import heartbeat


def test_it_renews_while_the_block_runs_and_stops_with_it():
    beats = []
    with heartbeat(lambda: beats.append(1) or True, every_s=0.01, name="test"):
        time.sleep(0.2)
    seen = len(beats)
    time.sleep(0.05)
    assert seen >= 5 and len(beats) <= seen + 1  # at most one beat in flight at the end


def test_a_lost_hold_stops_the_beats_and_an_error_is_tried_again():
    calls = []
    lost = threading.Event()

    def renew():
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionError("the store is away for a moment")
        if len(calls) == 3:
            lost.set()
            return False
        return True

    with heartbeat(renew, every_s=0.01, name="test"):
        assert lost.wait(2)
        time.sleep(0.1)
    assert len(calls) == 3
