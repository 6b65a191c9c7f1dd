"""The local development stack: Anvil and an IPFS node on 127.0.0.1."""

from inferchain.devstack.anvil import DEV_MNEMONIC, dev_private_keys, start_anvil
from inferchain.devstack.errors import DevStackError, PortInUse, ServiceFailed, ToolMissing
from inferchain.devstack.ipfs import start_ipfs
from inferchain.devstack.process import free_port
from inferchain.devstack.running import RunningService
from inferchain.devstack.scratch import scratch_stack
from inferchain.devstack.stack import DevStack, ServiceStatus

__all__ = [
    "DEV_MNEMONIC",
    "DevStack",
    "DevStackError",
    "PortInUse",
    "RunningService",
    "ServiceFailed",
    "ServiceStatus",
    "ToolMissing",
    "dev_private_keys",
    "free_port",
    "scratch_stack",
    "start_anvil",
    "start_ipfs",
]
