"""The API's common behaviour: slashes, errors, idempotency, ETags, throttling, OpenAPI."""

from __future__ import annotations

import pytest

from services.auth import create_key, revoke_key
from tests.integration.api_support import check_envelope, check_user

pytestmark = pytest.mark.db
SCANNERS = "/api/environments/{team}/vision/scanners"
SPEC = {
    "name": "Rage",
    "scanner_type": "monitor",
    "provider": "heuristic",
    "scanner_config": {"prompt": "Rage?", "rule": "rage_click"},
}


def test_every_path_answers_with_and_without_its_trailing_slash_and_posts_are_never_redirected(api):
    path = SCANNERS.format(team=api.team_id)
    assert api.get(path).status_code == api.get(path + "/").status_code == 200
    created = api.post(path + "/", json=SPEC, follow_redirects=False)
    assert created.status_code == 201, created.text
    check_user(created.json()["created_by"])


def test_errors_have_the_reference_shape_and_name_the_field(api):
    response = api.post(SCANNERS.format(team=api.team_id), json={**SPEC, "sampling_rate": 0.00001})
    assert response.status_code == 400
    assert response.json()["type"] == "validation_error" and response.json()["attr"] == "sampling_rate"
    unparsable = api.get(SCANNERS.format(team=api.team_id), params={"limit": "many"})
    assert unparsable.status_code == 400 and unparsable.json()["attr"] == "limit"


def test_a_list_has_the_envelope_with_absolute_links(api):
    path = SCANNERS.format(team=api.team_id)
    for name in ("a", "b", "c"):
        assert api.post(path, json={**SPEC, "name": name}).status_code == 201
    first = api.get(path, params={"limit": 2}).json()
    assert len(check_envelope(first)) == 2 and first["count"] == 3 and first["previous"] is None
    assert first["next"].startswith("http://testserver/") and "offset=2" in first["next"]
    second = api.client.get(first["next"], headers=api.headers).json()
    assert [row["name"] for row in second["results"]] == ["c"] and second["next"] is None
    assert "offset=0" in second["previous"]


def test_a_replayed_idempotency_key_returns_the_first_response_and_creates_nothing(api):
    path, headers = SCANNERS.format(team=api.team_id), {"Idempotency-Key": "create-rage-1"}
    first = api.post(path, json=SPEC, headers=headers)
    again = api.post(path, json=SPEC, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json() and again.headers["idempotent-replayed"] == "true"
    assert api.get(path).json()["count"] == 1
    other = api.post(path, json={**SPEC, "name": "Else"}, headers=headers)
    assert other.status_code == 400 and other.json()["attr"] == "Idempotency-Key"


def test_a_retrieve_carries_an_etag_and_answers_304_when_unchanged(api):
    created = api.post(SCANNERS.format(team=api.team_id), json=SPEC).json()
    path = f"{SCANNERS.format(team=api.team_id)}/{created['id']}"
    first = api.get(path)
    assert api.get(path, headers={"If-None-Match": first.headers["etag"]}).status_code == 304
    api.patch(path, json={"description": "changed"})
    assert api.get(path, headers={"If-None-Match": first.headers["etag"]}).status_code == 200


def test_keys_past_their_rate_get_429_with_retry_after(world, api, monkeypatch):
    from api.throttle import Throttle

    api.client.app.state.throttle = Throttle("3/minute", world.deps.redis)
    codes = [api.get(SCANNERS.format(team=api.team_id)).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    throttled = api.get(SCANNERS.format(team=api.team_id))
    assert int(throttled.headers["retry-after"]) >= 1 and throttled.json()["type"] == "throttled_error"


def test_no_bad_and_revoked_keys_are_401_and_a_missing_scope_is_403_naming_it(world, api):
    path = SCANNERS.format(team=api.team_id)
    assert api.client.get(path).status_code == 401
    assert api.client.get(path, headers={"Authorization": "Bearer sl_nope"}).status_code == 401
    made = create_key(world.deps, "soon revoked", ["*"])
    revoke_key(world.deps, str(made.key.id))
    assert api.client.get(path, headers={"Authorization": f"Bearer {made.secret}"}).status_code == 401
    reader = create_key(world.deps, "reader", ["replay_scanner:read"]).secret
    refused = api.client.post(path, json=SPEC, headers={"Authorization": f"Bearer {reader}"})
    assert refused.status_code == 403 and "replay_scanner:write" in refused.json()["detail"]


def test_the_schema_and_the_docs_are_served(api):
    schema = api.client.get("/api/schema/")
    assert (
        schema.status_code == 200
        and "/api/environments/{environment_id}/vision/scanners" in schema.json()["paths"]
    )
    assert api.client.get("/api/docs/").status_code == 200


def test_values_no_database_holds_are_a_400_naming_them_never_a_500(api, engine):
    path = SCANNERS.format(team=api.team_id)
    nul = api.get(path, params={"search": "a\x00b"})
    assert nul.status_code == 400 and "NUL" in nul.json()["detail"]
    huge = api.get(path, params={"created_by": 2**40})
    assert huge.status_code == 400 and huge.json()["attr"] == "created_by"
    limit = api.post(path, json={**SPEC, "credit_limit": 2**40})
    assert limit.status_code == 400 and limit.json()["attr"] == "credit_limit"
    # A NUL inside JSON text: SQLite stores it; PostgreSQL refuses it, and that is the caller's 400.
    named = api.post(path, json={**SPEC, "name": "a\x00b"})
    expected = 400 if engine.dialect.name == "postgresql" else 201
    assert named.status_code == expected, named.text
    assert api.get(path).json()["count"] == (0 if expected == 400 else 1)
