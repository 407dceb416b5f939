"""A fake Gemini API on 127.0.0.1 for tests and benchmarks: the real REST shapes, scripted replies.

The real google-genai client talks to it (point `GEMINI_BASE_URL` at `FakeGemini.url`). It answers
`generateContent`, `countTokens`, `embedContent` and `batchEmbedContents` under any API version,
records every request, and replies from a script (one `FakeReply` per request, in order), then
from `default` when the script is empty.
"""

from __future__ import annotations

import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

import orjson

from integrations.fake_server import LocalServer
from pipeline.embeddings import HashingEmbedder

_ROUTE = re.compile(r"^/(?P<version>v[0-9a-z]+)/models/(?P<model>[^:/]+):(?P<method>[A-Za-z]+)$")
_STATUS = {
    400: "INVALID_ARGUMENT",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    408: "DEADLINE_EXCEEDED",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


@dataclass
class FakeReply:
    """One scripted answer: a model text, an HTTP error, or raw bytes."""

    text: str | None = None
    status: int = 200
    finish_reason: str = "STOP"
    input_tokens: int = 1200
    output_tokens: int = 40
    retry_delay_s: float | None = None
    raw: bytes | None = None

    @classmethod
    def json(cls, value: Any, **options: Any) -> FakeReply:
        return cls(text=orjson.dumps(value).decode(), **options)

    @classmethod
    def error(
        cls, status: int, message: str = "scripted failure", retry_delay_s: float | None = None
    ) -> FakeReply:
        return cls(status=status, text=message, retry_delay_s=retry_delay_s)

    def body(self) -> bytes:
        if self.raw is not None:
            return self.raw
        if self.status != 200:
            error: dict[str, Any] = {
                "code": self.status,
                "message": self.text or "",
                "status": _STATUS.get(self.status),
            }
            if self.retry_delay_s is not None:
                error["details"] = [
                    {
                        "@type": "type.googleapis.com/google.rpc.RetryInfo",
                        "retryDelay": f"{self.retry_delay_s:g}s",
                    }
                ]
            return orjson.dumps({"error": error})
        parts = [{"text": self.text}] if self.text else []
        usage = {
            "promptTokenCount": self.input_tokens,
            "candidatesTokenCount": self.output_tokens,
            "totalTokenCount": self.input_tokens + self.output_tokens,
        }
        content = {"role": "model", "parts": parts}
        candidate = {"content": content, "finishReason": self.finish_reason, "index": 0}
        return orjson.dumps(
            {"candidates": [candidate], "usageMetadata": usage, "modelVersion": "fake", "responseId": "fake"}
        )


@dataclass
class RecordedRequest:
    path: str
    model: str
    method: str
    headers: dict[str, str]
    body: dict[str, Any]
    at: float

    def text(self) -> str:
        """Every text part of the request (system instruction and turns), joined."""
        parts = [part for content in self.body.get("contents", []) for part in content.get("parts", [])]
        system = self.body.get("systemInstruction", self.body.get("system_instruction")) or {}
        parts += system.get("parts", [])
        return "\n".join(part.get("text", "") for part in parts if isinstance(part, dict))


@dataclass
class FakeGemini(LocalServer):
    name = "fake-gemini"

    latency_s: float = 0.0
    default: Callable[[RecordedRequest], FakeReply] | None = None
    requests: list[RecordedRequest] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__()
        self._script: deque[FakeReply] = deque()
        self._lock = threading.Lock()

    def script(self, *replies: FakeReply) -> FakeGemini:
        with self._lock:
            self._script.extend(replies)
        return self

    def generate_requests(self) -> list[RecordedRequest]:
        return [request for request in self.requests if request.method == "generateContent"]

    def handler(self) -> type[BaseHTTPRequestHandler]:
        return _handler(self)

    def answer(self, request: RecordedRequest) -> tuple[int, bytes]:
        with self._lock:
            self.requests.append(request)
            scripted = self._script.popleft() if self._script else None
        if request.method == "countTokens":
            return 200, orjson.dumps({"totalTokens": max(1, len(request.text()) // 4)})
        if request.method in ("embedContent", "batchEmbedContents"):
            return 200, _embeddings(request)
        reply = scripted or (
            self.default(request) if self.default else FakeReply.error(500, "nothing scripted")
        )
        return reply.status, reply.body()


def _vector(text: str, dimensions: int) -> list[float]:
    """Deterministic and similarity-preserving: the offline hashing embedder's vector at the size asked
    for, so paraphrases sharing words land close and tests can group through the Gemini path."""
    return [round(float(value), 6) for value in HashingEmbedder(dimensions).embed([text])[0]]


def _embeddings(request: RecordedRequest) -> bytes:
    def text_of(content: dict) -> str:
        return " ".join(part.get("text", "") for part in content.get("parts", []))

    def vector(item: dict) -> list[float]:
        return _vector(text_of(item.get("content", {})), int(item.get("outputDimensionality") or 768))

    if request.method == "embedContent":
        return orjson.dumps({"embedding": {"values": vector(request.body)}})
    items = request.body.get("requests", [])
    return orjson.dumps({"embeddings": [{"values": vector(item)} for item in items]})


def _handler(fake: FakeGemini) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            match = _ROUTE.match(self.path.split("?")[0])
            size = int(self.headers.get("Content-Length") or 0)
            body = orjson.loads(self.rfile.read(size) or b"{}")
            if match is None:
                self._send(404, orjson.dumps({"error": {"code": 404, "message": "no such route"}}))
                return
            if fake.latency_s:
                time.sleep(fake.latency_s)
            request = RecordedRequest(
                self.path, match["model"], match["method"], dict(self.headers), body, time.monotonic()
            )
            self._send(*fake.answer(request))

        def _send(self, status: int, payload: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:
            """Quiet: tests read `requests`, not stderr."""

    return Handler
