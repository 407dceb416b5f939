"""`/healthz` (the process answers), `/readyz` (the database and Redis answer; 503 otherwise) and
`/metrics` (Prometheus text) for operators: an API key of an operator (`Authorization: Bearer`) or
a signed-in operator's session. The numbers are read from the database and Redis at each scrape
(`services.health.snapshot`), so any one API process reports every worker's work."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from api.errors import ApiError, not_found
from api.pages.web import SESSION_COOKIE, deps_of
from models import Role
from services.auth import authenticate_key
from services.health import Snapshot, readiness, snapshot
from services.web_sessions import signed_in

router = APIRouter(include_in_schema=False)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@router.get("/healthz")
def alive() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
def ready(request: Request) -> JSONResponse:
    found = readiness(deps_of(request))
    healthy = all(value == "ok" for value in found.values())
    return JSONResponse(
        {"status": "ok" if healthy else "unavailable", **found}, status_code=200 if healthy else 503
    )


@router.get("/metrics")
def metrics(request: Request) -> Response:
    _operator_only(request)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Numbers(snapshot(deps_of(request))))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE)


def _operator_only(request: Request) -> None:
    deps = deps_of(request)
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        who = authenticate_key(deps, header[7:].strip())
        if who is None:
            raise ApiError(401, "authentication_error", "authentication_failed", "Invalid personal API key.")
    else:
        session = signed_in(deps, request.cookies.get(SESSION_COOKIE))
        who = session.principal if session else None
        if who is None:
            detail = "Authentication credentials were not provided."
            raise ApiError(401, "authentication_error", "not_authenticated", detail)
    if who.role != Role.OPERATOR:
        raise not_found()  # operators' pages do not exist for anyone else


class _Numbers(Collector):
    def __init__(self, numbers: Snapshot):
        self.numbers = numbers

    def collect(self) -> Iterator[Metric]:
        numbers = self.numbers
        queue = GaugeMetricFamily(
            "sightline_queue_messages", "Messages per queue and state", labels=["queue", "state"]
        )
        for name, states in numbers.queues.items():
            for state, count in states.items():
                queue.add_metric([name, state], count)
        yield queue
        yield _by("sightline_observations", "Observations by status", "status", numbers.observations)
        yield _by("sightline_reports", "Reports by status", "status", numbers.reports)
        yield _by("sightline_deliveries", "Deliveries by status", "status", numbers.deliveries)
        jobs = CounterMetricFamily("sightline_jobs", "Actor attempts by outcome", labels=["actor", "status"])
        seconds = CounterMetricFamily(
            "sightline_job_duration_seconds", "Time spent in actor attempts", labels=["actor", "status"]
        )
        for actor, status, count, total_ms in numbers.jobs:
            jobs.add_metric([actor, status], count)
            seconds.add_metric([actor, status], total_ms / 1000)
        yield jobs
        yield seconds
        tokens = CounterMetricFamily(
            "sightline_model_tokens", "Model tokens of succeeded observations", labels=["direction"]
        )
        for direction, count in numbers.tokens.items():
            tokens.add_metric([direction], count)
        yield tokens
        gemini = CounterMetricFamily(
            "sightline_gemini_requests",
            "Gemini requests by kind and outcome (ok, or the error's class)",
            labels=["kind", "outcome"],
        )
        for field, count in sorted(numbers.gemini.items()):
            kind, _, outcome = field.partition("|")
            gemini.add_metric([kind, outcome], count)
        yield gemini
        yield GaugeMetricFamily(
            "sightline_workers_alive", "Workers that announced themselves", value=len(numbers.workers)
        )
        yield GaugeMetricFamily(
            "sightline_scheduler_leader", "1 when a scheduler leads", value=int(numbers.leader)
        )
        if numbers.last_tick_ms is not None:
            yield GaugeMetricFamily(
                "sightline_scheduler_tick_seconds",
                "Duration of the leader's last tick",
                value=numbers.last_tick_ms / 1000,
            )


def _by(name: str, documentation: str, label: str, counts: dict[str, int]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=[label])
    for key, count in sorted(counts.items()):
        family.add_metric([key], count)
    return family
