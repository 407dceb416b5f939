"""Text representations (`llm_analytics/text_repr`): a recording or an observation as the text a
model (or a person pasting it into one) reads.

A recording's detailed text is `sightline timeline`'s: the same use case
(`services.recordings.timeline`), so the API and the CLI can never disagree. An observation's text
is `sightline observations show`'s content as plain text: the scanner's question, the answer, and the
timeline lines each citation points at.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.text_repr import AnswerField, ObservationText, Rendering, Text, observation_text, recording_text
from services import observations, recordings
from services.context import Deps

RECORDING, OBSERVATION = "$session_recording", "$observation"
EVENT_TYPES = (RECORDING, OBSERVATION)


@dataclass(frozen=True)
class Represented:
    text: Text
    event_id: str


def text_repr(
    deps: Deps, team_id: int, event_type: str, event_id: str, rendering: Rendering, budget_tokens: int | None
) -> Represented:
    """The text of the team's recording (`event_id` its session id) or observation (its id).

    Raises `NotFoundError` for an unknown (or another team's) recording or observation, or a
    recording whose events are missing.
    """
    budget = budget_tokens or deps.settings.timeline_budget_tokens
    if event_type == RECORDING:
        timeline = recordings.timeline(deps, team_id, event_id, budget)
        return Represented(recording_text(timeline, rendering, budget), event_id)
    shown = observations.show_observation(deps, team_id, event_id)
    row, snapshot = shown.observation, shown.observation.scanner_snapshot or {}
    found = ObservationText(
        observation_id=str(row.id),
        scanner=str(snapshot.get("name", "")),
        scanner_type=str(snapshot.get("scanner_type", "")),
        version=snapshot.get("scanner_version", "?"),
        session_id=row.session_id,
        status=str(row.status),
        question=str((snapshot.get("scanner_config") or {}).get("prompt", "")),
        fields=[
            AnswerField(item.name, item.value, [(cited.second, cited.lines) for cited in item.citations])
            for item in shown.fields
        ],
        error_reason=row.error_reason,
        downgraded=shown.downgraded,
    )
    return Represented(observation_text(found, rendering, budget), str(row.id))
