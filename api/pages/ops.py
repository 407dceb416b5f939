"""The operators' pages (`/ops`, `/ops/jobs`): only for people with the operator role; everyone
else gets the same 404 as a page that does not exist. Retrying a failed observation goes through
the same use case as `sightline observations retry`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from api.pages.charts import line_chart
from api.pages.web import check_csrf, deps_of, not_found_page, render, viewer
from models import Role
from pipeline.errors import InvalidField, NotFoundError
from pipeline.rates import job_rates
from services import ops
from services.context import Deps
from services.delivery import retry_delivery
from services.web_sessions import SignedIn

router = APIRouter(include_in_schema=False)
CHART_HOURS = 6


def _operator(who: SignedIn) -> bool:
    return who.principal.role == Role.OPERATOR


@router.get("/ops")
def dashboard(request: Request, who: Annotated[SignedIn, Depends(viewer)]) -> Response:
    if not _operator(who):
        return not_found_page(request, who)
    deps = deps_of(request)
    seen = ops.overview(deps)
    samples = ops.queue_history(deps, CHART_HOURS)
    charts = {
        queue: line_chart(
            {
                state: [(sample["at"], sample["queues"].get(queue, {}).get(state, 0)) for sample in samples]
                for state in ("ready", "delayed", "in_flight", "dead")
            },
            f"{queue} queue, last {CHART_HOURS} h",
        )
        for queue in seen.status["queues"]
    }
    rates = job_rates(samples)
    charts.update(
        {
            f"{actor} per minute": line_chart(
                by_status, f"{actor}: attempts per minute, last {CHART_HOURS} h"
            )
            for actor, by_status in sorted(rates.items())
        }
    )
    return render(
        request,
        "ops.html",
        who=who,
        seen=seen,
        charts=charts,
        dead=ops.dead_letters(deps),
        flash=request.query_params.get("done"),
    )


@router.get("/ops/jobs")
def job_history(
    request: Request,
    who: Annotated[SignedIn, Depends(viewer)],
    actor: str = "",
    status: str = "",
    hours: float = 0,
    offset: int = 0,
) -> Response:
    if not _operator(who):
        return not_found_page(request, who)
    found = ops.jobs(
        deps_of(request),
        actor=actor or None,
        status_=status or None,
        hours=hours or None,
        offset=max(0, offset),
    )
    query = {"actor": actor, "status": status, "hours": hours or ""}
    return render(
        request,
        "jobs.html",
        who=who,
        found=found,
        actor=actor,
        status=status,
        hours=hours,
        offset=max(0, offset),
        page=ops.JOBS_PAGE,
        query=query,
        urlencode=urlencode,
    )


@router.post("/ops/observations/{observation_id}/retry")
def retry(
    request: Request,
    observation_id: str,
    who: Annotated[SignedIn, Depends(viewer)],
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    return _act(
        request, who, csrf_token, lambda deps: f"retrying as {ops.retry_failed(deps, observation_id)}"
    )


@router.post("/ops/deliveries/{delivery_id}/retry")
def retry_delivery_page(
    request: Request,
    delivery_id: str,
    who: Annotated[SignedIn, Depends(viewer)],
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    def act(deps: Deps) -> str:
        return "delivery sent again" if retry_delivery(deps, delivery_id) else "that delivery is not failed"

    return _act(request, who, csrf_token, act)


@router.post("/ops/dead/{queue}/{message_id}")
def dead_letter(
    request: Request,
    queue: str,
    message_id: str,
    who: Annotated[SignedIn, Depends(viewer)],
    action: Annotated[str, Form(max_length=8)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    """Retry (send again) or delete one dead-lettered message."""

    def act(deps: Deps) -> str:
        if action == "retry":
            done = "sent again" if ops.resend_dead(deps, queue, message_id) else "no such message"
        elif action == "delete":
            done = "deleted" if ops.delete_dead(deps, queue, message_id) else "no such message"
        else:
            done = "choose retry or delete"
        return f"dead-lettered message {done}"

    return _act(request, who, csrf_token, act)


def _act(request: Request, who: SignedIn, csrf_token: str, act: Callable[[Deps], str]) -> Response:
    """An operator's form: the token checked, then `act`; back to /ops saying what it did (or why
    not). Not an operator, or an object that does not exist: the 404 page."""
    check_csrf(who, csrf_token)
    if not _operator(who):
        return not_found_page(request, who)
    try:
        done = act(deps_of(request))
    except NotFoundError:
        return not_found_page(request, who)
    except InvalidField as exc:
        done = str(exc).split(": ", 1)[-1]
    return RedirectResponse(f"/ops?{urlencode({'done': done})}", status_code=303)
