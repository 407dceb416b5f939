"""`sightline evaluations report` ends with the team's grouping quality: the judge's precision and
split rate over sampled pairs (the figure `reports grouping-quality` prints), through the fake Gemini;
without a key it says why; `--grouping-pairs 0` asks nothing."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from actors.broker import process_deps
from cli.main import app as cli
from services.evaluation_report import grouping_figure
from services.grouping_quality import grouping_quality
from settings import get_settings
from tests.integration.test_grouping_quality import NEWSLETTER, PAY, PAY_SPLIT, grouped, judge_by_topic

pytestmark = pytest.mark.db


def report(*options: str):
    printed = CliRunner().invoke(cli, ["evaluations", "report", *options], catch_exceptions=False)
    assert printed.exit_code == 0, printed.output
    return printed.output


def test_the_report_ends_with_the_judges_grouping_quality(world):
    grouped(world, PAY, [PAY_SPLIT], NEWSLETTER)  # one Pay finding split into a report of its own
    world.fake.default = judge_by_topic
    deps = process_deps(world.settings)

    printed = report()
    asked = len(world.fake.generate_requests())
    figure = grouping_figure(deps, world.team_id)
    direct = grouping_quality(deps, world.team_id, pairs=20)

    assert (figure.signals, figure.reports, figure.precision.same, figure.split.same) == (
        direct.signals,
        direct.reports,
        direct.precision.same,
        direct.split.same,
    )
    assert asked == direct.precision.asked + direct.split.asked  # one judge call a pair
    (line,) = [each for each in printed.splitlines() if each.startswith("grouping quality")]
    assert line.startswith(
        "grouping quality over 5 signals in 3 reports (hashing-v1-256 vectors): "
        "precision 100% (2 of 2 pairs judged the same root cause); split rate "
    )
    assert f"(1 of {direct.split.asked} pairs judged the same root cause)" in line


def test_without_a_judge_the_report_says_why_and_zero_pairs_asks_nothing(world, monkeypatch):
    grouped(world, PAY, NEWSLETTER)

    skipped = report("--grouping-pairs", "0")
    monkeypatch.delenv("GEMINI_API_KEY")
    get_settings.cache_clear()
    keyless = report()

    assert "grouping quality" not in skipped and world.fake.generate_requests() == []
    assert "grouping quality: not measured (grouping quality needs a judge: set GEMINI_API_KEY)" in keyless
