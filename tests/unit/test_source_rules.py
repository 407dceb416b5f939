"""Recording sources, the pure parts: what is finished, how far the watermark moves, which hosts
and keys are accepted, and how PostHog's snapshot sources and Retry-After are read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from integrations.posthog import DEFAULT_RETRY_AFTER_S, MAX_RETRY_AFTER_S, retry_after_s, snapshot_requests
from models import utcnow
from pipeline.errors import InvalidField
from pipeline.sources import RemoteRecording, Watermark, check_api_key, check_host, is_finished, mask_key

T = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
SETTLE = timedelta(minutes=35)


def recording(session_id: str, minute: int, ongoing: bool = False) -> RemoteRecording:
    start = T + timedelta(minutes=minute)
    return RemoteRecording(session_id, start, start + timedelta(minutes=2), ongoing)


def test_a_recording_is_finished_when_not_live_and_quiet_for_the_settle_interval():
    done = recording("a", 0)
    assert is_finished(done, done.end_time + SETTLE, SETTLE)
    assert not is_finished(done, done.end_time + SETTLE - timedelta(seconds=1), SETTLE)
    assert not is_finished(recording("b", 0, ongoing=True), T + timedelta(days=1), SETTLE)


def test_the_watermark_moves_past_taken_recordings_until_one_is_held():
    watermark = Watermark(T - timedelta(days=3), "")
    first, live, after = recording("a", 0), recording("b", 1), recording("c", 2)
    watermark.take(first)
    watermark.hold()  # b is still being recorded
    watermark.take(after)
    assert watermark.position == first.position
    assert not watermark.is_after(first) and watermark.is_after(live) and watermark.is_after(after)


def test_recordings_starting_in_the_same_instant_are_ordered_by_id():
    watermark = Watermark(T, "m")
    assert watermark.is_after(RemoteRecording("n", T, T)) and not watermark.is_after(
        RemoteRecording("a", T, T)
    )


@pytest.mark.parametrize(
    ("given", "origin"),
    [
        ("https://US.PostHog.com/", "https://us.posthog.com"),
        (" https://eu.posthog.com ", "https://eu.posthog.com"),
        ("http://127.0.0.1:8010", "http://127.0.0.1:8010"),
        ("http://[::1]:8000", "http://[::1]:8000"),
    ],
)
def test_hosts_are_origins(given, origin):
    assert check_host(given) == origin


@pytest.mark.parametrize(
    "given",
    ["us.posthog.com", "ftp://x", "https://user:pw@x.example", "https://x.example/api", "https://x:99999"],
)
def test_other_hosts_are_refused(given):
    with pytest.raises(InvalidField):
        check_host(given)


def test_keys_are_masked_and_refusals_never_repeat_them():
    key = "phx_" + "s3cr3t" * 7 + "WXYZ"
    assert check_api_key(f" {key}\n") == key and mask_key(key) == "phx_…WXYZ"
    for bad in ("phc_" + "s3cr3t" * 7, "phx_short", "phx_ has spaces in the middle"):
        with pytest.raises(InvalidField) as refused:
            check_api_key(bad)
        assert bad not in str(refused.value) and bad[4:] not in str(refused.value)


def test_snapshot_sources_become_blob_ranges_of_at_most_twenty_or_the_persisted_blob():
    blocks = [{"source": "blob_v2", "blob_key": str(key)} for key in [*range(25), 27, 28]]
    assert snapshot_requests(blocks) == [
        {"source": "blob_v2", "start_blob_key": "0", "end_blob_key": "19"},
        {"source": "blob_v2", "start_blob_key": "20", "end_blob_key": "24"},
        {"source": "blob_v2", "start_blob_key": "27", "end_blob_key": "28"},
    ]
    persisted = [{"source": "blob_v2_lts", "blob_key": "session_recordings/lts/abc"}]
    assert snapshot_requests(persisted) == [
        {"source": "blob_v2_lts", "blob_key": "session_recordings/lts/abc"}
    ]
    assert snapshot_requests([{"source": "realtime"}, {"source": "blob_v2", "blob_key": None}]) == []


def test_retry_after_reads_seconds_or_a_date_within_bounds():
    assert retry_after_s("17") == 17
    assert retry_after_s(None) == retry_after_s("soon") == DEFAULT_RETRY_AFTER_S
    assert retry_after_s("0") == 1 and retry_after_s("86400") == MAX_RETRY_AFTER_S
    in_two_minutes = format_datetime(utcnow() + timedelta(minutes=2), usegmt=True)
    assert 100 < retry_after_s(in_two_minutes) <= 120
