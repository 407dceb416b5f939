"""Signing in and out. The sign-in form has no session yet, so its CSRF token is a double-submit
cookie (set with the form, sent back in it); every later form uses the session's token."""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.pages.web import (
    SESSION_COOKIE,
    SIGNIN_CSRF_COOKIE,
    check_csrf,
    deps_of,
    local_path,
    render,
    secure_cookies,
    viewer,
)
from services.web_sessions import SESSION_DAYS, SignedIn, sign_in, sign_out, signed_in

router = APIRouter(include_in_schema=False)


@router.get("/signin")
def signin_form(request: Request, next: str = "/") -> Response:
    if signed_in(deps_of(request), request.cookies.get(SESSION_COOKIE)) is not None:
        return RedirectResponse(local_path(next), status_code=303)
    return _form(request, local_path(next))


@router.post("/signin")
def signin(
    request: Request,
    email: Annotated[str, Form(max_length=254)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    expected = request.cookies.get(SIGNIN_CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(expected.encode(), csrf_token.encode()):
        return _form(request, local_path(next), "The form expired; please sign in again.", status=403)
    started = sign_in(deps_of(request), email, password)
    if started is None:
        return _form(
            request, local_path(next), "That email and password do not match.", email=email, status=400
        )
    response = RedirectResponse(local_path(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        started.token,
        max_age=SESSION_DAYS * 86400,
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request),
        path="/",
    )
    response.delete_cookie(SIGNIN_CSRF_COOKIE, path="/signin")
    return response


@router.post("/signout")
def signout(
    request: Request,
    who: Annotated[SignedIn, Depends(viewer)],
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    check_csrf(who, csrf_token)
    sign_out(deps_of(request), request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/signin", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _form(
    request: Request, next_path: str, error: str = "", email: str = "", status: int = 200
) -> HTMLResponse:
    token = secrets.token_urlsafe(32)
    response = render(
        request,
        "signin.html",
        status_code=status,
        next=next_path,
        error=error,
        email=email,
        csrf=token,
        who=None,
    )
    response.set_cookie(
        SIGNIN_CSRF_COOKIE,
        token,
        max_age=3600,
        httponly=True,
        samesite="strict",
        secure=secure_cookies(request),
        path="/signin",
    )
    return response
