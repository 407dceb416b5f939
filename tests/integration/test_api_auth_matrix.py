"""Every endpoint × {no key, bad key, revoked key, key without a scope, another team's key, the right key}.

The endpoints come from the app itself (every operation its schema says needs a key, with the scopes it lists), so a new
endpoint without a line in `CALLS` fails here until someone says how to call it. Then: no object of
another team is reachable through an id in a path, a filter or a bulk list.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from sqlmodel import select

from api.app import create_app
from models import Observation, Recording, SignalReport, TeamMembership, User, VisionAction, utcnow
from pipeline.scopes import SCOPES
from services import scouts, symbol_sets
from services.artefacts import add_artefact
from services.auth import create_key, revoke_key
from services.console_logs import entry as log_entry
from services.context import Deps
from services.evaluations import create_evaluation
from services.prompts import create_prompt
from services.recording_entries import current, ensure_indexed
from settings import Settings
from tests.integration.api_support import api_for, other_team_key

pytestmark = pytest.mark.db
RULE = {"prompt": "Rage?", "rule": "rage_click"}
SCANNER = {"scanner_type": "monitor", "provider": "heuristic", "scanner_config": RULE}
EVALUATION = {
    "evaluation_type": "heuristic",
    "evaluation_config": {"checks": ["cited_moments_exist"]},
    "output_type": "boolean",
}
SCHEDULE = {"rrule": "FREQ=DAILY;BYHOUR=8", "timezone": "UTC"}


@dataclass
class Objects:
    """One of each object of the world's team, by the name its path parameter has."""

    values: dict[str, Any]

    def path(self, template: str) -> str:
        return template.format(**self.values)


def routes() -> list[tuple[str, str, tuple[str, ...]]]:
    """(method, path, scopes) of every operation whose schema asks for a key, as the schema lists them."""
    stub = Deps(Settings(), sessions=None, blobs=None, redis_factory=None, sender_factory=None)  # type: ignore[arg-type]
    found = []
    for path, operations in create_app(stub).openapi()["paths"].items():
        for method, operation in operations.items():
            for requirement in operation.get("security", []):
                found += [(method.upper(), path, tuple(scopes)) for scopes in requirement.values()]
    return sorted(found)


# (method, path) → (the request body, or a function of the objects giving it; the right key's status).
CALLS: dict[tuple[str, str], tuple[Any, int]] = {
    ("POST", "/api/environments/{environment_id}/vision/scanners"): (
        lambda o: {**SCANNER, "name": o["fresh"]},
        201,
    ),
    ("PATCH", "/api/environments/{environment_id}/vision/scanners/{scanner_id}"): (
        {"description": "matrix"},
        200,
    ),
    # The scanner has an observation: it may be disabled, not deleted (the scanner tests delete one).
    ("DELETE", "/api/environments/{environment_id}/vision/scanners/{scanner_id}"): (None, 400),
    ("POST", "/api/environments/{environment_id}/vision/scanners/estimate"): (
        {"query": {}, "sampling_rate": 1},
        200,
    ),
    ("POST", "/api/environments/{environment_id}/vision/scanners/{scanner_id}/observe"): (
        lambda o: {"session_id": o["session_id"]},
        202,
    ),
    ("GET", "/api/environments/{environment_id}/vision/observations"): (None, 200),  # session_id in the query
    ("POST", "/api/projects/{project_id}/vision/actions"): (
        lambda o: {
            "name": o["fresh"],
            "scanner": str(o["scanner_id"]),
            "trigger_config": SCHEDULE,
            "delivery_config": [{"type": "log"}],
        },
        201,
    ),
    ("PATCH", "/api/projects/{project_id}/vision/actions/{action_id}"): ({"enabled": False}, 200),
    ("DELETE", "/api/projects/{project_id}/vision/actions/{action_id}"): (None, 204),
    ("POST", "/api/projects/{project_id}/signals/processing/pause"): ({"for_seconds": 60}, 200),
    ("DELETE", "/api/projects/{project_id}/signals/processing/pause"): (None, 200),
    ("POST", "/api/projects/{project_id}/signals/reports/bulk-state"): (
        lambda o: {"ids": [str(o["report_id"])], "state": "suppressed"},
        200,
    ),
    ("POST", "/api/projects/{project_id}/signals/reports/{report_id}/state"): ({"state": "suppressed"}, 200),
    ("POST", "/api/projects/{project_id}/signals/reports/{report_id}/artefacts"): (
        {"artefact_type": "note", "content": {"note": "matrix"}},
        201,
    ),
    ("PATCH", "/api/projects/{project_id}/signals/reports/{report_id}/artefacts/{artefact_id}"): (
        {"content": {"note": "edited"}},
        200,
    ),
    ("DELETE", "/api/projects/{project_id}/signals/reports/{report_id}/artefacts/{artefact_id}"): (None, 204),
    # A note is not a commit: the diff of it is refused for what it is, not for who asks.
    ("GET", "/api/projects/{project_id}/signals/reports/{report_id}/artefacts/{artefact_id}/diff"): (
        None,
        400,
    ),
    ("POST", "/api/environments/{project_id}/llm_prompts"): (
        lambda o: {"name": o["fresh"], "prompt": "Did the visitor rage?"},
        201,
    ),
    ("PATCH", "/api/environments/{project_id}/llm_prompts/{prompt_id}"): ({"prompt": "Edited?"}, 200),
    # Hard delete is not allowed (the seed): a prompt is soft-deleted with PATCH {"deleted": true}.
    ("DELETE", "/api/environments/{project_id}/llm_prompts/{prompt_id}"): (None, 405),
    ("POST", "/api/environments/{project_id}/evaluations"): (
        lambda o: {"name": o["fresh"], **EVALUATION},
        201,
    ),
    ("PATCH", "/api/environments/{project_id}/evaluations/{evaluation_id}"): ({"description": "matrix"}, 200),
    # Hard delete is not allowed (the seed): an evaluation is soft-deleted with PATCH {"deleted": true}.
    ("DELETE", "/api/environments/{project_id}/evaluations/{evaluation_id}"): (None, 405),
    ("POST", "/api/environments/{project_id}/evaluation_runs"): (
        lambda o: {"evaluation_id": str(o["evaluation_id"]), "observation_id": str(o["observation_id"])},
        201,
    ),
    ("POST", "/api/environments/{project_id}/signals/scout/configs"): (
        {"skill_name": "signals-scout-error-spikes", "emit": False},
        200,
    ),
    ("POST", "/api/environments/{project_id}/signals/scout/configs/sync"): (None, 200),
    ("PATCH", "/api/environments/{project_id}/signals/scout/configs/{scout_id}"): ({"emit": False}, 200),
    ("POST", "/api/environments/{project_id}/llm_analytics/text_repr"): (
        lambda o: {"event_type": "$observation", "data": {"id": str(o["observation_id"])}},
        200,
    ),
    # The world's fake Gemini has nothing scripted: the model cannot answer, which the endpoint says.
    ("POST", "/api/environments/{project_id}/llm_analytics/translate"): (
        {"text": "Bonjour", "target_language": "en"},
        503,
    ),
    # start_upload names its chunk in the query (the matrix sends none): refused for what it is.
    ("POST", "/api/environments/{project_id}/error_tracking/symbol_sets/start_upload"): (None, 400),
    ("POST", "/api/environments/{project_id}/error_tracking/symbol_sets/bulk_start_upload"): (
        lambda o: {"chunk_ids": [o["fresh"]]},
        200,
    ),
    # Started, never uploaded: finishing it is refused until its file is there.
    ("PUT", "/api/environments/{project_id}/error_tracking/symbol_sets/{symbol_set_id}/finish_upload"): (
        {"content_hash": "h"},
        400,
    ),
    ("POST", "/api/environments/{project_id}/error_tracking/symbol_sets/bulk_finish_upload"): (
        {"content_hashes": {}},
        200,
    ),
    # Listed and retrieved as any GET (200); deleted last by the right key, so 204.
    ("DELETE", "/api/environments/{project_id}/error_tracking/symbol_sets/{symbol_set_id}"): (None, 204),
    # The console error of the checkout scenario, explained without a model (nothing scripted).
    ("POST", "/api/environments/{project_id}/logs/explainLogWithAI"): (
        lambda o: {"uuid": str(o["log_uuid"]), "timestamp": o["log_timestamp"]},
        201,
    ),
}
ROUTES = routes()


def objects(world) -> Objects:
    """A scanner with one observation, an action, a report with a note, a library prompt, and a
    session not yet observed."""
    scanner = world.scanner(name=f"matrix-{uuid.uuid4().hex[:6]}", **SCANNER)
    sessions = [scenario.session_id for scenario in world.scenarios.values()]
    (observation,) = world.observe(scanner, sessions[0])
    report_id = _report(world)
    note = add_artefact(world.deps, world.team_id, str(report_id), "note", {"note": "first"})
    prompt = create_prompt(
        world.deps, world.team_id, {"name": f"matrix-{uuid.uuid4().hex[:6]}", "prompt": "Rage?"}
    )
    evaluation = create_evaluation(world.deps, world.team_id, {"name": "matrix", **EVALUATION})
    scout = scouts.sync(world.deps, world.team_id)[0]
    symbol_set = symbol_sets.start_upload(world.deps, world.team_id, symbol_sets.Upload(uuid.uuid4().hex))
    ensure_indexed(world.deps, world.team_id)
    with world.deps.read() as session:
        action_id = next(a.id for a in session.exec(_actions_of(scanner.id)))
        log_uuid = session.exec(current("log", world.team_id).limit(1)).first().id
    return Objects(
        {
            "environment_id": world.team_id,
            "project_id": world.team_id,
            "scanner_id": scanner.id,
            "observation_id": observation.id,
            "action_id": action_id,
            "report_id": report_id,
            "artefact_id": note.id,
            "prompt_id": prompt.id,
            "scout_id": scout.id,
            "symbol_set_id": symbol_set.symbol_set_id,
            "prompt_name": prompt.name,
            "evaluation_id": evaluation.id,
            "log_uuid": log_uuid,
            "log_timestamp": log_entry(world.deps, world.team_id, log_uuid).timestamp.isoformat(),
            "session_id": sessions[1],
            "fresh": f"fresh-{uuid.uuid4().hex[:6]}",
        }
    )


def _actions_of(scanner_id):
    return select(VisionAction).where(VisionAction.scanner_id == scanner_id)


def _report(world) -> uuid.UUID:
    with world.deps.transaction() as session:
        report = SignalReport(
            team_id=world.team_id,
            title="Pay fails",
            summary="Pay throws.",
            status="ready",
            total_weight=1.5,
            signal_count=3,
        )
        session.add(report)
        session.flush()
        return report.id


def call(api, method: str, path: str, body: Any, key: str | None):
    headers = {"Authorization": f"Bearer {key}"} if key is not None else {}
    params = {"session_id": "x"} if path.endswith("/vision/observations") else None
    return api.client.request(method, path, json=body, headers=headers, params=params)


def without(scopes: tuple[str, ...]) -> list[str]:
    """Every scope but the first one the endpoint needs (and what implies it)."""
    needed = scopes[0]
    return [scope for scope in SCOPES if scope not in (needed, needed.replace(":read", ":write"))]


@pytest.mark.parametrize(("method", "template", "scopes"), ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
def test_each_endpoint_answers_each_kind_of_caller_as_it_should(world, api, method, template, scopes):
    found = objects(world)
    body, right = CALLS.get((method, template), (None, 200))
    body = body(found.values) if callable(body) else body
    path = found.path(template)
    revoked = create_key(world.deps, "revoked", ["*"])
    revoke_key(world.deps, str(revoked.key.id))
    lacking = create_key(world.deps, "lacking", without(scopes)).secret
    stranger = other_team_key(world)
    expected = {None: 401, "sl_not-a-key": 401, revoked.secret: 401, lacking: 403, stranger: 404}
    answered = {key: call(api, method, path, body, key).status_code for key in expected}
    assert answered == expected, f"{method} {template}: {answered}"
    refused = call(api, method, path, body, lacking).json()
    assert scopes[0] in refused["detail"], refused
    response = call(api, method, path, body, api.key)
    assert response.status_code == right, f"{method} {template}: {response.status_code} {response.text[:300]}"


def test_every_endpoint_is_in_the_matrix_with_a_way_to_call_it():
    writes = {(method, path) for method, path, _ in ROUTES if method != "GET"}
    assert writes <= set(CALLS), f"say how to call: {sorted(writes - set(CALLS))}"
    assert len(ROUTES) >= 30, [f"{m} {p}" for m, p, _ in ROUTES]


def test_another_teams_objects_are_unreachable_by_id_in_paths_filters_and_bulk_lists(world, api):
    mine = objects(world)
    stranger = other_team_key(world)
    theirs = _objects_of_another_team(world, stranger)
    for method, template, _ in ROUTES:
        if "{" not in template.replace("{environment_id}", "").replace("{project_id}", ""):
            continue
        body, _ = CALLS.get((method, template), (None, 200))
        body = body(mine.values) if callable(body) else body
        path = Objects({**theirs, "environment_id": api.team_id, "project_id": api.team_id}).path(template)
        assert call(api, method, path, body, api.key).status_code == 404, (
            f"{method} {template} reached theirs"
        )
    listed = api.get(f"/api/projects/{api.team_id}/vision/actions", params={"scanner": theirs["scanner_id"]})
    assert listed.status_code in (200, 400) and (listed.status_code == 400 or listed.json()["count"] == 0)
    sessions = api.get(
        f"/api/environments/{api.team_id}/vision/observations", params={"session_id": "theirs"}
    )
    assert sessions.json()["count"] == 0
    bulk = api.post(
        f"/api/projects/{api.team_id}/signals/reports/bulk-state",
        json={"ids": [str(theirs["report_id"])], "state": "suppressed"},
    )
    assert bulk.json()["results"][0]["outcome"] == "not_found"


def _objects_of_another_team(world, key: str) -> dict[str, Any]:
    """A scanner, observation, action, report, artefact and prompt of the stranger's team, made
    through the API."""
    headers = {"Authorization": f"Bearer {key}"}
    client = api_for(world).client
    with world.deps.read() as session:
        member = session.exec(select(TeamMembership).join(User).where(User.email.like("stranger-%"))).first()
        team = member.team_id
    with world.deps.transaction() as session:
        session.add(
            Recording(
                team_id=team, session_id="theirs", start_time=utcnow(), end_time=utcnow(), blob_ref="none"
            )
        )
    scanner = client.post(
        f"/api/environments/{team}/vision/scanners", headers=headers, json={**SCANNER, "name": "theirs"}
    )
    assert scanner.status_code == 201, scanner.text
    scanner_id = scanner.json()["id"]
    action = client.get(f"/api/projects/{team}/vision/actions", headers=headers).json()["results"][0]["id"]
    with world.deps.transaction() as session:
        report = SignalReport(team_id=team, title="Theirs", status="ready", total_weight=1, signal_count=2)
        session.add(report)
        session.flush()
        report_id = report.id
    artefact = add_artefact(world.deps, team, str(report_id), "note", {"note": "theirs"})
    observation = _observation(world, team, scanner_id)
    prompt = client.post(
        f"/api/environments/{team}/llm_prompts", headers=headers, json={"name": "theirs", "prompt": "Theirs?"}
    )
    assert prompt.status_code == 201, prompt.text
    evaluation = client.post(
        f"/api/environments/{team}/evaluations", headers=headers, json={"name": "theirs", **EVALUATION}
    )
    assert evaluation.status_code == 201, evaluation.text
    scout = client.post(f"/api/environments/{team}/signals/scout/configs/sync", headers=headers).json()[0]
    return {
        "scanner_id": scanner_id,
        "observation_id": observation,
        "action_id": action,
        "report_id": report_id,
        "artefact_id": artefact.id,
        "prompt_id": prompt.json()["id"],
        "prompt_name": "theirs",
        "evaluation_id": evaluation.json()["id"],
        "scout_id": scout["id"],
        "symbol_set_id": symbol_sets.start_upload(
            world.deps, team, symbol_sets.Upload("theirs")
        ).symbol_set_id,
    }


def _observation(world, team: int, scanner_id: str) -> uuid.UUID:
    with world.deps.transaction() as session:
        row = Observation(
            team_id=team,
            scanner_id=uuid.UUID(scanner_id),
            session_id="theirs",
            workflow_id="w",
            status="succeeded",
            completed_at=utcnow(),
        )
        session.add(row)
        session.flush()
        return row.id
