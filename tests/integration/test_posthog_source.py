"""PostHog as a recording source, against a fake PostHog that speaks the real API: new finished
recordings are imported once, paging and blob ranges work, a 429 backs the source off, a session
still being recorded is taken later, and the API key never shows."""

from __future__ import annotations

import re
import stat
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select
from structlog.testing import capture_logs

from actors import broker as broker_module
from integrations import posthog
from integrations.fake_posthog import FakePostHog
from integrations.secrets import SecretBox, secret_box
from integrations.storage import database
from models import Recording, RecordingSource, as_utc, session_scope
from models.migrate import upgrade
from models.queries import ensure_defaults
from pipeline.errors import ConfigurationError, Conflict, InvalidField
from scheduler.daemon import Scheduler
from services.recordings import timeline
from services.sources import add_posthog, poll_due_sources
from settings import get_settings
from tests.support import migrated

pytestmark = pytest.mark.db
NOW = datetime.now(UTC).replace(microsecond=0)
SETTLE = timedelta(seconds=2100)


def events(start: datetime, clicks: int = 20, text: str = "Pay now") -> list[dict]:
    """A session as posthog-js records it: Meta, a FullSnapshot with a button, then clicks on it."""
    ms = int(start.timestamp() * 1000)
    button = {
        "type": 2,
        "tagName": "button",
        "attributes": {"id": "pay"},
        "id": 4,
        "childNodes": [{"type": 3, "textContent": text, "id": 5}],
    }
    body = {"type": 2, "tagName": "body", "attributes": {}, "id": 3, "childNodes": [button]}
    html = {"type": 2, "tagName": "html", "attributes": {}, "id": 2, "childNodes": [body]}
    found = [
        {
            "type": 4,
            "data": {"href": "https://shop.example/cart", "width": 1280, "height": 800},
            "timestamp": ms,
        },
        {"type": 2, "data": {"node": {"type": 0, "id": 1, "childNodes": [html]}}, "timestamp": ms + 5},
    ]
    found += [
        {"type": 3, "timestamp": ms + i * 1000, "data": {"source": 2, "type": 2, "id": 4, "x": 5, "y": 5}}
        for i in range(1, clicks + 1)
    ]
    return found


class Setup:
    def __init__(self, monkeypatch, database_url: str, **env: str):
        for key, value in {"DATABASE_URL": database_url, **env}.items():
            monkeypatch.setenv(key, value)
        get_settings.cache_clear()
        self.settings = get_settings()
        migrated.copy_to(database_url)  # at head already (tests/support/migrated.py)
        self.db = database(self.settings)
        upgrade(self.db.engine)
        with session_scope(self.db.sessions) as session:
            self.team_id = ensure_defaults(session)[1].id
        monkeypatch.setattr(broker_module, "_embedded", None)
        self.deps = broker_module.process_deps(self.settings)
        self.deps.clock = lambda: NOW
        self.fake = FakePostHog(project_id=7).start()

    def add_source(self, api_key: str | None = None):
        return add_posthog(self.deps, self.team_id, self.fake.url, 7, api_key or self.fake.api_key)

    def poll(self, now: datetime = NOW):
        return poll_due_sources(self.deps, now)

    def source(self) -> RecordingSource:
        with self.db.sessions() as session:
            return session.exec(select(RecordingSource)).one()

    def stored(self) -> list[str]:
        with self.db.sessions() as session:
            return sorted(session.exec(select(Recording.session_id)))


@pytest.fixture
def setup(sightline_home, database_url, monkeypatch):
    built = Setup(monkeypatch, database_url)
    yield built
    built.fake.stop()


def test_new_finished_sessions_are_imported_once_and_read_like_files(setup):
    for index in range(3):
        setup.fake.add(f"s-{index}", events(NOW - timedelta(hours=3) + timedelta(minutes=index)))
    setup.fake.add("s-objects", events(NOW - timedelta(hours=2)), shape="object", distinct_id="buyer-9")
    setup.add_source()

    first = setup.poll()

    assert (first.sources_polled, first.sessions_imported, first.sessions_failed) == (1, 4, 0)
    assert setup.stored() == ["s-0", "s-1", "s-2", "s-objects"]
    assert 'click button#pay "Pay now"' in timeline(setup.deps, setup.team_id, "s-1").text
    with setup.db.sessions() as session:
        row = session.exec(select(Recording).where(Recording.session_id == "s-objects")).one()
        assert row.distinct_id == "buyer-9" and row.event_count == 22
    assert len(setup.fake.paths("snapshots")) == 8  # the sources, then the blocks, per recording
    source = setup.source()
    assert source.imported_count == 4 and source.last_error is None
    assert source.watermark_session_id == "s-objects"

    again = setup.poll(NOW + timedelta(seconds=setup.settings.posthog_poll_interval_s))

    assert (again.sources_polled, again.sessions_imported, again.sessions_skipped) == (1, 0, 0)
    assert len(setup.fake.paths("snapshots")) == 8  # nothing fetched twice
    assert setup.source().imported_count == 4


def test_paging_walks_every_page_and_wide_recordings_come_in_blob_ranges(setup, monkeypatch):
    monkeypatch.setattr(posthog, "PAGE_SIZE", 2)
    for index in range(5):
        setup.fake.add(f"p-{index}", events(NOW - timedelta(hours=5) + timedelta(minutes=index)))
    setup.fake.add("wide", events(NOW - timedelta(hours=4), clicks=60), blocks=31)
    setup.add_source()

    summary = setup.poll()

    assert summary.sessions_imported == 6
    assert setup.stored() == ["p-0", "p-1", "p-2", "p-3", "p-4", "wide"]
    listed = [r.query for r in setup.fake.requests if r.path.endswith("session_recordings/")]
    assert [(q["offset"], q["limit"], q["order_direction"]) for q in listed] == [
        ("0", "2", "ASC"),
        ("2", "2", "ASC"),
        ("4", "2", "ASC"),
    ]
    ranges = [
        (r.query["start_blob_key"], r.query["end_blob_key"], r.status)
        for r in setup.fake.requests
        if r.query.get("source") == "blob_v2" and "wide" in r.path
    ]
    assert ranges == [("0", "19", 200), ("20", "30", 200)]
    with setup.db.sessions() as session:
        wide = session.exec(select(Recording).where(Recording.session_id == "wide")).one()
        assert wide.event_count == 62 and wide.click_count == 60


def test_a_429_backs_the_source_off_until_retry_after_then_it_resumes(setup):
    setup.fake.add("late", events(NOW - timedelta(hours=2)))
    setup.add_source()
    setup.fake.rate_limit(requests=1, retry_after_s=120)

    throttled = setup.poll()

    assert (throttled.backed_off, throttled.sessions_imported) == (1, 0)
    assert as_utc(setup.source().backoff_until) == NOW + timedelta(seconds=120)
    asked = len(setup.fake.requests)
    assert setup.poll(NOW + timedelta(seconds=60)).sources_polled == 0
    assert len(setup.fake.requests) == asked  # not one request while backed off

    resumed = setup.poll(NOW + timedelta(seconds=121))

    assert resumed.sessions_imported == 1 and setup.stored() == ["late"]
    assert setup.source().backoff_until is None


def test_a_session_still_recording_is_taken_once_it_has_finished(setup):
    setup.fake.add("live", events(NOW - timedelta(minutes=20)), ongoing=True)
    setup.fake.add("done", events(NOW - timedelta(minutes=10), clicks=3))
    setup.add_source()
    then = NOW + SETTLE

    first = setup.poll(then)  # "done" has settled; "live" is still live

    assert (first.sessions_imported, first.sessions_waiting) == (1, 1)
    assert setup.stored() == ["done"]
    assert setup.source().watermark_session_id == ""  # held before "live"

    setup.fake.update("live", events(then, clicks=2), ongoing=False)
    interval = timedelta(seconds=setup.settings.posthog_poll_interval_s)
    unsettled = setup.poll(then + interval)  # no longer live, but its last event is recent
    assert unsettled.sessions_waiting == 1 and setup.stored() == ["done"]

    later = setup.poll(then + interval + SETTLE)

    assert (later.sessions_imported, later.sessions_skipped, later.sessions_waiting) == (1, 1, 0)
    assert setup.stored() == ["done", "live"]
    with setup.db.sessions() as session:
        live = session.exec(select(Recording).where(Recording.session_id == "live")).one()
        assert live.event_count == 22 + 4  # both visits, imported together once it finished
    assert setup.source().watermark_session_id == "done"
    assert setup.poll(then + 2 * interval + 2 * SETTLE).sessions_skipped == 0  # both behind the watermark


def test_a_refused_key_is_a_clear_error_on_the_source(setup):
    setup.fake.add("s", events(NOW - timedelta(hours=2)))
    setup.add_source(api_key="phx_" + "x" * 43)

    summary = setup.poll()

    assert summary.errors == 1 and setup.stored() == []
    assert setup.source().last_error.startswith("the PostHog API key was refused (401)")
    assert [r.status for r in setup.fake.requests] == [401]


def test_a_recording_that_cannot_be_had_is_recorded_and_passed_and_the_others_imported(setup):
    setup.fake.add("empty", events(NOW - timedelta(hours=3)), blocks=0)
    setup.fake.add("fine", events(NOW - timedelta(hours=2)))
    setup.add_source()

    summary = setup.poll()

    assert (summary.sessions_imported, summary.sessions_failed, summary.errors) == (1, 1, 0)
    assert setup.stored() == ["fine"]
    source = setup.source()
    assert source.last_error.startswith("recording empty: PostHog lists no blob_v2 snapshots")
    assert source.watermark_session_id == "fine"  # passed, not retried forever


def test_an_unreachable_host_is_a_transient_error_and_the_next_poll_comes_at_the_interval(setup):
    address = setup.fake.url
    setup.add_source()
    setup.fake.stop()

    summary = setup.poll()

    assert summary.errors == 1
    source = setup.source()
    assert source.last_error == f"cannot reach {address} (ConnectError); the next poll tries again"
    interval = timedelta(seconds=setup.settings.posthog_poll_interval_s)
    assert as_utc(source.next_poll_at) == NOW + interval and source.backoff_until is None


def test_requests_stop_at_the_per_minute_budget_and_go_on_at_the_next_tick(
    sightline_home, database_url, monkeypatch
):
    built = Setup(monkeypatch, database_url, SIGHTLINE_POSTHOG_RPM="3")
    try:
        for index in range(2):
            built.fake.add(f"b-{index}", events(NOW - timedelta(hours=2) + timedelta(minutes=index)))
        built.add_source()

        summary = built.poll()

        assert len(built.fake.requests) == 3  # the list, then one recording's two
        assert (summary.unfinished, summary.sessions_imported) == (1, 1)
        assert as_utc(built.source().next_poll_at) == NOW  # due again at the next tick
    finally:
        built.fake.stop()


def test_the_scheduler_tick_polls_a_due_source(setup):
    setup.fake.add("ticked", events(NOW - timedelta(hours=2)))
    setup.add_source()

    scheduler = Scheduler(setup.deps)

    report = scheduler.tick(NOW)

    assert report.leader and report.sources["sessions_imported"] == 1
    assert setup.stored() == ["ticked"]
    assert scheduler.tick(NOW + timedelta(seconds=10)).sources["sources_polled"] == 0
    scheduler.leadership.step_down()


def test_adding_refuses_duplicates_project_keys_and_ingestion_hosts(setup):
    setup.add_source()
    with pytest.raises(Conflict, match="already polls PostHog project 7"):
        setup.add_source()
    with pytest.raises(InvalidField, match="project API key"):
        add_posthog(setup.deps, setup.team_id, "https://us.posthog.com", 7, "phc_" + "p" * 40)
    with pytest.raises(InvalidField, match=re.escape("https://eu.posthog.com")):
        add_posthog(setup.deps, setup.team_id, "https://eu.i.posthog.com", 7, setup.fake.api_key)
    with pytest.raises(InvalidField, match="origin only"):
        add_posthog(setup.deps, setup.team_id, "https://us.posthog.com/project/7", 7, setup.fake.api_key)


def test_a_changed_secret_key_is_a_configuration_error_that_names_no_secret(setup, monkeypatch):
    setup.fake.add("s", events(NOW - timedelta(hours=2)))
    setup.add_source()
    key_file = setup.settings.home / "secret.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    ciphertext = setup.source().api_key_encrypted
    with pytest.raises(ConfigurationError, match="the key changed") as raised:
        SecretBox(b"A" * 43 + b"=", "a test key").decrypt(ciphertext)
    assert ciphertext not in str(raised.value)
    monkeypatch.setenv("SIGHTLINE_SECRET_KEY", "another key entirely " + uuid.uuid4().hex)
    get_settings.cache_clear()
    setup.deps.settings = get_settings()

    summary = setup.poll()

    assert summary.errors == 1 and setup.fake.requests == []
    assert "cannot be decrypted with the key from SIGHTLINE_SECRET_KEY" in setup.source().last_error


def test_the_api_key_never_shows_in_output_logs_or_the_database(sightline, capsys):
    fake = FakePostHog(project_id=3).start()
    try:
        fake.add("cli-1", events(NOW - timedelta(hours=2)))
        key, host = fake.api_key, fake.url
        with capture_logs() as logs:
            added = sightline(
                "sources", "add-posthog", "--host", fake.url, "--project-id", "3", "--api-key", key
            )
            listed = sightline("sources", "list")
            polled = sightline("sources", "poll")
        prompted = _add_with_prompt(fake.url, key)
        stderr = capsys.readouterr().err
    finally:
        fake.stop()

    assert added.exit_code == 0 and "phx_…ABCD" in added.output
    assert "phx_…ABCD" in listed.output and host in listed.output
    assert polled.exit_code == 0 and "1 recordings imported" in polled.output
    assert prompted.exit_code == 2 and "already polls" in prompted.output
    said = [added.output, listed.output, polled.output, prompted.output, stderr, repr(logs)]
    assert "recording_source_polled" in stderr + repr(logs) + polled.output  # there were logs to read
    assert all(key not in text and key[4:] not in text for text in said)
    settings = get_settings()
    with database(settings).sessions() as session:
        row = session.exec(select(RecordingSource)).one()
    assert key not in row.api_key_encrypted and key not in row.api_key_mask
    assert secret_box(settings).decrypt(row.api_key_encrypted) == key


def _add_with_prompt(host: str, key: str):
    """`--api-key` left out: asked for, hidden (the source exists already, so it ends in a Conflict)."""
    from typer.testing import CliRunner

    from cli.main import app

    runner = CliRunner()
    return runner.invoke(
        app, ["sources", "add-posthog", "--host", host, "--project-id", "3"], input=key + "\n"
    )
