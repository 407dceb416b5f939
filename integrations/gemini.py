"""The Gemini adapter: `generate` and `embed` through the real google-genai client.

Every Gemini request of a process goes through one `GeminiGateway` (`gemini_gateway(settings, …)`):
one client, and the limiter every worker shares through Redis (requests per minute and concurrent
calls, DESIGN §5). Observations, digests, the grouping judge, report summaries and embeddings all
count against the same limit.

Errors are classified here, once: 429, 408, 5xx, transport failures and empty replies cut at
MAX_TOKENS are `ProviderTransient`; other 4xx are `ProviderRejected`. Messages are our own: provider
text (which may quote the prompt) never travels further.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx2
import redis
from google import genai
from google.genai import errors, types

from integrations.ratelimit import GeminiLimiter
from pipeline.conversation import ModelCall, ModelReply
from pipeline.errors import ConfigurationError, ProviderRejected, ProviderTransient
from pipeline.names import gemini_counters_key
from settings import Settings

TRANSIENT_CODES = frozenset({408, 409, 429})
_BLOCKED = frozenset({"SAFETY", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "RECITATION", "IMAGE_SAFETY"})


class RetryableProviderError(ProviderTransient):
    """A transient failure that may carry the provider's requested wait (a 429's RetryInfo)."""

    def __init__(self, message: str, retry_after_s: float | None = None):
        super().__init__(message)
        self.retry_after_s = retry_after_s


def _retry_delay(details: object) -> float | None:
    """The `retryDelay` of a google.rpc.RetryInfo in an error body, in seconds."""
    error = details.get("error", details) if isinstance(details, dict) else {}
    for detail in error.get("details") or () if isinstance(error, dict) else ():
        delay = detail.get("retryDelay") if isinstance(detail, dict) else None
        match = re.fullmatch(r"(\d+(?:\.\d+)?)s", str(delay or ""))
        if match:
            return float(match.group(1))
    return None


def classify(exc: Exception) -> ProviderTransient | ProviderRejected:
    """The Sightline error for a google-genai or transport exception."""
    if isinstance(exc, errors.APIError):
        code = exc.code or 0
        if code in TRANSIENT_CODES or code >= 500:
            return RetryableProviderError(
                f"the model provider answered HTTP {code}", _retry_delay(exc.details)
            )
        return ProviderRejected(f"the model provider refused the request (HTTP {code})")
    if isinstance(exc, httpx2.TimeoutException):
        return RetryableProviderError("the model provider did not answer in time")
    return RetryableProviderError("the model provider could not be reached")


class GeminiClient:
    """`generate(call) -> ModelReply`, the `Generate` port of `pipeline.conversation`."""

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str | None,
        api_version: str,
        timeout_s: float,
        max_output_tokens: int,
    ):
        options = types.HttpOptions(base_url=base_url, api_version=api_version, timeout=int(timeout_s * 1000))
        self.client = genai.Client(api_key=api_key, http_options=options)
        self.max_output_tokens = max_output_tokens

    @classmethod
    def from_settings(cls, settings: Settings) -> GeminiClient:
        """Raises `ConfigurationError` when no key is configured."""
        if settings.gemini_api_key is None:
            raise ConfigurationError(
                "GEMINI_API_KEY is not set: google scanners cannot run; set it, or use provider heuristic"
            )
        return cls(
            api_key=settings.gemini_api_key.get_secret_value(),
            base_url=settings.gemini_base_url or None,
            api_version=settings.gemini_api_version,
            timeout_s=settings.gemini_timeout_s,
            max_output_tokens=settings.gemini_max_output_tokens,
        )

    def generate(self, call: ModelCall) -> ModelReply:
        contents = [types.Content(role=turn.role, parts=[types.Part(text=turn.text)]) for turn in call.turns]
        config = types.GenerateContentConfig(
            system_instruction=call.system,
            response_mime_type="application/json",
            response_json_schema=call.schema,
            max_output_tokens=self.max_output_tokens,
        )
        try:
            response = self.client.models.generate_content(model=call.model, contents=contents, config=config)
        except (errors.APIError, httpx2.TransportError, httpx2.TimeoutException) as exc:
            raise classify(exc) from exc
        except (json.JSONDecodeError, errors.UnknownApiResponseError) as exc:
            raise RetryableProviderError("the model provider sent an unreadable answer") from exc
        return _reply(response)

    def embed(self, model: str, texts: list[str], dimensions: int) -> list[list[float]]:
        """One vector per text (`batchEmbedContents`); errors classified as for `generate`."""
        config = types.EmbedContentConfig(output_dimensionality=dimensions, task_type="CLUSTERING")
        try:
            response = self.client.models.embed_content(model=model, contents=texts, config=config)
        except (errors.APIError, httpx2.TransportError, httpx2.TimeoutException) as exc:
            raise classify(exc) from exc
        return [list(embedding.values or []) for embedding in response.embeddings or []]

    def close(self) -> None:
        self.client.close()


class GeminiGateway:
    """A process's Gemini: one client, every request inside a slot of the shared limiter.

    Each request is counted in Redis by kind and outcome (`ok` or the error's class), shared by
    every process, for `/metrics` (`pipeline.names.gemini_counters_key`).
    """

    def __init__(
        self, client: GeminiClient, limiter: GeminiLimiter, counters: redis.Redis | None = None, key: str = ""
    ):
        self.client, self.limiter = client, limiter
        self.counters, self.counters_key = counters, key

    def generate(self, call: ModelCall) -> ModelReply:
        with self._slot("generate"):
            return self.client.generate(call)

    def embed(self, model: str, texts: list[str], dimensions: int) -> list[list[float]]:
        with self._slot("embed"):
            return self.client.embed(model, texts, dimensions)

    @contextmanager
    def _slot(self, kind: str) -> Iterator[None]:
        with self.limiter.slot():
            try:
                yield
            except Exception as exc:
                self._count(kind, type(exc).__name__)
                raise
            self._count(kind, "ok")

    def _count(self, kind: str, outcome: str) -> None:
        if self.counters is None:
            return
        with contextlib.suppress(redis.RedisError):  # a lost count never fails a request
            self.counters.hincrby(self.counters_key, f"{kind}|{outcome}", 1)


_gateways: dict[tuple, GeminiGateway] = {}
_gateways_lock = threading.Lock()


def gemini_gateway(settings: Settings, redis_client: Callable[[], redis.Redis]) -> GeminiGateway:
    """The process's gateway for these settings, built on first use.

    Raises `ConfigurationError` when no key is configured.
    """
    key = (
        settings.gemini_api_key,
        settings.gemini_base_url,
        settings.gemini_api_version,
        settings.gemini_timeout_s,
        settings.gemini_max_output_tokens,
        settings.redis_namespace,
        settings.gemini_requests_per_minute,
        settings.gemini_concurrency,
    )
    with _gateways_lock:
        gateway = _gateways.get(key)
        if gateway is None:
            limiter = GeminiLimiter(
                redis_client(),
                namespace=settings.redis_namespace,
                per_minute=settings.gemini_requests_per_minute,
                concurrency=settings.gemini_concurrency,
            )
            counters = gemini_counters_key(settings.redis_namespace)
            gateway = _gateways[key] = GeminiGateway(
                GeminiClient.from_settings(settings), limiter, redis_client(), counters
            )
        return gateway


def _reply(response: types.GenerateContentResponse) -> ModelReply:
    candidate = response.candidates[0] if response.candidates else None
    finish = str(getattr(candidate, "finish_reason", "") or "").rsplit(".", 1)[-1]
    text = response.text or ""
    if finish in _BLOCKED:
        raise ProviderRejected(f"the model provider blocked the answer ({finish})")
    if not text.strip():
        cut = " at the output token limit" if finish == "MAX_TOKENS" else ""
        raise RetryableProviderError(f"the model provider sent an empty answer{cut}")
    usage = response.usage_metadata
    input_tokens = (usage.prompt_token_count or 0) if usage else 0
    output_tokens = ((usage.candidates_token_count or 0) + (usage.thoughts_token_count or 0)) if usage else 0
    return ModelReply(text, input_tokens, output_tokens)
