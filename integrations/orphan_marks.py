"""The orphan blob check's memory between two runs, in Redis: when it last ran, and the blob refs it
found unreferenced with when each was first found so (services/retention.sweep_orphan_blobs)."""

from __future__ import annotations

import redis


def _key(namespace: str) -> str:
    return f"{namespace}:sightline:orphan-blobs"


def read_orphan_marks(client: redis.Redis, namespace: str) -> tuple[float | None, dict[str, float]]:
    """(when the last check ran, {ref: first found unreferenced}), as epoch seconds; (None, {}) at first."""
    key = _key(namespace)
    checked = client.get(f"{key}:checked")
    raw = client.hgetall(key)
    seen = {
        (ref.decode() if isinstance(ref, bytes) else str(ref)): float(first) for ref, first in raw.items()
    }
    return (float(checked) if checked is not None else None), seen


def write_orphan_marks(
    client: redis.Redis, namespace: str, checked: float, waiting: dict[str, float]
) -> None:
    """Replace the marks at once: this check's time and the refs still waiting for their second sighting."""
    key = _key(namespace)
    with client.pipeline() as batch:
        batch.delete(key)
        if waiting:
            batch.hset(key, mapping={ref: first for ref, first in waiting.items()})
        batch.set(f"{key}:checked", checked)
        batch.execute()
