"""Translate a text into a language through the model, once per team, text and language.

`translate` answers from the `llm_translations` cache when this team already had this exact text
translated into this language (no model request), else asks the shared Gemini gateway and stores
the answer. `translated` reads the cache only (the web pages show a translation made by their form).
`translate_observation` and `translate_report` translate what the observation and report pages show:
an answer's text fields, a report's title and summary.
"""

from __future__ import annotations

from dataclasses import dataclass

import structlog
from sqlalchemy.exc import IntegrityError

from models.translation_queries import cached_translation
from models.translations import Translation
from models.web_queries import observation_in
from pipeline.errors import InvalidField, NotFoundError, OutputInvalid, ProviderRejected
from pipeline.translation import (
    TranslationUnavailable,
    answer_text,
    check_text,
    language_code,
    parse_translation,
    report_text,
    text_digest,
    translation_call,
)
from services.context import Deps
from services.reports import as_uuid, report_detail

log = structlog.get_logger(__name__)
NO_KEY = "Translation needs a Gemini API key: set GEMINI_API_KEY for the API process, then try again."


@dataclass(frozen=True)
class Translated:
    translation: str
    target_language: str
    detected_language: str | None
    cached: bool


def translate(deps: Deps, team_id: int, text: str, target_language: str) -> Translated:
    """`text` in `target_language`, from the team's cache or through the model (then cached).

    Raises `InvalidField` for a blank or too long text or an unknown language code,
    `TranslationUnavailable` without a Gemini key or when the model's answer is unusable,
    `ProviderTransient` when the model cannot be reached (try again).
    """
    text, language = check_text(text), language_code(target_language)
    digest = text_digest(text)
    found = translated(deps, team_id, text, language)
    if found is not None:
        return found
    if deps.settings.gemini_api_key is None:
        raise TranslationUnavailable(NO_KEY)
    model = deps.settings.signals_model
    try:
        reply = deps.gemini().generate(translation_call(model, text, language))
        translation, detected = parse_translation(reply.text)
    except (OutputInvalid, ProviderRejected) as exc:
        log.warning("translation_failed", team_id=team_id, error=type(exc).__name__)
        raise TranslationUnavailable(f"The model gave no usable translation ({exc}); try again.") from exc
    row = Translation(
        team_id=team_id,
        text_sha256=digest,
        target_language=language,
        translation=translation,
        detected_language=detected,
        model=model,
    )
    try:
        with deps.transaction() as session:
            session.add(row)
    except IntegrityError:  # another request stored the same translation first: either is right
        log.info("translation_stored_twice", team_id=team_id)
    log.info("translation_made", team_id=team_id, target_language=language, chars=len(text))
    return Translated(translation, language, detected, cached=False)


def translated(deps: Deps, team_id: int, text: str, target_language: str) -> Translated | None:
    """The team's cached translation of `text` into `target_language`, or None; never asks the model."""
    language = language_code(target_language)
    with deps.read() as session:
        row = cached_translation(session, team_id, text_digest(text), language)
        if row is None:
            return None
        return Translated(row.translation, language, row.detected_language, cached=True)


def translate_observation(deps: Deps, team_ids: frozenset[int], ref: str, target_language: str) -> Translated:
    """The answer of an observation one of `team_ids` owns, translated (`translate`); `NotFoundError`
    for another team's or an unknown one, `InvalidField` when its answer has no text yet."""
    key = as_uuid(ref)
    with deps.read() as session:
        row = observation_in(session, key, team_ids) if key is not None else None
    if row is None:
        raise NotFoundError(f"no observation {ref!r}")
    answer = (row.scanner_result or {}).get("model_output") or {}
    return translate(deps, row.team_id, answer_text(answer), target_language)


def translate_report(deps: Deps, team_id: int, report_id: str, target_language: str) -> Translated:
    """A report's title and summary, translated (`translate`); `NotFoundError` as `report_detail`."""
    found = report_detail(deps, team_id, report_id).report
    return translate(deps, team_id, report_text(found.title, found.summary), target_language)


def shown_translation(deps: Deps, team_id: int, text: str, target_language: str | None) -> Translated | None:
    """What a page shows for `?lang=`: the team's cached translation of `text`, or None (no language,
    a code that is not one, or nothing translated yet); never asks the model."""
    if not target_language or not text.strip():
        return None
    try:
        return translated(deps, team_id, text, target_language)
    except InvalidField:
        return None
