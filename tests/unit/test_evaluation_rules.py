"""Evaluations as pure functions: definitions, selection, the deterministic checks, the judge's
answer, and the agreement table."""

from __future__ import annotations

import pytest

from pipeline.errors import InvalidField, OutputInvalid
from pipeline.evaluation_report import ResultRow, consensus, summarise
from pipeline.evaluations import (
    Candidate,
    judge_call,
    read_judgement,
    run_checks,
    selects,
    validate_evaluation,
)

JUDGE = {"name": "j", "evaluation_type": "llm_judge", "evaluation_config": {"prompt": "Right?"}}


def test_a_definition_gets_defaults_and_a_bad_one_names_its_field():
    checked = validate_evaluation({**JUDGE, "output_type": "score"})
    assert checked["output_config"] == {"min": 0.0, "max": 10.0, "pass_threshold": 5.0}
    assert checked["conditions"] == {"scanners": [], "verdicts": [], "sampling_rate": 1.0, "max_per_day": 500}
    assert checked["enabled"] is False
    bad = [
        ({**JUDGE, "output_type": "stars"}, "output_type"),
        ({**JUDGE, "output_type": "boolean", "evaluation_config": {}}, "evaluation_config.prompt"),
        (
            {
                "name": "h",
                "evaluation_type": "heuristic",
                "evaluation_config": {"checks": ["x"]},
                "output_type": "boolean",
            },
            "evaluation_config.checks",
        ),
        ({**JUDGE, "output_type": "score", "output_config": {"min": 5, "max": 1}}, "output_config"),
        ({**JUDGE, "output_type": "boolean", "conditions": {"sampling_rate": 2}}, "conditions.sampling_rate"),
    ]
    for data, field in bad:
        with pytest.raises(InvalidField) as raised:
            validate_evaluation(data)
        assert raised.value.field == field


def test_conditions_select_by_scanner_name_or_id_and_verdict_and_sample_deterministically():
    yes = Candidate("o1", "s-id", "checkout", "yes")
    assert selects({"scanners": ["checkout"], "verdicts": ["yes"]}, "e", yes)
    assert selects({"scanners": ["s-id"]}, "e", yes)
    assert not selects({"scanners": ["other"]}, "e", yes)
    assert not selects({"verdicts": ["no"]}, "e", yes)
    assert not selects({"sampling_rate": 0.0}, "e", yes)
    taken = [selects({"sampling_rate": 0.5}, "e", Candidate(f"o{n}", "s", "n", None)) for n in range(400)]
    assert 150 < sum(taken) < 250
    assert taken == [
        selects({"sampling_rate": 0.5}, "e", Candidate(f"o{n}", "s", "n", None)) for n in range(400)
    ]


def test_the_checks_find_missing_moments_and_unnamed_pages_and_score_the_share_passed():
    both = {"checks": ["cited_moments_exist", "summary_mentions_pages"]}
    output = {"verdict": "yes", "reasoning": "On /checkout the button failed (t 12) and (t 40)"}
    pages = ["https://shop.test/checkout?x=1", "https://shop.test/"]
    passed = run_checks(both, "boolean", {}, output, pages, [10, 41])
    assert passed.passed is True and passed.score is None
    missing = run_checks(both, "score", {"min": 0, "max": 10, "pass_threshold": 10}, output, pages, [12])
    assert (missing.passed, missing.score) == (False, 5.0)
    assert "t 40 s" in missing.reasoning
    uncited = run_checks({"checks": ["cited_moments_exist"]}, "boolean", {}, {"verdict": "yes"}, [], None)
    assert uncited.passed is False
    stored = {"verdict": "no", "reasoning": "(t 3)", "evidence": {"unsupported": [3.0]}}
    assert run_checks({"checks": ["cited_moments_exist"]}, "boolean", {}, stored, [], None).passed is False


def test_the_judge_is_asked_with_the_schema_of_its_output_and_its_answer_is_checked():
    call = judge_call("m", "Right?", "boolean", {"allows_na": True}, "Q?", {"verdict": "yes"}, "[t=1] click")
    assert call.schema["properties"]["result"]["type"] == ["boolean", "null"]
    assert "Right?" in call.turns[0].text and "[t=1] click" in call.turns[0].text
    assert (
        read_judgement('{"reasoning": "n/a", "result": null}', "boolean", {"allows_na": True}).passed is None
    )
    score = {"min": 1.0, "max": 5.0, "pass_threshold": 4.0}
    assert read_judgement('{"reasoning": "ok", "score": 4}', "score", score).passed is True
    for text, kind, config in (
        ('{"reasoning": "x", "result": null}', "boolean", {"allows_na": False}),
        ('{"reasoning": "x", "score": 9}', "score", score),
        ("not json", "boolean", {}),
    ):
        with pytest.raises(OutputInvalid):
            read_judgement(text, kind, config)


def test_peoples_word_is_the_majority_of_thumbs_and_the_table_counts_agreement():
    assert consensus(["up", "up", "down"]) is True
    assert consensus(["up", "down"]) is None and consensus([]) is None
    rows = [
        ResultRow("s", "e", "1", "yes", True, "2026-01-01"),
        ResultRow("s", "e", "2", "yes", False, "2026-01-01"),
        ResultRow("s", "e", "3", "no", None, "2026-01-02"),
        ResultRow("s", "e", "4", "yes", True, "2026-01-02"),
    ]
    (summary,) = summarise(rows, {"1": ["up"], "2": ["up"], "3": ["down"], "4": ["down"]})
    assert (summary.passed, summary.failed, summary.not_applicable) == (2, 1, 1)
    assert summary.by_day == {"2026-01-01": (1, 2), "2026-01-02": (1, 1)}
    assert summary.confusion == {(True, True): 1, (False, True): 1, (True, False): 1}
    assert summary.agreement == pytest.approx(1 / 3)
    assert (summary.yes_labelled, summary.yes_right) == (3, 2)
    assert summary.yes_precision_evaluation == pytest.approx(2 / 3)
