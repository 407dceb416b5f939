"""Action schedules: rrules in an IANA timezone, validated, and their next occurrence (DESIGN §6).

Occurrences are wall-clock times in the action's timezone (09:00 Europe/Prague stays 09:00 across
DST) anchored at the action's creation, and returned in UTC. Rules created long ago are re-anchored
near `after` by whole periods, so finding the next occurrence never walks years of history.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
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


def zone(timezone: str) -> ZoneInfo:
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise InvalidField(
            "trigger_config.timezone", f"{timezone!r} is not an IANA timezone; use e.g. Europe/Prague or UTC"
        ) from exc


def _parse(text: str, anchor: datetime) -> rrule:
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_RULE_LENGTH:
        raise InvalidField(
            _FIELD, f"give an RRULE of at most {MAX_RULE_LENGTH} characters, e.g. FREQ=DAILY;BYHOUR=8"
        )
    if "DTSTART" in text.upper():
        raise InvalidField(_FIELD, "must not contain DTSTART: a schedule starts when its action is created")
    body = text.strip().removeprefix("RRULE:").removeprefix("rrule:")
    try:
        rule = rrulestr(body, dtstart=anchor, cache=False)
    except (ValueError, TypeError) as exc:
        raise InvalidField(_FIELD, f"cannot be parsed ({exc}); e.g. FREQ=WEEKLY;BYDAY=MO;BYHOUR=9") from exc
    if not isinstance(rule, rrule):
        raise InvalidField(_FIELD, "give one RRULE, not a set of rules")
    return rule


def _anchor(created_at: datetime, tz: ZoneInfo) -> datetime:
    """Creation time as naive wall clock in `tz`, on the minute (seconds would carry into occurrences)."""
    return created_at.astimezone(tz).replace(tzinfo=None, second=0, microsecond=0)


def validate_rule(text: str, timezone: str, *, now: datetime) -> None:
    """Raise `InvalidField` unless the rule parses, has no DTSTART, and fires at most once a minute."""
    tz = zone(timezone)
    rule = _parse(text, _anchor(now, tz))
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
    rule = _parse(text, anchor)
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
