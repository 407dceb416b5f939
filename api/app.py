"""The HTTP application: the reference's JSON API and the web pages (`api/pages/`).

`create_app(deps)` builds it for one process's `Deps`; `sightline api` serves it with uvicorn.
OpenAPI is at `/api/schema/`, interactive docs at `/api/docs/`. Every path answers with or without
its trailing slash.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

from api import (
    actions,
    error_tracking,
    errors,
    evaluations,
    events,
    health,
    ingest,
    llm_analytics,
    logs,
    observations,
    prompts,
    scanners,
    scouts,
    signals,
)
from api.middleware import AccessLog, ETags, Idempotency, TrailingSlash
from api.pages import home, signin
from api.pages import observations as observation_pages
from api.pages import ops as ops_pages
from api.pages import reports as report_pages
from api.pages import scanners as scanner_pages
from api.pages import scouts as scout_pages
from api.pages.web import STATIC, CsrfRefused, SignInRequired, signin_redirect
from api.throttle import Throttle
from services.context import Deps

ROUTERS = (
    scanners.router,
    observations.router,
    actions.router,
    signals.router,
    prompts.router,
    ingest.router,
    evaluations.router,
    scouts.router,
    logs.router,
    events.router,
    llm_analytics.router,
    error_tracking.router,
)
PAGES = (
    health.router,
    signin.router,
    home.router,
    observation_pages.router,
    report_pages.router,
    scanner_pages.router,
    scout_pages.router,
    ops_pages.router,
)
DESCRIPTION = """\
Sightline's API follows PostHog's Replay Vision and Signals API path for path: `:environment_id`
and `:project_id` are both the team id. Authenticate with a personal API key
(`sightline keys create`) as `Authorization: Bearer KEY`. Every POST accepts an `Idempotency-Key`
header; every GET carries an `ETag`. Lists answer `{count, next, previous, results}`.
"""


# Every endpoint may answer these; declared once so the schema says what a client can meet.
ERRORS: dict[int | str, dict] = {
    status: {"model": errors.ErrorBody, "description": description}
    for status, description in (
        (400, "A field is invalid (`attr` names it)."),
        (401, "No key, or an unknown or revoked one."),
        (403, "The key lacks a scope the endpoint needs (`detail` names it)."),
        (404, "No such object in this team (another team's objects are not found either)."),
        (429, "Past the key's rate limit; `Retry-After` says when to come back."),
    )
}


def create_app(deps: Deps) -> FastAPI:
    app = FastAPI(
        title="Sightline API",
        version="1",
        description=DESCRIPTION,
        openapi_url="/api/schema",
        docs_url="/api/docs",
        redoc_url=None,
        redirect_slashes=False,
    )
    app.state.deps = deps
    app.state.throttle = Throttle(deps.settings.api_rate_limit, deps.redis)
    app.state.ingest_throttle = Throttle(deps.settings.ingest_rate_limit, deps.redis)
    for router in ROUTERS:
        app.include_router(router, responses=ERRORS)
    app.openapi = lambda: _schema(app)  # type: ignore[method-assign]
    errors.install(app)
    for router in PAGES:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_exception_handler(SignInRequired, _sign_in_first)
    app.add_exception_handler(CsrfRefused, _csrf_refused)
    # Outermost last: slashes are normalised first, then requests are logged, idempotent POSTs
    # answered from their record, and GET bodies tagged.
    app.add_middleware(ETags)
    app.add_middleware(Idempotency, redis_factory=deps.redis, namespace=deps.settings.redis_namespace)
    app.add_middleware(AccessLog)
    app.add_middleware(TrailingSlash)
    return app


async def _sign_in_first(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SignInRequired)
    return signin_redirect(exc)


async def _csrf_refused(request: Request, exc: Exception) -> Response:
    body = (
        "<!doctype html><title>Refused</title><p>This form was refused: it did not carry this "
        "session's token. Reload the page and try again.</p>"
    )
    return HTMLResponse(body, status_code=403)


def _schema(app: FastAPI) -> dict:
    """FastAPI's schema without its 422 responses: a request it cannot read is our 400."""
    if app.openapi_schema is None:
        from fastapi.openapi.utils import get_openapi

        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        for path in schema.get("paths", {}).values():
            for operation in path.values():
                operation.get("responses", {}).pop("422", None)
        for name in ("HTTPValidationError", "ValidationError"):
            schema.get("components", {}).get("schemas", {}).pop(name, None)
        app.openapi_schema = schema
    return app.openapi_schema
