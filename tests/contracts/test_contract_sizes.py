"""Runtime code sizes of the shipped artifacts: EIP-170's hard limit, and issue 12's budget.

The artifacts are the compiled sources (a packaging test fails when they differ from a fresh
compile), and a deployment's code is its artifact's runtime code with immutables filled in, so
the artifact's length is the deployed length. `pytest -s` prints one `name bytes` line each.
"""

from __future__ import annotations

import pytest

from inferchain.artifacts import artifact_names, load_artifact

#: EIP-170: the most runtime code a contract may deploy.
EIP170_LIMIT = 24_576
#: Issue 12: every production contract stays this far under EIP-170, to leave room for fixes.
BUDGET = 22_000
#: docs/design/contracts-v2.md §1: from slice 1 on, the market keeps 1,000 more bytes spare
#: for fixes after issues 14 and 16.
MARKET_BUDGET = 21_000


def _runtime_size(name: str) -> int:
    return len(bytes.fromhex(load_artifact(name).deployed_bytecode.removeprefix("0x")))


#: Contracts with runtime code (interfaces have none), by name.
SIZES = {name: size for name in artifact_names() if (size := _runtime_size(name))}
#: What `inferchain deploy` ships: everything but the test doubles in contracts/test/.
PRODUCTION = sorted(
    name for name in SIZES if not load_artifact(name).source_name.startswith("contracts/test/")
)


def test_every_contract_fits_eip170() -> None:
    for name, size in sorted(SIZES.items()):
        print(f"{name} {size}")
    too_big = {name: size for name, size in SIZES.items() if size > EIP170_LIMIT}
    assert too_big == {}, f"over EIP-170's {EIP170_LIMIT} bytes: {too_big}"


@pytest.mark.parametrize("name", PRODUCTION)
def test_production_contract_fits_the_budget(name: str) -> None:
    assert SIZES[name] <= BUDGET, f"{name} is {SIZES[name]} bytes, over the {BUDGET} budget"


def test_job_market_fits_its_tighter_budget() -> None:
    assert SIZES["JobMarket"] <= MARKET_BUDGET, (
        f"JobMarket is {SIZES['JobMarket']} bytes, over its {MARKET_BUDGET} budget"
    )
