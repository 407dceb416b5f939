"""How well the team's signals are grouped, without labels: a judge asked "same root cause, one
fix?" over sampled pairs (pipeline.grouping_quality), through the shared Gemini gateway.

Only the team's live, grouped signals of the window whose vectors come from the embedder in use are
sampled, as grouping compares no others. Nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import numpy as np

from integrations.embeddings import embedder
from models.signal_queries import pool_signals
from pipeline.embeddings import from_bytes
from pipeline.errors import ConfigurationError, InvalidField, SightlineError
from pipeline.grouping import WINDOW_DAYS
from pipeline.grouping_quality import Estimate, Member, Pair, near_report_pairs, same_report_pairs
from pipeline.report_text import judge_call, parse_judge
from services.context import Deps

MAX_PAIRS = 200


@dataclass
class GroupingQuality:
    model: str
    signals: int
    reports: int
    precision: Estimate  # same-report pairs judged the same root cause
    split: Estimate  # near pairs in different reports judged the same root cause


def grouping_quality(deps: Deps, team_id: int, *, pairs: int = 20, seed: int = 0) -> GroupingQuality:
    """Ask the judge about up to `pairs` same-report pairs and `pairs` near cross-report pairs.
    Raises `ConfigurationError` without GEMINI_API_KEY, `InvalidField` ("pairs") outside 1..200."""
    if not 1 <= pairs <= MAX_PAIRS:
        raise InvalidField("pairs", f"must be between 1 and {MAX_PAIRS}")
    if deps.settings.gemini_api_key is None:
        raise ConfigurationError("grouping quality needs a judge: set GEMINI_API_KEY")
    model = embedder(deps.settings, deps.gemini).model
    members, vectors, titles = _members(deps, team_id, model)
    precision, split = Estimate("same_report"), Estimate("near_reports")
    for estimate, chosen in (
        (precision, same_report_pairs(members, vectors, pairs, seed)),
        (split, near_report_pairs(members, vectors, pairs)),
    ):
        for pair in chosen:
            _ask(deps, estimate, pair, titles.get(pair.second.report_id))
    return GroupingQuality(model, len(members), len(titles), precision, split)


def _members(deps: Deps, team_id: int, model: str) -> tuple[list[Member], np.ndarray, dict]:
    since = deps.now() - timedelta(days=WINDOW_DAYS)
    with deps.read() as session:
        rows = pool_signals(session, team_id, model, since)
    members = [Member(signal.id, signal.report_id, signal.description) for signal, _ in rows]
    vectors = (
        np.stack([from_bytes(signal.embedding or b"") for signal, _ in rows]) if rows else np.zeros((0, 1))
    )
    return members, vectors, {signal.report_id: title for signal, title in rows}


def _ask(deps: Deps, estimate: Estimate, pair: Pair, title: str | None) -> None:
    estimate.asked += 1
    call = judge_call(deps.settings.signals_model, pair.first.description, title, [pair.second.description])
    try:
        same, reason = parse_judge(deps.gemini().generate(call).text)
    except SightlineError as exc:
        estimate.unanswered += 1
        estimate.examples.append((pair, False, f"no answer ({type(exc).__name__})"))
        return
    estimate.same += same
    estimate.examples.append((pair, same, reason))
