"""What the observation page shows (`/observations/{id}`): the answer, each cited moment with the
timeline lines there and whether the evidence check found it, the timeline the model read, the
signals the observation emitted and the reports they joined, its cost, and people's labels.

The page is reached from a digest's link, which names no team: the observation is found only if one
of the person's teams owns it (another team's is `NotFoundError`, as one that does not exist).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlmodel import Session

from models import LabelRating, Observation, ObservationLabel, Recording, Scanner, as_utc
from models.evaluation_queries import results_of_observation
from models.queries import get_recording, users_by_id
from models.web_queries import (
    label_of,
    labels_of_observation,
    labels_of_scanner,
    observation_in,
    observation_outcomes_since,
    observations_of_session,
    receipt_of,
    signals_of_observation,
)
from pipeline.errors import InvalidField, NotFoundError
from pipeline.evidence import LINE_SECOND, TOLERANCE_S, citations
from services.context import Deps
from services.recordings import stored_timeline
from services.reports import as_uuid

MAX_NOTE = 2000
SESSION_OBSERVATIONS = 200


@dataclass(frozen=True)
class Moment:
    """A cited second: the timeline lines within the check's tolerance, and the check's finding."""

    second: float
    supported: bool
    lines: list[str]


@dataclass(frozen=True)
class Line:
    second: int | None  # None for header lines
    text: str


@dataclass(frozen=True)
class Emitted:
    description: str
    weight: float
    report_id: UUID | None
    report_title: str | None


@dataclass(frozen=True)
class Label:
    rating: str
    note: str
    email: str
    mine: bool
    created_at: datetime


@dataclass(frozen=True)
class Evaluated:
    """What one evaluation said of the observation (pending until a worker evaluates it)."""

    name: str
    status: str
    passed: bool | None
    score: float | None
    reasoning: str
    error: str | None


@dataclass(frozen=True)
class ObservationDetail:
    observation: Observation
    recording: Recording | None
    answer: dict[str, Any]  # the model's output, without the evidence check
    moments: list[Moment]
    downgraded_from: str | None
    timeline: list[Line]
    signals: list[Emitted]
    labels: list[Label]
    credits: int | None
    tokens: tuple[int, int] | None  # input, output
    evaluations: list[Evaluated] = field(default_factory=list)


def observation_detail(deps: Deps, team_ids: frozenset[int], user_id: int, ref: str) -> ObservationDetail:
    """Everything the page shows; `NotFoundError` unless one of `team_ids` owns the observation."""
    with deps.read() as session:
        row = _find(session, team_ids, ref)
        recording = get_recording(session, row.team_id, row.session_id)
        emitted = signals_of_observation(session, row.team_id, row.id)
        labels = list(labels_of_observation(session, row.id))
        people = {user.id: user.email for user in users_by_id(session, {label.user_id for label in labels})}
        receipt = receipt_of(session, row.id)
        evaluated = [
            Evaluated(name, str(result.status), result.passed, result.score, result.reasoning, result.error)
            for result, name in results_of_observation(session, row.id)
        ]
    output = dict((row.scanner_result or {}).get("model_output") or {})
    check = output.pop("evidence", None) or {}
    lines = _timeline(deps, recording)
    supported = {float(second) for second in check.get("supported") or ()}
    return ObservationDetail(
        observation=row,
        recording=recording,
        answer=output,
        moments=[
            Moment(second, second in supported, _near(lines, second))
            for second in dict.fromkeys(citations(output))
        ],
        downgraded_from=check.get("downgraded_from"),
        timeline=lines,
        signals=[
            Emitted(signal.description, signal.weight, signal.report_id, title) for signal, title in emitted
        ],
        labels=[
            Label(
                str(label.rating),
                label.note,
                people.get(label.user_id, "?"),
                label.user_id == user_id,
                label.created_at,
            )
            for label in labels
        ],
        credits=receipt.credits if receipt else None,
        tokens=(receipt.input_tokens, receipt.output_tokens) if receipt else None,
        evaluations=evaluated,
    )


@dataclass(frozen=True)
class SessionDetail:
    """The session page: the stored recording, the timeline the model reads (with its redaction
    manifest), and every observation of the session across the team's scanners, newest first."""

    recording: Recording
    timeline: list[Line]
    manifest: dict[str, int]
    observations: list[Observation]


def session_detail(deps: Deps, team_ids: frozenset[int], session_id: str) -> SessionDetail:
    """`NotFoundError` unless one of `team_ids` has a recording of this session (the lowest team
    id wins when several do)."""
    with deps.read() as session:
        for team_id in sorted(team_ids):
            recording = get_recording(session, team_id, session_id)
            if recording is not None:
                found = list(observations_of_session(session, team_id, session_id, SESSION_OBSERVATIONS))
                break
        else:
            raise NotFoundError(f"no recording {session_id!r}")
    try:
        timeline = stored_timeline(deps.blobs, recording, budget_tokens=deps.settings.timeline_budget_tokens)
    except OSError:
        return SessionDetail(recording, [], {}, found)
    return SessionDetail(recording, _lines(timeline.text), dict(timeline.manifest), found)


def label_observation(
    deps: Deps,
    team_ids: frozenset[int],
    user_id: int,
    ref: str,
    rating: str,
    note: str = "",
    *,
    now: datetime | None = None,
) -> ObservationLabel:
    """Store a person's thumbs up or down (and note) on an observation, replacing their earlier one.
    Raises `InvalidField` for another rating or a note over 2,000 characters, `NotFoundError` as above."""
    if rating not in {item.value for item in LabelRating}:
        raise InvalidField("rating", f"{rating!r} is not up or down")
    note = note.strip()
    if len(note) > MAX_NOTE:
        raise InvalidField("note", f"a note holds at most {MAX_NOTE} characters ({len(note)} given)")
    with deps.transaction() as session:
        row = _find(session, team_ids, ref)
        label = label_of(session, row.id, user_id) or ObservationLabel(
            team_id=row.team_id,
            scanner_id=row.scanner_id,
            observation_id=row.id,
            user_id=user_id,
            rating=LabelRating(rating),
        )
        label.rating, label.note, label.created_at = LabelRating(rating), note, now or deps.now()
        session.add(label)
    return label


def recording_events(deps: Deps, team_ids: frozenset[int], team_id: int, session_id: str) -> Iterator[bytes]:
    """The stored events of a session (each as JSON), for the replay player; `NotFoundError` when
    the team is not one of `team_ids`, it has no such recording, or its events are missing."""
    if team_id not in team_ids:
        raise NotFoundError(f"no recording {session_id!r}")
    with deps.read() as session:
        row = get_recording(session, team_id, session_id)
    if row is None:
        raise NotFoundError(f"no recording {session_id!r}")
    events = deps.blobs.lines(row.blob_ref)
    try:
        first = next(events)  # a missing blob raises here, before the page has sent anything
    except StopIteration:
        return iter(())
    except OSError as exc:
        raise NotFoundError(f"the events of {session_id!r} are missing; re-import it") from exc
    return itertools.chain([first], events)


def _find(session: Session, team_ids: frozenset[int], ref: str) -> Observation:
    key = as_uuid(ref)
    row = observation_in(session, key, team_ids) if key is not None else None
    if row is None:
        raise NotFoundError(f"no observation {ref!r}")
    return row


def _timeline(deps: Deps, recording: Recording | None) -> list[Line]:
    if recording is None:
        return []
    try:
        text = stored_timeline(deps.blobs, recording, budget_tokens=deps.settings.timeline_budget_tokens).text
    except OSError:
        return []
    return _lines(text)


def _lines(text: str) -> list[Line]:
    found = []
    for line in text.splitlines():
        match = LINE_SECOND.match(line)
        found.append(Line(int(match[1]) if match else None, line))
    return found


def _near(lines: list[Line], second: float) -> list[str]:
    return [
        line.text for line in lines if line.second is not None and abs(line.second - second) <= TOLERANCE_S
    ][:4]


def scanner_labels(deps: Deps, team_id: int, scanner_id: UUID, limit: int = 100) -> list[Label]:
    """People's newest labels on a scanner's observations (the raw material of calibration)."""
    with deps.read() as session:
        rows = list(labels_of_scanner(session, team_id, scanner_id, limit))
        people = {user.id: user.email for user in users_by_id(session, {row.user_id for row in rows})}
    return [
        Label(str(row.rating), row.note, people.get(row.user_id, "?"), False, row.created_at) for row in rows
    ]


def outcomes_by_day(
    deps: Deps, team_id: int, scanner_id: UUID, days: int = 14, *, now: datetime | None = None
) -> dict[str, list[tuple[float, float]]]:
    """A scanner's last `days` days, one point per UTC day: observations by verdict (monitors) or
    by status, and the mean score (scorers): `{series: [(day start in seconds, value), …]}`."""
    now = now or deps.now()
    first_day = (now - timedelta(days=days - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
    with deps.read() as session:
        scanner = session.get(Scanner, scanner_id)
        if scanner is None or scanner.team_id != team_id:
            raise NotFoundError(f"no scanner {scanner_id}")
        rows = observation_outcomes_since(session, scanner_id, first_day)
    starts = [(first_day + timedelta(days=index)).timestamp() for index in range(days)]
    counts: dict[str, list[float]] = {}
    scores: list[list[float]] = [[] for _ in starts]
    for created, status, verdict, score in rows:
        day = min(days - 1, max(0, int((as_utc(created) - first_day).total_seconds() // 86_400)))
        name = verdict or status
        counts.setdefault(name, [0.0] * days)[day] += 1
        if score is not None:
            scores[day].append(score)
    series = {name: list(zip(starts, values, strict=True)) for name, values in sorted(counts.items())}
    if any(scores):
        series["mean score"] = [
            (start, sum(day) / len(day)) for start, day in zip(starts, scores, strict=True) if day
        ]
    return series
