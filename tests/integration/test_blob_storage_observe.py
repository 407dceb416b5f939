"""Observations read recordings wherever the blob store keeps them: a worker with another data folder
observes what was imported into the shared S3 bucket, and a recording whose blob is gone fails as
`blob_missing` after its retries (never `internal_error`), which `sightline status` counts."""

from __future__ import annotations

import json
import shutil

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from actors import broker as broker_module
from cli.main import app
from integrations.s3_blobs import S3BlobStore
from models import Recording
from pipeline.errors import BlobMissing
from services.observe import run_observation
from services.status import status
from settings import get_settings
from tests.support.world import build_world, close_world

pytestmark = pytest.mark.db

CHECKOUT = "scenario-checkout-js-error"
RAGE = {
    "scanner_type": "monitor",
    "provider": "heuristic",
    "scanner_config": {"prompt": "Rage?", "rule": "rage_click"},
}


@pytest.fixture(params=["local", "s3"])
def world(request, sightline_home, database_url, monkeypatch):
    """The usual world (tests/support/world.py), its recordings in the folder or in the fake S3,
    whose observations get one retry."""
    env = request.getfixturevalue("s3_env") if request.param == "s3" else {}
    built = build_world(monkeypatch, database_url, SIGHTLINE_OBSERVE_RETRIES="1", **env)
    yield built
    close_world(built)


@pytest.fixture
def s3_world(sightline_home, database_url, monkeypatch, s3_env):
    built = build_world(monkeypatch, database_url, **s3_env)
    yield built
    close_world(built)


def blob_ref_of(world, session_id: str) -> str:
    with world.db.sessions() as session:
        return session.exec(select(Recording.blob_ref).where(Recording.session_id == session_id)).one()


def put_back(world, session_id: str, events: list[dict]) -> None:
    """The recording's events stored again (as a copy arriving late would be), its row pointing at them."""
    ref, _ = world.deps.blobs.write(world.team_id, session_id, events)
    with world.db.sessions() as session:
        row = session.exec(select(Recording).where(Recording.session_id == session_id)).one()
        row.blob_ref = ref
        session.add(row)
        session.commit()


def test_a_worker_with_another_data_folder_observes_what_was_imported_into_s3(
    s3_world, fake_s3, s3_bucket, tmp_path, monkeypatch
):
    world = s3_world
    assert isinstance(world.deps.blobs, S3BlobStore)
    assert f"recordings/{blob_ref_of(world, CHECKOUT)}" in fake_s3.keys(s3_bucket)
    assert not world.settings.blob_dir.exists()  # machine A kept nothing of it in its folder
    # Machine B: another SIGHTLINE_HOME, the same database, Redis and bucket. Machine A's folder goes.
    machine_b = tmp_path / "machine-b"
    monkeypatch.setenv("SIGHTLINE_HOME", str(machine_b))
    get_settings.cache_clear()
    shutil.rmtree(world.settings.home, ignore_errors=True)

    [observation] = world.observe(world.scanner(**RAGE), CHECKOUT)

    assert observation.status == "succeeded", observation.error_reason
    worker_deps = broker_module.process_deps()  # what the worker's actor ran with
    assert worker_deps.settings.home == machine_b and worker_deps is not world.deps
    assert (
        isinstance(worker_deps.blobs, S3BlobStore) and worker_deps.blobs.location == world.deps.blobs.location
    )


def test_an_observation_whose_blob_is_gone_fails_as_blob_missing_after_its_retries(world):
    world.deps.blobs.delete(blob_ref_of(world, CHECKOUT))

    [observation] = world.observe(world.scanner(**RAGE), CHECKOUT)

    assert observation.status == "failed"
    assert observation.error_reason == (
        f"blob_missing:the events of recording {CHECKOUT!r} are missing from "
        f"{world.deps.blobs.location} (2 attempts)"
    )
    assert status(world.deps)["observation_failures_last_hour"] == {"blob_missing": 1}
    shown = CliRunner().invoke(app, ["status"], catch_exceptions=False)
    assert "Failed observations (last hour): blob_missing 1" in shown.output
    data = json.loads(CliRunner().invoke(app, ["status", "--json"], catch_exceptions=False).output)
    assert data["observation_failures_last_hour"] == {"blob_missing": 1}


def test_a_blob_back_before_the_retry_lets_it_succeed_and_the_row_forgets_why_it_waited(world):
    world.stop_worker()  # this test runs the attempts itself
    ref = blob_ref_of(world, CHECKOUT)
    events = world.deps.blobs.read(ref)
    world.deps.blobs.delete(ref)
    [requested] = world.request(world.scanner(**RAGE), CHECKOUT)

    with pytest.raises(BlobMissing):
        run_observation(world.deps, requested.observation_id)
    waiting = world.observation(requested.observation_id)
    assert waiting.status == "pending" and waiting.error_reason.startswith("blob_missing:")

    put_back(world, CHECKOUT, events)
    assert run_observation(world.deps, requested.observation_id).status == "succeeded"
    done = world.observation(requested.observation_id)
    assert done.status == "succeeded" and done.error_reason is None
