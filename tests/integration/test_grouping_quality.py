"""Grouping quality without labels (a judge over sampled pairs), and `auto` embeddings with a key,
through the fake Gemini."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from actors.broker import process_deps
from integrations.fake_gemini import FakeReply
from models import Signal, SignalReport, session_scope
from pipeline.embeddings import HashingEmbedder, to_bytes
from pipeline.errors import ConfigurationError
from services.grouping_quality import grouping_quality
from tests.integration.test_grouping import emit, group_team, reconfigure, reports

pytestmark = pytest.mark.db

PAY = [
    'Clicking "Pay" at /checkout throws TypeError and nothing happens',
    'The "Pay" button on checkout raises a TypeError in the console',
]
PAY_SPLIT = 'Payment cannot complete: the "Pay" handler crashes with an undefined property'
NEWSLETTER = [
    "The newsletter popup reappears on every page after it was closed",
    "Closing the newsletter modal does not stick; it opens again on the next page",
]


def grouped(world, *reports_of: list[str]) -> None:
    """One report per list, its signals already grouped with hashing vectors."""
    embedder = HashingEmbedder()
    now = datetime.now(UTC)
    with session_scope(world.db.sessions) as session:
        for descriptions in reports_of:
            report = SignalReport(team_id=world.team_id, signal_count=len(descriptions), total_weight=0.5)
            session.add(report)
            session.flush()
            for description, vector in zip(descriptions, embedder.embed(descriptions), strict=True):
                session.add(
                    Signal(
                        team_id=world.team_id,
                        source_product="replay_vision",
                        source_type="scanner_finding",
                        source_id=f"test:{uuid.uuid4().hex}",
                        description=description,
                        embedding=to_bytes(vector),
                        embedding_model=embedder.model,
                        report_id=report.id,
                        grouped_at=now,
                    )
                )


def judge_by_topic(request) -> FakeReply:
    """Same root cause when both findings of the pair are about Pay, or both about the newsletter."""
    text = request.text()
    same = text.count('"Pay"') >= 2 or text.count("newsletter") >= 2
    return FakeReply.json({"same_root_cause": same, "reason": "one topic" if same else "different"})


def test_the_judge_estimates_precision_and_the_split_rate_over_sampled_pairs(world):
    grouped(world, PAY, [PAY_SPLIT], NEWSLETTER)  # one Pay finding split into a report of its own
    world.fake.default = judge_by_topic
    quality = grouping_quality(process_deps(world.settings), world.team_id, pairs=20)
    assert (quality.model, quality.signals, quality.reports) == ("hashing-v1-256", 5, 3)
    assert (quality.precision.asked, quality.precision.same, quality.precision.rate) == (2, 2, 1.0)
    # Near pairs, one per two reports: the split Pay report with the Pay one is the only "same".
    assert quality.split.same == 1 and quality.split.asked in (2, 3)
    assert len(world.fake.generate_requests()) == quality.precision.asked + quality.split.asked

    result = CliRunner().invoke(
        __import__("cli.main", fromlist=["app"]).app, ["reports", "grouping-quality", "--examples"]
    )
    assert result.exit_code == 0, result.output
    assert "precision: 100% (2 of 2 same_report pairs judged the same)" in result.output
    assert "split rate:" in result.output and "one topic" in result.output


def test_grouping_quality_without_a_key_names_what_is_missing(world, monkeypatch):
    reconfigure(world, monkeypatch, GEMINI_API_KEY="")
    monkeypatch.delenv("GEMINI_API_KEY")
    world.settings = world.settings.model_copy(update={"gemini_api_key": None})
    with pytest.raises(ConfigurationError, match="GEMINI_API_KEY"):
        grouping_quality(process_deps(world.settings), world.team_id)


def test_auto_embeddings_with_a_key_group_through_gemini_and_never_match_older_hashing_vectors(
    world, monkeypatch
):
    reconfigure(world, monkeypatch, SIGHTLINE_GROUPING_JUDGE="none")
    emit(world, PAY[0])
    group_team(world)  # hashing, as the fixtures pin it
    reconfigure(world, monkeypatch, SIGHTLINE_EMBEDDINGS="auto", SIGHTLINE_GROUPING_JUDGE="none")
    emit(world, PAY[0] + ".", PAY[0] + "!", NEWSLETTER[0])
    group_team(world)
    with world.db.sessions() as session:
        models = [s.embedding_model for s in session.exec(select(Signal).order_by(Signal.created_at))]
    assert models == ["hashing-v1-256"] + ["gemini-embedding-001"] * 3
    assert any(r.method == "batchEmbedContents" for r in world.fake.requests)
    # The Gemini-embedded copies join each other, not the hashing-embedded original; the other founds.
    assert sorted(r.signal_count for r in reports(world)) == [1, 1, 2]
