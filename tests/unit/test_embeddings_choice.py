"""Which embedder grouping uses: `auto` is Gemini's when a key is set, else the offline hashing."""

from __future__ import annotations

import importlib.util

import pytest

from integrations.embeddings import GeminiEmbedder, WordLlamaEmbedder, embedder, resolved
from pipeline.embeddings import HashingEmbedder
from pipeline.errors import ConfigurationError
from settings import Settings


def settings(**values: str | None) -> Settings:
    return Settings(SIGHTLINE_HOME="/tmp/unused", **values)


def refuse_gateway():
    raise AssertionError("the Gemini gateway was built although Gemini embeddings are not in use")


def test_auto_is_the_default_and_uses_gemini_embeddings_when_a_key_is_set(monkeypatch):
    monkeypatch.delenv("SIGHTLINE_EMBEDDINGS", raising=False)
    current = settings(GEMINI_API_KEY="key")
    assert current.embeddings == "auto" and resolved(current) == "gemini"
    assert isinstance(embedder(current, lambda: object()), GeminiEmbedder)


def test_auto_without_a_key_stays_offline_and_never_builds_a_gateway(monkeypatch):
    monkeypatch.delenv("SIGHTLINE_EMBEDDINGS", raising=False)
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    assert isinstance(embedder(settings(), refuse_gateway), HashingEmbedder)


def test_hashing_chosen_explicitly_stays_hashing_with_a_key():
    current = settings(GEMINI_API_KEY="key", SIGHTLINE_EMBEDDINGS="hashing")
    assert isinstance(embedder(current, refuse_gateway), HashingEmbedder)


@pytest.mark.skipif(importlib.util.find_spec("wordllama") is not None, reason="the extra is installed")
def test_wordllama_without_its_extra_says_how_to_install_it():
    chosen = embedder(settings(SIGHTLINE_EMBEDDINGS="wordllama"), refuse_gateway)
    with pytest.raises(ConfigurationError, match="local-embeddings"):
        chosen.embed(["The Pay button does nothing"])


@pytest.mark.skipif(importlib.util.find_spec("wordllama") is None, reason="the local-embeddings extra")
def test_wordllama_vectors_put_synonyms_closer_than_unrelated_findings():
    vectors = WordLlamaEmbedder().embed(
        [
            "The Pay button crashes",
            "Checkout payment handler throws an exception",
            "Newsletter popup reappears",
        ]
    )
    assert vectors.shape == (3, 256)
    assert float(vectors[0] @ vectors[1]) > float(vectors[0] @ vectors[2]) + 0.2
