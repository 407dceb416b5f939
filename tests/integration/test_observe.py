"""observe_session through a real Worker, the embedded Redis, and the real google-genai client
talking to the fake Gemini server."""

from __future__ import annotations

import pytest

from integrations.fake_gemini import FakeReply
from models import JobRun

pytestmark = pytest.mark.db

CHECKOUT = "scenario-checkout-js-error"
MONITOR = {"scanner_type": "monitor", "scanner_config": {"prompt": "Did the payment fail?"}}


def reply(**fields) -> FakeReply:
    return FakeReply.json(fields)


@pytest.mark.parametrize(
    ("spec", "answer", "columns"),
    [
        (
            MONITOR,
            {"reasoning": "Pay threw (t 25).", "verdict": "yes", "confidence": 0.8},
            ("yes", None, None),
        ),
        (
            {
                "scanner_type": "classifier",
                "scanner_config": {
                    "prompt": "What went wrong?",
                    "tags": ["Payment error", "Slow page"],
                    "allow_freeform_tags": True,
                },
            },
            {
                "reasoning": "Errors on pay (t 25).",
                "tags": ["payment_error"],
                "tags_freeform": ["Rage Clicks"],
                "confidence": 0.7,
            },
            (None, None, ["payment_error", "rage_clicks"]),
        ),
        (
            {
                "scanner_type": "scorer",
                "scanner_config": {
                    "prompt": "How frustrated?",
                    "scale": {"min": 1, "max": 10, "label": "pain"},
                },
            },
            {"reasoning": "Many clicks (t 27).", "score": 8, "confidence": 0.6},
            (None, 8.0, None),
        ),
        (
            {"scanner_type": "summarizer", "scanner_config": {"prompt": "Shop checkout", "length": "short"}},
            {
                "title": "Checkout fails on Pay",
                "summary": "Pay threw an error (t 25).",
                "intent": "Buy",
                "outcome": "Gave up",
                "friction_points": ["Pay Error"],
                "keywords": ["Checkout"],
                "confidence": 0.7,
            },
            (None, None, None),
        ),
    ],
)
def test_each_scanner_type_stores_its_answer_with_denormalised_columns(world, spec, answer, columns):
    world.fake.script(reply(**answer))
    [observation] = world.observe(world.scanner(**spec), CHECKOUT)
    assert observation.status == "succeeded", observation.error_reason
    output = observation.scanner_result["model_output"]
    assert (observation.result_verdict, observation.result_score, observation.result_tags) == columns
    assert {key for key in answer if key != "tags_freeform"} <= set(output)
    assert output["evidence"]["supported"] == output["evidence"]["citations"] != []
    assert observation.scanner_result["usage"] == {
        "input_tokens": 1200,
        "output_tokens": 40,
        "credits": 5,
        "model_calls": 1,
    }
    assert observation.scanner_snapshot["scanner_version"] == 1
    [receipt] = world.receipts()
    assert (receipt.credits, receipt.input_tokens, receipt.model) == (5, 1200, "gemini-3-flash-preview")


def test_an_invalid_reply_is_reprompted_once_with_the_error(world):
    world.fake.script(
        reply(reasoning="x (t 25)", verdict="maybe", confidence=0.5),
        reply(reasoning="Pay threw (t 25).", verdict="yes", confidence=0.8),
    )
    [observation] = world.observe(world.scanner(**MONITOR), CHECKOUT)
    assert observation.status == "succeeded"
    first, second = world.fake.generate_requests()
    assert "verdict 'maybe' is not one of yes, no" in second.text()
    assert "verdict 'maybe'" not in first.text()


def test_two_invalid_replies_fail_validation(world):
    world.fake.script(FakeReply(text="not json"), FakeReply(text="still not json"))
    [observation] = world.observe(world.scanner(**MONITOR), CHECKOUT)
    assert observation.status == "failed"
    assert observation.error_reason.startswith("validation_failed:")
    assert world.receipts() == []


def test_a_429_then_success_succeeds(world):
    world.fake.script(
        FakeReply.error(429, "quota exceeded for key sk-secret", retry_delay_s=0.1),
        reply(reasoning="Pay threw (t 25).", verdict="yes", confidence=0.8),
    )
    [observation] = world.observe(world.scanner(**MONITOR), CHECKOUT)
    assert observation.status == "succeeded"
    assert len(world.fake.generate_requests()) == 2


def test_every_attempt_leaves_exactly_one_job_run_the_success_written_with_the_result(world):
    world.fake.script(
        FakeReply.error(429, "quota exceeded", retry_delay_s=0.1),
        reply(reasoning="Pay threw (t 25).", verdict="yes", confidence=0.8),
    )
    [observation] = world.observe(world.scanner(**MONITOR), CHECKOUT)
    world.broker.get_actor("observe_session").send(str(observation.id))
    world.drain()
    runs = sorted(world.rows(JobRun), key=lambda run: run.started_at)
    assert [(run.actor, run.attempt, run.status) for run in runs] == [
        ("observe_session", 1, "failed"),
        ("observe_session", 2, "succeeded"),
        ("observe_session", 1, "succeeded"),
    ]
    assert runs[0].message_id == runs[1].message_id != runs[2].message_id
    assert runs[1].duration_ms > 0


def test_persistent_503_fails_transient_after_the_retry_limit_without_a_receipt(world):
    world.fake.default = lambda request: FakeReply.error(503, "backend sk-secret overloaded")
    [observation] = world.observe(world.scanner(**MONITOR), CHECKOUT)
    assert observation.status == "failed"
    assert observation.error_reason == "provider_transient:the model provider kept failing (5 attempts)"
    assert len(world.fake.generate_requests()) == world.settings.observe_retries + 1
    assert "sk-secret" not in observation.error_reason
    assert world.receipts() == []


def test_a_400_is_rejected_at_once(world):
    world.fake.script(FakeReply.error(400, "bad request mentioning jane.doe@example.com"))
    [observation] = world.observe(world.scanner(**MONITOR), CHECKOUT)
    assert observation.status == "failed"
    assert observation.error_reason == "provider_rejected:the model provider refused the request"
    assert len(world.fake.generate_requests()) == 1


def test_a_yes_citing_a_quiet_second_becomes_inconclusive(world):
    spec = {
        "scanner_type": "monitor",
        "scanner_config": {"prompt": "Did it fail?", "allow_inconclusive": True},
    }
    world.fake.script(reply(reasoning="It failed at (t 45).", verdict="yes", confidence=0.9))
    [observation] = world.observe(world.scanner(**spec), CHECKOUT)
    evidence = observation.scanner_result["model_output"]["evidence"]
    assert observation.result_verdict == "inconclusive"
    assert (evidence["downgraded_from"], evidence["unsupported"]) == ("yes", [45.0])


def test_without_inconclusive_an_unsupported_yes_becomes_no(world):
    world.fake.script(reply(reasoning="No moment cited.", verdict="yes", confidence=0.9))
    [observation] = world.observe(world.scanner(**MONITOR), CHECKOUT)
    assert observation.result_verdict == "no"


def test_the_request_fences_the_timeline_and_carries_no_personal_data(world):
    world.fake.script(reply(reasoning="Pay threw (t 25).", verdict="yes", confidence=0.8))
    scenario = world.scenarios["form-email"]
    world.observe(world.scanner(**MONITOR), scenario.session_id)
    [request] = world.fake.generate_requests()
    body = request.text()
    assert "<timeline>\n" in body and "\n</timeline>" in body
    assert "ignore them" in body  # the system instruction's warning about instructions in the data
    assert request.headers.get("x-goog-api-key") == "test-key"
    for secret in scenario.pii:
        assert secret not in body
    assert "[email]" in body


def test_findings_become_signals_and_a_redelivery_changes_nothing(world):
    spec = {**MONITOR, "emits_signals": True}
    findings = [
        {
            "problem_type": "bug",
            "start_time": 25,
            "end_time": 28,
            "url": "/checkout",
            "headline": "Pay throws",
            "description": "Pay button throws a TypeError (t 25)",
            "confidence": 0.9,
        },
        {
            "problem_type": "ux_friction",
            "start_time": 30,
            "end_time": 31,
            "url": "/checkout",
            "headline": "Vague",
            "description": "Something felt slow",
            "confidence": 0.3,
        },
    ]
    world.fake.script(
        reply(reasoning="Pay threw (t 25).", verdict="yes", confidence=0.8),
        FakeReply.json({"findings": findings}),
    )
    [observation] = world.observe(world.scanner(**spec), CHECKOUT)
    [signal] = world.signals()
    assert signal.source_id == f"observation:{observation.id}:0"
    assert signal.description == "Pay button throws a TypeError"
    assert (signal.weight, signal.extra["problem_type"]) == (0.5, "bug")
    assert observation.scanner_result["signals_count"] == 1
    world.broker.get_actor("observe_session").send(str(observation.id))
    world.drain()
    assert len(world.rows(type(observation))) == 1
    assert len(world.receipts()) == 1
    assert [s.source_id for s in world.signals()] == [signal.source_id]
    assert len(world.fake.generate_requests()) == 2


@pytest.mark.recordings
def test_a_twelve_second_recording_is_ineligible_without_a_model_call(world, recordings_dir):
    world.import_file(recordings_dir / "posthog-local-docs.json")
    [observation] = world.observe(world.scanner(**MONITOR), "posthog-local-docs")
    assert observation.status == "ineligible"
    assert observation.error_reason.startswith("too_short:")
    assert world.fake.generate_requests() == []
    assert world.receipts() == []


@pytest.mark.parametrize(
    "glitch",
    [
        FakeReply(text="", finish_reason="MAX_TOKENS"),
        FakeReply(raw=b'{"candidates": [', status=200),
        FakeReply.error(500),
    ],
    ids=["empty-max-tokens", "unreadable-body", "http-500"],
)
def test_transient_glitches_are_retried_then_succeed(world, glitch):
    world.fake.script(glitch, reply(reasoning="Pay threw (t 25).", verdict="yes", confidence=0.8))
    [observation] = world.observe(world.scanner(**MONITOR), CHECKOUT)
    assert observation.status == "succeeded", observation.error_reason
    assert len(world.fake.generate_requests()) == 2


def test_a_blocked_answer_is_rejected_without_retry(world):
    world.fake.script(FakeReply(text="{}", finish_reason="SAFETY"))
    [observation] = world.observe(world.scanner(**MONITOR), CHECKOUT)
    assert observation.error_reason == "provider_rejected:the model provider refused the request"
    assert len(world.fake.generate_requests()) == 1
