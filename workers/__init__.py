"""Inferchain worker node: pulls jobs, runs inference, pins results, gets paid.

``Worker(settings).start()`` runs the node in a thread; ``stop()`` drains it. Its commands
(``inferchain.worker.cli``) serve both ``inferchain worker run|status|withdraw`` and
``python -m inferchain.worker``.

The names below load on first use (PEP 562): ``Worker`` pulls in torch and the runtimes,
and the ``inferchain`` CLI imports ``inferchain.worker.cli`` on every start.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from inferchain.worker.errors import (
        IllegalTransition,
        TransientFailure,
        WorkerError,
        WorkerNotReady,
    )
    from inferchain.worker.node import Worker
    from inferchain.worker.settings import WorkerSettings, load_market_addresses
    from inferchain.worker.tracked import Phase, TrackedJob

_HOMES = {
    "IllegalTransition": "errors",
    "TransientFailure": "errors",
    "WorkerError": "errors",
    "WorkerNotReady": "errors",
    "Phase": "tracked",
    "TrackedJob": "tracked",
    "Worker": "node",
    "WorkerSettings": "settings",
    "load_market_addresses": "settings",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


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
