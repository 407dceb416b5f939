"""Schemathesis against the live OpenAPI schema: no 5xx, and every response matches its own schema.

Every operation of `/api/schema` gets a bounded number of generated requests (valid and invalid),
on the world's team with a key of every scope, on SQLite or on PostgreSQL (`TEST_DATABASE_URL`).
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from api.throttle import Throttle
from integrations.fake_gemini import FakeReply

pytestmark = [
    pytest.mark.fuzz,
    pytest.mark.db,
    pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning"),
]
# 12 examples an operation in `make test`; `.ci/run` runs 25 in its PostgreSQL pass, and
# `FUZZ_EXAMPLES=500` (a few minutes) is for before a release.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "12"))
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


def test_no_server_errors_and_responses_match_their_schema(world, api):
    api.client.app.state.throttle = Throttle("1000000/minute", world.deps.redis)
    # The model answers whatever is asked of it (translate): a fake that cannot answer is a 503.
    world.fake.default = lambda request: FakeReply.json({"translation": "Bonjour"})
    loaded = schemathesis.openapi.from_asgi("/api/schema", api.client.app)
    operations = [result.ok() for result in loaded.get_all_operations()]
    assert len(operations) >= 5
    for operation in operations:
        fuzz(operation, api)


def fuzz(operation, api) -> None:
    @given(case=operation.as_strategy())
    # No shrinking: the first failing request is reported as it was, within the test's time.
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],
        report_multiple_bugs=False,
    )
    def generated(case) -> None:
        for name in ("environment_id", "project_id"):
            if name in (case.path_parameters or {}):
                case.path_parameters[name] = api.team_id  # another team's id is a plain 404
        case.call_and_validate(headers=api.headers, checks=CHECKS)

    generated()
