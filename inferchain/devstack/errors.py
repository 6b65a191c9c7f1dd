"""Errors of the local dev stack; each message names the fix."""

from __future__ import annotations

from inferchain.errors import ConfigError, InferchainError


class DevStackError(InferchainError):
    """A local service could not be started, checked or stopped."""


class PortInUse(DevStackError, OSError):
    """The port a service needs is taken by another process."""


class ToolMissing(ConfigError):
    """A binary from node_modules is missing: the install step was skipped."""


class ServiceFailed(DevStackError):
    """A service exited or did not answer in time; the message points at its log."""
