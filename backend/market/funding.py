"""Who pays for a job the gateway creates on a wallet's behalf (the OpenAI-compatible API).

The gateway holds no user key, and ``createJobFor`` needs the requester's own EIP-712
signature for every request, so an OpenAI client (one bearer string, no wallet) cannot
authorise jobs from its deposit with the contracts as they are. ``JobFunder`` is the
seam a delegation scheme plugs into (for example an on-chain, capped, expiring session
signer the wallet authorises once); without one the completion endpoints answer 501.
"""

from __future__ import annotations

from typing import Protocol

from inferchain.gateway.market.requests import JobRequest


class JobFunder(Protocol):
    def create_job(self, wallet: str, request: JobRequest) -> int:
        """Create ``request`` on-chain paid by ``wallet``; the new job id."""
        ...
