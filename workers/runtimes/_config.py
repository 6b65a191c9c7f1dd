"""Read config.json sections into frozen dataclasses with typed errors.

The reader lives in :mod:`inferchain.bundle.limits` (torch-free), beside the runtimes'
input limits, so the gateway and the CLI read bundles exactly as the runtimes do.
"""

from inferchain.bundle.limits import from_dict

__all__ = ["from_dict"]
