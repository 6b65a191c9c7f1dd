"""Chain errors reach clients as our own codes; a dropped send is told apart from a slow one."""

from __future__ import annotations

import pytest

from inferchain.chain import TransactionDropped, TransactionTimeout
from inferchain.gateway.errors import GatewayError
from inferchain.gateway.translate import chain_errors


@pytest.mark.parametrize(
    ("error", "status", "code", "says"),
    [
        (TransactionDropped("0xab never mined"), 503, "chain.not_sent", "safe to retry"),
        (TransactionTimeout("no receipt for 0xab"), 504, "chain.timeout", "may still be mined"),
    ],
)
def test_send_outcome_says_whether_a_retry_is_safe(
    error: Exception, status: int, code: str, says: str
) -> None:
    with pytest.raises(GatewayError) as caught, chain_errors("create the job"):
        raise error
    assert (caught.value.status, caught.value.code) == (status, code)
    assert says in caught.value.message and "0xab" not in caught.value.message
