"""The blob store port's contract, kept by both adapters: the folder, and S3 through the real MinIO
client talking to the fake S3 server (tests/support/s3.py)."""

from __future__ import annotations

import gzip
import os
from collections.abc import Callable
from dataclasses import dataclass
from itertools import islice

import orjson
import pytest
from minio import Minio

from integrations.blobstore import BlobStore, LocalBlobStore, blob_store
from integrations.fake_s3 import FakeS3
from integrations.s3_blobs import S3BlobStore, http_client
from pipeline.errors import BlobMissing, BlobStoreUnavailable, ConfigurationError, TransientError
from settings import Settings

EVENTS = [
    {"type": 4, "timestamp": 1000 + i, "data": {"href": f"https://shop.example/{i}"}} for i in range(50)
]


@dataclass
class Adapter:
    store: BlobStore
    stored: Callable[[], list[str]]  # every name the backend holds, temporary ones and uploads included
    put_raw: Callable[[str, bytes], None]  # a blob's bytes under a ref, bypassing the store


def local_adapter(tmp_path) -> Adapter:
    root = tmp_path / "blobs"

    def put_raw(ref: str, data: bytes) -> None:
        (root / ref).parent.mkdir(parents=True, exist_ok=True)
        (root / ref).write_bytes(data)

    def stored() -> list[str]:
        return sorted(path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file())

    return Adapter(LocalBlobStore(root), stored, put_raw)


def s3_adapter(fake: FakeS3, bucket: str, env: dict[str, str]) -> Adapter:
    store = blob_store(Settings(**env))
    assert isinstance(store, S3BlobStore)

    def put_raw(ref: str, data: bytes) -> None:
        fake.put(bucket, f"recordings/{ref}", data)

    return Adapter(store, lambda: fake.keys(bucket) + list(fake.uploads), put_raw)


@pytest.fixture(params=["local", "s3"])
def adapter(request, tmp_path) -> Adapter:
    if request.param == "local":
        return local_adapter(tmp_path)
    fake, bucket = request.getfixturevalue("fake_s3"), request.getfixturevalue("s3_bucket")
    return s3_adapter(fake, bucket, request.getfixturevalue("s3_env"))


def test_events_come_back_as_written_one_encoded_event_per_line(adapter):
    ref, size = adapter.store.write(7, "session-1", EVENTS)
    assert ref.startswith("7/") and ref.endswith(".jsonl.gz")
    assert adapter.store.read(ref) == EVENTS
    assert list(adapter.store.lines(ref)) == [orjson.dumps(event) for event in EVENTS]
    assert size == sum(len(orjson.dumps(event)) + 1 for event in EVENTS)


def test_lines_stream_both_ways(adapter):
    produced = []

    def lines():
        for event in EVENTS:
            produced.append(event)
            yield orjson.dumps(event)

    ref, _ = adapter.store.write_lines(7, "session-1", lines())
    assert len(produced) == len(EVENTS)
    assert [orjson.loads(line) for line in islice(adapter.store.lines(ref), 3)] == EVENTS[:3]


def test_two_writes_of_the_same_events_get_two_refs(adapter):
    first, _ = adapter.store.write(7, "session-1", EVENTS)
    second, _ = adapter.store.write(7, "session-1", EVENTS)
    assert first != second
    adapter.store.delete(first)
    assert adapter.store.read(second) == EVENTS


def test_a_write_whose_events_fail_midway_leaves_nothing_behind(adapter):
    def lines():
        yield orjson.dumps(EVENTS[0])
        raise RuntimeError("the source broke")

    with pytest.raises(RuntimeError, match="the source broke"):
        adapter.store.write_lines(7, "session-1", lines())
    assert adapter.stored() == []
    assert list(adapter.store.refs()) == []


def test_a_missing_ref_raises_blob_missing_naming_it_and_the_store(adapter):
    with pytest.raises(BlobMissing) as caught:
        adapter.store.read("7/never-written.jsonl.gz")
    assert caught.value.ref == "7/never-written.jsonl.gz"
    assert str(caught.value) == f"blob 7/never-written.jsonl.gz is missing from {adapter.store.location}"
    assert isinstance(caught.value, FileNotFoundError) and isinstance(caught.value, TransientError)


def test_exists_and_delete_and_deleting_what_is_gone_is_fine(adapter):
    ref, _ = adapter.store.write(7, "session-1", EVENTS)
    assert adapter.store.exists(ref)
    adapter.store.delete(ref)
    adapter.store.delete(ref)
    adapter.store.delete("7/never-written.jsonl.gz")
    assert not adapter.store.exists(ref)
    assert adapter.stored() == []


def test_refs_lists_every_blob_under_a_prefix(adapter):
    written = {
        team: [adapter.store.write(team, f"session-{i}", EVENTS[:2])[0] for i in range(count)]
        for team, count in ((1, 4), (12, 2), (2, 1))
    }
    assert sorted(adapter.store.refs("1/")) == sorted(written[1])
    assert sorted(adapter.store.refs("1")) == sorted(written[1] + written[12])
    assert sorted(adapter.store.refs()) == sorted(ref for refs in written.values() for ref in refs)
    assert list(adapter.store.refs("3/")) == []


def test_put_keeps_bytes_beside_a_blob_under_the_ref_given_replacing_them_and_get_reads_them(adapter):
    ref, _ = adapter.store.write(7, "session-1", EVENTS[:2])
    adapter.store.put(f"{ref}.analysis", b"first")
    adapter.store.put(f"{ref}.analysis", b"second")
    assert adapter.store.get(f"{ref}.analysis") == b"second"
    assert sorted(adapter.store.refs("7/")) == sorted([ref, f"{ref}.analysis"])
    assert len(adapter.stored()) == 2  # no temporary file left behind
    adapter.store.delete(f"{ref}.analysis")
    with pytest.raises(BlobMissing):
        adapter.store.get(f"{ref}.analysis")


def test_a_legacy_json_array_blob_is_still_read(adapter):
    adapter.put_raw("5/legacy.json.gz", gzip.compress(orjson.dumps(EVENTS)))
    assert adapter.store.read("5/legacy.json.gz") == EVENTS
    assert list(adapter.store.refs("5/")) == ["5/legacy.json.gz"]


def test_a_blob_past_the_part_size_is_uploaded_in_parts_and_read_back(fake_s3, s3_bucket, s3_env):
    adapter = s3_adapter(fake_s3, s3_bucket, s3_env)
    events = [{"timestamp": i, "noise": os.urandom(3000).hex()} for i in range(2000)]  # ~7 MiB gzipped
    ref, _ = adapter.store.write(7, "big", events)
    assert adapter.store.read(ref) == events
    assert adapter.stored() == [f"recordings/{ref}"]


def test_a_multipart_upload_the_store_refuses_midway_is_aborted(fake_s3, s3_bucket, s3_env):
    adapter = s3_adapter(fake_s3, s3_bucket, s3_env)
    events = [{"timestamp": i, "noise": os.urandom(3000).hex()} for i in range(2000)]
    fake_s3.script(200, 403)  # the upload starts, then its first part is refused
    with pytest.raises(ConfigurationError, match="refused to write"):
        adapter.store.write(7, "big", events)
    assert adapter.stored() == []


def unanswered_store(endpoint: str, bucket: str) -> S3BlobStore:
    """A store whose client does not retry, so a failure shows at once."""
    client = Minio(
        endpoint,
        access_key="test-access-key",
        secret_key="test-secret-key",
        secure=False,
        region="us-east-1",
        http_client=http_client(retries=0),
    )
    return S3BlobStore(client, bucket, "recordings")


def test_a_store_that_fails_on_its_side_is_transient(fake_s3, s3_bucket):
    store = unanswered_store(fake_s3.url.removeprefix("http://"), s3_bucket)
    fake_s3.script(503, 500)
    with pytest.raises(BlobStoreUnavailable, match=f"s3://{s3_bucket}/recordings did not look up"):
        store.exists("7/a.jsonl.gz")
    with pytest.raises(BlobStoreUnavailable):
        store.read("7/a.jsonl.gz")
    assert not store.exists("7/a.jsonl.gz")


def test_a_store_nobody_answers_is_transient(fake_s3, s3_bucket):
    endpoint = fake_s3.url.removeprefix("http://")
    fake_s3.stop()
    store = unanswered_store(endpoint, s3_bucket)
    with pytest.raises(BlobStoreUnavailable) as caught:
        store.write(7, "session-1", EVENTS)
    assert isinstance(caught.value, TransientError)
    with pytest.raises(BlobStoreUnavailable):
        list(store.refs())


def test_one_5xx_is_retried_by_the_client(fake_s3, s3_bucket, s3_env):
    adapter = s3_adapter(fake_s3, s3_bucket, s3_env)
    ref, _ = adapter.store.write(7, "session-1", EVENTS)
    fake_s3.script(503)
    assert adapter.store.read(ref) == EVENTS


def test_a_bucket_that_does_not_exist_is_a_configuration_error(fake_s3, s3_env):
    store = blob_store(Settings(**{**s3_env, "SIGHTLINE_BLOB_URL": "s3://no-such-bucket/recordings"}))
    with pytest.raises(ConfigurationError, match=r"no-such-bucket.*NoSuchBucket.*the bucket exists"):
        store.write(7, "session-1", EVENTS)
