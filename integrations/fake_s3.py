"""A fake S3 on 127.0.0.1 for tests and benchmarks: the REST shapes the blob store uses, in memory.

Path-style requests (`/bucket/key`), as S3 clients send them to a custom endpoint: CreateBucket,
PutObject, GetObject, HeadObject, DeleteObject, ListObjectsV2 (pages of `page_size` keys) and the
multipart upload calls (create, upload part, complete, abort). Errors are S3's XML (`NoSuchKey`,
`NoSuchBucket`); signatures are not checked. `script(200, 503, …)` answers the next requests with
those statuses (200: as usual), to try failures. Point `SIGHTLINE_S3_ENDPOINT_URL` at `FakeS3.url`.
"""

from __future__ import annotations

import contextlib
import hashlib
import socket
import threading
import uuid
import xml.etree.ElementTree as ET
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, unquote, urlsplit

from integrations.fake_server import LocalServer
from models.base import utcnow

NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/"
_ERRORS = {400: "InvalidRequest", 403: "AccessDenied", 500: "InternalError", 503: "SlowDown"}

Reply = tuple[int, dict[str, str], bytes]


@dataclass(frozen=True)
class StoredObject:
    data: bytes
    etag: str
    modified: datetime


@dataclass
class FakeS3(LocalServer):
    name = "fake-s3"

    page_size: int = 1000
    buckets: dict[str, dict[str, StoredObject]] = field(default_factory=dict)
    uploads: dict[str, dict[int, bytes]] = field(default_factory=dict)  # multipart uploads in progress

    def __post_init__(self) -> None:
        super().__init__()
        self._script: deque[int] = deque()
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()

    def script(self, *statuses: int) -> FakeS3:
        """Answer the next requests with these HTTP statuses (an S3 error each; 200: as usual)."""
        with self._lock:
            self._script.extend(statuses)
        return self

    def create_bucket(self, name: str) -> None:
        with self._lock:
            self.buckets.setdefault(name, {})

    def put(self, bucket: str, key: str, data: bytes) -> None:
        """Store an object directly, as another client would have."""
        with self._lock:
            self.buckets[bucket][key] = _stored(data)

    def keys(self, bucket: str) -> list[str]:
        with self._lock:
            return sorted(self.buckets.get(bucket, {}))

    def handler(self) -> type[BaseHTTPRequestHandler]:
        return _handler(self)

    def stop(self) -> None:
        """Stop serving, and close the connections clients keep alive (they would go on being served)."""
        super().stop()
        with self._lock:
            for connection in self._connections:
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
            self._connections.clear()

    def answer(self, method: str, path: str, query: dict[str, str], body: bytes) -> Reply:
        bucket, _, key = unquote(path).lstrip("/").partition("/")
        with self._lock:
            status = self._script.popleft() if self._script else 200
            if status != 200:
                return _error(status, _ERRORS.get(status, "ServiceUnavailable"), path)
            if method == "PUT" and not key:
                self.buckets.setdefault(bucket, {})
                return 200, {}, b""
            objects = self.buckets.get(bucket)
            if objects is None:
                return _error(404, "NoSuchBucket", path)
            if not key:
                return self._bucket_request(method, bucket, objects, query)
            if "uploads" in query or "uploadId" in query:
                return self._multipart(method, bucket, key, query, body)
            return self._object_request(method, objects, key, body, path)

    def _bucket_request(
        self, method: str, bucket: str, objects: dict[str, StoredObject], query: dict[str, str]
    ) -> Reply:
        if method == "GET" and query.get("list-type") == "2":
            return _listing(bucket, objects, query, self.page_size)
        if method == "GET" and "location" in query:
            return _xml(ET.Element("LocationConstraint", xmlns=NAMESPACE))
        return (200, {}, b"") if method == "HEAD" else _error(405, "MethodNotAllowed", bucket)

    def _object_request(
        self, method: str, objects: dict[str, StoredObject], key: str, body: bytes, path: str
    ) -> Reply:
        if method == "PUT":
            objects[key] = _stored(body)
            return 200, {"ETag": f'"{objects[key].etag}"'}, b""
        if method == "DELETE":
            objects.pop(key, None)
            return 204, {}, b""
        found = objects.get(key)
        if found is None:
            return (404, {}, b"") if method == "HEAD" else _error(404, "NoSuchKey", path)
        headers = {
            "ETag": f'"{found.etag}"',
            "Last-Modified": found.modified.strftime("%a, %d %b %Y %H:%M:%S GMT"),
            "Content-Type": "application/octet-stream",
            "Content-Length": str(len(found.data)),
        }
        return 200, headers, b"" if method == "HEAD" else found.data

    def _multipart(self, method: str, bucket: str, key: str, query: dict[str, str], body: bytes) -> Reply:
        if method == "POST" and "uploads" in query:
            upload_id = uuid.uuid4().hex
            self.uploads[upload_id] = {}
            result = ET.Element("InitiateMultipartUploadResult", xmlns=NAMESPACE)
            for name, value in (("Bucket", bucket), ("Key", key), ("UploadId", upload_id)):
                ET.SubElement(result, name).text = value
            return _xml(result)
        parts = self.uploads.get(query["uploadId"])
        if parts is None:
            return _error(404, "NoSuchUpload", key)
        if method == "PUT":
            parts[int(query["partNumber"])] = body
            return 200, {"ETag": f'"{hashlib.md5(body).hexdigest()}"'}, b""
        del self.uploads[query["uploadId"]]
        if method == "DELETE":
            return 204, {}, b""
        numbers = [int(node.text or "") for node in ET.fromstring(body).iter() if node.tag.endswith("Number")]
        self.buckets[bucket][key] = _stored(b"".join(parts[number] for number in numbers))
        result = ET.Element("CompleteMultipartUploadResult", xmlns=NAMESPACE)
        for name, value in (("Bucket", bucket), ("Key", key), ("ETag", self.buckets[bucket][key].etag)):
            ET.SubElement(result, name).text = value
        return _xml(result)


def _stored(data: bytes) -> StoredObject:
    return StoredObject(data, hashlib.md5(data).hexdigest(), utcnow())


def _listing(bucket: str, objects: dict[str, StoredObject], query: dict[str, str], page_size: int) -> Reply:
    """ListObjectsV2: keys after the continuation token (or start-after) under the prefix, one page."""
    after = query.get("continuation-token") or query.get("start-after") or ""
    prefix = query.get("prefix", "")
    keys = sorted(key for key in objects if key.startswith(prefix) and key > after)
    page = keys[: min(page_size, int(query.get("max-keys") or 1000))]
    result = ET.Element("ListBucketResult", xmlns=NAMESPACE)
    for name, value in (("Name", bucket), ("Prefix", prefix), ("KeyCount", str(len(page)))):
        ET.SubElement(result, name).text = value
    ET.SubElement(result, "IsTruncated").text = "true" if len(page) < len(keys) else "false"
    if len(page) < len(keys):
        ET.SubElement(result, "NextContinuationToken").text = page[-1]
    for key in page:
        contents = ET.SubElement(result, "Contents")
        found = objects[key]
        modified = found.modified.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        for name, value in (("Key", key), ("LastModified", modified), ("ETag", f'"{found.etag}"')):
            ET.SubElement(contents, name).text = value
        ET.SubElement(contents, "Size").text = str(len(found.data))
    return _xml(result)


def _xml(element: ET.Element, status: int = 200) -> Reply:
    body = ET.tostring(element, encoding="utf-8", xml_declaration=True)
    return status, {"Content-Type": "application/xml"}, body


def _error(status: int, code: str, resource: str) -> Reply:
    error = ET.Element("Error")
    for name, value in (("Code", code), ("Message", code), ("Resource", resource), ("RequestId", "fake")):
        ET.SubElement(error, name).text = value
    return _xml(error, status)


def _handler(fake: FakeS3) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as S3 clients expect
        disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms wait between

        def setup(self) -> None:
            super().setup()
            with fake._lock:
                fake._connections.add(self.connection)

        def finish(self) -> None:
            with fake._lock:
                fake._connections.discard(self.connection)
            super().finish()

        def _serve(self) -> None:
            url = urlsplit(self.path)
            query = {name: values[0] for name, values in parse_qs(url.query, keep_blank_values=True).items()}
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status, headers, payload = fake.answer(self.command, url.path, query, body)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            if "Content-Length" not in headers:
                self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _serve

        def log_message(self, *args: object) -> None:
            """Quiet: tests read the buckets, not stderr."""

    return Handler
