"""Scripted rrweb sessions with known ground truth, for tests, benchmarks and prompt work.

`build("checkout-js-error")` returns a `Scenario`: realistic rrweb events (page loads, batched mouse
moves, clicks, typing, scrolls, touch, console errors) plus the times of its key actions (`marks`)
and the personal data it contains (`pii`). Pure stdlib, no I/O.
"""

from scenarios.catalog import DEFAULT_START_MS, Scenario, build, build_all, names

__all__ = ["DEFAULT_START_MS", "Scenario", "build", "build_all", "names"]
