"""Text representations (`llm_analytics/text_repr`): a recording or an observation as the text a
model (or a person pasting it into one) reads.

A recording's detailed text is `sightline timeline`'s: the same use case (`model_timeline`), so the
API and the CLI can never disagree. It is what a Gemini scanner reads: the timeline, then the
recording's console error stacks de-minified with the team's source maps
(`services.symbol_sets.prompt_stack_traces`, the rule the scanner's prompt uses too). An
observation's text is `sightline observations show`'s content as plain text: the scanner's question,
the answer, and the timeline lines each citation points at.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.text_repr import AnswerField, ObservationText, Rendering, Text, observation_text, recording_text
from pipeline.timeline import Timeline
from services import observations, recordings
from services.context import Deps
from services.symbol_sets import prompt_stack_traces

RECORDING, OBSERVATION = "$session_recording", "$observation"
EVENT_TYPES = (RECORDING, OBSERVATION)


@dataclass(frozen=True)
class Represented:
    text: Text
    event_id: str


@dataclass(frozen=True)
class ModelTimeline:
    """A recording's timeline and the stack-trace section a model reads after it ("" without one)."""

    timeline: Timeline
    stack_traces: str

    @property
    def text(self) -> str:
        return self.timeline.text + self.stack_traces


def model_timeline(
    deps: Deps, team_id: int, session_id: str, budget_tokens: int | None = None
) -> ModelTimeline:
    """The timeline of one stored recording (`services.recordings.timeline`, within the budget) and,
    when the team uses source maps and the recording has console errors with stacks, those stacks
    de-minified as a Gemini scanner reads them. The section is not counted in the budget, as the
    scanner's prompt does not count it.

    Raises `NotFoundError` when the team has no such recording, or its events are missing.
    """
    timeline = recordings.timeline(deps, team_id, session_id, budget_tokens)
    return ModelTimeline(timeline, prompt_stack_traces(deps, team_id, session_id))


def text_repr(
    deps: Deps, team_id: int, event_type: str, event_id: str, rendering: Rendering, budget_tokens: int | None
) -> Represented:
    """The text of the team's recording (`event_id` its session id) or observation (its id).

    A recording's text is its timeline in `rendering`, cut to the budget (`truncated` says whether it
    was), followed in both renderings by `model_timeline`'s stack-trace section, which the budget does
    not cut nor count; the text's length (`char_count`) includes it.

    Raises `NotFoundError` for an unknown (or another team's) recording or observation, or a
    recording whose events are missing.
    """
    budget = budget_tokens or deps.settings.timeline_budget_tokens
    if event_type == RECORDING:
        read = model_timeline(deps, team_id, event_id, budget)
        rendered = recording_text(read.timeline, rendering, budget)
        return Represented(Text(rendered.text + read.stack_traces, rendered.truncated), event_id)
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
