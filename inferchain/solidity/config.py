"""The one place for compiler version and settings; artifacts record them for verification."""

from __future__ import annotations

from typing import Any

SOLC_VERSION = "0.8.28"
EVM_VERSION = "cancun"
OPTIMIZER_RUNS = 200

#: Import prefixes resolved from node_modules (the same remapping a block explorer needs).
NODE_MODULE_PREFIXES = ("@openzeppelin/",)


def compiler_settings() -> dict[str, Any]:
    return {
        "optimizer": {"enabled": True, "runs": OPTIMIZER_RUNS},
        "evmVersion": EVM_VERSION,
        "metadata": {"bytecodeHash": "ipfs"},
        "outputSelection": {
            "*": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"]}
        },
    }
