"""Signing in to the web pages (DESIGN §2: the third front door) with an email and a password.

A session is 256 random bits in an HttpOnly cookie; the database keeps only its SHA-256, the person
and the session's CSRF token, which every form sends back. A signed-in person may do on a page what
their membership allows (every scope of their teams, as `services.auth.authenticate_password`).
Signing out deletes the row, so the cookie is useless afterwards even if someone kept a copy.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from models import WebSession, as_utc
from models.web_queries import drop_expired_sessions, end_session, session_and_user
from services.auth import Principal, authenticate_password, digest
from services.context import Deps

SESSION_DAYS = 14


@dataclass(frozen=True)
class SignedIn:
    """A person on the pages: who (with their teams), and the token their forms must send back."""

    principal: Principal
    csrf_token: str


@dataclass(frozen=True)
class NewSession:
    token: str  # for the cookie; never stored
    signed_in: SignedIn


def sign_in(deps: Deps, email: str, password: str, *, now: datetime | None = None) -> NewSession | None:
    """A new session for this email and password, or None (the same None for an unknown email, a
    wrong password and an inactive person: the page says only that they did not match)."""
    principal = authenticate_password(deps, email, password)
    if principal is None:
        return None
    now = now or deps.now()
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    with deps.transaction() as session:
        drop_expired_sessions(session, now)
        session.add(
            WebSession(
                user_id=principal.user_id,
                token_hash=digest(token),
                csrf_token=csrf,
                created_at=now,
                expires_at=now + timedelta(days=SESSION_DAYS),
            )
        )
    return NewSession(token, SignedIn(principal, csrf))


def signed_in(deps: Deps, token: str | None, *, now: datetime | None = None) -> SignedIn | None:
    """Who holds this session cookie, or None when it is missing, unknown, expired or the person
    is no longer active."""
    if not token:
        return None
    with deps.read() as session:
        found = session_and_user(session, digest(token))
    if found is None:
        return None
    row, user, teams = found
    if as_utc(row.expires_at) <= (now or deps.now()) or not user.is_active:
        return None
    principal = Principal(user.id or 0, user.email, str(user.role), ("*",), team_ids=teams)
    return SignedIn(principal, row.csrf_token)


def sign_out(deps: Deps, token: str | None) -> None:
    if token:
        with deps.transaction() as session:
            end_session(session, digest(token))


def csrf_matches(signed: SignedIn, sent: str | None) -> bool:
    return bool(sent) and hmac.compare_digest(signed.csrf_token.encode(), (sent or "").encode())
