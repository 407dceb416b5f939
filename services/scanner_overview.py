"""A team's scanners at a glance: how many of each type are enabled, and who created them.

Both are team-wide, independent of any list filter, so an overview stays stable while one browses.
"""

from __future__ import annotations

from dataclasses import dataclass

from models import ScannerType
from models.vision_queries import scanner_counts, scanner_creator_ids
from services.context import Deps


@dataclass(frozen=True)
class Counted:
    enabled: int
    total: int


@dataclass(frozen=True)
class ScannerStats:
    total: int
    enabled: int
    by_type: dict[str, Counted]  # every scanner type, zeros included


def scanner_stats(deps: Deps, team_id: int) -> ScannerStats:
    """How many scanners the team has, how many are enabled, and both by type."""
    with deps.read() as session:
        rows = scanner_counts(session, team_id)
    by_type = {
        str(kind): Counted(
            enabled=sum(count for each, on, count in rows if each == kind and on),
            total=sum(count for each, _, count in rows if each == kind),
        )
        for kind in ScannerType
    }
    return ScannerStats(
        total=sum(counted.total for counted in by_type.values()),
        enabled=sum(counted.enabled for counted in by_type.values()),
        by_type=by_type,
    )


def scanner_creators(deps: Deps, team_id: int) -> list[int]:
    """The ids of the people who created the team's scanners, each once."""
    with deps.read() as session:
        return scanner_creator_ids(session, team_id)
