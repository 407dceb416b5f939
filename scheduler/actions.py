"""Due actions (DESIGN §6): the scheduler's stage around `services.action_runs.claim_due_actions`.

New actions get their first occurrence; each due occurrence is claimed once (the schedule advanced
and the run inserted in one transaction) and its run sent. Occurrences missed while nothing ran are
not replayed: one claim, one run, and the next occurrence is after now.
"""

from __future__ import annotations

from datetime import datetime

from services.action_runs import ActionOutcome, claim_due_actions
from services.context import Deps

__all__ = ["ActionOutcome", "run_due_actions"]


def run_due_actions(deps: Deps, now: datetime) -> ActionOutcome:
    return claim_due_actions(deps, now=now)
