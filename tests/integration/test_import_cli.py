"""`sightline init`, `import`, `recordings list` and `timeline` against a real database."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from sqlmodel import func, select
from typer.testing import CliRunner

from cli.main import app
from integrations.storage import database
from models import Organization, Recording, Team, User
from settings import get_settings

pytestmark = [pytest.mark.db, pytest.mark.real_migrations]

META = {"type": 4, "data": {"href": "https://shop.example/", "width": 1280, "height": 800}}


def session_events(start: int = 1_700_000_000_000, count: int = 40, text: str = "Hello") -> list[dict]:
    """`count` events: Meta, FullSnapshot, then a click every second."""
    snapshot = {
        "type": 0,
        "id": 1,
        "childNodes": [
            {
                "type": 2,
                "tagName": "html",
                "attributes": {},
                "id": 2,
                "childNodes": [
                    {
                        "type": 2,
                        "tagName": "body",
                        "attributes": {},
                        "id": 3,
                        "childNodes": [
                            {
                                "type": 2,
                                "tagName": "button",
                                "attributes": {"id": "go"},
                                "id": 4,
                                "childNodes": [{"type": 3, "textContent": text, "id": 5}],
                            }
                        ],
                    }
                ],
            }
        ],
    }
    events = [{**META, "timestamp": start}, {"type": 2, "data": {"node": snapshot}, "timestamp": start + 5}]
    for second in range(1, count - 1):
        events.append(
            {
                "type": 3,
                "timestamp": start + second * 1000,
                "data": {"source": 2, "type": 2, "id": 4, "x": 10, "y": 10},
            }
        )
    return events


def count(model) -> int:
    with database(get_settings()).sessions() as session:
        return session.exec(select(func.count()).select_from(model)).one()


def blob_files(suffix: str = ".gz") -> list[Path]:
    """The stored event blobs (`.analysis`: the analyses an import stores beside them)."""
    return sorted(p for p in get_settings().blob_dir.rglob(f"*{suffix}") if p.is_file())


def test_init_twice_creates_one_organisation_team_and_user(sightline):
    result = sightline("init")
    assert result.exit_code == 0
    assert "migration 0021" in result.output
    assert (count(Organization), count(Team), count(User)) == (1, 1, 1)


@pytest.mark.recordings
def test_every_real_recording_imports_and_a_second_import_changes_nothing(sightline, recordings_dir):
    first = sightline("import", str(recordings_dir))
    assert first.exit_code == 0, first.output
    assert "6 imported" in first.output
    assert count(Recording) == 6
    blobs = blob_files()
    second = sightline("import", *sorted(str(p) for p in recordings_dir.glob("*.json")))
    assert second.exit_code == 0
    assert "6 unchanged" in second.output
    assert count(Recording) == 6
    assert blob_files() == blobs
    listing = sightline("recordings", "list")
    assert "posthog-mobile-homepage" in listing.output and "mobile 390×664" in listing.output


@pytest.mark.recordings
def test_real_recording_metadata_is_computed(sightline, recordings_dir):
    sightline("import", str(recordings_dir / "posthog-homepage.json"))
    with database(get_settings()).sessions() as session:
        row = session.exec(select(Recording)).one()
    assert row.session_id == "posthog-homepage"
    assert (row.event_count, row.click_count, row.device_type) == (720, 6, "desktop")
    assert row.viewport == {"width": 1920, "height": 1001}
    assert 223 < row.duration_s < 225 and 0 < row.active_s < row.duration_s
    assert row.start_url == "https://posthog.com/"


def test_more_events_extend_the_session_and_replace_its_blob(sightline, tmp_path):
    events = session_events()
    (tmp_path / "part.json").write_bytes(orjson.dumps(events[:20]))
    (tmp_path / "full.json").write_bytes(orjson.dumps(events))
    assert "1 imported" in sightline("import", str(tmp_path / "part.json"), "--session-id", "s1").output
    result = sightline("import", str(tmp_path / "full.json"), "--session-id", "s1")
    assert "updated" in result.output and "+20 events" in result.output
    assert count(Recording) == 1
    with database(get_settings()).sessions() as session:
        row = session.exec(select(Recording)).one()
    assert row.event_count == 40 and row.click_count == 38
    [blob] = blob_files()
    assert blob_files(".analysis") == [blob.with_name(blob.name + ".analysis")]  # the old one went too


def write_bad_files(folder: Path) -> dict[str, str]:
    """Each bad file, with the reason the importer must give."""
    folder.mkdir()
    bad = {
        "not-json.json": (b"this is not json", "not valid JSON"),
        "truncated.json": (orjson.dumps(session_events())[:30], "looks truncated"),
        "empty-list.json": (b"[]", "holds no events"),
        "no-timestamp.json": (b'[{"type": 4, "data": {}}]', "no usable events (1 without a timestamp)"),
        "text-timestamp.json": (b'[{"type": 4, "data": {}, "timestamp": "noon"}]', "non-numeric timestamp"),
        ("x" * 129) + ".json": (orjson.dumps(session_events()), "over the 128 maximum"),
    }
    for name, (content, _) in bad.items():
        (folder / name).write_bytes(content)
    return {name: reason for name, (_, reason) in bad.items()}


def test_a_folder_of_mixed_files_imports_the_good_and_explains_each_bad_one(sightline, tmp_path):
    folder = tmp_path / "mixed"
    reasons = write_bad_files(folder)
    (folder / "good.json").write_bytes(orjson.dumps(session_events()))
    no_snapshot = [event for event in session_events() if event["type"] != 2]
    (folder / "no-snapshot.json").write_bytes(orjson.dumps(no_snapshot))
    result = sightline("import", str(folder))
    assert result.exit_code == 1
    for name, reason in reasons.items():
        line = next(line for line in result.output.splitlines() if name[:60] in line)
        assert line.startswith("failed") and reason in line, line
    assert "2 imported" in result.output and "6 failed" in result.output
    assert count(Recording) == 2
    assert len(blob_files()) == 2


def test_no_full_snapshot_renders_what_it_can_and_says_so(sightline, tmp_path):
    events = [event for event in session_events() if event["type"] != 2]
    (tmp_path / "bare.json").write_bytes(orjson.dumps(events))
    sightline("import", str(tmp_path / "bare.json"))
    result = sightline("timeline", "bare")
    assert result.exit_code == 0
    assert "no full snapshot" in result.output
    assert "click at (10, 10)" in result.output


def test_a_two_megabyte_text_node_imports_and_renders_briefly(sightline, tmp_path):
    huge = "lorem ipsum " * 180_000
    (tmp_path / "huge.json").write_bytes(orjson.dumps(session_events(text=huge)))
    assert sightline("import", str(tmp_path / "huge.json")).exit_code == 0
    result = sightline("timeline", "huge")
    assert 'click button#go "lorem ipsum lorem ipsum' in result.output
    assert len(result.output) < 5000


def test_fifty_thousand_events_import_and_render_within_budget(sightline, tmp_path):
    events = session_events(count=50_000)
    (tmp_path / "long.json").write_bytes(orjson.dumps(events))
    assert sightline("import", str(tmp_path / "long.json")).exit_code == 0
    with database(get_settings()).sessions() as session:
        assert session.exec(select(Recording)).one().event_count == 50_000
    result = sightline("timeline", "long", "--budget", "500")
    assert result.exit_code == 0
    assert "×" in result.output  # 49,999 identical clicks collapse into one line
    assert len(result.stdout) <= 500 * 4 + 200


def test_a_failed_commit_leaves_no_row_and_no_blob(sightline, tmp_path, monkeypatch):
    from sqlalchemy.exc import OperationalError
    from sqlmodel import Session

    (tmp_path / "good.json").write_bytes(orjson.dumps(session_events()))

    def broken_commit(self):
        raise OperationalError("COMMIT", {}, Exception("disk I/O error"))

    monkeypatch.setattr(Session, "commit", broken_commit)
    result = sightline("import", str(tmp_path / "good.json"))
    monkeypatch.undo()
    assert result.exit_code == 1
    assert "database error (OperationalError); nothing stored" in result.output
    assert count(Recording) == 0
    assert blob_files() == []


def test_unknown_team_and_unknown_session_are_clear_errors(sightline, tmp_path):
    (tmp_path / "good.json").write_bytes(orjson.dumps(session_events()))
    result = sightline("import", str(tmp_path / "good.json"), "--team", "99")
    assert result.exit_code == 2 and "team 99 does not exist" in result.output
    result = sightline("timeline", "nope")
    assert result.exit_code == 2 and "no recording 'nope'" in result.output
    result = sightline("import", str(tmp_path / "missing.json"))
    assert result.exit_code == 2 and "no such file or folder" in result.output


def test_commands_before_init_say_to_run_init(sightline_home, monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'fresh.db'}")
    get_settings.cache_clear()
    result = CliRunner().invoke(app, ["recordings", "list"])
    assert result.exit_code == 2
    assert "run `sightline init` first" in result.output


def test_timeline_prints_the_stored_recording(sightline, tmp_path):
    (tmp_path / "shop.json").write_bytes(orjson.dumps(session_events(count=5)))
    sightline("import", str(tmp_path / "shop.json"))
    result = sightline("timeline", "shop")
    assert result.exit_code == 0
    assert "[t=0] open /" in result.output
    assert 'click button#go "Hello" ×3' in result.output


def test_gzipped_and_posthog_jsonl_files_import_through_the_cli(sightline, tmp_path):
    import gzip

    from pipeline.intake import encode_compressed

    events = session_events()
    (tmp_path / "plain.json.gz").write_bytes(gzip.compress(orjson.dumps(events)))
    compressed = [
        {**event, "cv": "2024-10", "data": encode_compressed(event["data"])} if event["type"] == 2 else event
        for event in events
    ]
    lines = [orjson.dumps(["window-1", event]) for event in compressed]
    (tmp_path / "blob.jsonl").write_bytes(b"\n".join(lines))
    result = sightline("import", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "2 imported" in result.output
    timeline = sightline("timeline", "blob")
    assert 'click button#go "Hello"' in timeline.output


def test_init_outside_make_uses_dot_sightline_and_ignores_unprefixed_names(tmp_path):
    """HOME is the user's home folder, not ours: `init` in an empty folder creates ./.sightline."""
    import os
    import subprocess
    import sys

    folder, home = tmp_path / "project", tmp_path / "x"
    folder.mkdir()
    home.mkdir()
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("SIGHTLINE_") and key not in ("DATABASE_URL", "REDIS_URL")
    }
    environment.update(HOME=str(home), LOG_LEVEL="DEBUG", SITE_URL="http://elsewhere", EMBEDDINGS="gemini")
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "init"],
        cwd=folder,
        env=environment,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert (folder / ".sightline" / "sightline.db").is_file()
    assert not (home / "sightline.db").exists() and not (home / "blobs").exists()
    assert f"Data folder: {folder / '.sightline'}" in done.stdout
