"""Event indexer: contract logs into the gateway database, reorg-safe and resumable."""

from inferchain.gateway.indexer.events import DecodedLog, LogDecoder
from inferchain.gateway.indexer.indexer import Indexer, StepResult
from inferchain.gateway.indexer.reconcile import ReconcileReport, reconcile

__all__ = ["DecodedLog", "Indexer", "LogDecoder", "ReconcileReport", "StepResult", "reconcile"]
