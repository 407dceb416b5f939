"""Grouping quality: the adjusted Rand index of our grouping against a labelled set.

Run: `.venv/bin/python -m bench.grouping_quality`. The set (bench/data/grouping_findings.py) holds
150 finding descriptions in 24 defects, with near misses (same page or element, other defect).
Signals arrive in a fixed shuffled order and are grouped exactly as `group_signals` does (best
cosine match per report, join/new/gray thresholds), with no model judge: gray-zone signals join,
as they do without a key. Prints the ARI over a grid of thresholds and for the chosen ones.
Adapters: `hashing` always; `gemini` only when GEMINI_API_KEY is set (it calls the real API).
"""

from __future__ import annotations

import os
import random

from bench.common import command_line
from bench.data.grouping_findings import GROUPS
from pipeline.embeddings import HashingEmbedder
from pipeline.grouping import Pool, Thresholds, adjusted_rand_index, decide, thresholds_for


def items() -> list[tuple[str, str]]:
    pairs = [(label, text) for label, texts in GROUPS.items() for text in texts]
    random.Random(20261122).shuffle(pairs)
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


def evaluate(name: str, embedder) -> None:
    pairs = items()
    labels = [label for label, _ in pairs]
    vectors = embedder.embed([text for _, text in pairs])
    chosen = thresholds_for(embedder.model)
    print(f"  {name} ({embedder.model}): {len(pairs)} findings, {len(set(labels))} defects")
    grid = [round(0.20 + 0.05 * step, 2) for step in range(15)]
    scores = {t: adjusted_rand_index(labels, group(vectors, Thresholds(t, t))) for t in grid}
    best = max((score, t) for t, score in scores.items())
    row = "   ".join(f"{t:.2f}→{score:.2f}" for t, score in scores.items())
    print(f"    single threshold sweep: {row}")
    print(f"    best single threshold {best[1]:.2f}: ARI {best[0]:.3f}")
    score = adjusted_rand_index(labels, group(vectors, chosen))
    found = len(set(group(vectors, chosen)))
    print(
        f"    chosen thresholds match {chosen.match:.2f} / new {chosen.new:.2f}: ARI {score:.3f} "
        f"({found} reports for {len(set(labels))} defects)"
    )


def main() -> None:
    print(f"$ {command_line()}")
    evaluate("hashing", HashingEmbedder())
    if os.environ.get("GEMINI_API_KEY"):
        from actors.broker import process_deps
        from integrations.embeddings import GeminiEmbedder

        evaluate("gemini", GeminiEmbedder(process_deps().gemini()))  # inside the shared Gemini limiter
    else:
        print("  gemini: skipped (no GEMINI_API_KEY; it needs the real API)")


if __name__ == "__main__":
    main()
