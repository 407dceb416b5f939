"""`blob_store(settings)`: SIGHTLINE_BLOB_URL picks the adapter, and a setting it cannot use is said
plainly, without echoing a credential."""

from __future__ import annotations

import pytest

from integrations.blobstore import LocalBlobStore, blob_store
from pipeline.errors import ConfigurationError
from settings import Settings

S3 = {
    "SIGHTLINE_S3_ENDPOINT_URL": "http://127.0.0.1:9",
    "SIGHTLINE_S3_ACCESS_KEY_ID": "test-access-key",
    "SIGHTLINE_S3_SECRET_ACCESS_KEY": "test-secret-key",
}


def test_unset_means_the_blobs_folder_of_the_data_folder(tmp_path):
    store = blob_store(Settings(SIGHTLINE_HOME=str(tmp_path)))
    assert isinstance(store, LocalBlobStore)
    assert store.root == tmp_path / "blobs" and store.location == str(tmp_path / "blobs")


def test_an_s3_url_means_that_bucket_and_prefix():
    store = blob_store(Settings(SIGHTLINE_BLOB_URL="s3://recordings/prod/sightline/", **S3))
    assert store.location == "s3://recordings/prod/sightline"
    assert (store.bucket, store.prefix) == ("recordings", "prod/sightline/")
    assert blob_store(Settings(SIGHTLINE_BLOB_URL="s3://recordings", **S3)).location == "s3://recordings"


@pytest.mark.parametrize(
    ("settings", "says"),
    [
        (
            {"SIGHTLINE_BLOB_URL": "gs://recordings/prod"},
            "the scheme 'gs', which is not supported: use s3://",
        ),
        ({"SIGHTLINE_BLOB_URL": "/srv/blobs"}, "the scheme 'none', which is not supported"),
        ({"SIGHTLINE_BLOB_URL": "s3://"}, "must look like s3://bucket/prefix"),
        ({"SIGHTLINE_BLOB_URL": "s3://key:hunter2@recordings"}, "never in the URL"),
        (
            {"SIGHTLINE_BLOB_URL": "s3://recordings", "SIGHTLINE_S3_ENDPOINT_URL": "minio:9000"},
            "must be an http:// or https:// URL",
        ),
        (
            {"SIGHTLINE_BLOB_URL": "s3://recordings", "SIGHTLINE_S3_ACCESS_KEY_ID": "only-the-id"},
            "set both SIGHTLINE_S3_ACCESS_KEY_ID and SIGHTLINE_S3_SECRET_ACCESS_KEY, or neither",
        ),
    ],
)
def test_a_setting_it_cannot_use_is_a_configuration_error(settings, says, monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigurationError) as caught:
        blob_store(Settings(**settings))
    assert says in str(caught.value)
    assert "hunter2" not in str(caught.value)
