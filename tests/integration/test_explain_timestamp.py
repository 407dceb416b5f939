"""explainLogWithAI's `timestamp` names the line with its `uuid`, as the reference's: the line's own time
(to the second, in any offset) explains it; another time is a 404 saying when the line was logged, and
nothing is explained; a `timestamp` that is not a time is a 400 naming it."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlmodel import select

from models import LogExplanation, as_utc
from tests.integration.test_console_logs_and_events import attributes, explain, first_error

pytestmark = pytest.mark.db


def test_the_line_s_own_time_to_the_second_and_in_another_offset_names_it(api, world):
    attributes(api)
    error = first_error(world)
    logged = as_utc(error.timestamp)
    to_the_second = logged.replace(microsecond=0).isoformat().replace("+00:00", "Z")
    in_paris = logged.astimezone(timezone(timedelta(hours=1)))

    exact = explain(api, error.id, timestamp=logged.isoformat())
    truncated = explain(api, error.id, timestamp=to_the_second)
    offset = explain(api, error.id, timestamp=in_paris.isoformat())

    assert [r.status_code for r in (exact, truncated, offset)] == [201, 201, 201], exact.text
    assert exact.json()["uuid"] == str(error.id)
    assert as_utc(datetime.fromisoformat(exact.json()["timestamp"])) == logged


def test_another_time_is_a_404_that_says_when_the_line_was_logged_and_explains_nothing(api, world):
    attributes(api)
    error = first_error(world)
    logged = as_utc(error.timestamp)

    later = explain(api, error.id, timestamp=(logged + timedelta(hours=1)).isoformat())
    just_after = explain(api, error.id, timestamp=(logged + timedelta(seconds=2)).isoformat())

    assert later.status_code == 404 and just_after.status_code == 404
    assert f"was not logged at {(logged + timedelta(hours=1)).isoformat()}" in later.json()["detail"]
    assert f"it was at {logged.isoformat()}" in later.json()["detail"]
    with world.deps.read() as session:
        assert session.exec(select(LogExplanation)).first() is None


def test_a_timestamp_that_is_not_a_time_is_a_400_naming_it(api, world):
    attributes(api)
    error = first_error(world)

    refused = explain(api, error.id, timestamp="yesterday afternoon")

    assert refused.status_code == 400 and refused.json()["attr"] == "timestamp", refused.text
