"""Errors of the IPFS layer; httpx errors and node error replies are translated into these.

IpfsError
├── IpfsUnavailable     the node's RPC API cannot be reached (also ConnectionError)
├── IpfsTimeout         the node or the client gave up waiting (also TimeoutError)
├── IpfsTooLarge        content exceeds the caller's ``max_size`` (also ValueError)
├── IpfsNotFound        no such name in a directory, or not pinned (also LookupError)
├── IpfsRpcError        the node answered with any other error message
├── InvalidCid          text or bytes that are not a CID we support (also ValueError)
├── CidMismatch         bytes do not hash to the CID they were fetched by (also ValueError)
└── UnsupportedDag      a DAG shape the local verifier cannot recompute (also ValueError)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from inferchain.errors import InferchainError

if TYPE_CHECKING:
    from inferchain.ipfs.cid import Cid


class IpfsError(InferchainError):
    """Root of the IPFS layer's errors."""


class IpfsUnavailable(IpfsError, ConnectionError):
    """The node's RPC API did not accept the connection (down, wrong URL, not ready)."""


class IpfsTimeout(IpfsError, TimeoutError):
    """The call ran past its time budget (a missing CID never resolves on an offline node)."""


class IpfsTooLarge(IpfsError, ValueError):
    """Content is larger than the ``max_size`` the caller allowed."""

    def __init__(self, max_size: int) -> None:
        super().__init__(f"content exceeds max_size={max_size} bytes")
        self.max_size = max_size


class IpfsNotFound(IpfsError, LookupError):
    """A path inside a directory does not exist, or a CID is not pinned."""


class IpfsRpcError(IpfsError):
    """The node answered an RPC call with an error; ``message`` is the node's own text."""

    def __init__(self, endpoint: str, status: int, message: str) -> None:
        super().__init__(f"{endpoint}: HTTP {status}: {message}")
        self.endpoint = endpoint
        self.status = status
        self.message = message


class InvalidCid(IpfsError, ValueError):
    """Not a CID, or a CID with a hash function other than sha2-256."""


class CidMismatch(IpfsError, ValueError):
    """Bytes hash to another CID than expected: corruption, or a lying node."""

    def __init__(self, expected: Cid, actual: Cid | None, detail: str = "") -> None:
        got = str(actual) if actual is not None else "a different digest"
        super().__init__(f"expected {expected}, content hashes to {got}{detail}")
        self.expected = expected
        self.actual = actual


class UnsupportedDag(IpfsError, ValueError):
    """A DAG the local verifier cannot handle (HAMT-sharded directory, foreign codec)."""
