"""What every page shares: the templates, who is signed in, CSRF checks, and the 404 page."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

from api import assets
from pipeline.evidence import CITATION
from services.context import Deps
from services.web_sessions import SignedIn, csrf_matches, signed_in

SESSION_COOKIE = "sightline_session"
SIGNIN_CSRF_COOKIE = "sightline_signin_csrf"
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
STATIC = Path(__file__).resolve().parent.parent / "static"
# Autoescaping everywhere: recording text (page titles, typed text, console output) is untrusted.
environment = Environment(
    loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True, default_for_string=True)
)
environment.globals["asset"] = assets.tag


def cite(text: object) -> Markup:
    """Answer text, escaped, with each `(t N)` a link that seeks the replay to that second."""
    value, parts, at = str(text), [], 0
    for match in CITATION.finditer(value):
        parts.append(escape(value[at : match.start()]))
        second = match[1]
        parts.append(Markup('<a href="#t={0}" class="cite" data-seek="{0}">{1}</a>').format(second, match[0]))
        at = match.end()
    parts.append(escape(value[at:]))
    return Markup("").join(parts)


environment.filters["cite"] = cite
environment.filters["clock"] = lambda seconds: datetime.fromtimestamp(float(seconds), UTC).strftime(
    "%m-%d %H:%M UTC"
)


class SignInRequired(Exception):
    """No signed-in person: the page redirects to `/signin?next=…`."""

    def __init__(self, path: str):
        self.path = path


class CsrfRefused(Exception):
    """A form without the session's CSRF token: 403, nothing done."""


def deps_of(request: Request) -> Deps:
    return request.app.state.deps


def viewer(request: Request) -> SignedIn:
    """The page's dependency: the signed-in person, or a redirect to sign in."""
    found = signed_in(deps_of(request), request.cookies.get(SESSION_COOKIE))
    if found is None:
        raise SignInRequired(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
    return found


def check_csrf(who: SignedIn, sent: str | None) -> None:
    if not csrf_matches(who, sent):
        raise CsrfRefused()


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    body = environment.get_template(name).render(request=request, **context)
    headers = {
        # Our pages load scripts only from here (or the pinned CDN), never inline from recording text.
        "Content-Security-Policy": assets.content_security_policy(),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "X-Frame-Options": "DENY",
    }
    return HTMLResponse(body, status_code=status_code, headers=headers)


def not_found_page(request: Request, who: SignedIn | None = None) -> HTMLResponse:
    return render(request, "not_found.html", status_code=404, who=who)


def local_path(target: str | None) -> str:
    """Where to go after signing in: a path of this site only (never `//elsewhere` or a URL)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def signin_redirect(exc: SignInRequired) -> RedirectResponse:
    return RedirectResponse(f"/signin?next={quote(exc.path, safe='/')}", status_code=303)


def secure_cookies(request: Request) -> bool:
    return request.url.scheme == "https"


def current_team(who: SignedIn, asked: str | None) -> int | None:
    """The team a list page shows: `?team=` when the person is a member of it, else their first."""
    teams = sorted(who.principal.team_ids)
    if asked and asked.isdigit() and int(asked) in who.principal.team_ids:
        return int(asked)
    return teams[0] if teams else None
