"""Turning finding descriptions into vectors: the port, and the offline `hashing` adapter.

A team's vectors are only ever compared with vectors of the same model (`Embedder.model` is stored
next to each vector). The hashing adapter needs no network and no weights: a description becomes
a bag of word stems, word pairs and character trigrams, each hashed (with a sign) into a fixed
number of buckets, weighted sublinearly and L2-normalised. Paraphrases that share vocabulary land
close; it knows no synonyms, which is what the Gemini adapter is for.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import defaultdict
from itertools import pairwise
from typing import Protocol

import numpy as np

_WORD = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")
_QUOTED = re.compile(r"[\"“”'‘’]")
_STOPWORDS = frozenset(
    "a an the and or but of on in at to for from by with without as is are was were be been being it its "  # noqa: SIM905
    "this that these those there their they them he she we you i me my our your after before when while "
    "then than so such into onto over under again also only just very can could would should will did do "
    "does not no yes user users visitor visitors session sessions page".split()
)


class Embedder(Protocol):
    model: str
    dimensions: int

    def embed(self, texts: list[str]) -> np.ndarray:
        """One L2-normalised float32 row per text."""
        ...


def _stem(word: str) -> str:
    """A crude English stem, enough to make click/clicks/clicked/clicking one feature."""
    for suffix in ("ingly", "edly", "ing", "ed", "es", "s", "ly"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def features(text: str) -> dict[str, float]:
    words = [_stem(word) for word in _WORD.findall(_QUOTED.sub(" ", text.lower())) if word not in _STOPWORDS]
    found: defaultdict[str, float] = defaultdict(float)
    for word in words:
        found[f"w:{word}"] += 1.0
        padded = f"<{word}>"
        for index in range(len(padded) - 2):
            found[f"c:{padded[index : index + 3]}"] += 0.25
    for first, second in pairwise(words):
        found[f"b:{first} {second}"] += 0.5
    return found


class HashingEmbedder:
    """Deterministic, dependency-free text vectors (the offline default)."""

    def __init__(self, dimensions: int = 256):
        self.dimensions = dimensions
        self.model = f"hashing-v1-{dimensions}"

    def _bucket(self, feature: str) -> tuple[int, float]:
        digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
        value = int.from_bytes(digest, "big")
        return value % self.dimensions, (1.0 if (value >> 63) & 1 else -1.0)

    def embed(self, texts: list[str]) -> np.ndarray:
        vectors = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        for row, text in enumerate(texts):
            for feature, count in features(text).items():
                index, sign = self._bucket(feature)
                vectors[row, index] += sign * (1.0 + math.log(count)) if count >= 1 else sign * count
        return normalise(vectors)


def normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (vectors / norms).astype(np.float32)


def to_bytes(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype=np.float32).tobytes()


def from_bytes(raw: bytes) -> np.ndarray:
    return np.frombuffer(raw, dtype=np.float32)
