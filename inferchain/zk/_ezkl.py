"""The one boundary to the ``ezkl`` extension: imports it, runs its calls, translates its errors.

EZKL raises bare ``RuntimeError``/``ValueError`` with Rust messages; callers get ZkError naming
the step. Its EVM functions are coroutines that need a running event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from types import ModuleType
from typing import Any

from inferchain.errors import ConfigError
from inferchain.zk.errors import ZkError

EZKL_VERSION = "23.0.5"


def ezkl() -> ModuleType:
    """The ezkl module, or a ConfigError that says how to install it."""
    try:
        import ezkl as module
    except ImportError as exc:
        raise ConfigError(
            f"the ZK tier needs ezkl {EZKL_VERSION}: pip install 'inferchain[zk]'"
        ) from exc
    return module


def call(step: str, fn: Callable[..., Any], *args: Any) -> Any:
    """Run one EZKL call; any failure becomes ZkError naming ``step``."""
    try:
        return fn(*args)
    except (RuntimeError, ValueError, OSError) as exc:
        raise ZkError(f"ezkl {step} failed: {exc}") from exc


def call_async(step: str, fn: Callable[..., Awaitable[Any]], *args: Any) -> Any:
    """Run one EZKL coroutine function to completion in a fresh event loop."""

    async def run() -> Any:
        return await fn(*args)

    try:
        return asyncio.run(run())
    except (RuntimeError, ValueError, OSError) as exc:
        raise ZkError(f"ezkl {step} failed: {exc}") from exc
