"""The public surface of ``inferchain.ipfs`` is a deliberate, small list."""

from __future__ import annotations

import inferchain.ipfs as ipfs
from inferchain.errors import InferchainError


def test_exported_members() -> None:
    assert sorted(ipfs.__all__) == sorted(
        [
            "DAG_PB",
            "DEFAULT_MAX_SIZE",
            "RAW",
            "Cid",
            "CidMismatch",
            "DirEntry",
            "FileHasher",
            "ImportParams",
            "InvalidCid",
            "IpfsClient",
            "IpfsError",
            "IpfsNotFound",
            "IpfsRpcError",
            "IpfsTimeout",
            "IpfsTooLarge",
            "IpfsUnavailable",
            "NodeStat",
            "UnsupportedDag",
            "Verifier",
            "file_cid",
            "path_entry",
            "tree_entry",
            "verify_bytes",
        ]
    )
    assert all(hasattr(ipfs, name) for name in ipfs.__all__)


def test_errors_share_the_root_and_their_builtin() -> None:
    assert issubclass(ipfs.IpfsError, InferchainError)
    assert issubclass(ipfs.IpfsUnavailable, ConnectionError)
    assert issubclass(ipfs.IpfsTimeout, TimeoutError)
    assert issubclass(ipfs.IpfsTooLarge, ValueError)
    assert issubclass(ipfs.CidMismatch, ValueError)
    assert issubclass(ipfs.InvalidCid, ValueError)
    assert issubclass(ipfs.IpfsNotFound, LookupError)
