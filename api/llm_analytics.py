"""LLM analytics (`/api/environments/:project_id/llm_analytics/…`): the text a model reads, and
translation.

`text_repr` gives a recording (`$session_recording`, `data: {session_id}`) as the timeline the model
reads (with its console error stacks de-minified by the team's source maps after it, as a Gemini
scanner's prompt has them), the same text `sightline timeline` prints, or an observation
(`$observation`, `data: {id}`) as its question, answer and cited lines; `options` choose the token
`budget` and the `rendering` (`detailed`, the default, or `compact`). `translate` translates a text
into `target_language` through the Gemini gateway, cached per team, text and language; 503 says why
when it cannot.
Each endpoint calls one use case (`services.text_repr`, `services.translation`).
"""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from api.auth import Caller, caller
from api.errors import ApiError, ErrorBody
from pipeline.errors import InvalidField
from pipeline.text_repr import Rendering
from pipeline.translation import MAX_TEXT, TranslationUnavailable
from services import text_repr as representations
from services import translation as translations
from services.text_repr import OBSERVATION, RECORDING

router = APIRouter(prefix="/api/environments/{project_id}/llm_analytics", tags=["llm analytics"])
WRITE = "llm_analytics:write"
MAX_BUDGET = 200_000
UNAVAILABLE = {503: {"model": ErrorBody, "description": "No Gemini key, or the model could not answer."}}


class TextReprData(BaseModel):
    """What to represent: a recording by `session_id`, or an observation by `id`."""

    model_config = ConfigDict(extra="ignore")

    session_id: str | None = Field(default=None, min_length=1, max_length=128)
    id: UUID | None = Field(default=None, description="The observation's id (`$observation`).")


class TextReprOptions(BaseModel):
    model_config = ConfigDict(extra="ignore")

    budget: int | None = Field(
        default=None, ge=200, le=MAX_BUDGET, description="Token budget (≈4 characters each); default 6,000."
    )
    rendering: Rendering = "detailed"


class TextReprInput(BaseModel):
    event_type: Literal["$session_recording", "$observation"]
    data: TextReprData
    options: TextReprOptions = Field(default_factory=TextReprOptions)


class TextReprMetadata(BaseModel):
    event_type: str
    event_id: str
    rendering: str
    char_count: int = Field(description="The length of `text`, the stack traces after a timeline included.")
    truncated: bool = Field(
        description="True when the budget cut lines (the text says which); stack traces are not cut."
    )


class TextReprShape(BaseModel):
    text: str
    metadata: TextReprMetadata


class TranslateInput(BaseModel):
    model_config = ConfigDict(extra="ignore")

    text: str = Field(min_length=1, max_length=MAX_TEXT)
    target_language: str = Field(default="en", max_length=35, description="A BCP 47 tag: fr, de, pt-BR…")


class TranslationShape(BaseModel):
    translation: str
    target_language: str
    detected_language: str | None = Field(description="The source text's language, as the model saw it.")
    cached: bool = Field(description="True when this team had this text translated before (no model call).")


@router.post(
    "/text_repr",
    response_model=TextReprShape,
    responses=UNAVAILABLE,
    summary="A recording or an observation as the text a model reads",
)
def text_repr(body: TextReprInput, who: Annotated[Caller, Depends(caller(WRITE))]) -> TextReprShape:
    """`$session_recording` with `data.session_id`: the timeline (`detailed` is exactly what
    `sightline timeline` prints), then the de-minified stack traces when the team uses source maps
    (outside the budget, inside `char_count`); `$observation` with `data.id`: its question, answer and
    cited lines."""
    event_id = _event_id(body)
    found = representations.text_repr(
        who.deps, who.team_id, body.event_type, event_id, body.options.rendering, body.options.budget
    )
    metadata = TextReprMetadata(
        event_type=body.event_type,
        event_id=found.event_id,
        rendering=body.options.rendering,
        char_count=len(found.text.text),
        truncated=found.text.truncated,
    )
    return TextReprShape(text=found.text.text, metadata=metadata)


def _event_id(body: TextReprInput) -> str:
    if body.event_type == RECORDING and body.data.session_id:
        return body.data.session_id
    if body.event_type == OBSERVATION and body.data.id is not None:
        return str(body.data.id)
    needed = "session_id" if body.event_type == RECORDING else "id"
    raise InvalidField(f"data.{needed}", f"{body.event_type} needs data.{needed}")


@router.post(
    "/translate",
    response_model=TranslationShape,
    status_code=201,
    responses=UNAVAILABLE,
    summary="Translate text to target language",
)
def translate(body: TranslateInput, who: Annotated[Caller, Depends(caller(WRITE))]) -> TranslationShape:
    """The text in `target_language` (default `en`), through the model once per team, text and
    language; a repeated request is answered from the cache."""
    try:
        done = translations.translate(who.deps, who.team_id, body.text, body.target_language)
    except TranslationUnavailable as exc:
        raise ApiError(503, "server_error", "unavailable", str(exc)) from exc
    return TranslationShape(
        translation=done.translation,
        target_language=done.target_language,
        detected_language=done.detected_language,
        cached=done.cached,
    )
