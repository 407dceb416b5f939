"""Embedding adapters: `hashing` (offline, dependency-free), `gemini` (`gemini-embedding-001` through
the process's Gemini gateway, batched, inside the shared rate limit) and `wordllama` (static word
vectors shipped inside the `wordllama` wheel, the optional `local-embeddings` extra; nothing is
downloaded). `embedder(...)` picks the configured one; `auto` (the default) is Gemini when a key is
set, else hashing. A team's vectors are only compared with vectors of the same model, so switching
models starts a fresh pool: signals grouped before the switch are not matched by later ones.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from pipeline.embeddings import Embedder, HashingEmbedder, normalise
from pipeline.errors import ConfigurationError
from settings import Settings

if TYPE_CHECKING:  # the gateway is built by the caller, only when Gemini embeddings are configured
    from integrations.gemini import GeminiGateway

GEMINI_MODEL = "gemini-embedding-001"
GEMINI_DIMENSIONS = 768
BATCH = 100
WORDLLAMA_MODEL = "wordllama-l2-supercat-256"


class GeminiEmbedder:
    def __init__(self, gateway: GeminiGateway, dimensions: int = GEMINI_DIMENSIONS):
        self.gateway = gateway
        self.dimensions = dimensions
        self.model = GEMINI_MODEL

    def embed(self, texts: list[str]) -> np.ndarray:
        rows: list[list[float]] = []
        for start in range(0, len(texts), BATCH):
            rows.extend(self.gateway.embed(self.model, texts[start : start + BATCH], self.dimensions))
        vectors = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        for index, values in enumerate(rows[: len(texts)]):
            vectors[index, : min(self.dimensions, len(values))] = values[: self.dimensions]
        return normalise(vectors)


@cache
def _wordllama() -> Any:
    """The packaged WordLlama model, loaded once per process (~0.3 s). Raises `ConfigurationError` when
    the extra is not installed."""
    try:
        import wordllama
    except ImportError as exc:
        raise ConfigurationError(
            "SIGHTLINE_EMBEDDINGS=wordllama needs the optional extra: "
            "pip install 'sightline[local-embeddings]'"
        ) from exc
    # The wheel ships the weights and tokenizer; pointing the cache at the package finds the tokenizer
    # (its loader looks for it in the cache's tokenizers/ folder) and download stays off.
    return wordllama.WordLlama.load(cache_dir=Path(wordllama.__file__).parent, disable_download=True)


class WordLlamaEmbedder:
    """WordLlama's 256-dimension static token vectors, average-pooled (offline, no network)."""

    def __init__(self) -> None:
        self.model = WORDLLAMA_MODEL
        self.dimensions = 256

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        return normalise(np.asarray(_wordllama().embed(texts), dtype=np.float32))


def resolved(settings: Settings) -> str:
    """The embedding adapter in use: `auto` is `gemini` when GEMINI_API_KEY is set, else `hashing`."""
    if settings.embeddings == "auto":
        return "gemini" if settings.gemini_api_key is not None else "hashing"
    return settings.embeddings


def embedder(settings: Settings, gateway: Callable[[], GeminiGateway]) -> Embedder:
    """The configured embedder; `gateway` is called only when Gemini embeddings are in use."""
    name = resolved(settings)
    if name == "gemini":
        return GeminiEmbedder(gateway())
    if name == "wordllama":
        return WordLlamaEmbedder()
    return HashingEmbedder()
