"""The reports inbox (`/reports`) with bulk state changes, and one report (`/reports/{id}`) with its
signals (each opening the replay at its moment), artefacts, state actions and a translate form. State
changes go through the same use cases as the API's `state` and `bulk-state`."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from api.pages.web import check_csrf, current_team, deps_of, not_found_page, render, viewer
from pipeline.errors import InvalidField, NotFoundError, TransientError
from pipeline.inbox import inbox_filters
from pipeline.reports import DISMISSAL_REASONS, STATUSES, StateRequest
from pipeline.translation import TranslationUnavailable, report_text, translate_failed
from services import reports as use
from services.signals import signal_stack_traces
from services.translation import shown_translation, translate_report
from services.web_sessions import SignedIn

router = APIRouter(include_in_schema=False)
PAGE = 50
ORDERS = {
    "status": "pipeline order",
    "priority": "priority",
    "-total_weight": "weight",
    "-updated_at": "updated",
}
# The inbox's bulk buttons: what each asks of the reports (snooze: back to potential for N more signals).
ACTIONS = {
    "suppress": StateRequest("suppressed"),
    "snooze": StateRequest("potential", snooze_for=10),
    "resolve": StateRequest("resolved"),
    "restore": StateRequest("potential"),
}


@router.get("/reports")
def inbox(
    request: Request,
    who: Annotated[SignedIn, Depends(viewer)],
    status: str = "",
    ordering: str = "status",
    search: str = "",
    offset: int = 0,
    team: str = "",
) -> Response:
    team_id = current_team(who, team)
    ordering = ordering if ordering in ORDERS else "status"
    if team_id is None:
        return render(request, "reports.html", who=who, team_id=None, views=[], count=0)
    try:
        filters = inbox_filters(status=status or None, include_all=status == "all", search=search or None)
    except InvalidField:
        filters, status = inbox_filters(), ""
    if status == "all":
        filters = inbox_filters(include_all=True, search=search or None)
    offset = max(0, offset)
    count, views = use.report_page(deps_of(request), team_id, filters, ordering, PAGE, offset)
    query = {"status": status, "ordering": ordering, "search": search, "team": team_id}
    return render(
        request,
        "reports.html",
        who=who,
        team_id=team_id,
        views=views,
        count=count,
        offset=offset,
        page=PAGE,
        status=status,
        ordering=ordering,
        search=search,
        statuses=[item for item in STATUSES if item != "deleted"],
        orders=ORDERS,
        actions=ACTIONS,
        query=query,
        urlencode=urlencode,
        flash=request.query_params.get("done"),
    )


@router.post("/reports/bulk")
async def bulk(request: Request, who: Annotated[SignedIn, Depends(viewer)]) -> Response:
    form = await request.form()
    check_csrf(who, str(form.get("csrf_token") or ""))
    team_id = current_team(who, str(form.get("team") or ""))
    ids = [str(value) for value in form.getlist("ids")][:100]
    action = ACTIONS.get(str(form.get("action") or ""))
    back = str(form.get("back") or "")
    if team_id is None or action is None or not ids:
        return RedirectResponse(_back(back, "Choose reports and an action."), status_code=303)
    outcome = use.bulk_state(deps_of(request), team_id, ids, action, user_id=who.principal.user_id)
    done = f"{outcome['transitioned_count']} changed, {outcome['skipped_count']} unchanged"
    if outcome["failed_count"] or outcome["not_found_count"]:
        done += f", {outcome['failed_count'] + outcome['not_found_count']} refused"
    return RedirectResponse(_back(back, done), status_code=303)


@router.get("/reports/{report_id}")
def report(
    request: Request, report_id: str, who: Annotated[SignedIn, Depends(viewer)], team: str = ""
) -> Response:
    for team_id in _teams_first(who, team):
        try:
            detail = use.report_detail(deps_of(request), team_id, report_id)
        except NotFoundError:
            continue
        lang = request.query_params.get("lang", "")[:35]
        summary = report_text(detail.report.title, detail.report.summary)
        return render(
            request,
            "report.html",
            who=who,
            detail=detail,
            thrown=signal_stack_traces(deps_of(request), team_id, detail.signals),
            team_id=team_id,
            actions=ACTIONS,
            reasons=DISMISSAL_REASONS,
            flash=request.query_params.get("done"),
            lang=lang,
            translation=shown_translation(deps_of(request), team_id, summary, lang),
            translate_error=request.query_params.get("translate_error"),
        )
    return not_found_page(request, who)


@router.post("/reports/{report_id}/translate")
def translate(
    request: Request,
    report_id: str,
    who: Annotated[SignedIn, Depends(viewer)],
    language: Annotated[str, Form(max_length=35)] = "",
    team: Annotated[str, Form(max_length=12)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    """Translate the title and summary (through the model once; the page then reads the cache)."""
    check_csrf(who, csrf_token)
    team_id = current_team(who, team)
    if team_id is None:
        return not_found_page(request, who)
    try:
        done = translate_report(deps_of(request), team_id, report_id, language)
    except NotFoundError:
        return not_found_page(request, who)
    except (InvalidField, TranslationUnavailable, TransientError) as exc:
        query = urlencode({"team": team_id, **translate_failed(exc, language)})
        return RedirectResponse(f"/reports/{report_id}?{query}#translation", status_code=303)
    query = urlencode({"team": team_id, "lang": done.target_language})
    return RedirectResponse(f"/reports/{report_id}?{query}#translation", status_code=303)


@router.post("/reports/{report_id}/state")
def state(
    request: Request,
    report_id: str,
    who: Annotated[SignedIn, Depends(viewer)],
    action: Annotated[str, Form(max_length=16)] = "",
    reason: Annotated[str, Form(max_length=64)] = "",
    note: Annotated[str, Form(max_length=4000)] = "",
    team: Annotated[str, Form(max_length=12)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    check_csrf(who, csrf_token)
    team_id = current_team(who, team)
    chosen = ACTIONS.get(action)
    if team_id is None or chosen is None:
        return not_found_page(request, who)
    try:
        asked = StateRequest(chosen.target, reason or None, note.strip() or None, chosen.snooze_for)
        outcome = use.change_state(deps_of(request), team_id, report_id, asked, user_id=who.principal.user_id)
    except InvalidField as exc:
        done = str(exc).split(": ", 1)[-1]
    else:
        if outcome.outcome == "not_found":
            return not_found_page(request, who)
        done = outcome.detail or outcome.outcome
    return RedirectResponse(
        f"/reports/{report_id}?{urlencode({'team': team_id, 'done': done})}", status_code=303
    )


def _teams_first(who: SignedIn, asked: str) -> list[int]:
    chosen = current_team(who, asked)
    return [chosen, *sorted(team for team in who.principal.team_ids if team != chosen)] if chosen else []


def _back(back: str, done: str) -> str:
    path = back if back.startswith("/reports") and not back.startswith("//") else "/reports"
    return f"{path}{'&' if '?' in path else '?'}{urlencode({'done': done})}"
