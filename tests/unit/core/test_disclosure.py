"""Disclosure encoding: the string fast path must equal the general JSON encoding."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ssiwallet.core import strictjson
from ssiwallet.core.b64 import b64u_decode, b64u_encode
from ssiwallet.core.sdjwt.disclosure import make_disclosure, parse_disclosure
from ssiwallet.core.sdjwt.issuer import random_salt

text = st.text(st.characters(codec="utf-8"), max_size=40)


@given(name=st.one_of(st.none(), text.filter(lambda n: n not in ("_sd", "..."))), value=text)
def test_string_fast_path_matches_general_encoding(name: str | None, value: str) -> None:
    salt = random_salt()
    made = make_disclosure(salt, name, value)
    array = [salt, value] if name is None else [salt, name, value]
    assert made.encoded == b64u_encode(strictjson.dumps(array).encode())
    assert parse_disclosure(made.encoded) == made
    assert strictjson.loads(b64u_decode(made.encoded)) == array


def test_salts_are_128_bits_and_distinct() -> None:
    salts = {random_salt() for _ in range(1000)}
    assert len(salts) == 1000
    assert all(len(b64u_decode(s)) == 16 for s in salts)
