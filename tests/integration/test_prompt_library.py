"""The prompt library: versions, what observations and digests freeze of a prompt, soft delete, apply."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from integrations.fake_gemini import FakeReply
from models import ActionRun, LlmPromptVersion, Observation, ObservationStatus, as_utc
from models.db import session_scope
from pipeline.errors import InvalidField, NotFoundError
from services import prompts
from services.action_runs import run_action
from services.actions import create_action, update_action
from services.scanners import apply_scanners, update_scanner

pytestmark = pytest.mark.db

CHECKOUT = "scenario-checkout-js-error"
FIRST, SECOND = "Did a payment fail after Pay?", "Did the visitor give up on paying?"
ANSWER = {"reasoning": "Pay threw (t 25).", "verdict": "yes", "confidence": 0.8}


def other_session(world) -> str:
    return next(s.session_id for s in world.scenarios.values() if s.session_id != CHECKOUT)


def monitor(world, ref):
    return world.scanner(scanner_type="monitor", scanner_config={"prompt_ref": ref})


def observe(world, scanner, session_id) -> Observation:
    world.fake.script(FakeReply.json(ANSWER))
    [observation] = world.observe(scanner, session_id)
    return observation


def test_an_edit_bumps_the_version_and_old_observations_keep_the_old_text(world):
    created = prompts.create_prompt(world.deps, world.team_id, {"name": "pay-failed", "prompt": FIRST})
    scanner = monitor(world, {"name": "pay-failed", "version": "latest"})
    before = observe(world, scanner, CHECKOUT)

    edited = prompts.update_prompt(world.deps, world.team_id, "pay-failed", {"prompt": SECOND})
    after = observe(world, scanner, other_session(world))

    assert (created.version, edited.prompt.version, edited.changed) == (1, 2, ["prompt"])
    assert world.observation(before.id).scanner_snapshot["scanner_config"]["prompt"] == FIRST
    assert before.scanner_snapshot["scanner_config"]["prompt_ref"] == {
        "id": str(created.id),
        "name": "pay-failed",
        "version": 1,
        "requested": "latest",
    }
    assert after.scanner_snapshot["scanner_config"]["prompt"] == SECOND
    assert after.scanner_snapshot["scanner_config"]["prompt_ref"]["version"] == 2
    first_call, second_call = world.fake.generate_requests()
    assert FIRST in first_call.text() and SECOND not in first_call.text()
    assert SECOND in second_call.text()
    assert before.scanner_snapshot["scanner_version"] == after.scanner_snapshot["scanner_version"] == 1
    assert [v.version for v in prompts.history(world.deps, world.team_id, "pay-failed")] == [2, 1]


def test_a_pinned_version_keeps_its_text_after_an_edit(world):
    prompts.create_prompt(world.deps, world.team_id, {"name": "pay-failed", "prompt": FIRST})
    prompts.update_prompt(world.deps, world.team_id, "pay-failed", {"prompt": SECOND})
    scanner = monitor(world, {"name": "pay-failed", "version": 1})

    observation = observe(world, scanner, CHECKOUT)

    assert observation.status == ObservationStatus.SUCCEEDED
    frozen = observation.scanner_snapshot["scanner_config"]
    assert (frozen["prompt"], frozen["prompt_ref"]["version"], frozen["prompt_ref"]["requested"]) == (
        FIRST,
        1,
        1,
    )


def test_an_edit_that_changes_nothing_makes_no_version(world):
    prompts.create_prompt(world.deps, world.team_id, {"name": "pay-failed", "prompt": FIRST})

    edited = prompts.update_prompt(world.deps, world.team_id, "pay-failed", {"prompt": FIRST})

    assert (edited.changed, edited.prompt.version, len(world.rows(LlmPromptVersion))) == ([], 1, 1)


def test_a_soft_deleted_prompt_is_hidden_from_lists_but_resolves_for_old_snapshots(world):
    created = prompts.create_prompt(world.deps, world.team_id, {"name": "pay-failed", "prompt": FIRST})
    scanner = monitor(world, "pay-failed")
    old = observe(world, scanner, CHECKOUT)

    with pytest.raises(InvalidField, match="named by scanner") as refused:
        prompts.update_prompt(world.deps, world.team_id, "pay-failed", {"deleted": True})
    assert refused.value.field == "deleted"
    update_scanner(world.deps, world.team_id, scanner.name, {"scanner_config": {"prompt": "Inline?"}})
    prompts.update_prompt(world.deps, world.team_id, "pay-failed", {"deleted": True})

    assert prompts.prompts(world.deps, world.team_id) == (0, [])
    assert [p.name for p in prompts.prompts(world.deps, world.team_id, deleted=True)[1]] == ["pay-failed"]
    frozen = old.scanner_snapshot["scanner_config"]["prompt_ref"]
    found = prompts.prompt_by_id(
        world.deps, world.team_id, uuid.UUID(frozen["id"]), version=frozen["version"]
    )
    assert (found.prompt, found.deleted) == (FIRST, True)
    with pytest.raises(NotFoundError):
        prompts.prompt_named(world.deps, world.team_id, "pay-failed")
    with pytest.raises(InvalidField, match="no prompt 'pay-failed'"):
        monitor(world, "pay-failed")
    again = prompts.create_prompt(world.deps, world.team_id, {"name": "pay-failed", "prompt": SECOND})
    assert again.id != created.id and again.version == 1
    with pytest.raises(InvalidField, match="is taken") as taken:
        prompts.update_prompt(world.deps, world.team_id, created.id, {"deleted": False})
    assert taken.value.field == "name"


def test_a_deleted_prompt_is_restored_before_it_is_edited(world):
    created = prompts.create_prompt(world.deps, world.team_id, {"name": "pay-failed", "prompt": FIRST})
    prompts.update_prompt(world.deps, world.team_id, created.id, {"deleted": True})

    with pytest.raises(InvalidField, match="restore it"):
        prompts.update_prompt(world.deps, world.team_id, created.id, {"prompt": SECOND})
    restored = prompts.update_prompt(
        world.deps, world.team_id, created.id, {"deleted": False, "prompt": SECOND}
    )

    assert (restored.prompt.deleted, restored.prompt.version, sorted(restored.changed)) == (
        False,
        2,
        ["deleted", "prompt"],
    )


def test_a_rename_is_a_new_version_and_refused_while_a_scanner_names_the_prompt(world):
    prompts.create_prompt(world.deps, world.team_id, {"name": "pay-failed", "prompt": FIRST})
    monitor(world, "pay-failed")
    prompts.create_prompt(world.deps, world.team_id, {"name": "spare", "prompt": SECOND})

    with pytest.raises(InvalidField, match="named by scanner"):
        prompts.update_prompt(world.deps, world.team_id, "pay-failed", {"name": "payment-failed"})
    renamed = prompts.update_prompt(world.deps, world.team_id, "spare", {"name": "spare-2"})

    assert (renamed.prompt.name, renamed.prompt.version) == ("spare-2", 2)
    assert prompts.prompt(world.deps, world.team_id, "spare-2", version=1).name == "spare"


@pytest.mark.parametrize(
    ("ref", "field", "message"),
    [
        ("missing", "scanner_config.prompt_ref", "no prompt 'missing' in the library"),
        ({"name": "pay-failed", "version": 3}, "scanner_config.prompt_ref.version", "has versions 1 to 1"),
        ({"name": "pay-failed", "version": 0}, "scanner_config.prompt_ref.version", "not a version number"),
        ({"name": "pay failed"}, "scanner_config.prompt_ref.name", "use letters, digits"),
        ({"name": "pay-failed", "pin": 1}, "scanner_config.prompt_ref", "unknown keys pin"),
    ],
)
def test_a_scanner_naming_a_prompt_the_library_lacks_is_refused_naming_the_field(world, ref, field, message):
    prompts.create_prompt(world.deps, world.team_id, {"name": "pay-failed", "prompt": FIRST})
    with pytest.raises(InvalidField, match=message) as refused:
        monitor(world, ref)
    assert refused.value.field == field


def test_a_scanner_gives_a_prompt_or_a_prompt_ref_not_both(world):
    prompts.create_prompt(world.deps, world.team_id, {"name": "pay-failed", "prompt": FIRST})
    with pytest.raises(InvalidField, match="not both"):
        world.scanner(scanner_type="monitor", scanner_config={"prompt": "Own?", "prompt_ref": "pay-failed"})


def test_apply_writes_prompts_first_and_a_second_run_changes_nothing(world):
    document = {
        "prompts": [{"name": "pay-failed", "prompt": FIRST}],
        "scanners": [
            {"name": "Pay", "scanner_type": "monitor", "scanner_config": {"prompt_ref": "pay-failed"}}
        ],
    }
    dry = apply_scanners(world.deps, world.team_id, document, source="f.yaml", dry_run=True)
    assert [(a.kind, a.name, a.action) for a in dry] == [
        ("prompt", "pay-failed", "created"),
        ("", "Pay", "created"),
    ]
    assert prompts.prompts(world.deps, world.team_id)[0] == 0

    first = apply_scanners(world.deps, world.team_id, document, source="f.yaml")
    second = apply_scanners(world.deps, world.team_id, document, source="f.yaml")
    document["prompts"][0]["prompt"] = SECOND
    third = apply_scanners(world.deps, world.team_id, document, source="f.yaml")

    assert [a.action for a in first] == ["created", "created"]
    assert [a.action for a in second] == ["unchanged", "unchanged"]
    assert (third[0].action, third[0].changed) == ("updated", ("prompt", "version 2"))
    assert prompts.prompt(world.deps, world.team_id, "pay-failed").version == 2


@pytest.mark.parametrize(
    ("entry", "field"),
    [
        ({"name": "pay-failed"}, "prompts[0].prompt"),
        ({"name": "pay failed", "prompt": FIRST}, "prompts[0].name"),
        ({"name": "pay-failed", "prompt": FIRST, "version": 2}, "prompts[0]"),
    ],
)
def test_apply_refuses_a_bad_prompt_naming_the_field_and_writes_nothing(world, entry, field):
    document = {
        "prompts": [entry],
        "scanners": [{"name": "Pay", "scanner_type": "monitor", "scanner_config": {"prompt": "Own?"}}],
    }
    with pytest.raises(InvalidField) as refused:
        apply_scanners(world.deps, world.team_id, document, source="f.yaml")
    assert refused.value.field == field
    assert prompts.prompts(world.deps, world.team_id)[0] == 0


def test_apply_names_the_scanner_whose_prompt_ref_the_library_lacks(world):
    document = {
        "scanners": [{"name": "Pay", "scanner_type": "monitor", "scanner_config": {"prompt_ref": "nope"}}]
    }
    with pytest.raises(InvalidField, match="no prompt 'nope'") as refused:
        apply_scanners(world.deps, world.team_id, document, source="f.yaml")
    assert refused.value.field == "scanners[0].scanner_config.prompt_ref"


def test_a_digest_naming_a_prompt_is_guided_by_its_text_and_its_run_records_the_version(world):
    prompts.create_prompt(world.deps, world.team_id, {"name": "digest-guide", "prompt": "Focus on payments"})
    scanner = world.scanner(
        scanner_type="monitor", provider="heuristic", scanner_config={"prompt": "Rage?", "rule": "rage_click"}
    )
    action = create_action(
        world.deps,
        world.team_id,
        scanner.name,
        {
            "name": "Guided digest",
            "trigger_config": {"rrule": "FREQ=DAILY;BYHOUR=8", "timezone": "UTC"},
            "synthesis_config": {"prompt_ref": {"name": "digest-guide"}},
            "delivery_config": [{"type": "log"}],
        },
    )
    now = world.deps.now()
    _succeeded(world, scanner.id, now - timedelta(hours=1))
    world.fake.script(FakeReply.json({"markdown": "## Checkout\n- Pay fails [obs 0]"}))

    run_id = _run(world, action.id, now)
    run_action(world.deps, run_id)

    (request,) = world.fake.generate_requests()
    assert "Focus on payments" in request.text()
    with world.deps.read() as session:
        output = session.get_one(ActionRun, run_id).output
    assert output["prompt"] == {
        "id": output["prompt"]["id"],
        "name": "digest-guide",
        "version": 1,
        "requested": "latest",
    }
    with pytest.raises(InvalidField, match="named by action 'Guided digest'"):
        prompts.update_prompt(world.deps, world.team_id, "digest-guide", {"deleted": True})
    with pytest.raises(InvalidField, match="not both"):
        update_action(
            world.deps,
            world.team_id,
            "Guided digest",
            {"synthesis_config": {"prompt_guide": "x", "prompt_ref": "digest-guide"}},
        )


def _succeeded(world, scanner_id, at) -> None:
    with session_scope(world.db.sessions) as session:
        session.add(
            Observation(
                team_id=world.team_id,
                scanner_id=scanner_id,
                session_id=f"s-{uuid.uuid4().hex[:8]}",
                workflow_id="w",
                status=ObservationStatus.SUCCEEDED,
                result_verdict="yes",
                scanner_result={"model_output": {"reasoning": "Pay threw (t 3).", "verdict": "yes"}},
                created_at=at,
                completed_at=at,
            )
        )


def _run(world, action_id, at) -> uuid.UUID:
    with session_scope(world.db.sessions) as session:
        run = ActionRun(action_id=action_id, scheduled_at=as_utc(at))
        session.add(run)
        session.flush()
        return run.id
