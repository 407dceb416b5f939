"""Action schedules: rrules in an IANA timezone, validated, and their next occurrence (DESIGN §6).

Occurrences are wall-clock times in the action's timezone (09:00 Europe/Prague stays 09:00 across
DST) anchored at the action's creation, and returned in UTC. Rules created long ago are re-anchored
near `after` by whole periods, so finding the next occurrence never walks years of history.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from difflib import get_close_matches
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.rrule import DAILY, HOURLY, MINUTELY, SECONDLY, WEEKLY, rrule, rrulestr

from pipeline.errors import InvalidField

MAX_RULE_LENGTH = 1_000
MIN_GAP = timedelta(minutes=1)
_CHECKED_OCCURRENCES = 200
# Fixed-length periods: a rule of these frequencies can be moved forward by whole periods.
_PERIODS = {
    MINUTELY: timedelta(minutes=1),
    HOURLY: timedelta(hours=1),
    DAILY: timedelta(days=1),
    WEEKLY: timedelta(weeks=1),
}
_FIELD = "trigger_config.rrule"
_EXAMPLE = "FREQ=WEEKLY;BYDAY=MO;BYHOUR=9"
_FREQUENCIES = ("SECONDLY", "MINUTELY", "HOURLY", "DAILY", "WEEKLY", "MONTHLY", "YEARLY")
# The parts of an RRULE (RFC 5545 §3.3.10, and dateutil's BYEASTER) and what each one takes.
_PARTS = {
    "FREQ": "use MINUTELY, HOURLY, DAILY, WEEKLY, MONTHLY or YEARLY",
    "INTERVAL": "give a whole number from 1, e.g. INTERVAL=2",
    "COUNT": "give a whole number of runs, e.g. COUNT=10",
    "UNTIL": "give a date (20270101), a local time (20270101T090000) or a UTC time (20270101T000000Z)",
    "WKST": "give a weekday: MO, TU, WE, TH, FR, SA or SU",
    "BYDAY": "give weekdays, e.g. BYDAY=MO,WE, or numbered ones in a month, e.g. BYDAY=1MO or -1FR",
    "BYMONTH": "give months 1 to 12, e.g. BYMONTH=1,7",
    "BYMONTHDAY": "give days of the month, 1 to 31 or -31 to -1, e.g. BYMONTHDAY=1,-1",
    "BYYEARDAY": "give days of the year, 1 to 366 or -366 to -1",
    "BYWEEKNO": "give ISO weeks, 1 to 53 or -53 to -1",
    "BYHOUR": "give hours 0 to 23, e.g. BYHOUR=8,17",
    "BYMINUTE": "give minutes 0 to 59, e.g. BYMINUTE=0,30",
    "BYSECOND": "give seconds 0 to 59",
    "BYSETPOS": "give positions in each period's set, 1 to 366 or -366 to -1, e.g. BYSETPOS=-1",
    "BYEASTER": "give days from Easter Sunday, e.g. BYEASTER=0",
}


def zone(timezone: str) -> ZoneInfo:
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise InvalidField(
            "trigger_config.timezone", f"{timezone!r} is not an IANA timezone; use e.g. Europe/Prague or UTC"
        ) from exc


def _parts(text: str, tz: ZoneInfo) -> dict[str, str]:
    """The rule's `NAME=VALUE` parts, checked; `InvalidField` saying which part is wrong and what it
    takes, in our words rather than dateutil's."""
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_RULE_LENGTH:
        raise InvalidField(
            _FIELD, f"give an RRULE of at most {MAX_RULE_LENGTH} characters, e.g. FREQ=DAILY;BYHOUR=8"
        )
    if "DTSTART" in text.upper():
        raise InvalidField(_FIELD, "must not contain DTSTART: a schedule starts when its action is created")
    body = text.strip()
    body = body[len("RRULE:") :] if body.upper().startswith("RRULE:") else body
    if "\n" in body:
        raise InvalidField(_FIELD, "give one RRULE on one line (RDATE, EXDATE and EXRULE are not supported)")
    parts = dict(_part(each, tz) for each in body.split(";") if each.strip())
    if "FREQ" not in parts:
        raise InvalidField(_FIELD, f"has no FREQ; start with FREQ=DAILY, e.g. {_EXAMPLE}")
    if parts["FREQ"] not in _FREQUENCIES:
        raise InvalidField(_FIELD, f"FREQ={parts['FREQ']} is not valid; {_PARTS['FREQ']}")
    return parts


def _rule(parts: dict[str, str], anchor: datetime) -> rrule:
    """The rule started at `anchor` (naive wall clock in the rule's timezone)."""
    try:
        return rrulestr(_joined(parts), dtstart=anchor, cache=False)
    except (ValueError, TypeError) as exc:
        raise _culprit(parts, anchor) or InvalidField(_FIELD, f"cannot be used as a whole ({exc})") from exc


def _joined(parts: dict[str, str]) -> str:
    return ";".join(f"{name}={value}" for name, value in parts.items())


def _part(text: str, tz: ZoneInfo) -> tuple[str, str]:
    """One `NAME=VALUE` part, upper-cased; a UTC `UNTIL` (RFC 5545's `…Z`) as wall clock in `tz`,
    the clock the rule's occurrences are counted in."""
    name, sep, value = (piece.strip().upper() for piece in text.partition("="))
    if not sep or not name or not value:
        raise InvalidField(
            _FIELD, f"{text.strip()!r} is not NAME=VALUE; separate parts with ';', e.g. {_EXAMPLE}"
        )
    if name not in _PARTS:
        close = get_close_matches(name, _PARTS, n=1)
        hint = f"did you mean {close[0]}?" if close else f"use {', '.join(_PARTS)}"
        raise InvalidField(_FIELD, f"{name} is not a part of an RRULE; {hint}")
    if name == "INTERVAL" and not (value.isdigit() and int(value) > 0):
        raise InvalidField(_FIELD, f"INTERVAL={value} is not valid; {_PARTS['INTERVAL']}")
    if name == "UNTIL" and value.endswith("Z"):
        try:
            until = datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        except ValueError as exc:
            raise InvalidField(_FIELD, f"UNTIL={value} is not valid; {_PARTS['UNTIL']}") from exc
        value = until.astimezone(tz).strftime("%Y%m%dT%H%M%S")
    return name, value


def _culprit(parts: dict[str, str], anchor: datetime) -> InvalidField | None:
    """The error naming the first part dateutil cannot take on its own (None: only their mix fails)."""
    for name, value in parts.items():
        try:
            rrulestr(_joined({"FREQ": parts["FREQ"], name: value}), dtstart=anchor, cache=False)
        except (ValueError, TypeError):
            return InvalidField(_FIELD, f"{name}={value} is not valid; {_PARTS[name]}")
    return None


def _anchor(created_at: datetime, tz: ZoneInfo) -> datetime:
    """Creation time as naive wall clock in `tz`, on the minute (seconds would carry into occurrences)."""
    return created_at.astimezone(tz).replace(tzinfo=None, second=0, microsecond=0)


def validate_rule(text: str, timezone: str, *, now: datetime) -> None:
    """Raise `InvalidField` unless the rule parses, has no DTSTART, ends by COUNT or UNTIL (not both)
    if at all, and fires at most once a minute."""
    tz = zone(timezone)
    parts = _parts(text, tz)
    if "COUNT" in parts and "UNTIL" in parts:
        raise InvalidField(_FIELD, "give COUNT or UNTIL, not both (RFC 5545): either one ends the schedule")
    rule = _rule(parts, _anchor(now, tz))
    if rule._freq == SECONDLY:  # dateutil keeps the frequency only in this attribute
        raise InvalidField(_FIELD, "fires every second; the finest schedule is once a minute (FREQ=MINUTELY)")
    previous = None
    for count, occurrence in enumerate(rule):
        if previous is not None and occurrence - previous < MIN_GAP:
            raise InvalidField(_FIELD, "fires more than once a minute; remove BYSECOND or use FREQ=MINUTELY")
        previous = occurrence
        if count >= _CHECKED_OCCURRENCES:
            break


def next_occurrence(text: str, timezone: str, *, created_at: datetime, after: datetime) -> datetime | None:
    """The first occurrence strictly after `after`, in UTC; None when the rule has ended."""
    tz = zone(timezone)
    anchor = _anchor(created_at, tz)
    after_local = after.astimezone(tz).replace(tzinfo=None)
    rule = _rule(_parts(text, tz), anchor)
    rule = _reanchored(rule, anchor, after_local)
    found = rule.after(after_local, inc=False)
    return found.replace(tzinfo=tz).astimezone(UTC) if found is not None else None


def _reanchored(rule: rrule, anchor: datetime, after_local: datetime) -> rrule:
    """The same rule started at the last whole period before `after_local` (COUNT rules keep theirs)."""
    period = _PERIODS.get(rule._freq)
    if period is None or rule._count is not None or after_local <= anchor:
        return rule
    step = period * rule._interval
    periods = (after_local - anchor) // step - 1
    if periods <= 0:
        return rule
    return rule.replace(dtstart=anchor + step * periods)


_UNITS = {"m": 60, "h": 3_600, "d": 86_400, "w": 604_800}


def parse_duration(text: str, field: str = "for") -> timedelta:
    """`30m`, `12h`, `7d`, `2w` as a positive timedelta; `InvalidField` naming `field` otherwise."""
    value = (text or "").strip()
    if len(value) > 1 and value[-1] in _UNITS and value[:-1].isdigit() and int(value[:-1]) > 0:
        return timedelta(seconds=int(value[:-1]) * _UNITS[value[-1]])
    raise InvalidField(field, f"{text!r} is not a duration such as 30m, 2h or 1d")


def parse_since(text: str, *, now: datetime) -> datetime:
    """A point in the past: an ISO date or time (UTC unless it says so), or `7d`, `12h`, `30m`, `2w`."""
    value = (text or "").strip()
    if len(value) > 1 and value[-1] in _UNITS and value[:-1].isdigit():
        return now if int(value[:-1]) == 0 else now - parse_duration(value, "since")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise InvalidField(
            "since", f"{text!r} is neither a date (2026-01-31) nor a duration (7d, 12h, 30m)"
        ) from exc
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
