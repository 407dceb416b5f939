"""One scan as a conversation with a model, through a port: the steps, their checks, one re-prompt.

`converse` is pure orchestration: the model is the `Generate` callable it is handed (the Gemini
adapter in production, a fake in tests). Provider errors pass through untouched.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from pipeline.errors import OutputInvalid
from pipeline.outputs import FINDINGS_SCHEMA, check_findings, check_output, response_schema
from pipeline.prompts import FINDINGS_PROMPT, SYSTEM_INSTRUCTION, reprompt, step_prompt

ATTEMPTS_PER_STEP = 2


@dataclass(frozen=True)
class Turn:
    role: str  # "user" or "model"
    text: str


@dataclass(frozen=True)
class ModelCall:
    model: str
    system: str
    turns: tuple[Turn, ...]
    schema: dict[str, Any]


@dataclass(frozen=True)
class ModelReply:
    text: str
    input_tokens: int = 0
    output_tokens: int = 0


Generate = Callable[[ModelCall], ModelReply]


@dataclass
class Answer:
    result: dict[str, Any]
    findings: list[dict[str, Any]] = field(default_factory=list)
    input_tokens: int = 0
    output_tokens: int = 0
    calls: int = 0
    notes: list[str] = field(default_factory=list)


class _Conversation:
    def __init__(self, model: str, generate: Generate):
        self.model, self.generate = model, generate
        self.turns: list[Turn] = []
        self.answer = Answer(result={})

    def step(self, prompt: str, schema: dict, check: Callable[[object], Any]) -> Any:
        """Ask, check, and re-prompt once with the error; `OutputInvalid` after the second miss."""
        start = len(self.turns)
        self.turns.append(Turn("user", prompt))
        error = ""
        for _ in range(ATTEMPTS_PER_STEP):
            reply = self.generate(ModelCall(self.model, SYSTEM_INSTRUCTION, tuple(self.turns), schema))
            self.answer.calls += 1
            self.answer.input_tokens += reply.input_tokens
            self.answer.output_tokens += reply.output_tokens
            self.turns.append(Turn("model", reply.text))
            try:
                return check(_json(reply.text))
            except OutputInvalid as exc:
                error = str(exc)
                self.turns.append(Turn("user", reprompt(error)))
        del self.turns[start:]  # a failed step leaves no trace for later steps
        raise OutputInvalid(error)


def _json(text: str) -> object:
    try:
        return orjson.loads(text.strip().removeprefix("```json").removesuffix("```"))
    except orjson.JSONDecodeError as exc:
        raise OutputInvalid("the reply is not valid JSON") from exc


def converse(snapshot: dict[str, Any], timeline_text: str, generate: Generate) -> Answer:
    """Run the core step (required) and, when the scanner emits signals, the findings step (best effort)."""
    scanner_type, config = snapshot["scanner_type"], snapshot["scanner_config"]
    talk = _Conversation(snapshot["model"], generate)
    talk.answer.result = talk.step(
        step_prompt(scanner_type, config, timeline_text),
        response_schema(scanner_type, config),
        lambda data: check_output(scanner_type, config, data),
    )
    if snapshot.get("emits_signals"):
        try:
            talk.answer.findings = talk.step(FINDINGS_PROMPT, FINDINGS_SCHEMA, check_findings)
        except OutputInvalid as exc:
            talk.answer.notes.append(f"findings step skipped: {exc}")
    return talk.answer
