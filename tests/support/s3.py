"""S3 for tests: the fake S3 server (`integrations.fake_s3`), one per test, with a bucket of its own.

`s3_env` is what points Sightline's blob store at it: SIGHTLINE_BLOB_URL and the S3 settings, with
dummy credentials (the fake checks none). Pass it to `Settings(**s3_env)`, `build_world(…, **s3_env)`
or `monkeypatch.setenv`. Registered in tests/integration/conftest.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from integrations.fake_s3 import FakeS3

# Small pages, so every listing in a test also walks ListObjectsV2's continuation tokens.
PAGE_SIZE = 3


@pytest.fixture
def fake_s3() -> Iterator[FakeS3]:
    with FakeS3(page_size=PAGE_SIZE) as fake:
        yield fake


@pytest.fixture
def s3_bucket(fake_s3: FakeS3) -> str:
    name = f"sightline-{uuid.uuid4().hex[:12]}"
    fake_s3.create_bucket(name)
    return name


@pytest.fixture
def s3_env(fake_s3: FakeS3, s3_bucket: str) -> dict[str, str]:
    """The settings (as environment variables) of a blob store in this test's bucket, prefix `recordings`."""
    return {
        "SIGHTLINE_BLOB_URL": f"s3://{s3_bucket}/recordings",
        "SIGHTLINE_S3_ENDPOINT_URL": fake_s3.url,
        "SIGHTLINE_S3_REGION": "us-east-1",
        "SIGHTLINE_S3_ACCESS_KEY_ID": "test-access-key",
        "SIGHTLINE_S3_SECRET_ACCESS_KEY": "test-secret-key",
    }
