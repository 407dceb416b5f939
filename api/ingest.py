"""Live ingest: `POST /api/environments/:environment_id/recordings/ingest` (DESIGN §11).

A recorder in a web page sends batches of rrweb events for one session with a project ingest token
(`Authorization: Bearer sli_…`, or a `token` field in the body for `navigator.sendBeacon`, which
cannot set headers). The body is JSON, optionally gzip-encoded (`Content-Encoding: gzip`, or a gzip
body without the header, as a beacon sends it). Browsers get CORS answers for the team's allowed
origins (`sightline tokens origins --add`); any other origin is refused with 403, before and after
the preflight. The body is capped before and after decompression (413), every token is
rate-limited (429), and a batch is durable before the 200 (`{"status": "stored" | "duplicate"}`);
it joins its recording a few seconds later (`services.ingest.merge_waiting`).
"""

from __future__ import annotations

import zlib

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from api.auth import deps_of
from api.errors import ApiError, not_found, response_for
from api.throttle import Throttle
from pipeline.ingest import parse_batch
from services.auth import KEY_PREFIX
from services.ingest import TokenHolder, authenticate_token, ingest, origin_allowed

router = APIRouter(tags=["recordings"])
PATH = "/api/environments/{environment_id}/recordings/ingest"
GZIP_MAGIC = b"\x1f\x8b"
ALLOWED_HEADERS = "authorization, content-type, content-encoding"

BATCH_SCHEMA = {
    "type": "object",
    "required": ["session_id", "batch_id", "events"],
    "properties": {
        "session_id": {"type": "string", "maxLength": 128},
        "batch_id": {
            "type": "string",
            "maxLength": 128,
            "description": "The client's id: a retry is stored once.",
        },
        "window_id": {"type": "string", "maxLength": 128},
        "distinct_id": {"type": "string", "maxLength": 400},
        "token": {
            "type": "string",
            "description": "The ingest token, when no Authorization header can be sent.",
        },
        "events": {"type": "array", "items": {"type": "object"}, "minItems": 1},
    },
}
RESPONSES: dict[int | str, dict] = {
    413: {"description": "The body is over the size limit, before or after decompression."},
    503: {"description": "The session kept changing under concurrent writers; send the batch again."},
}


@router.options(PATH, include_in_schema=False)
async def preflight(request: Request, environment_id: str) -> Response:
    """A browser asks whether its page may send batches here."""
    origin = request.headers.get("origin", "")
    if not origin or not await _allowed(request, environment_id, origin):
        return _refused(origin)
    headers = _cors(origin) | {
        "Access-Control-Allow-Methods": "POST, OPTIONS",
        "Access-Control-Allow-Headers": ALLOWED_HEADERS,
        "Access-Control-Max-Age": "600",
    }
    return Response(status_code=204, headers=headers)


@router.post(
    PATH,
    summary="Add a batch of rrweb events to a session's recording",
    responses=RESPONSES,
    openapi_extra={
        "requestBody": {"required": True, "content": {"application/json": {"schema": BATCH_SCHEMA}}}
    },
)
async def ingest_batch(request: Request, environment_id: str) -> Response:
    """Store one batch (idempotent by `batch_id`); authenticated by a project ingest token only."""
    origin = request.headers.get("origin", "")
    if origin and not await _allowed(request, environment_id, origin):
        return _refused(origin)
    try:
        response: Response = await _ingest(request, environment_id)
    except Exception as exc:  # answered in the API's error shape, with the CORS headers below
        response = await response_for(request, exc)
    if origin:
        response.headers.update(_cors(origin))
    return response


async def _ingest(request: Request, environment_id: str) -> JSONResponse:
    deps = deps_of(request)
    team = _team(environment_id)
    holder = await _holder(request, _bearer(request)) if _bearer(request) else None
    body = _decoded(await _body(request, deps.settings.ingest_max_body_bytes), request, deps.settings)
    payload = _json(body)
    if holder is None:
        token = payload.get("token") if isinstance(payload, dict) else None
        holder = await _holder(request, token if isinstance(token, str) else "")
    if holder.team_id != team:
        raise not_found()
    _throttle(request, holder)
    batch = parse_batch(payload, body_bytes=len(body), max_event_bytes=deps.settings.ingest_max_event_bytes)
    result = await run_in_threadpool(ingest, deps, team, batch)
    answer = {"status": result.status, "session_id": batch.session_id, "batch_id": batch.batch_id}
    return JSONResponse(answer)


def _team(environment_id: str) -> int:
    try:
        return int(environment_id)
    except ValueError:
        raise not_found() from None


async def _allowed(request: Request, environment_id: str, origin: str) -> bool:
    try:
        team = int(environment_id)
    except ValueError:
        return False
    return origin_allowed(deps_of(request), team, origin)  # cached: a database read every 10 s at most


def _bearer(request: Request) -> str:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


async def _holder(request: Request, secret: str) -> TokenHolder:
    if secret.startswith(KEY_PREFIX):
        detail = "Personal API keys cannot ingest recordings; use a project ingest token"
        detail += " (`sightline tokens create`)."
        raise ApiError(401, "authentication_error", "not_authenticated", detail)
    holder = authenticate_token(deps_of(request), secret) if secret else None  # cached like origins
    if holder is None:
        detail = "Send a project ingest token as `Authorization: Bearer sli_…` or a `token` field."
        raise ApiError(401, "authentication_error", "not_authenticated", detail)
    return holder


async def _body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(f"the body is {declared} bytes, over the {limit}-byte limit; send smaller batches")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(f"the body is over the {limit}-byte limit; send smaller batches")
        chunks.append(chunk)
    return b"".join(chunks)


def _decoded(body: bytes, request: Request, settings) -> bytes:
    encoding = request.headers.get("content-encoding", "").strip().lower()
    if encoding not in ("", "identity", "gzip"):
        raise ApiError(
            415,
            "invalid_request",
            "unsupported_encoding",
            f"Content-Encoding {encoding!r}: send gzip or none.",
        )
    if encoding != "gzip" and not body.startswith(GZIP_MAGIC):
        return body
    limit = settings.ingest_max_batch_bytes
    inflater = zlib.decompressobj(wbits=31)
    try:
        plain = inflater.decompress(body, limit + 1)
    except zlib.error as exc:
        raise ApiError(400, "validation_error", "invalid_input", "The body is not valid gzip.") from exc
    if len(plain) > limit or inflater.unconsumed_tail:
        raise _too_large(f"the batch inflates past the {limit}-byte limit; send smaller batches")
    return plain


def _json(body: bytes):
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, "validation_error", "invalid_input", f"The body is not JSON ({exc}).") from exc


def _throttle(request: Request, holder: TokenHolder) -> None:
    limits: Throttle | None = getattr(request.app.state, "ingest_throttle", None)
    wait = limits.hit(f"ingest:{holder.token_id}") if limits is not None else None
    if wait is not None:
        detail = f"Too many batches for this token. Expected available in {wait} seconds."
        raise ApiError(429, "throttled_error", "throttled", detail, headers={"Retry-After": str(wait)})


def _too_large(detail: str) -> ApiError:
    return ApiError(413, "invalid_request", "too_large", detail[0].upper() + detail[1:] + ".")


def _cors(origin: str) -> dict[str, str]:
    return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}


def _refused(origin: str) -> JSONResponse:
    detail = (
        f"The origin {origin or '(none)'} may not send recordings to this project; "
        "allow it with `sightline tokens origins --add`."
    )
    return JSONResponse(
        {"type": "authentication_error", "code": "cors_refused", "detail": detail, "attr": None},
        status_code=403,
    )
