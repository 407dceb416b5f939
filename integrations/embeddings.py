"""Embedding adapters: `hashing` (offline, the default) and `gemini` (`gemini-embedding-001`
through the process's Gemini gateway, batched, inside the shared rate limit). `embedder(...)`
picks the configured one."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from pipeline.embeddings import Embedder, HashingEmbedder, normalise
from settings import Settings

if TYPE_CHECKING:  # the gateway is built by the caller, only when Gemini embeddings are configured
    from integrations.gemini import GeminiGateway

GEMINI_MODEL = "gemini-embedding-001"
GEMINI_DIMENSIONS = 768
BATCH = 100


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


def embedder(settings: Settings, gateway: Callable[[], GeminiGateway]) -> Embedder:
    """The configured embedder; `gateway` is called only when Gemini embeddings are configured."""
    if settings.embeddings == "gemini":
        return GeminiEmbedder(gateway())
    return HashingEmbedder()
