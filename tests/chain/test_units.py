"""Typed amounts: what the CLIs accept, and the error that names a bad one."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from inferchain.chain.units import parse_amount
from inferchain.worker.cli import app as worker_app


@pytest.mark.parametrize(
    ("text", "wei"),
    [
        ("1000", 1000),
        ("0.5eth", 5 * 10**17),
        ("2 gwei", 2 * 10**9),
        ("1_000wei", 1000),
        ("1ether", 10**18),
    ],
)
def test_amounts_in_units(text: str, wei: int) -> None:
    assert parse_amount(text) == wei


@pytest.mark.parametrize("text", ["abc", "-1", "0.5", "1.5wei", "eth"])
def test_bad_amounts_name_the_text(text: str) -> None:
    with pytest.raises(ValueError, match=repr(text).replace(".", r"\.")):
        parse_amount(text)


def test_worker_run_refuses_a_bad_verify_bond_before_connecting() -> None:
    result = CliRunner().invoke(worker_app, ["run", "--verify", "--verify-bond", "2 pints"])
    assert result.exit_code == 2
    assert "--verify-bond" in result.output and "'2 pints' is not an amount" in result.output
