"""Scanners: the list (`/scanners`), one scanner (`/scanners/{id}`: its stats as charts, recent
observations, people's labels, and its edit form), and the create form (`/scanners/new`). The
forms go through the same use cases, and so the same validation messages, as the API and CLI."""

from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from api.pages.charts import bar_chart, line_chart
from api.pages.web import check_csrf, current_team, deps_of, not_found_page, render, viewer
from models.vision_queries import ObservationFilters
from pipeline.errors import InvalidField, NotFoundError
from services import scanners as use
from services.budget import quota
from services.observation_detail import outcomes_by_day, scanner_labels
from services.observation_views import observation_page, observation_stats
from services.web_sessions import SignedIn

router = APIRouter(include_in_schema=False)
RECENT = 20
NEW = {
    "scanner_type": "monitor",
    "provider": "heuristic",
    "scanner_config": {"prompt": "", "rule": "rage_click"},
}


@router.get("/scanners")
def scanner_list(request: Request, who: Annotated[SignedIn, Depends(viewer)], team: str = "") -> Response:
    team_id = current_team(who, team)
    if team_id is None:
        return render(request, "scanners.html", who=who, team_id=None, views=[], usage={})
    deps = deps_of(request)
    views = use.scanners(deps, team_id)
    usage = dict(quota(deps, team_id).scanners) if views else {}
    return render(request, "scanners.html", who=who, team_id=team_id, views=views, usage=usage)


@router.get("/scanners/new")
def new_form(request: Request, who: Annotated[SignedIn, Depends(viewer)], team: str = "") -> Response:
    return _form(request, who, current_team(who, team), None, _fields(NEW), "")


@router.post("/scanners/new")
async def create(request: Request, who: Annotated[SignedIn, Depends(viewer)]) -> Response:
    form = await request.form()
    check_csrf(who, str(form.get("csrf_token") or ""))
    team_id = current_team(who, str(form.get("team") or ""))
    if team_id is None:
        return not_found_page(request, who)
    try:
        created = use.create_scanner(
            deps_of(request), team_id, _definition(form), user_id=who.principal.user_id
        )
    except InvalidField as exc:
        return _form(request, who, team_id, None, dict(form), _message(exc), status_code=400)
    return RedirectResponse(f"/scanners/{created.id}?team={team_id}", status_code=303)


@router.get("/scanners/{scanner_id}")
def scanner_page(
    request: Request, scanner_id: str, who: Annotated[SignedIn, Depends(viewer)], team: str = ""
) -> Response:
    deps, team_id = deps_of(request), current_team(who, team)
    try:
        found = use.scanner(deps, team_id or 0, scanner_id) if team_id else None
        key = UUID(scanner_id)
    except (NotFoundError, ValueError):
        found = None
    if found is None or team_id is None:
        return not_found_page(request, who)
    stats = observation_stats(deps, team_id, key, ObservationFilters())
    _, recent = observation_page(deps, team_id, key, ObservationFilters(), "-created_at", RECENT, 0)
    return render(
        request,
        "scanner.html",
        who=who,
        team_id=team_id,
        scanner=found,
        stats=stats,
        charts=[*_charts(stats), line_chart(outcomes_by_day(deps, team_id, key), "By day, last 14 days")],
        recent=recent,
        labels=scanner_labels(deps, team_id, key),
        fields=_fields(found.definition),
        error="",
        flash=request.query_params.get("done"),
    )


@router.post("/scanners/{scanner_id}")
async def update(request: Request, scanner_id: str, who: Annotated[SignedIn, Depends(viewer)]) -> Response:
    form = await request.form()
    check_csrf(who, str(form.get("csrf_token") or ""))
    team_id = current_team(who, str(form.get("team") or ""))
    deps = deps_of(request)
    try:
        found = use.scanner(deps, team_id or 0, scanner_id) if team_id else None
    except NotFoundError:
        found = None
    if found is None or team_id is None:
        return not_found_page(request, who)
    try:
        changed = use.update_scanner(deps, team_id, str(found.id), _definition(form))
    except InvalidField as exc:
        return _form(request, who, team_id, found, dict(form), _message(exc), status_code=400)
    done = f"saved ({', '.join(changed.changed) or 'nothing changed'}); version {changed.version}"
    return RedirectResponse(
        f"/scanners/{found.id}?{urlencode({'team': team_id, 'done': done})}", status_code=303
    )


def _form(
    request, who, team_id, found, fields: dict[str, Any], error: str, status_code: int = 200
) -> Response:
    return render(
        request,
        "scanner_form.html",
        status_code=status_code,
        who=who,
        team_id=team_id,
        scanner=found,
        fields=fields,
        error=error,
    )


def _fields(definition: dict[str, Any]) -> dict[str, Any]:
    """A definition as the form shows it (JSON for the nested parts)."""
    shown = {key: value for key, value in definition.items() if key not in ("scanner_config", "query")}
    shown["scanner_config"] = json.dumps(definition.get("scanner_config") or {}, indent=2)
    shown["query"] = json.dumps(definition.get("query") or {}, indent=2)
    return shown


def _definition(form: Any) -> dict[str, Any]:
    """The form as a definition; JSON that does not parse is an `InvalidField` naming it."""
    data: dict[str, Any] = {
        "name": str(form.get("name") or "").strip(),
        "description": str(form.get("description") or ""),
        "scanner_type": str(form.get("scanner_type") or ""),
        "provider": str(form.get("provider") or ""),
        "enabled": form.get("enabled") == "on",
        "emits_signals": form.get("emits_signals") == "on",
    }
    for name in ("scanner_config", "query"):
        try:
            data[name] = json.loads(str(form.get(name) or "{}"))
        except json.JSONDecodeError as exc:
            raise InvalidField(name, f"is not JSON ({exc.msg} at line {exc.lineno})") from exc
    try:
        data["sampling_rate"] = float(str(form.get("sampling_rate") or "1"))
    except ValueError as exc:
        raise InvalidField("sampling_rate", "is not a number") from exc
    limit = str(form.get("credit_limit") or "").strip()
    data["credit_limit"] = (
        int(limit) if limit.isdigit() else (limit or None)
    )  # other text: the use case names it
    return data


def _message(exc: InvalidField) -> str:
    return f"{exc.field}: {str(exc).split(': ', 1)[-1]}"


def _charts(stats: Any) -> list:
    counts = stats.status_counts
    charts = [
        bar_chart(
            [(name, counts[name]) for name in ("succeeded", "failed", "ineligible", "pending", "running")],
            "Observations by status",
        )
    ]
    if stats.monitor:
        charts.append(
            bar_chart(
                [(key.removesuffix("_total"), value) for key, value in stats.monitor.items()], "Verdicts"
            )
        )
    if stats.classifier:
        ranked = stats.classifier["fixed_ranked"] + stats.classifier["freeform_ranked"]
        charts.append(bar_chart([(item["tag"], item["count"]) for item in ranked], "Tags"))
    if stats.scorer and stats.scorer["histogram"]:
        histogram = stats.scorer["histogram"]
        charts.append(bar_chart(list(zip(histogram["labels"], histogram["counts"], strict=True)), "Scores"))
    return charts
