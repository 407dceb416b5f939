"""What an observation costs and what a scanner may still start: credits, quotas and in-flight room.

The arithmetic is `pipeline.limits`; this module reads the figures it needs in the caller's
session. On-demand requests (`services.observations`) and sweeps (`services.sweeps`) use the same
checks, so a scanner is held to one budget however its observations start. `quota` is the use case
behind `sightline quota`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from models import Organization, Scanner, Team
from models.observation_queries import (
    in_flight,
    organization_usage,
    scanner_usage,
    team_scanners,
    team_usage_by_scanner,
)
from models.vision_queries import enabled_scanner_estimates
from pipeline.errors import ConfigurationError
from pipeline.limits import Quota, credits_for, headroom, month_start, next_month_start
from services.context import Deps
from settings import Settings


def observation_price(provider: str, model: str, settings: Settings) -> int:
    """Credits one observation costs: the model's price on Gemini, nothing on the heuristic provider."""
    return credits_for(model, settings.model_prices) if provider == "google" else 0


def _snapshot_price(settings: Settings) -> Callable[[dict], int]:
    """What an in-flight observation reserves: the price of the model its snapshot froze."""

    def price(snapshot: dict) -> int:
        return observation_price(snapshot.get("provider", "google"), snapshot.get("model", ""), settings)

    return price


def waiting_for(provider: str, settings: Settings) -> str | None:
    """The setting a scanner of this provider needs before it can observe (None: nothing missing).

    Such a scanner may be created; sweeps skip it and observing it now is refused until it is set.
    """
    return "GEMINI_API_KEY" if provider == "google" and settings.gemini_api_key is None else None


def require_provider(scanner: Scanner, settings: Settings) -> None:
    """Raises `ConfigurationError` when the scanner uses Gemini and no key is set."""
    if waiting_for(str(scanner.provider), settings):
        raise ConfigurationError(
            f"scanner {scanner.name!r} uses Gemini but GEMINI_API_KEY is not set; set it, "
            "or use a heuristic scanner"
        )


def quotas(session: Session, scanner: Scanner, settings: Settings, now: datetime) -> tuple[Quota, Quota]:
    """(organisation quota, scanner quota) for this calendar month, in-flight reservations included."""
    team = session.get_one(Team, scanner.team_id)
    organization = session.get_one(Organization, team.organization_id)
    since, price = month_start(now), _snapshot_price(settings)
    org = Quota(organization.monthly_credit_limit, organization_usage(session, organization.id, since, price))
    own = Quota(scanner.credit_limit, scanner_usage(session, scanner.id, since, price))
    return org, own


def affordable(session: Session, scanner: Scanner, settings: Settings, now: datetime) -> int | None:
    """How many more observations the organisation's and the scanner's budgets allow (None: no cap)."""
    price = observation_price(str(scanner.provider), scanner.model, settings)
    if not price:
        return None
    counts = [quota.affordable(price) for quota in quotas(session, scanner, settings, now)]
    capped = [count for count in counts if count is not None]
    return min(capped) if capped else None


def room(session: Session, scanner: Scanner, settings: Settings) -> int:
    """How many more observations may be in flight for this scanner (its cap and its team's)."""
    return headroom(
        in_flight(session, scanner_id=scanner.id),
        in_flight(session, team_id=scanner.team_id),
        settings.in_flight_per_scanner,
        settings.in_flight_per_team,
    )


@dataclass(frozen=True)
class QuotaReport:
    """This calendar month (UTC) in credits: the organisation's limit and use, each scanner's, and
    what the organisation's enabled scanners are expected to make in a month."""

    period_start: datetime
    period_end: datetime
    organisation: Quota
    scanners: list[tuple[str, Quota]]
    projected_observations: int
    projected_credits: int


def quota(deps: Deps, team_id: int, *, now: datetime | None = None) -> QuotaReport:
    """This month's credits: the organisation's limit and use (in-flight included), each scanner's,
    and the monthly projection of the organisation's enabled scanners."""
    now = now or deps.now()
    with deps.read() as session:
        organization = session.get_one(Organization, session.get_one(Team, team_id).organization_id)
        since, price = month_start(now), _snapshot_price(deps.settings)
        used = organization_usage(session, organization.id, since, price)
        usage = team_usage_by_scanner(session, team_id, since, price)
        per_scanner = [
            (scanner.name, Quota(scanner.credit_limit, usage.get(scanner.id, 0)))
            for scanner in team_scanners(session, team_id)
        ]
        projected = enabled_scanner_estimates(session, organization.id)
    return QuotaReport(
        month_start(now),
        next_month_start(now),
        Quota(organization.monthly_credit_limit, used),
        per_scanner,
        sum(count for count, _, _ in projected),
        sum(
            count * observation_price(provider, model, deps.settings) for count, provider, model in projected
        ),
    )
