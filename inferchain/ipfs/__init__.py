"""IPFS for Inferchain: CIDs, local UnixFS hashing, and verifying RPC clients.

Nothing a node returns is trusted: content is checked against its CID locally
(:mod:`inferchain.ipfs.unixfs`), so a CID stored on-chain pins down the exact bytes.
"""

from inferchain.ipfs._ops import DirEntry, NodeStat
from inferchain.ipfs.cid import DAG_PB, RAW, Cid
from inferchain.ipfs.client import DEFAULT_MAX_SIZE, IpfsClient
from inferchain.ipfs.errors import (
    CidMismatch,
    InvalidCid,
    IpfsError,
    IpfsNotFound,
    IpfsRpcError,
    IpfsTimeout,
    IpfsTooLarge,
    IpfsUnavailable,
    UnsupportedDag,
)
from inferchain.ipfs.unixfs import (
    FileHasher,
    ImportParams,
    Verifier,
    file_cid,
    path_entry,
    tree_entry,
    verify_bytes,
)

__all__ = [
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
