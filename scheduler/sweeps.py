"""The sweep stage of a tick: `services.sweeps` with the scheduler's database and broker.

`sweep` keeps the signature `scheduler/daemon.py` calls today; once the daemon holds a `Deps`, its
sweep stage is `services.sweeps.sweep_due(deps, now=now, check=...)` and this module can go.
"""

from __future__ import annotations

from datetime import datetime

from integrations.blobstore import BlobStore
from integrations.queues import Sender
from models import Scanner
from models.db import SessionFactory
from scheduler.dispatch import Dispatcher
from services.context import Deps
from services.sweeps import SweepOutcome, TeamCandidates, due, sweep_scanner, watermark_of
from settings import Settings

__all__ = ["SweepOutcome", "TeamCandidates", "due", "sweep", "watermark_of"]


def sweep(
    sessions: SessionFactory,
    scanner: Scanner,
    slot: int,
    candidates: TeamCandidates,
    dispatcher: Dispatcher,
    settings: Settings,
    now: datetime,
) -> SweepOutcome | None:
    """Sweep one scanner for `slot` (`services.sweeps.sweep_scanner`); None when the slot was taken."""
    deps = Deps(
        settings=settings,
        sessions=sessions,
        blobs=BlobStore(settings.blob_dir),
        redis_factory=lambda: dispatcher.broker.client,
        sender_factory=lambda: Sender(dispatcher.broker),
    )
    return sweep_scanner(deps, scanner, slot, candidates, now=now)
