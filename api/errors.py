"""Errors as the reference's API writes them: `{type, code, detail, attr}` with the HTTP status.

Our error tree maps once, here: `NotFoundError` → 404, `InvalidField` → 400 naming the field,
`ConfigurationError` → 400 (a setting the request depends on is missing), `Conflict` → 409, other
permanent errors → 400, transient ones → 503. A request FastAPI cannot parse is a 400 naming the
field too (never 422), and an unexpected exception is a 500 that says nothing of its cause.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import structlog
from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DataError

from pipeline.errors import (
    ConfigurationError,
    Conflict,
    InvalidField,
    NotFoundError,
    PermanentError,
    SightlineError,
    TransientError,
)

log = structlog.get_logger(__name__)


class ErrorBody(BaseModel):
    type: str
    code: str
    detail: str
    attr: str | None = None


class ApiError(Exception):
    """An error response decided by the API layer itself (authentication, scopes, throttling)."""

    def __init__(
        self, status: int, type_: str, code: str, detail: str, headers: dict[str, str] | None = None
    ):
        super().__init__(detail)
        self.status, self.type, self.code, self.detail, self.headers = status, type_, code, detail, headers


def not_found() -> ApiError:
    return ApiError(404, "invalid_request", "not_found", "Not found.")


def error_response(
    status: int,
    type_: str,
    code: str,
    detail: str,
    attr: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = ErrorBody(type=type_, code=code, detail=detail, attr=attr).model_dump()
    return JSONResponse(body, status_code=status, headers=headers)


def install(app: FastAPI) -> None:
    """Map every error to the reference's shape."""
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(SightlineError, _sightline_error)
    app.add_exception_handler(RequestValidationError, _unparsable)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(DataError, _unstorable)
    app.add_exception_handler(Exception, _unexpected)


async def response_for(request: Request, exc: Exception) -> JSONResponse:
    """The response the app's handlers give `exc`, for an endpoint that must add its own headers."""
    if isinstance(exc, ApiError):
        return await _api_error(request, exc)
    if isinstance(exc, SightlineError):
        return await _sightline_error(request, exc)
    if isinstance(exc, DataError):
        return await _unstorable(request, exc)
    return await _unexpected(request, exc)


async def _api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.type, exc.code, exc.detail, headers=exc.headers)


async def _sightline_error(request: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, NotFoundError):
        return error_response(404, "invalid_request", "not_found", str(exc))
    if isinstance(exc, InvalidField):
        detail = str(exc).split(": ", 1)[-1]
        return error_response(400, "validation_error", "invalid_input", detail, attr=exc.field)
    if isinstance(exc, Conflict):
        return error_response(409, "invalid_request", "conflict", str(exc))
    if isinstance(exc, ConfigurationError | PermanentError):
        return error_response(400, "invalid_request", "invalid", str(exc))
    if isinstance(exc, TransientError):
        return error_response(503, "server_error", "unavailable", "Try again in a moment.")
    return await _unexpected(request, exc)


async def _unparsable(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {}
    where = [str(part) for part in first.get("loc", ()) if part not in ("body", "query", "path", "header")]
    detail = str(first.get("msg", "This request could not be read."))
    return error_response(400, "validation_error", "invalid_input", detail, attr=".".join(where) or None)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    codes = {404: ("invalid_request", "not_found"), 405: ("invalid_request", "method_not_allowed")}
    type_, code = codes.get(exc.status_code, ("invalid_request", "error"))
    return error_response(exc.status_code, type_, code, str(exc.detail), headers=exc.headers)


async def _unstorable(request: Request, exc: Exception) -> JSONResponse:
    """A value the database refuses (a NUL character in text, a number out of its range) that
    validation let through: the request's fault, and nothing was written (the transaction rolled back)."""
    log.warning(
        "api_unstorable_value", path=request.url.path, method=request.method, error=type(exc).__name__
    )
    detail = "A value in this request cannot be stored (a NUL character, or a number out of range)."
    return error_response(400, "validation_error", "invalid_input", detail)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("api_unexpected_error", path=request.url.path, method=request.method)
    return error_response(500, "server_error", "error", "Something went wrong on our side.")


@contextmanager
def fields_named(names: dict[str, str]) -> Iterator[None]:
    """Re-raise an `InvalidField` under the request's name for the field: our use cases name the
    CLI's options (`--type`, `--to`), the API the reference's request fields (also `api.signals`)."""
    try:
        yield
    except InvalidField as exc:
        if exc.field not in names:
            raise
        raise InvalidField(names[exc.field], str(exc).removeprefix(f"{exc.field}: ")) from exc
