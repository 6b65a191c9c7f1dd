"""Chain and IPFS errors as gateway errors, at the boundary (``raise ... from``).

Only our own words reach the client; a revert is named by its ABI error name, which is
part of the contracts' public interface. Beside ``errors`` at the bottom of the gateway,
not in ``api``: routes and the ``market`` code under them both translate.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from web3.exceptions import Web3Exception

from inferchain.chain import (
    ChainError,
    ContractReverted,
    RpcUnavailable,
    TransactionDropped,
    TransactionFailed,
    TransactionTimeout,
)
from inferchain.gateway.errors import BadRequest, GatewayError, Unavailable
from inferchain.ipfs import CidMismatch, IpfsError, IpfsTimeout, IpfsTooLarge


@contextmanager
def chain_errors(action: str) -> Iterator[None]:
    try:
        yield
    except GatewayError:
        raise
    except ContractReverted as exc:
        raise BadRequest(
            "chain.rejected", f"{action}: the contract refused with {exc.error_name}", status=409
        ) from exc
    except TransactionFailed as exc:
        name = exc.reason.error_name if exc.reason else "an unknown reason"
        raise BadRequest(
            "chain.reverted", f"{action}: transaction reverted with {name}", status=409
        ) from exc
    except TransactionDropped as exc:
        raise Unavailable(
            "chain.not_sent", f"{action}: the transaction was dropped unmined; safe to retry"
        ) from exc
    except TransactionTimeout as exc:
        raise GatewayError(
            "chain.timeout", f"{action}: no receipt in time; it may still be mined", status=504
        ) from exc
    except RpcUnavailable as exc:
        raise Unavailable("chain.unavailable", f"{action}: chain node unreachable") from exc
    except (ChainError, Web3Exception) as exc:
        raise Unavailable("chain.error", f"{action}: chain node error") from exc


@contextmanager
def ipfs_errors(action: str) -> Iterator[None]:
    try:
        yield
    except GatewayError:
        raise
    except IpfsTimeout as exc:
        raise GatewayError("ipfs.timeout", f"{action}: IPFS timed out", status=504) from exc
    except CidMismatch as exc:
        raise GatewayError(
            "ipfs.verification_failed", f"{action}: content does not match its CID", status=502
        ) from exc
    except IpfsTooLarge as exc:
        raise GatewayError("ipfs.too_large", f"{action}: content is too large", status=502) from exc
    except IpfsError as exc:
        raise Unavailable("ipfs.unavailable", f"{action}: IPFS node unavailable") from exc
