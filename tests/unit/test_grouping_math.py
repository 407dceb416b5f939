"""Embedding and grouping arithmetic: hashing vectors, the pool, decisions, titles, the ARI."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.embeddings import HashingEmbedder
from pipeline.grouping import Pool, Thresholds, adjusted_rand_index, decide, title_for

EMBED = HashingEmbedder()


def cosine(a: str, b: str) -> float:
    vectors = EMBED.embed([a, b])
    return float(vectors[0] @ vectors[1])


def test_hashing_vectors_are_deterministic_and_normalised():
    first = EMBED.embed(["Rage clicks on button Pay at /checkout"])
    again = HashingEmbedder().embed(["Rage clicks on button Pay at /checkout"])
    assert np.array_equal(first, again) and first.dtype == np.float32
    assert abs(float(np.linalg.norm(first[0])) - 1.0) < 1e-5


def test_paraphrases_are_closer_than_unrelated_findings():
    same = cosine(
        "Rage clicks on the Pay button at /checkout", "User rage-clicked the Pay button on checkout"
    )
    other = cosine("Rage clicks on the Pay button at /checkout", "Search results page shows a blank list")
    assert same > other + 0.2


def test_the_pool_scores_each_report_by_its_best_signal_and_takes_new_members():
    vectors = EMBED.embed(["pay button throws an error", "pay button broken", "search is empty"])
    pool = Pool(EMBED.dimensions, vectors[:2], ["pay", "pay"])
    query = EMBED.embed(["the pay button throws an error on click"])[0]
    ranked = pool.best(query)
    assert ranked[0][0] == "pay" and len(ranked) == 1
    pool.add(vectors[2], "search")
    assert {report for report, _ in pool.best(query)} == {"pay", "search"}
    for index in range(3000):  # grows past its first allocation
        pool.add(vectors[2], f"r{index}")
    assert pool.count == 3003 and pool.best(vectors[2], top=3)[0][1] == pytest.approx(1.0, abs=1e-5)


def test_decisions_follow_the_two_thresholds():
    thresholds = Thresholds(match=0.8, new=0.6)
    assert decide(None, thresholds) == "new"
    assert decide(0.59, thresholds) == "new"
    assert decide(0.6, thresholds) == "ask" and decide(0.79, thresholds) == "ask"
    assert decide(0.8, thresholds) == "join"


def test_titles_come_from_the_headline_or_the_first_sentence():
    assert title_for("Long text. More.", "Rage clicks on Pay") == "Rage clicks on Pay"
    assert title_for("The Pay button throws. It happened twice.") == "The Pay button throws"
    assert len(title_for("x" * 500)) == 120


def test_adjusted_rand_index():
    assert adjusted_rand_index([1, 1, 2, 2], ["a", "a", "b", "b"]) == 1.0
    assert adjusted_rand_index([1, 1, 2, 2], ["a", "b", "a", "b"]) < 0
    assert 0 < adjusted_rand_index([1, 1, 1, 2, 2, 2], ["a", "a", "b", "c", "c", "c"]) < 1


def test_batch_scoring_gives_the_same_answers_as_scoring_one_by_one():
    rng = np.random.default_rng(7)
    base = rng.normal(size=(500, 32)).astype(np.float32)
    base /= np.linalg.norm(base, axis=1, keepdims=True)
    batch = rng.normal(size=(20, 32)).astype(np.float32)
    batch /= np.linalg.norm(batch, axis=1, keepdims=True)
    plain = Pool(32, base, [f"r{i % 50}" for i in range(500)])
    fast = Pool(32, base, [f"r{i % 50}" for i in range(500)])
    fast.score_batch(batch)
    for row, vector in enumerate(batch):
        expected = plain.best(vector)
        got = fast.best(vector, row=row)
        assert [r for r, _ in got] == [r for r, _ in expected]
        assert np.allclose([s for _, s in got], [s for _, s in expected], atol=1e-5)
        plain.add(vector, f"new{row}")  # batch members become candidates for later ones
        fast.add(vector, f"new{row}")
