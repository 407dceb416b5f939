"""Evaluations end to end: an LLM judge through the fake Gemini and a heuristic one over 20
observations, with thumbs on some, run through the API and the workers; the report by hand-count;
the scheduler's automatic pass; the observation page."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from typer.testing import CliRunner

from actors.evaluations import evaluation_gave_up
from cli.main import app as cli
from integrations.fake_gemini import FakeReply
from models import (
    EvaluationResult,
    LabelRating,
    Observation,
    ObservationLabel,
    Recording,
    utcnow,
)
from services.auth import create_user
from services.evaluation_report import evaluation_report
from services.evaluation_runs import enqueue_new
from services.evaluations import create_evaluation, update_evaluation
from services.observation_detail import observation_detail
from tests.integration.api_support import check_envelope, check_fields, check_user, other_team_key
from tests.support.sending import quiet

pytestmark = pytest.mark.db
EVALUATION_FIELDS = (
    *("id", "name", "description", "enabled", "evaluation_type", "evaluation_config", "output_type"),
    *("output_config", "conditions", "created_at", "updated_at", "created_by", "deleted"),
)
SCANNER = {
    "scanner_type": "monitor",
    "provider": "heuristic",
    "scanner_config": {"prompt": "Checkout fails?", "rule": "rage_click"},
}
YES = range(12)  # cases 0-11 answered yes, 12-19 no
UNSUPPORTED = {8, 9, 10, 11}  # yes answers citing a moment the timeline does not have
NO_PAGE = {12, 13}  # answers that name no page the session visited
JUDGE_FAILS = {3, 8, 9, 15}
THUMBS = {0: ["up"], 1: ["up"], 2: ["up", "down"], 3: ["down"], 8: ["down"], 9: ["up"]}
THUMBS |= {10: ["down"], 12: ["up"], 15: ["down"], 16: ["up"]}


def _output(case: int) -> dict:
    verdict = "yes" if case in YES else "no"
    page = "the /cart page" if case in NO_PAGE else "the /checkout page"
    cited = [12.0] if case in YES else []
    reasoning = f"case-{case}: on {page} the pay button" + (" failed (t 12)" if cited else " worked")
    evidence = {
        "citations": cited,
        "supported": [] if case in UNSUPPORTED else cited,
        "unsupported": cited if case in UNSUPPORTED else [],
        "downgraded_from": None,
    }
    return {"reasoning": reasoning, "verdict": verdict, "confidence": 0.8, "evidence": evidence}


def twenty_observations(world, scanner_id, when) -> list[uuid.UUID]:
    """20 succeeded observations of `scanner_id`, on sessions that visited /checkout and /shop."""
    ids = []
    with world.deps.transaction() as session:
        for case in range(20):
            session_id = f"eval-{case}-{uuid.uuid4().hex[:6]}"
            session.add(
                Recording(
                    team_id=world.team_id,
                    session_id=session_id,
                    start_time=when,
                    end_time=when,
                    blob_ref="missing",
                    urls=["https://shop.test/checkout", "https://shop.test/shop/"],
                )
            )
            row = Observation(
                team_id=world.team_id,
                scanner_id=scanner_id,
                session_id=session_id,
                workflow_id="w",
                status="succeeded",
                scanner_snapshot={"scanner_config": {"prompt": "Checkout fails?"}},
                scanner_result={"model_output": _output(case)},
                result_verdict="yes" if case in YES else "no",
                completed_at=when + timedelta(seconds=case),
                created_at=when,
            )
            session.add(row)
            session.flush()
            ids.append(row.id)
    return ids


def thumbs(world, ids) -> None:
    people = [create_user(world.deps, f"rater-{n}@example.com", team_id=world.team_id).id for n in (1, 2)]
    with world.deps.transaction() as session:
        for case, ratings in THUMBS.items():
            for user_id, rating in zip(people, ratings, strict=False):
                session.add(
                    ObservationLabel(
                        team_id=world.team_id,
                        scanner_id=world.scanner_id,
                        observation_id=ids[case],
                        user_id=user_id,
                        rating=LabelRating(rating),
                    )
                )


def judge(request) -> FakeReply:
    case = int(re.search(r"case-(\d+)", request.text())[1])
    return FakeReply.json({"reasoning": f"judged case {case}", "result": case not in JUDGE_FAILS})


def test_a_judge_and_a_heuristic_over_twenty_observations_agree_with_thumbs_as_counted_by_hand(world, api):
    scanner = world.scanner(name="checkout-fails", **SCANNER)
    world.scanner_id = scanner.id
    ids = twenty_observations(world, scanner.id, utcnow() - timedelta(hours=1))
    thumbs(world, ids)
    world.fake.default = judge
    base = f"/api/environments/{api.team_id}"
    created = {}
    for name, kind, config in (
        ("judge", "llm_judge", {"prompt": "Is the verdict right?", "model": "gemini-judge"}),
        ("checks", "heuristic", {"checks": ["cited_moments_exist", "summary_mentions_pages"]}),
    ):
        body = {"name": name, "evaluation_type": kind, "evaluation_config": config, "output_type": "boolean"}
        response = api.post(f"{base}/evaluations", json=body)
        assert response.status_code == 201, response.text
        check_fields(response.json(), EVALUATION_FIELDS)
        check_user(response.json()["created_by"])
        created[name] = response.json()["id"]
        run = api.post(
            f"{base}/evaluation_runs",
            json={"evaluation_id": created[name], "scanner_id": str(scanner.id)},
        )
        assert run.status_code == 201, run.text
        assert run.json()["observations"] == 20
    world.broker.join("evaluate", timeout=60_000)
    world.worker.join()

    results = world.rows(EvaluationResult)
    assert len(results) == 40 and {r.status for r in results} == {"succeeded"}
    judged = [r for r in results if str(r.evaluation_id) == created["judge"]]
    assert {r.model for r in judged} == {"gemini-judge"} and all(r.input_tokens for r in judged)
    assert len(world.fake.generate_requests()) == 20
    assert "Is the verdict right?" in world.fake.generate_requests()[0].text()

    by_name = {s.evaluation: s for s in evaluation_report(world.deps, world.team_id)}
    judge_row, checks_row = by_name["judge"], by_name["checks"]
    # The judge fails 3, 8, 9 and 15: 16 of 20 pass.
    assert (judge_row.evaluated, judge_row.passed, judge_row.failed) == (20, 16, 4)
    # People's word: up 0 1 9 12 16, down 3 8 10 15; 2 is a tie (no word). 9 labelled.
    # Judge vs people: pass+up 0 1 12 16, fail+down 3 8 15, fail+up 9, pass+down 10.
    assert judge_row.confusion == {(True, True): 4, (False, False): 3, (False, True): 1, (True, False): 1}
    assert judge_row.agreement == pytest.approx(7 / 9)
    # Yes verdicts (0-11) people labelled: 0 1 9 right, 3 8 10 wrong: precision 3/6.
    assert (judge_row.yes_labelled, judge_row.yes_right) == (6, 3)
    assert judge_row.false_positive_rate == pytest.approx(0.5)
    assert judge_row.yes_precision_evaluation == pytest.approx(9 / 12)  # 3, 8, 9 of 12 failed
    # The checks fail 8-11 (a cited moment missing) and 12, 13 (no visited page named): 14 pass.
    assert (checks_row.evaluated, checks_row.passed, checks_row.failed) == (20, 14, 6)
    # pass+up 0 1 16, fail+down 8 10, pass+down 3 15, fail+up 9 12.
    assert checks_row.confusion == {(True, True): 3, (False, False): 2, (True, False): 2, (False, True): 2}
    assert checks_row.agreement == pytest.approx(5 / 9)
    assert checks_row.yes_precision_evaluation == pytest.approx(8 / 12)
    assert sum(judged for _, judged in judge_row.by_day.values()) == 20

    printed = CliRunner().invoke(cli, ["evaluations", "report"], catch_exceptions=False)
    assert printed.exit_code == 0, printed.output
    rows = {tuple(line.split("\t")[:2]): line.split("\t")[2:] for line in printed.output.splitlines()}
    assert rows[("checkout-fails", "judge")] == ["20", "80%", "9", "78%", "50%", "50%", "75%"]
    assert rows[("checkout-fails", "checks")] == ["20", "70%", "9", "56%", "50%", "50%", "67%"]

    detail = observation_detail(world.deps, frozenset({world.team_id}), 1, str(ids[8]))
    shown = {e.name: (e.status, e.passed) for e in detail.evaluations}
    assert shown == {"checks": ("succeeded", False), "judge": ("succeeded", False)}
    assert (
        "cited moments not in the timeline"
        in next(e for e in detail.evaluations if e.name == "checks").reasoning
    )


def test_the_scheduler_queues_new_matching_observations_once_and_within_the_daily_budget(world):
    scanner = world.scanner(name="checkout-fails", **SCANNER)
    deps, sender = quiet(world.deps)
    start = utcnow() - timedelta(hours=2)
    conditions = {"verdicts": ["yes"], "max_per_day": 5}
    data = {
        "name": "yes-only",
        "enabled": True,
        "evaluation_type": "heuristic",
        "evaluation_config": {"checks": ["cited_moments_exist"]},
        "output_type": "boolean",
        "conditions": conditions,
    }
    found = create_evaluation(deps, world.team_id, data, now=start)
    before = twenty_observations(world, scanner.id, start - timedelta(hours=1))  # completed before it
    assert enqueue_new(deps, now=start + timedelta(minutes=1)).queued == 0
    new = twenty_observations(world, scanner.id, start + timedelta(minutes=5))
    done = enqueue_new(deps, now=start + timedelta(minutes=10))
    assert (done.queued, done.over_budget) == (5, 7)  # 12 yes answers, 5 a day
    assert enqueue_new(deps, now=start + timedelta(minutes=11)).queued == 0  # idempotent
    queued = {r.observation_id for r in world.rows(EvaluationResult)}
    assert queued == set(new[:5]) and not queued & set(before)
    assert sorted(sender.to("evaluate_observation")) == sorted(
        str(r.id) for r in world.rows(EvaluationResult)
    )
    update_evaluation(deps, world.team_id, str(found.id), {"enabled": False})
    assert enqueue_new(deps, now=start + timedelta(minutes=12)).evaluations == 0


def test_the_api_follows_the_seed_list_filters_patch_soft_delete_and_a_refused_hard_delete(world, api):
    base = f"/api/environments/{api.team_id}/evaluations"
    body = {"name": "Judge", "evaluation_type": "llm_judge", "output_type": "score"}
    missing = api.post(base, json=body)
    assert missing.status_code == 400 and missing.json()["attr"] == "evaluation_config"
    made = [
        api.post(base, json={**body, "name": name, "evaluation_config": {"prompt": "Right?"}, "enabled": on})
        for name, on in (("alpha", True), ("beta", False))
    ]
    assert [m.status_code for m in made] == [201, 201]
    alpha, beta = (m.json() for m in made)
    assert alpha["output_config"] == {"min": 0.0, "max": 10.0, "pass_threshold": 5.0}
    assert [e["name"] for e in check_envelope(api.get(base, params={"enabled": True}).json())] == ["alpha"]
    assert [e["name"] for e in api.get(base, params={"order_by": "-name"}).json()["results"]] == [
        "beta",
        "alpha",
    ]
    assert api.get(base, params={"id__in": beta["id"]}).json()["count"] == 1
    assert api.get(base, params={"search": "alp"}).json()["count"] == 1
    assert api.get(base, params={"id__in": "nope"}).status_code == 400
    assert api.patch(f"{base}/{alpha['id']}", json={"name": "gamma"}).json()["name"] == "gamma"
    assert api.delete(f"{base}/{alpha['id']}").status_code == 405
    assert api.patch(f"{base}/{alpha['id']}", json={"deleted": True}).json()["deleted"] is True
    assert api.get(f"{base}/{alpha['id']}").status_code == 404
    assert api.get(base).json()["count"] == 1
    stranger = other_team_key(world)
    theirs = api.client.get(f"{base}/{beta['id']}", headers={"Authorization": f"Bearer {stranger}"})
    assert theirs.status_code == 404


def test_a_run_over_another_teams_observation_or_without_a_target_is_refused(world, api):
    scanner = world.scanner(name="checkout-fails", **SCANNER)
    ids = twenty_observations(world, scanner.id, utcnow())
    found = create_evaluation(
        world.deps,
        world.team_id,
        {
            "name": "c",
            "evaluation_type": "heuristic",
            "evaluation_config": {"checks": ["cited_moments_exist"]},
            "output_type": "boolean",
        },
    )
    runs = f"/api/environments/{api.team_id}/evaluation_runs"
    assert api.post(runs, json={"evaluation_id": str(found.id)}).status_code == 400
    one = api.post(runs, json={"evaluation_id": str(found.id), "observation_id": str(ids[0])})
    assert one.status_code == 201 and one.json()["observations"] == 1
    assert (
        api.post(runs, json={"evaluation_id": str(found.id), "observation_id": str(uuid.uuid4())}).status_code
        == 404
    )
    stranger = other_team_key(world)
    with world.deps.read() as session:
        from sqlmodel import select

        from models import TeamMembership, User

        team = (
            session.exec(select(TeamMembership).join(User).where(User.email.like("stranger-%")))
            .first()
            .team_id
        )
    path = f"/api/environments/{team}/evaluation_runs"
    theirs = api.client.post(
        path,
        json={"evaluation_id": str(found.id), "observation_id": str(ids[0])},
        headers={"Authorization": f"Bearer {stranger}"},
    )
    assert theirs.status_code == 404  # our evaluation is not theirs


def test_a_result_whose_retries_ran_out_is_failed_with_that_reason_not_left_pending(world):
    scanner = world.scanner(name="gives-up", **SCANNER)
    deps, _ = quiet(world.deps)  # the message is not sent: this test plays the worker
    start = utcnow() - timedelta(hours=2)
    data = {
        "name": "judge-down",
        "enabled": True,
        "evaluation_type": "heuristic",
        "evaluation_config": {"checks": ["cited_moments_exist"]},
        "output_type": "boolean",
    }
    create_evaluation(deps, world.team_id, data, now=start)
    twenty_observations(world, scanner.id, start + timedelta(minutes=5))
    assert enqueue_new(deps, now=start + timedelta(minutes=10)).queued >= 1
    pending = world.rows(EvaluationResult)[0]

    evaluation_gave_up.fn({"args": [str(pending.id)]}, {"retries": 3})
    evaluation_gave_up.fn({"args": [str(pending.id)]}, {"retries": 3})  # again: nothing changes

    failed = next(r for r in world.rows(EvaluationResult) if r.id == pending.id)
    assert failed.status == "failed" and failed.passed is None
    assert failed.error == "gave up after 4 attempts: the model kept failing transiently"
