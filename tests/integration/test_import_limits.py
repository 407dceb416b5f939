"""Bad input loses nothing else: bad events are skipped and counted, bombs are refused within bounds."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import zlib
from pathlib import Path

import orjson
import pytest
from sqlmodel import select

import integrations.recording_files as recording_files
from actors.broker import process_deps
from integrations.blobstore import LocalBlobStore
from integrations.storage import database
from models import Recording
from models.queries import ensure_defaults
from services import recordings
from settings import get_settings
from tests.integration.test_import_cli import blob_files, count, session_events
from tests.support import migrated

pytestmark = pytest.mark.db
ROOT = Path(__file__).resolve().parents[2]
MB = 2**20


def stored(session_id: str) -> Recording:
    with database(get_settings()).sessions() as session:
        return session.exec(select(Recording).where(Recording.session_id == session_id)).one()


def test_a_bad_event_a_broken_line_and_a_lone_surrogate_cost_only_themselves(sightline, tmp_path):
    good = session_events(count=10)
    lines = [orjson.dumps(["w1", event]) for event in good]
    lines.insert(3, orjson.dumps(["w1", {"type": 3, "data": {"source": 2}}]))  # no timestamp
    lines.insert(5, b'["w1", {"type": 3, "timestamp": 17000000')  # cut mid-line
    lines.append(b'["w1", {"type": 5, "timestamp": 1700000009500, "data": {"tag": "caf\\ud83d"}}]')
    path = tmp_path / "damaged.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")

    result = sightline("import", str(path))

    assert result.exit_code == 0, result.output
    assert (
        "imported  " in result.output
        and "(2 events skipped: 1 broken JSONL line, 1 without a timestamp; invalid text mended in 1 events)"
        in result.output
    )
    row = stored("damaged")
    assert (row.event_count, row.skipped_events) == (11, 2)
    assert row.intake["skipped"] == {"without a timestamp": 1, "broken JSONL line": 1}
    assert row.custom_events == ["caf\ufffd"]
    timeline = sightline("timeline", "damaged")
    assert "Note: 2 unusable events were skipped at import (1 broken JSONL line, 1 without a timestamp)" in (
        timeline.output
    )


def test_a_file_with_nothing_usable_fails_and_stores_nothing(sightline, tmp_path):
    path = tmp_path / "junk.json"
    path.write_bytes(b'[1, "two", {"type": 3}]')
    result = sightline("import", str(path))
    assert result.exit_code == 1
    assert "the recording holds no usable events (2 not an object, 1 without a timestamp)" in result.output
    assert count(Recording) == 0 and blob_files() == []


# Measures its child from a small process of its own: a child forked from pytest would count pytest's
# pages in its peak (vfork shares them until exec).
_MEASURE = (
    "import os, subprocess, sys\n"
    "child = subprocess.Popen(sys.argv[1:])\n"
    "_, status, usage = os.wait4(child.pid, 0)\n"
    "print(f'exit={os.waitstatus_to_exitcode(status)} peak_kb={usage.ru_maxrss}')\n"
)


def run_import(path: Path, home: Path, **limits: str) -> tuple[int, str, float]:
    """`sightline import` in its own process: (exit status, output, peak RSS in MB)."""
    environment = {**os.environ, "SIGHTLINE_HOME": str(home), **limits}
    command = [sys.executable, "-c", _MEASURE, sys.executable, "-m", "cli.main", "import", str(path)]
    finished = subprocess.run(
        command, cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    output = finished.stdout
    summary = output.rsplit("\n", 2)[-2]
    exit_status, peak_kb = (int(part.split("=")[1]) for part in summary.split())
    return exit_status, output, peak_kb / 1024


def zeros_gzip(path: Path, size: int) -> None:
    """A gzip file that inflates to `size` zero bytes (about a thousand times its own size): one
    compressed megabyte written as many gzip members, which a reader inflates back to back."""
    member = gzip.compress(b"0" * MB, compresslevel=6)
    with path.open("wb") as out:
        for _ in range(size // MB):
            out.write(member)


def test_a_gzip_bomb_file_is_refused_with_bounded_memory_and_nothing_written(
    sightline, sightline_home, tmp_path
):
    bomb = tmp_path / "bomb.json.gz"
    zeros_gzip(bomb, 1024 * MB)  # 1 GB inflated, about 1 MB on disk
    assert bomb.stat().st_size < 5 * MB

    status, output, peak_mb = run_import(bomb, sightline_home, SIGHTLINE_MAX_RECORDING_BYTES=str(48 * MB))

    assert status == 1
    assert (
        "the .gz file inflates past the 48 MB limit (SIGHTLINE_MAX_RECORDING_BYTES); nothing was stored"
        in output
    )
    assert peak_mb < 400, f"peak RSS {peak_mb:.0f} MB while refusing a 1 GB bomb"
    assert count(Recording) == 0
    assert [path for path in get_settings().home.rglob("*") if path.is_file() and "blobs" in path.parts] == []


def test_a_compressed_event_bomb_is_skipped_with_bounded_memory(sightline, sightline_home, tmp_path):
    events = session_events(count=10)
    packer = zlib.compressobj(1, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    chunk = b"0" * MB
    inflated = b"".join([packer.compress(b'{"x": "'), *(packer.compress(chunk) for _ in range(512))])
    inflated += packer.compress(b'"}') + packer.flush()
    bomb = {
        "type": 2,
        "timestamp": events[2]["timestamp"] + 1,
        "cv": "2024-10",
        "data": inflated.decode("latin-1"),
    }
    path = tmp_path / "cv-bomb.json"
    path.write_bytes(orjson.dumps([*events[:3], bomb, *events[3:]]))
    del inflated

    status, output, peak_mb = run_import(path, sightline_home, SIGHTLINE_MAX_EVENT_BYTES=str(16 * MB))

    assert status == 0, output
    assert "1 events skipped: 1 whose compressed payload inflates past the 16 MB per-event limit" in output
    assert peak_mb < 300, f"peak RSS {peak_mb:.0f} MB while skipping a 512 MB event"
    assert stored("cv-bomb").event_count == 10


def test_a_file_over_the_recording_limit_is_refused_before_it_is_read(sightline, tmp_path, monkeypatch):
    path = tmp_path / "big.json"
    path.write_bytes(orjson.dumps(session_events(count=15_000)))
    monkeypatch.setenv("SIGHTLINE_MAX_RECORDING_BYTES", str(MB))
    get_settings.cache_clear()
    result = sightline("import", str(path))
    assert result.exit_code == 1
    assert (
        "big.json: the file is 1.2 MB, over the 1 MB limit (SIGHTLINE_MAX_RECORDING_BYTES)" in result.output
    )


@pytest.fixture
def import_file(sightline_home, database_url, monkeypatch):
    """Imports a file through a streaming threshold so tiny that small files take the large-file path."""
    from models.migrate import upgrade

    monkeypatch.setenv("DATABASE_URL", database_url)
    get_settings.cache_clear()
    deps = process_deps(get_settings())
    migrated.copy_to(database_url)  # at head already (tests/support/migrated.py)
    upgrade(database(deps.settings).engine)
    with deps.transaction() as session:
        team_id = ensure_defaults(session)[1].id
    monkeypatch.setattr(recording_files, "STREAM_ABOVE_BYTES", 512)
    return lambda path: recordings.import_file(deps, team_id, path)


@pytest.mark.parametrize(
    "shape",
    [
        lambda events: orjson.dumps(events),
        lambda events: orjson.dumps({"result": events}),
        lambda events: b"\n".join(orjson.dumps(["w1", event]) for event in events),
    ],
    ids=["array", "result-object", "jsonl"],
)
def test_a_streamed_file_stores_the_same_events_as_a_file_read_whole(import_file, tmp_path, shape):
    events = [{**event, "sessionId": "streamed"} for event in session_events(count=50)]
    path = tmp_path / "large.json"
    path.write_bytes(shape(events))
    result = import_file(path)
    assert (result.status, result.events_added) == ("imported", 50), result.message
    row = stored(result.session_id)
    assert row.event_count == 50 and row.click_count == 48
    stored_events = LocalBlobStore(get_settings().blob_dir).read(row.blob_ref)
    assert [event["timestamp"] for event in stored_events] == [event["timestamp"] for event in events]


def test_a_streamed_file_cut_short_keeps_what_came_before(import_file, tmp_path):
    raw = orjson.dumps(session_events(count=3000))
    path = tmp_path / "cut.json"
    path.write_bytes(raw[: len(raw) // 2])
    result = import_file(path)
    assert result.status == "imported", result.message
    assert (
        "the file breaks after event" in result.detail and "the events before it were kept" in result.detail
    )
    assert 1000 < stored("cut").event_count < 1500


def test_a_reimport_adds_only_new_events_and_keeps_the_skip_history(import_file, tmp_path):
    first, second = tmp_path / "s.json", tmp_path / "later" / "s.json"
    second.parent.mkdir()
    events = session_events(count=20)
    first.write_bytes(orjson.dumps([*events[:12], {"type": 3}]))
    second.write_bytes(orjson.dumps([*events[8:], "junk"]))
    assert import_file(first).status == "imported"
    result = import_file(second)
    assert (result.status, result.events_added) == ("updated", 8)
    assert "4 already stored" in result.detail
    row = stored("s")
    assert (row.event_count, row.skipped_events) == (20, 2)


def test_a_full_blob_folder_fails_the_import_naming_the_folder_and_stores_nothing(
    sightline, tmp_path, monkeypatch
):
    import errno
    from unittest import mock

    import integrations.blobstore as blobstore

    path = tmp_path / "full.json"
    path.write_bytes(orjson.dumps(session_events(count=10)))
    full = OSError(errno.ENOSPC, "No space left on device")
    with mock.patch.object(blobstore, "compress_lines", side_effect=full):  # the disk fills mid-write
        result = sightline("import", str(path))
    assert result.exit_code == 1
    assert "cannot write to " in result.output and "No space left on device" in result.output
    assert "cannot read the file" not in result.output
    assert count(Recording) == 0 and blob_files() == []
