"""Recording blobs in S3-compatible object storage (AWS S3, MinIO, Cloudflare R2, …).

The refs are the folder's, as keys under the URL's prefix: with `s3://recordings/prod` the blob
`3/ab…-cd….jsonl.gz` is the object `prod/3/ab…-cd….jsonl.gz` of the bucket `recordings`. A write
compresses into a spooled temporary file (memory up to `SPOOL_BYTES`, then disk) and uploads it once
complete (in parts past 5 MiB), so an object appears whole or not at all and a failed write leaves
nothing. A read streams the object through gzip.

The client is MinIO's (`minio`), not boto3: botocore requires python-dateutil < 3 and the scheduler
needs dateutil 4. Library errors are translated here, once: a missing key is `BlobMissing`; a
refused connection, a timeout or a 5xx (after a few quick retries) is `BlobStoreUnavailable`; any
other refusal (no such bucket, a wrong key) is a `ConfigurationError`.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING, BinaryIO, cast
from urllib.parse import urlsplit

import certifi
import urllib3
from minio import Minio
from minio.credentials import AWSConfigProvider, ChainedProvider, IamAwsProvider
from minio.error import MinioException, S3Error

from integrations.blobstore import BlobStore, blob_ref, compress_lines, decompressed_lines
from pipeline.errors import BlobMissing, BlobStoreUnavailable, ConfigurationError

if TYPE_CHECKING:
    from settings import Settings

SPOOL_BYTES = 8 * 2**20
CONNECT_TIMEOUT_S, READ_TIMEOUT_S = 5.0, 60.0
MISSING = {"NoSuchKey", "NotFound"}


class S3BlobStore(BlobStore):
    """Objects of `bucket` under `prefix`, through a `Minio` client."""

    def __init__(self, client: Minio, bucket: str, prefix: str = ""):
        self.client, self.bucket = client, bucket
        self.prefix = f"{prefix.strip('/')}/" if prefix.strip("/") else ""
        self.location = f"s3://{bucket}/{self.prefix}".rstrip("/")

    def write_lines(self, team_id: int, session_id: str, lines: Iterable[bytes]) -> tuple[str, int]:
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
            content_hash, size = compress_lines(lines, spool)
            ref = blob_ref(team_id, session_id, content_hash)
            length = spool.tell()
            spool.seek(0)
            with self._translated("write", ref):
                self.client.put_object(
                    self.bucket,
                    self._key(ref),
                    cast(BinaryIO, spool),
                    length,
                    content_type="application/gzip",
                )
        return ref, size

    def lines(self, ref: str) -> Iterator[bytes]:
        with self._translated("read", ref):
            response = self.client.get_object(self.bucket, self._key(ref))
        try:
            yield from decompressed_lines(ref, cast(IO[bytes], response))  # read forward only
        except urllib3.exceptions.HTTPError as exc:  # the connection broke midway
            raise self._unavailable("read", ref, type(exc).__name__) from exc
        finally:
            response.close()
            response.release_conn()

    def put(self, ref: str, data: bytes) -> None:
        with self._translated("write", ref):
            self.client.put_object(
                self.bucket, self._key(ref), io.BytesIO(data), len(data), content_type="application/gzip"
            )

    def get(self, ref: str) -> bytes:
        with self._translated("read", ref):
            response = self.client.get_object(self.bucket, self._key(ref))
            try:
                return response.read()
            finally:
                response.close()
                response.release_conn()

    def delete(self, ref: str) -> None:
        try:
            with self._translated("delete", ref):
                self.client.remove_object(self.bucket, self._key(ref))
        except BlobMissing:
            pass

    def exists(self, ref: str) -> bool:
        try:
            with self._translated("look up", ref):
                self.client.stat_object(self.bucket, self._key(ref))
        except BlobMissing:
            return False
        return True

    def refs(self, prefix: str = "") -> Iterator[str]:
        with self._translated("list", prefix):
            for found in self.client.list_objects(self.bucket, prefix=self._key(prefix), recursive=True):
                yield found.object_name.removeprefix(self.prefix)

    def _key(self, ref: str) -> str:
        return self.prefix + ref

    @contextmanager
    def _translated(self, action: str, ref: str) -> Iterator[None]:
        """Raise our errors for the client's, once, here (see the module docstring)."""
        try:
            yield
        except S3Error as exc:
            if exc.code in MISSING:
                raise BlobMissing(ref, self.location) from exc
            status = exc.response.status if exc.response is not None else 0
            if status >= 500:
                raise self._unavailable(action, ref, exc.code) from exc
            raise ConfigurationError(
                f"{self.location} refused to {action} {ref!r} ({exc.code}); check SIGHTLINE_BLOB_URL, "
                "that the bucket exists and that the S3 credentials may use it"
            ) from exc
        except (MinioException, urllib3.exceptions.HTTPError) as exc:  # 5xx without XML, no answer
            raise self._unavailable(action, ref, type(exc).__name__) from exc
        except ValueError as exc:  # no credentials found, say
            raise ConfigurationError(f"{self.location} could not {action} {ref!r}: {exc}") from exc

    def _unavailable(self, action: str, ref: str, what: str | None) -> BlobStoreUnavailable:
        return BlobStoreUnavailable(
            f"{self.location} did not {action} {ref!r} ({what}); it is retried later", self.location
        )


def s3_blob_store(url: str, settings: Settings) -> S3BlobStore:
    """The store of `s3://bucket/prefix` with the S3 settings. Raises `ConfigurationError`."""
    parts = urlsplit(url)
    if not parts.netloc or "@" in parts.netloc:
        raise ConfigurationError(
            "SIGHTLINE_BLOB_URL must look like s3://bucket/prefix (credentials go in "
            "SIGHTLINE_S3_ACCESS_KEY_ID and SIGHTLINE_S3_SECRET_ACCESS_KEY, never in the URL)"
        )
    return S3BlobStore(s3_client(settings), parts.netloc, parts.path)


def s3_client(settings: Settings) -> Minio:
    """A client for SIGHTLINE_S3_ENDPOINT_URL (AWS when unset) with the configured credentials, or
    else those of the AWS config file or the instance's role. Raises `ConfigurationError`."""
    endpoint = urlsplit(settings.s3_endpoint_url or "https://s3.amazonaws.com")
    if endpoint.scheme not in ("http", "https") or not endpoint.netloc:
        raise ConfigurationError("SIGHTLINE_S3_ENDPOINT_URL must be an http:// or https:// URL")
    secret = settings.s3_secret_access_key
    if bool(settings.s3_access_key_id) != bool(secret):
        raise ConfigurationError(
            "set both SIGHTLINE_S3_ACCESS_KEY_ID and SIGHTLINE_S3_SECRET_ACCESS_KEY, or neither"
        )
    try:
        return Minio(
            endpoint.netloc,
            access_key=settings.s3_access_key_id,
            secret_key=secret.get_secret_value() if secret else None,
            secure=endpoint.scheme == "https",
            # Another endpoint is rarely region-aware: sign for us-east-1 rather than ask the bucket.
            region=settings.s3_region or ("us-east-1" if settings.s3_endpoint_url else None),
            credentials=None if secret else ChainedProvider([AWSConfigProvider(), IamAwsProvider()]),
            http_client=http_client(),
        )
    except ValueError as exc:  # the client's own check of the endpoint
        raise ConfigurationError(f"the S3 settings are not usable: {exc}") from exc


def http_client(retries: int = 3) -> urllib3.PoolManager:
    """Short timeouts and a few quick retries of a 5xx: a stuck store should fail one attempt (the
    observation is retried later), not hold a worker for the client's default five minutes."""
    return urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=CONNECT_TIMEOUT_S, read=READ_TIMEOUT_S),
        maxsize=10,
        cert_reqs="CERT_REQUIRED",
        ca_certs=certifi.where(),
        retries=urllib3.Retry(total=retries, backoff_factor=0.2, status_forcelist=[500, 502, 503, 504]),
    )
