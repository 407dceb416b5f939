"""ASGI middleware of the API: paths with or without a trailing slash, access logs, idempotent POSTs,
and ETags on reads.

- `TrailingSlash`: `/x/` is served as `/x` (no redirect: a client's POST must not meet a 307), and
  a path or query with a NUL character is a 400 (no database stores one; SQLite and PostgreSQL
  would otherwise answer such a filter differently).
- `AccessLog`: one structlog line per request (method, route path, status, duration, API key id);
  never a header, a body, or a query string (a query may carry what a recording said).
- `Idempotency`: a POST with `Idempotency-Key` is answered once; a replay within 24 h by the same
  credentials gets the first response again (`Idempotent-Replayed: true`) and changes nothing. The
  same key with another body is a 400; one still being processed is a 409.
- `ETags`: a 200 GET carries a weak ETag of its body; `If-None-Match` with it is a 304.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from typing import Any

import structlog

from pipeline.names import idempotency_key

log = structlog.get_logger("sightline.api")
Message = dict[str, Any]
IDEMPOTENCY_TTL_S = 24 * 3600
IDEMPOTENCY_LOCK_S = 120


class TrailingSlash:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and _has_nul(scope):
            detail = "A path or query parameter holds a NUL character."
            await _json(
                send,
                400,
                {"type": "validation_error", "code": "invalid_input", "detail": detail, "attr": None},
            )
            return
        if scope["type"] == "http" and len(scope["path"]) > 1 and scope["path"].endswith("/"):
            scope = {**scope, "path": scope["path"].rstrip("/") or "/"}
            scope["raw_path"] = scope["path"].encode()
        await self.app(scope, receive, send)


class AccessLog:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began, status = time.perf_counter(), [500]

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = scope.get("route")
            log.info(
                "api_request",
                method=scope["method"],
                path=getattr(route, "path", scope["path"]),
                status=status[0],
                duration_ms=round((time.perf_counter() - began) * 1000, 1),
                api_key_id=scope.get("state", {}).get("api_key_id"),
            )


class Idempotency:
    """See the module docstring. `redis_factory` gives the Redis the records are kept in."""

    def __init__(self, app, redis_factory: Callable[[], Any], namespace: str):
        self.app, self.redis_factory, self.namespace = app, redis_factory, namespace

    async def __call__(self, scope, receive, send):
        key = _header(scope, b"idempotency-key")
        if scope["type"] != "http" or scope["method"] != "POST" or not key:
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        who = hashlib.sha256(_header(scope, b"authorization").encode()).hexdigest()[:32]
        record_key = idempotency_key(self.namespace, who, hashlib.sha256(key.encode()).hexdigest()[:32])
        fingerprint = hashlib.sha256(scope["path"].encode() + b"\0" + body).hexdigest()
        client = self.redis_factory()
        stored = client.get(record_key)
        if stored is not None:
            await _replay(json.loads(stored), fingerprint, send)
            return
        if not client.set(
            record_key, json.dumps({"fingerprint": fingerprint}), nx=True, ex=IDEMPOTENCY_LOCK_S
        ):
            await _replay(json.loads(client.get(record_key) or "{}"), fingerprint, send)
            return
        captured = await self._run(scope, body, send)
        if captured["status"] < 500:
            client.set(record_key, json.dumps({"fingerprint": fingerprint, **captured}), ex=IDEMPOTENCY_TTL_S)
        else:
            client.delete(record_key)  # a failure on our side may be retried for real

    async def _run(self, scope, body: bytes, send) -> dict[str, Any]:
        captured: dict[str, Any] = {"status": 500, "headers": [], "body": ""}
        chunks: list[bytes] = []

        async def replaying_receive() -> Message:
            return {"type": "http.request", "body": body, "more_body": False}

        async def capturing_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                captured["status"] = message["status"]
                captured["headers"] = [[k.decode(), v.decode()] for k, v in message.get("headers", [])]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        await self.app(scope, replaying_receive, capturing_send)
        captured["body"] = b"".join(chunks).decode("utf-8", "replace")
        return captured


async def _replay(record: dict[str, Any], fingerprint: str, send) -> None:
    if record.get("fingerprint") != fingerprint:
        await _json(
            send, 400, _problem("invalid_input", "This Idempotency-Key was used with another request.")
        )
    elif "status" not in record:
        await _json(
            send, 409, _problem("conflict", "A request with this Idempotency-Key is still being processed.")
        )
    else:
        headers = [(k.encode(), v.encode()) for k, v in record["headers"] if k.lower() != "content-length"]
        body = record["body"].encode()
        headers += [(b"content-length", str(len(body)).encode()), (b"idempotent-replayed", b"true")]
        await send({"type": "http.response.start", "status": record["status"], "headers": headers})
        await send({"type": "http.response.body", "body": body})


class ETags:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        start: Message = {}
        chunks: list[bytes] = []

        async def buffering_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body"):
                    await self._finish(scope, start, b"".join(chunks), send)

        await self.app(scope, receive, buffering_send)

    @staticmethod
    async def _finish(scope, start: Message, body: bytes, send) -> None:
        if start.get("status") != 200:
            await send(start)
            await send({"type": "http.response.body", "body": body})
            return
        tag = f'W/"{hashlib.sha256(body).hexdigest()[:32]}"'
        headers = [*start.get("headers", []), (b"etag", tag.encode())]
        if tag in {part.strip() for part in _header(scope, b"if-none-match").split(",")}:
            kept = [(k, v) for k, v in headers if k.lower() not in (b"content-length", b"content-type")]
            await send({"type": "http.response.start", "status": 304, "headers": kept})
            await send({"type": "http.response.body", "body": b""})
            return
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _header(scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return ""


async def _read_body(receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


def _has_nul(scope: dict[str, Any]) -> bool:
    query = scope.get("query_string", b"")
    return "\x00" in scope["path"] or b"%00" in query or b"\x00" in query


def _problem(code: str, detail: str) -> dict[str, Any]:
    return {"type": "invalid_request", "code": code, "detail": detail, "attr": "Idempotency-Key"}


async def _json(send, status: int, payload: dict[str, Any]) -> None:
    body = json.dumps(payload).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
