"""Inferchain worker node: pulls jobs, runs inference, pins results, gets paid.

``Worker(settings).start()`` runs the node in a thread; ``stop()`` drains it. The CLI
(``inferchain worker run|status|withdraw``) and ``python -m inferchain.worker`` wrap it.
"""

from inferchain.worker.errors import (
    IllegalTransition,
    TransientFailure,
    WorkerError,
    WorkerNotReady,
)
from inferchain.worker.jobs import Phase, TrackedJob
from inferchain.worker.node import Worker
from inferchain.worker.settings import WorkerSettings, load_market_addresses

__all__ = [
    "IllegalTransition",
    "Phase",
    "TrackedJob",
    "TransientFailure",
    "Worker",
    "WorkerError",
    "WorkerNotReady",
    "WorkerSettings",
    "load_market_addresses",
]
