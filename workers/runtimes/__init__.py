"""Inference runtimes: load a bundle, check job inputs, run batches, return canonical outputs.

One module per runtime behind the :class:`Runtime` protocol (``prepare`` one input, ``run``
a batch). Pick one with :func:`load_runtime`; :func:`infer` is the worker's batch call;
:func:`outputs_agree` is how a verifier compares two results; :class:`RuntimePool` keeps
loaded models by CID.
"""

from inferchain.worker.runtimes.base import Output, Runtime, canonical_json, pick_device
from inferchain.worker.runtimes.pool import RuntimePool
from inferchain.worker.runtimes.registry import RUNTIMES, infer, load_runtime
from inferchain.worker.runtimes.verify import outputs_agree

__all__ = [
    "RUNTIMES",
    "Output",
    "Runtime",
    "RuntimePool",
    "canonical_json",
    "infer",
    "load_runtime",
    "outputs_agree",
    "pick_device",
]
