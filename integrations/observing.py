"""Asking for observations on demand: the budget and in-flight checks, then the pending rows.

The caller commits and sends each started observation's id to the `observe_session` actor.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from models import Observation, Organization, Scanner, Team
from models.observation_queries import in_flight, observed_sessions, organization_usage, scanner_usage
from pipeline.errors import ConfigurationError, InvalidField
from pipeline.limits import Quota, credits_for, headroom, month_start, plan_batch
from pipeline.scanners import snapshot
from settings import Settings

MAX_SESSIONS_PER_REQUEST = 200


@dataclass(frozen=True)
class Requested:
    session_id: str
    outcome: str  # started | already_scanned | skipped_limit | skipped_quota
    observation_id: UUID | None = None


def observation_price(provider: str, model: str, settings: Settings) -> int:
    """Credits one observation costs: the model's price on Gemini, nothing on the heuristic provider."""
    return credits_for(model, settings.model_prices) if provider == "google" else 0


def require_provider(scanner: Scanner, settings: Settings) -> None:
    if str(scanner.provider) == "google" and settings.gemini_api_key is None:
        raise ConfigurationError(
            f"scanner {scanner.name!r} uses Gemini but GEMINI_API_KEY is not set; set it, "
            "or use a heuristic scanner"
        )


def quotas(session: Session, scanner: Scanner, settings: Settings, now: datetime) -> tuple[Quota, Quota]:
    """(organisation quota, scanner quota) for this calendar month, in-flight reservations included."""
    team = session.get(Team, scanner.team_id)
    organization = session.get(Organization, team.organization_id)
    since = month_start(now)

    def price(snapshot: dict) -> int:
        return observation_price(snapshot.get("provider", "google"), snapshot.get("model", ""), settings)

    org = Quota(organization.monthly_credit_limit, organization_usage(session, organization.id, since, price))
    own = Quota(scanner.credit_limit, scanner_usage(session, scanner.id, since, price))
    return org, own


def affordable(session: Session, scanner: Scanner, settings: Settings, now: datetime) -> int | None:
    """How many more observations the organisation's and the scanner's budgets allow (None: no cap)."""
    price = observation_price(str(scanner.provider), scanner.model, settings)
    return _affordable(quotas(session, scanner, settings, now), price) if price else None


def _affordable(quotas_: tuple[Quota, Quota], price: int) -> int | None:
    counts = [count for count in (quota.affordable(price) for quota in quotas_) if count is not None]
    return min(counts) if counts else None


def request_observations(
    session: Session, scanner: Scanner, session_ids: list[str], *, settings: Settings, now: datetime,
    triggered_by: str = "on_demand", user_id: int | None = None,
) -> list[Requested]:  # fmt: skip
    """Create pending observations for the sessions that fit; one outcome per distinct session id."""
    wanted = list(dict.fromkeys(session_ids))
    if not wanted or len(wanted) > MAX_SESSIONS_PER_REQUEST:
        raise InvalidField("session_ids", f"give 1 to {MAX_SESSIONS_PER_REQUEST} session ids")
    require_provider(scanner, settings)
    price = observation_price(str(scanner.provider), scanner.model, settings)
    affordable = _affordable(quotas(session, scanner, settings, now), price) if price else None
    room = headroom(
        in_flight(session, scanner_id=scanner.id), in_flight(session, team_id=scanner.team_id),
        settings.in_flight_per_scanner, settings.in_flight_per_team,
    )  # fmt: skip
    plan = plan_batch(wanted, observed_sessions(session, scanner.id, wanted), room, affordable)
    frozen = snapshot(scanner)
    started = [sid for sid, outcome in plan if outcome == "started"]
    rows = {sid: _row(scanner, frozen, sid, triggered_by, user_id) for sid in started}
    if not _insert_together(session, list(rows.values())):
        rows = {sid: row for sid, row in rows.items() if _insert_alone(session, row)}
    return [
        Requested(sid, "started", rows[sid].id) if sid in rows else Requested(sid, _lost(outcome))
        for sid, outcome in plan
    ]


def _lost(outcome: str) -> str:
    # A planned start whose row another process inserted first is already scanned.
    return "already_scanned" if outcome == "started" else outcome


def _row(
    scanner: Scanner, frozen: dict, session_id: str, triggered_by: str, user_id: int | None
) -> Observation:
    return Observation(
        team_id=scanner.team_id,
        scanner_id=scanner.id,
        session_id=session_id,
        scanner_snapshot=frozen,
        workflow_id=f"observe-{scanner.id}-{session_id}",
        triggered_by=triggered_by,
        triggered_by_user=user_id,
        send_count=1,  # the caller sends it right after the commit
    )


def _insert_together(session: Session, rows: list[Observation]) -> bool:
    """All rows in one flush (one multi-row INSERT); False, with none inserted, on a unique conflict.

    A savepoint and a flush per row cost about a millisecond each; a conflict needs another process
    to have created one of these observations since `observed_sessions`, so it is rare.
    """
    try:
        with session.begin_nested():
            session.add_all(rows)
    except IntegrityError:
        return False
    return True


def _insert_alone(session: Session, row: Observation) -> bool:
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return False  # another process created it first
    return True
