"""The observation page (`/observations/{id}`, the link every digest carries), its label and
translate forms, and the events the replay player loads (`/sessions/{team}/{session_id}/events`)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse

from api.pages.web import check_csrf, deps_of, not_found_page, render, viewer
from pipeline.errors import InvalidField, NotFoundError, TransientError
from pipeline.translation import TranslationUnavailable, answer_text, translate_failed
from services.console_logs import explain_for, session_errors
from services.observation_detail import (
    label_observation,
    observation_detail,
    recording_events,
    session_detail,
)
from services.translation import shown_translation, translate_observation
from services.web_sessions import SignedIn

router = APIRouter(include_in_schema=False)


@router.get("/observations/{observation_id}")
def observation_page(
    request: Request, observation_id: str, who: Annotated[SignedIn, Depends(viewer)]
) -> Response:
    person = who.principal
    try:
        detail = observation_detail(deps_of(request), person.team_ids, person.user_id, observation_id)
    except NotFoundError:
        return not_found_page(request, who)
    lang = request.query_params.get("lang", "")[:35]
    translation = shown_translation(
        deps_of(request), detail.observation.team_id, answer_text(detail.answer), lang
    )
    return render(
        request,
        "observation.html",
        who=who,
        detail=detail,
        error=request.query_params.get("error"),
        lang=lang,
        translation=translation,
        translate_error=request.query_params.get("translate_error"),
    )


@router.post("/observations/{observation_id}/translate")
def translate(
    request: Request,
    observation_id: str,
    who: Annotated[SignedIn, Depends(viewer)],
    language: Annotated[str, Form(max_length=35)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    """Translate the answer (through the model once; the page then reads it from the cache)."""
    check_csrf(who, csrf_token)
    try:
        done = translate_observation(deps_of(request), who.principal.team_ids, observation_id, language)
    except NotFoundError:
        return not_found_page(request, who)
    except (InvalidField, TranslationUnavailable, TransientError) as exc:
        return RedirectResponse(
            f"/observations/{observation_id}?{urlencode(translate_failed(exc, language))}#translation",
            status_code=303,
        )
    query = urlencode({"lang": done.target_language})
    return RedirectResponse(f"/observations/{observation_id}?{query}#translation", status_code=303)


@router.post("/observations/{observation_id}/label")
def label(
    request: Request,
    observation_id: str,
    who: Annotated[SignedIn, Depends(viewer)],
    rating: Annotated[str, Form(max_length=8)] = "",
    note: Annotated[str, Form(max_length=4000)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    check_csrf(who, csrf_token)
    person = who.principal
    try:
        label_observation(deps_of(request), person.team_ids, person.user_id, observation_id, rating, note)
    except NotFoundError:
        return not_found_page(request, who)
    except InvalidField as exc:
        message = str(exc).split(": ", 1)[-1]
        return RedirectResponse(
            f"/observations/{observation_id}?{urlencode({'error': message[:200]})}#label", status_code=303
        )
    return RedirectResponse(f"/observations/{observation_id}#label", status_code=303)


@router.get("/recordings/{team_id}/events/{session_id:path}")
def events(
    request: Request, team_id: int, session_id: str, who: Annotated[SignedIn, Depends(viewer)]
) -> Response:
    """The recording's events as one JSON array, streamed as stored (never decoded here)."""
    try:
        lines = recording_events(deps_of(request), who.principal.team_ids, team_id, session_id)
    except NotFoundError:
        return Response('{"detail": "not found"}', status_code=404, media_type="application/json")

    def body():
        yield b"["
        for index, line in enumerate(lines):
            yield (b"," if index else b"") + line
        yield b"]"

    headers = {"Cache-Control": "private, max-age=300", "X-Content-Type-Options": "nosniff"}
    return StreamingResponse(body(), media_type="application/json", headers=headers)


@router.get("/sessions/{session_id:path}")
def session_page(request: Request, session_id: str, who: Annotated[SignedIn, Depends(viewer)]) -> Response:
    try:
        detail = session_detail(deps_of(request), who.principal.team_ids, session_id)
    except NotFoundError:
        return not_found_page(request, who)
    errors = session_errors(deps_of(request), detail.recording)
    return render(request, "session.html", who=who, detail=detail, errors=errors)


@router.post("/logs/{entry_id}/explain")
def explain_line(
    request: Request,
    entry_id: str,
    who: Annotated[SignedIn, Depends(viewer)],
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    """Explain one console error of a session (the model once, when a key is set; the page then
    shows the kept explanation beside the line)."""
    check_csrf(who, csrf_token)
    try:
        done = explain_for(deps_of(request), who.principal.team_ids, entry_id)
    except NotFoundError:
        return not_found_page(request, who)
    where = f"/sessions/{quote(done.entry.session_id, safe='')}#log-{done.entry.id}"
    return RedirectResponse(where, status_code=303)
