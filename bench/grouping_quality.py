"""Grouping quality: the adjusted Rand index of our grouping against labelled sets.

Run: `.venv/bin/python -m bench.grouping_quality [--wordllama]`. Two sets: `labelled`
(bench/data/grouping_findings.py, 150 findings in 24 defects, with near misses) and `blind`
(bench/data/grouping_findings_blind.py, 110 findings in 22 defects of another product, in five
authors' voices, written before any embedder ran on it). Signals arrive in a fixed shuffled order
(the bench's historical order, on which hashing's thresholds were chosen, and five more: the
mean over the six is the figure to compare) and are grouped exactly as `group_signals` does (best cosine
match per report, join/new/gray thresholds), with no model judge: gray-zone signals join, as they
do without a key. Prints, per adapter and set, the ARI over a grid of single thresholds, the ARI
at the model's thresholds (pipeline.grouping.THRESHOLDS; for a model without any there, the best
single threshold of the labelled set, applied unchanged to the blind one) and the embedding time
per signal.

Adapters: `hashing` always; `gemini` only when GEMINI_API_KEY is set (it calls the real API);
`wordllama` (the `local-embeddings` extra: static word vectors shipped inside the PyPI wheel; nothing
is downloaded) with `--wordllama` when it is installed.
"""

from __future__ import annotations

import os
import random
import sys
import time
from statistics import mean

from bench.common import command_line
from bench.data import grouping_findings, grouping_findings_blind
from pipeline.embeddings import HashingEmbedder
from pipeline.errors import ConfigurationError
from pipeline.grouping import THRESHOLDS, Pool, Thresholds, adjusted_rand_index, decide

SETS = {"labelled": grouping_findings.GROUPS, "blind": grouping_findings_blind.GROUPS}
SEED = 20261122
GRID = [round(0.20 + 0.05 * step, 2) for step in range(15)]


def items(groups: dict[str, list[str]], seed: int = SEED) -> list[tuple[str, str]]:
    pairs = [(label, text) for label, texts in groups.items() for text in texts]
    random.Random(seed).shuffle(pairs)
    return pairs


def group(vectors, thresholds: Thresholds) -> list[int]:
    pool = Pool(vectors.shape[1])
    clusters: list[int] = []
    for vector in vectors:
        ranked = pool.best(vector)
        decision = decide(ranked[0][1] if ranked else None, thresholds)
        cluster = ranked[0][0] if decision in ("join", "ask") else len(set(clusters)) + 1000 * len(clusters)
        clusters.append(cluster)
        pool.add(vector, cluster)
    return clusters


def score(groups: dict[str, list[str]], embedder, thresholds: Thresholds, seed: int = SEED) -> tuple:
    pairs = items(groups, seed)
    labels = [label for label, _ in pairs]
    vectors = embedder.embed([text for _, text in pairs])
    clusters = group(vectors, thresholds)
    return adjusted_rand_index(labels, clusters), len(set(clusters)), vectors, labels


def evaluate(name: str, embedder) -> None:
    chosen = THRESHOLDS.get(embedder.model)
    for set_name, groups in SETS.items():
        pairs = items(groups)
        labels = [label for label, _ in pairs]
        started = time.perf_counter()
        vectors = embedder.embed([text for _, text in pairs])
        per_signal_ms = (time.perf_counter() - started) * 1000 / len(pairs)
        sweep = {t: adjusted_rand_index(labels, group(vectors, Thresholds(t, t))) for t in GRID}
        best = max((value, t) for t, value in sweep.items())
        if chosen is None:  # choose on the labelled set, apply unchanged to the blind one
            chosen = Thresholds(best[1], best[1])
        ari, reports, _, _ = score(groups, embedder, chosen)
        orders = [ari] + [score(groups, embedder, chosen, seed)[0] for seed in range(1, 6)]
        print(f"  {name} ({embedder.model}) on {set_name}: {len(pairs)} findings, {len(groups)} defects")
        print("    single threshold sweep: " + "   ".join(f"{t:.2f}→{v:.2f}" for t, v in sweep.items()))
        print(
            f"    best single threshold {best[1]:.2f}: ARI {best[0]:.3f}; thresholds match {chosen.match:.2f}"
            f" / new {chosen.new:.2f}: ARI {ari:.3f} ({reports} reports for {len(groups)} defects), "
            f"six orders {min(orders):.2f}–{max(orders):.2f}, mean {mean(orders):.3f}; "
            f"embedding {per_signal_ms:.3f} ms/signal"
        )


def main() -> None:
    print(f"$ {command_line()}")
    evaluate("hashing", HashingEmbedder())
    if "--wordllama" in sys.argv[1:]:
        try:
            from integrations.embeddings import WordLlamaEmbedder

            started = time.perf_counter()
            embedder = WordLlamaEmbedder()
            embedder.embed(["load"])
            print(f"  wordllama: loaded in {time.perf_counter() - started:.2f} s")
            evaluate("wordllama", embedder)
        except ConfigurationError:
            print("  wordllama: skipped (not installed: pip install wordllama)")
    if os.environ.get("GEMINI_API_KEY"):
        from actors.broker import process_deps
        from integrations.embeddings import GeminiEmbedder

        evaluate("gemini", GeminiEmbedder(process_deps().gemini()))  # inside the shared Gemini limiter
    else:
        print("  gemini: skipped (no GEMINI_API_KEY; it needs the real API)")


if __name__ == "__main__":
    main()
