"""The public face of the scenarios: build a named, scripted rrweb session with its marks.

Pure: no files, no network, no clock. The same name and start time give byte-identical events,
because every random choice comes from a `random.Random` seeded with the scenario's name.
"""

from __future__ import annotations

from dataclasses import dataclass

from scenarios.builder import SessionBuilder
from scenarios.stories import RECIPES

DEFAULT_START_MS = 1_767_607_200_000  # 2026-01-05T10:00:00Z


@dataclass(frozen=True)
class Scenario:
    """A synthetic session with known ground truth.

    `marks` holds the seconds (since the first event) of the key actions, for example `pay_click`
    or `rage_click`; `pii` lists every email, phone, card number or IBAN typed or shown.
    """

    name: str
    session_id: str
    description: str
    events: list[dict]
    marks: dict[str, float]
    pii: tuple[str, ...]


def names() -> list[str]:
    """The scenario names, in catalogue order."""
    return list(RECIPES)


def build(name: str, start_ms: int = DEFAULT_START_MS) -> Scenario:
    """Build one scenario whose first event is at `start_ms` (epoch milliseconds).

    Raises ValueError, naming the known scenarios, when `name` is not one of them.
    """
    recipe = RECIPES.get(name)
    if recipe is None:
        raise ValueError(f"unknown scenario {name!r}; known scenarios: {', '.join(names())}")
    builder = SessionBuilder(seed=name, start_ms=start_ms)
    recipe.play(builder)
    events, marks = builder.finish()
    return Scenario(
        name=name,
        session_id=f"scenario-{name}",
        description=recipe.description,
        events=events,
        marks=marks,
        pii=recipe.pii,
    )


def build_all(start_ms: int = DEFAULT_START_MS) -> list[Scenario]:
    """Every scenario, each starting at `start_ms`."""
    return [build(name, start_ms) for name in names()]
