"""What evaluations say, read back: the results on one observation (the observation page) and the
per-scanner report (`sightline evaluations report`): pass rate over time and agreement with
people's thumbs (`pipeline.evaluation_report`), and beside it the team's grouping quality as the
judge of `services.grouping_quality` estimates it."""

from __future__ import annotations

from datetime import datetime, timedelta

from models import as_utc
from models.evaluation_queries import judged_since, ratings_of
from models.observation_queries import find_scanner
from pipeline.errors import ConfigurationError, NotFoundError
from pipeline.evaluation_report import GroupingFigure, ResultRow, Summary, summarise
from services.context import Deps
from services.grouping_quality import grouping_quality


def evaluation_report(
    deps: Deps, team_id: int, *, days: int = 30, scanner: str | None = None, now: datetime | None = None
) -> list[Summary]:
    """Per (scanner, evaluation): the results written in the last `days` days and people's thumbs
    on the same observations. Raises `NotFoundError` for a scanner the team does not have."""
    since = (now or deps.now()) - timedelta(days=days)
    with deps.read() as session:
        scanner_id = None
        if scanner is not None:
            found = find_scanner(session, team_id, scanner)
            if found is None:
                raise NotFoundError(
                    f"no scanner {scanner!r} in team {team_id}; see `sightline scanners list`"
                )
            scanner_id = found.id
        judged = judged_since(session, team_id, since, scanner_id)
        thumbs = ratings_of(session, list({result.observation_id for result, *_ in judged}))
    rows = [
        ResultRow(
            scanner_name,
            evaluation_name,
            str(result.observation_id),
            verdict,
            result.passed,
            as_utc(result.completed_at or result.created_at).date().isoformat(),
        )
        for result, scanner_name, evaluation_name, verdict in judged
    ]
    return summarise(rows, {str(key): value for key, value in thumbs.items()})


def grouping_figure(deps: Deps, team_id: int, *, pairs: int = 20, seed: int = 0) -> GroupingFigure:
    """The team's grouping quality for the report: the same estimate as `sightline reports
    grouping-quality` (one judge call a pair); without a judge (no GEMINI_API_KEY) the figure says
    why instead of failing the report. Raises `InvalidField` ("pairs") outside 1..200."""
    try:
        quality = grouping_quality(deps, team_id, pairs=pairs, seed=seed)
    except ConfigurationError as exc:
        return GroupingFigure(missing=str(exc))
    return GroupingFigure(quality.signals, quality.reports, quality.model, quality.precision, quality.split)
