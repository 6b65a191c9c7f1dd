"""Hostile JSON for the parser tests and the fuzzers (gateway routes, runtime inputs).

``DEEP`` is issue 11's payload: ~200 KB that segfaulted ``json.loads`` in any process that
imported eth-account. The strategies write JSON the way a hostile client does: NaN and
Infinity as is, lone surrogates as ``\\udxxx`` escapes, numbers past a double, nesting far
past any limit, and bytes that are not UTF-8 or not JSON at all.
"""

from __future__ import annotations

import json

from hypothesis import strategies as st

DEEP = b'{"statement": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"

text = st.text(st.characters() | st.characters(categories=["Cs"]), max_size=24)
#: Integers past a double (10**309) up to Python's 4,300-digit limit, either sign.
huge_ints = st.tuples(st.integers(309, 4299), st.sampled_from([1, -1])).map(
    lambda p: p[1] * 10 ** p[0]
)
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | huge_ints
    | st.floats()  # NaN and ±Infinity included
    | text
)


def json_values(keys: list[str]) -> st.SearchStrategy[object]:
    """Nested values; object keys drawn from ``keys`` (fields the reader knows) or any text."""
    return st.recursive(
        scalars,
        lambda inner: (
            st.lists(inner, max_size=4)
            | st.dictionaries(st.sampled_from(keys) | text, inner, max_size=5)
        ),
        max_leaves=16,
    )


def encode(value: object) -> bytes:
    """JSON text as a hostile client writes it (``json.dumps`` escapes lone surrogates)."""
    return json.dumps(value, allow_nan=True).encode()


deep = st.integers(1, 100_000).map(lambda n: b"[" * n + b"]" * n)
raw_tokens = st.sampled_from(
    [b"NaN", b"-Infinity", b"1e400", b"-1e999", b"9" * 5000, b'"\\ud800"', b'"\\udfff x"',
     b'"\xed\xa0\x80"', b'"\xff"', b"tru", b"{", b"[1,]", b'{"a" 1}', b"\x00"]
)  # fmt: skip


def bodies(keys: list[str]) -> st.SearchStrategy[bytes]:
    """Documents (mostly) nobody should send: any of the above, alone or under a known key."""
    return st.one_of(
        json_values(keys).map(encode),
        st.binary(max_size=256),
        deep,
        st.tuples(st.sampled_from(keys), deep | raw_tokens).map(
            lambda p: b'{"' + p[0].encode() + b'": ' + p[1] + b"}"
        ),
        st.just(b""),
    )
