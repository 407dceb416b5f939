"""Embedding adapters: `hashing` (offline, the default) and `gemini` (`gemini-embedding-001`
through google-genai, batched). `embedder(settings)` picks the configured one."""

from __future__ import annotations

import numpy as np
from google.genai import errors, types

from integrations.gemini import GeminiClient, classify
from pipeline.embeddings import Embedder, HashingEmbedder, normalise
from settings import Settings

GEMINI_MODEL = "gemini-embedding-001"
GEMINI_DIMENSIONS = 768
BATCH = 100


class GeminiEmbedder:
    def __init__(self, client: GeminiClient, dimensions: int = GEMINI_DIMENSIONS):
        self.client = client.client
        self.dimensions = dimensions
        self.model = GEMINI_MODEL

    def embed(self, texts: list[str]) -> np.ndarray:
        rows = []
        for start in range(0, len(texts), BATCH):
            chunk = texts[start : start + BATCH]
            config = types.EmbedContentConfig(output_dimensionality=self.dimensions, task_type="CLUSTERING")
            try:
                response = self.client.models.embed_content(model=self.model, contents=chunk, config=config)
            except errors.APIError as exc:
                raise classify(exc) from exc
            rows.extend(embedding.values for embedding in response.embeddings or [])
        vectors = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        for index, values in enumerate(rows[: len(texts)]):
            vectors[index, : min(self.dimensions, len(values))] = values[: self.dimensions]
        return normalise(vectors)


def embedder(settings: Settings) -> Embedder:
    if settings.embeddings == "gemini":
        return GeminiEmbedder(GeminiClient.from_settings(settings))
    return HashingEmbedder()
