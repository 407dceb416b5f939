"""The prompt library over HTTP (`/api/environments/:project_id/llm_prompts`), as the seed page writes it."""

from __future__ import annotations

import pytest
from sqlmodel import select

from models import TeamMembership, User
from tests.integration.api_support import check_envelope, check_fields, check_user, other_team_key

pytestmark = pytest.mark.db
PROMPTS = "/api/environments/{team}/llm_prompts"
# The seed's prompt fields, in its order.
PROMPT_FIELDS = ("id", "name", "prompt", "version", "created_by", "created_at", "updated_at", "deleted")


def url(api, tail: str = "") -> str:
    return PROMPTS.format(team=api.team_id) + tail


def create(api, name="pay-failed", prompt="Did a payment fail?", **fields):
    response = api.post(url(api), json={"name": name, "prompt": prompt, **fields})
    assert response.status_code == 201, response.text
    return response.json()


def test_create_answers_the_seed_shape_at_version_one(api):
    body = create(api)

    check_fields(body, PROMPT_FIELDS)
    check_user(body["created_by"])
    assert (body["name"], body["prompt"], body["version"], body["deleted"]) == (
        "pay-failed",
        "Did a payment fail?",
        1,
        False,
    )


def test_a_patch_is_a_new_version_and_each_version_is_readable_by_id_and_by_name(api):
    created = create(api)
    edited = api.patch(url(api, f"/{created['id']}"), json={"prompt": "Did the visitor give up paying?"})

    assert edited.status_code == 200 and edited.json()["version"] == 2
    latest = api.get(url(api, "/name/pay-failed")).json()
    first = api.get(url(api, "/name/pay-failed"), params={"version": 1}).json()
    by_id = api.get(url(api, f"/{created['id']}/"), params={"version": 1}).json()
    assert (latest["version"], latest["prompt"]) == (2, "Did the visitor give up paying?")
    assert first["prompt"] == by_id["prompt"] == "Did a payment fail?" and first["id"] == created["id"]
    missing = api.get(url(api, "/name/pay-failed"), params={"version": 3})
    assert missing.status_code == 404 and "versions 1 to 2" in missing.json()["detail"]


def test_the_list_is_the_seed_envelope_by_name_without_deleted_prompts(api):
    for name in ("b-prompt", "a-prompt", "c-prompt"):
        create(api, name=name)
    deleted = create(api, name="gone")
    assert api.patch(url(api, f"/{deleted['id']}"), json={"deleted": True}).json()["deleted"] is True

    body = api.get(url(api), params={"limit": 2}).json()

    results = check_envelope(body)
    assert body["count"] == 3 and [each["name"] for each in results] == ["a-prompt", "b-prompt"]
    assert "offset=2" in body["next"] and body["previous"] is None
    assert api.get(url(api, "/name/gone")).status_code == 404
    assert api.get(url(api, f"/{deleted['id']}")).json()["deleted"] is True


def test_delete_is_refused_with_405_as_the_seed_says(api):
    created = create(api)

    refused = api.delete(url(api, f"/{created['id']}"))

    assert refused.status_code == 405
    assert "PATCH" in refused.json()["detail"] and refused.headers["Allow"] == "GET, PATCH"
    assert api.get(url(api, f"/{created['id']}")).json()["deleted"] is False


@pytest.mark.parametrize(
    ("body", "attr", "detail"),
    [
        ({"prompt": "x"}, "name", "is required"),
        ({"name": "pay-failed"}, "prompt", "is required text"),
        ({"name": "pay failed", "prompt": "x"}, "name", "use letters, digits"),
        ({"name": "p", "prompt": "x" * 20_001}, "prompt", "keep it under 20,000"),
        ({"name": "p", "prompt": 3}, "prompt", "string"),
        ({"name": "p", "prompt": "x", "deleted": "maybe"}, "deleted", "bool"),
    ],
)
def test_a_bad_prompt_is_a_400_naming_the_field(api, body, attr, detail):
    refused = api.post(url(api), json=body)

    assert refused.status_code == 400, refused.text
    error = refused.json()
    assert (error["type"], error["attr"]) == ("validation_error", attr) and detail in error["detail"], error


def test_a_taken_name_is_a_400_and_a_deleted_prompts_name_is_free_again(api):
    first = create(api)
    taken = api.post(url(api), json={"name": "pay-failed", "prompt": "Again?"})
    assert (taken.status_code, taken.json()["attr"]) == (400, "name")

    api.patch(url(api, f"/{first['id']}"), json={"deleted": True})

    assert create(api, prompt="Again?")["id"] != first["id"]


def test_a_prompt_a_scanner_names_cannot_be_deleted(api):
    create(api)
    scanner = api.post(
        f"/api/environments/{api.team_id}/vision/scanners",
        json={
            "name": "Pay",
            "scanner_type": "monitor",
            "provider": "heuristic",
            "scanner_config": {
                "prompt_ref": {"name": "pay-failed", "version": "latest"},
                "rule": "rage_click",
            },
        },
    )
    assert scanner.status_code == 201, scanner.text
    assert scanner.json()["scanner_config"]["prompt_ref"] == {"name": "pay-failed", "version": "latest"}
    prompt_id = api.get(url(api, "/name/pay-failed")).json()["id"]

    refused = api.patch(url(api, f"/{prompt_id}"), json={"deleted": True})

    assert (refused.status_code, refused.json()["attr"]) == (400, "deleted")
    assert "scanner 'Pay'" in refused.json()["detail"]


def test_another_teams_prompt_is_not_found_through_its_own_team(world, api):
    stranger = {"Authorization": f"Bearer {other_team_key(world)}"}
    with world.deps.read() as session:
        member = session.exec(select(TeamMembership).join(User).where(User.email.like("stranger-%"))).one()
    mine = create(api)
    theirs = PROMPTS.format(team=member.team_id)

    answered = [
        api.client.get(f"{theirs}/{mine['id']}", headers=stranger).status_code,
        api.client.get(f"{theirs}/name/pay-failed", headers=stranger).status_code,
        api.client.patch(f"{theirs}/{mine['id']}", json={"prompt": "Mine now"}, headers=stranger).status_code,
        api.client.delete(f"{theirs}/{mine['id']}", headers=stranger).status_code,
        api.client.get(theirs, headers=stranger).json()["count"],
    ]

    assert answered == [404, 404, 404, 404, 0]
    assert api.get(url(api, f"/{mine['id']}")).json()["version"] == 1
