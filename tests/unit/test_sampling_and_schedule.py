"""[3/5] pure rules: deterministic sampling and rrule schedules."""

from __future__ import annotations

import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from pipeline.errors import InvalidField
from pipeline.sampling import keeps
from pipeline.scanners import validate_sampling_rate
from pipeline.schedule import next_occurrence, validate_rule

SESSIONS = [f"session-{index}" for index in range(100_000)]
SCANNER = "5b1f0c9e-scanner"


@pytest.mark.parametrize("rate", [0.01, 0.1, 0.5])
def test_the_kept_share_is_within_one_percent_of_the_rate(rate):
    kept = sum(keeps(session, SCANNER, rate) for session in SESSIONS)
    assert abs(kept / len(SESSIONS) - rate) <= 0.01


def test_rate_zero_keeps_nothing_and_one_keeps_everything_and_tiny_rates_are_refused():
    assert not any(keeps(session, SCANNER, 0) for session in SESSIONS[:1000])
    assert all(keeps(session, SCANNER, 1) for session in SESSIONS[:1000])
    with pytest.raises(InvalidField):
        validate_sampling_rate(0.00009)


def test_the_decision_is_the_same_in_another_process():
    here = [keeps(session, SCANNER, 0.3) for session in SESSIONS[:200]]
    code = (
        "from pipeline.sampling import keeps; "
        f"print(''.join('1' if keeps(f'session-{{i}}', {SCANNER!r}, 0.3) else '0' for i in range(200)))"
    )
    there = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONHASHSEED": "123", "PATH": ""},
        cwd=".",
    ).stdout.strip()
    assert there == "".join("1" if kept else "0" for kept in here)


def test_scanners_with_the_same_rate_keep_independent_samples():
    other = str(uuid.uuid5(uuid.NAMESPACE_DNS, "other"))
    both = sum(keeps(s, SCANNER, 0.5) and keeps(s, other, 0.5) for s in SESSIONS)
    assert abs(both / len(SESSIONS) - 0.25) <= 0.01  # independent: 0.5 × 0.5


def local(moment: datetime, timezone: str) -> str:
    return moment.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M")


def occurrences(
    rule: str, timezone: str, start: datetime, count: int, created: datetime | None = None
) -> list[str]:
    found, after = [], start
    for _ in range(count):
        after = next_occurrence(rule, timezone, created_at=created or start, after=after)
        found.append(local(after, timezone))
    return found


@pytest.mark.parametrize(
    ("timezone", "start", "expected"),
    [
        ("Europe/Prague", datetime(2026, 3, 28, 12, tzinfo=UTC), ["2026-03-29 09:00", "2026-03-30 09:00"]),
        ("Europe/Prague", datetime(2026, 10, 24, 12, tzinfo=UTC), ["2026-10-25 09:00", "2026-10-26 09:00"]),
        ("America/New_York", datetime(2026, 3, 7, 15, tzinfo=UTC), ["2026-03-08 09:00", "2026-03-09 09:00"]),
        (
            "America/New_York",
            datetime(2026, 10, 31, 15, tzinfo=UTC),
            ["2026-11-01 09:00", "2026-11-02 09:00"],
        ),
    ],
)
def test_a_daily_nine_oclock_rule_stays_at_nine_across_dst(timezone, start, expected):
    assert occurrences("FREQ=DAILY;BYHOUR=9;BYMINUTE=0", timezone, start, 2) == expected


def test_the_utc_instant_moves_with_dst():
    before = next_occurrence(
        "FREQ=DAILY;BYHOUR=9;BYMINUTE=0",
        "Europe/Prague",
        created_at=datetime(2026, 3, 1, tzinfo=UTC),
        after=datetime(2026, 3, 28, 12, tzinfo=UTC),
    )
    after = next_occurrence(
        "FREQ=DAILY;BYHOUR=9;BYMINUTE=0",
        "Europe/Prague",
        created_at=datetime(2026, 3, 1, tzinfo=UTC),
        after=before,
    )
    assert (before.hour, after.hour) == (7, 7)  # 09:00 CEST is 07:00 UTC on both days after the change


def test_weekly_and_hourly_rules():
    start = datetime(2026, 11, 18, 10, 30, tzinfo=UTC)  # a Wednesday
    assert occurrences("FREQ=WEEKLY;BYDAY=MO;BYHOUR=8;BYMINUTE=0", "UTC", start, 2) == [
        "2026-11-23 08:00",
        "2026-11-30 08:00",
    ]
    assert occurrences("FREQ=HOURLY;BYMINUTE=0", "UTC", start, 2) == ["2026-11-18 11:00", "2026-11-18 12:00"]


def test_the_next_occurrence_is_strictly_after_now():
    now = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)
    found = next_occurrence(
        "FREQ=DAILY;BYHOUR=9;BYMINUTE=0", "UTC", created_at=now - timedelta(days=3), after=now
    )
    assert found == now + timedelta(days=1)


def test_a_minutely_rule_created_two_years_ago_lands_on_the_next_minute():
    created = datetime(2024, 11, 22, 10, 0, 37, tzinfo=UTC)
    now = datetime(2026, 11, 22, 13, 5, 12, tzinfo=UTC)
    assert next_occurrence("FREQ=MINUTELY", "UTC", created_at=created, after=now) == datetime(
        2026, 11, 22, 13, 6, tzinfo=UTC
    )
    every_seven = next_occurrence("FREQ=MINUTELY;INTERVAL=7", "UTC", created_at=created, after=now)
    assert (every_seven - created.replace(second=0)) % timedelta(minutes=7) == timedelta(0)


def test_an_ended_rule_has_no_next_occurrence():
    created = datetime(2026, 1, 1, tzinfo=UTC)
    assert (
        next_occurrence(
            "FREQ=DAILY;COUNT=3", "UTC", created_at=created, after=datetime(2026, 2, 1, tzinfo=UTC)
        )
        is None
    )


@pytest.mark.parametrize(
    ("rule", "timezone", "message"),
    [
        ("DTSTART:20260101T090000\nRRULE:FREQ=DAILY", "UTC", "must not contain DTSTART"),
        ("FREQ=DAILY", "Mars/Base", "'Mars/Base' is not an IANA timezone"),
        ("FREQ=SECONDLY", "UTC", "fires every second"),
        ("FREQ=MINUTELY;BYSECOND=0,30", "UTC", "more than once a minute"),
        ("FREQ=FORTNIGHTLY", "UTC", "FREQ=FORTNIGHTLY is not valid; use MINUTELY, HOURLY, DAILY"),
        ("", "UTC", "give an RRULE"),
        ("FREQ=DAILY;BYHOUR", "UTC", "'BYHOUR' is not NAME=VALUE; separate parts with ';'"),
        ("BYHOUR=8", "UTC", "has no FREQ; start with FREQ=DAILY"),
        ("FREQ=DAILY;BYHOURS=8", "UTC", "BYHOURS is not a part of an RRULE; did you mean BYHOUR"),
        ("FREQ=DAILY;BYHOUR=25", "UTC", "BYHOUR=25 is not valid; give hours 0 to 23"),
        ("FREQ=WEEKLY;BYDAY=MONDAY", "UTC", "BYDAY=MONDAY is not valid; give weekdays, e.g. BYDAY=MO"),
        ("FREQ=DAILY;INTERVAL=0", "UTC", "INTERVAL=0 is not valid; give a whole number from 1"),
        ("FREQ=DAILY;UNTIL=2027-01-01Z", "UTC", r"UNTIL=2027-01-01Z is not valid; give a date \(20270101\)"),
        ("FREQ=DAILY;COUNT=3;UNTIL=20270101", "UTC", "give COUNT or UNTIL, not both"),
        ("FREQ=DAILY\nRDATE:20270101", "UTC", "give one RRULE on one line"),
    ],
)
def test_bad_schedules_are_refused_with_clear_messages(rule, timezone, message):
    with pytest.raises(InvalidField, match=message) as refused:
        validate_rule(rule, timezone, now=datetime(2026, 11, 22, tzinfo=UTC))
    assert not any(words in str(refused.value) for words in ("unpack", "argument", "dateutil", "DTSTART is"))


def test_an_until_in_utc_ends_the_schedule_at_that_instant_whatever_the_rules_timezone():
    rule, created = "FREQ=DAILY;BYHOUR=9;BYMINUTE=0;UNTIL=20270103T080000Z", datetime(2026, 12, 1, tzinfo=UTC)
    validate_rule(rule, "Europe/Prague", now=created)
    last = next_occurrence(
        rule, "Europe/Prague", created_at=created, after=datetime(2027, 1, 2, 9, tzinfo=UTC)
    )
    assert last == datetime(2027, 1, 3, 8, tzinfo=UTC)  # 09:00 in Prague, the instant UNTIL names
    assert next_occurrence(rule, "Europe/Prague", created_at=created, after=last) is None
