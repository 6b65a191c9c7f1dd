"""Check a job input against its model's limits before any job is prepared or paid for.

The limits come from the model's bundle on IPFS (``inferchain.bundle.precheck``), found by
the bundle CID and manifest hash the registry holds, and are cached by both: a bundle is
content-addressed, so an entry never goes stale. When the bundle cannot be read the
gateway answers 503 and creates nothing: a job the gateway cannot check is a job it does
not create blind (the wallet can still send ``createJob`` itself); it asks IPFS again
after ``retry_after_s``.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping

from inferchain.bundle import BundleError, InvalidInput
from inferchain.bundle.precheck import ModelLimits, fetch_model_limits
from inferchain.gateway.errors import BadRequest, Unavailable
from inferchain.gateway.market.contracts import MarketContracts
from inferchain.gateway.translate import chain_errors
from inferchain.ipfs import Cid, IpfsClient, IpfsError
from inferchain.market import read_model

__all__ = ["ModelLimitsCache", "check_model_input", "model_limits"]

#: InvalidInput reasons that say the input is not what the model reads at all.
_NOT_READABLE = frozenset({"undecodable", "wrong_type"})


class ModelLimitsCache:
    """``ModelLimits`` by (bundle CID, manifest hash), the most recently used kept.

    A failure is remembered for ``retry_after_s``: anyone may register a model whose bundle
    nobody serves, and each lookup of it would hold a request thread for the IPFS timeout.
    """

    def __init__(
        self,
        ipfs: IpfsClient,
        timeout_s: float,
        *,
        max_entries: int = 256,
        retry_after_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ipfs = ipfs
        self._timeout_s = timeout_s
        self._max_entries = max_entries
        self._retry_after_s = retry_after_s
        self._clock = clock
        self._entries: OrderedDict[tuple[str, str], ModelLimits] = OrderedDict()
        self._failures: dict[tuple[str, str], tuple[float, Exception]] = {}
        self._lock = threading.Lock()

    def get(self, bundle_cid: Cid, manifest_sha256: str) -> ModelLimits:
        """The bundle's limits; raises ``IpfsError`` or ``BundleError`` as the fetch did."""
        key = (str(bundle_cid), manifest_sha256)
        now = self._clock()
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
            failed_at, failure = self._failures.get(key, (-math.inf, None))
            if failure is not None and now - failed_at < self._retry_after_s:
                raise failure.with_traceback(None)
        try:
            limits = fetch_model_limits(
                self._ipfs, bundle_cid, manifest_sha256, timeout=self._timeout_s
            )
        except (IpfsError, BundleError) as exc:
            with self._lock:
                self._failures = {
                    k: v for k, v in self._failures.items() if now - v[0] < self._retry_after_s
                }
                self._failures[key] = (now, exc)
            raise
        with self._lock:
            self._entries[key] = limits
            self._failures.pop(key, None)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)
        return limits


def model_limits(cache: ModelLimitsCache, c: MarketContracts, model_id: int) -> ModelLimits:
    """What model ``model_id``'s runtime accepts, read from the bundle the registry names.

    503 ``model.bundle_unavailable`` when IPFS cannot serve the bundle; 409
    ``model.bundle_invalid`` when what it serves is no usable bundle.
    """
    with chain_errors("reading the model"):
        model = read_model(c.chain, c.models, model_id)
    bundle = Cid.parse(model.bundle_cid)
    name = f"model {model_id}"
    try:
        return cache.get(bundle, model.manifest_sha256)
    except BundleError as exc:
        raise BadRequest(
            "model.bundle_invalid",
            f"{name}'s bundle {bundle} is not a usable bundle, so no worker can run it; "
            "no job was created",
            status=409,
        ) from exc
    except IpfsError as exc:
        raise Unavailable(
            "model.bundle_unavailable",
            f"cannot read {name}'s bundle {bundle} from IPFS to check the input against the "
            "model's limits; no job was created, try again later",
        ) from exc


def check_model_input(
    cache: ModelLimitsCache,
    c: MarketContracts,
    model_id: int,
    data: bytes,
    *,
    names: Mapping[str, str] | None = None,
) -> None:
    """Refuse ``data`` (the job input bytes) if model ``model_id`` would refuse it.

    422 ``input.exceeds_model_limit`` (or ``input.unreadable``) names the limit; the
    bundle's own failures as in ``model_limits``.
    """
    limits = model_limits(cache, c, model_id)
    try:
        limits.check(data, model=f"model {model_id}", names=names)
    except InvalidInput as exc:
        code = "input.unreadable" if exc.reason in _NOT_READABLE else "input.exceeds_model_limit"
        raise BadRequest(code, _message(exc), status=422) from exc


def _message(exc: InvalidInput) -> str:
    """The refusal without its ``reason:`` prefix (the code carries it)."""
    return str(exc).removeprefix(f"{exc.reason}: ")
