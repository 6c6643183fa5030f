"""Strict base64url: only the one canonical spelling of a byte string decodes."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ssiwallet.core.b64 import b64u_decode, b64u_encode
from ssiwallet.errors import InputError


def _code(text: object) -> str:
    with pytest.raises(InputError) as info:
        b64u_decode(text)  # type: ignore[arg-type]
    return info.value.code


def test_known_values() -> None:
    assert b64u_encode(b"") == ""
    assert b64u_encode(b"A") == "QQ"
    assert b64u_encode(b"\xfb\xff") == "-_8"
    assert b64u_decode("") == b""
    assert b64u_decode("QQ") == b"A"
    assert b64u_decode("QUI") == b"AB"
    assert b64u_decode("QUJD") == b"ABC"
    assert b64u_decode("-_8") == b"\xfb\xff"


@pytest.mark.parametrize("text", ["QQ==", "QQ=", "QUI=", "=", "QQ=="[:3], "Q=Q="])
def test_padding_is_refused(text: str) -> None:
    assert _code(text) == "b64.alphabet"


@pytest.mark.parametrize("text", ["+_8", "-/8", "+/8", "a+b/"])
def test_standard_alphabet_is_refused(text: str) -> None:
    assert _code(text) == "b64.alphabet"


@pytest.mark.parametrize("text", [" QQ", "QQ ", "Q Q", "QQ\n", "\tQQ", "QU\r\nJD", "QQ\x00"])
def test_whitespace_and_control_characters_are_refused(text: str) -> None:
    assert _code(text) == "b64.alphabet"


@pytest.mark.parametrize("text", ["QUJ٣", "QQé", "ＱＱ", "Q.Q", "QQ%3D"])
def test_other_characters_are_refused(text: str) -> None:
    assert _code(text) == "b64.alphabet"


@pytest.mark.parametrize("text,canonical", [
    ("QR", "QQ"), ("QX", "QQ"), ("Qf", "QQ"),      # 4 trailing bits must be zero
    ("QUJ", "QUI"), ("QUL", "QUI"),                # 2 trailing bits must be zero
])
def test_non_canonical_trailing_bits_are_refused(text: str, canonical: str) -> None:
    assert b64u_decode(canonical) == base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    assert _code(text) == "b64.non_canonical"


@pytest.mark.parametrize("text", ["Q", "QUJDR", "QUJDRUZHS"])
def test_impossible_length_is_refused(text: str) -> None:
    assert len(text) % 4 == 1
    assert _code(text) == "b64.length"


@pytest.mark.parametrize("value", [None, b"QQ", 42, ["QQ"]])
def test_non_string_is_refused(value: object) -> None:
    assert _code(value) == "b64.invalid"


def test_error_detail_names_the_value() -> None:
    with pytest.raises(InputError) as info:
        b64u_decode("QR", what="disclosure")
    assert "disclosure" in info.value.detail


@given(st.binary(max_size=300))
def test_round_trip(data: bytes) -> None:
    text = b64u_encode(data)
    assert "=" not in text and "+" not in text and "/" not in text
    assert b64u_decode(text) == data


@given(st.binary(min_size=1, max_size=64))
def test_padded_form_of_any_value_is_refused_when_padding_is_needed(data: bytes) -> None:
    padded = base64.urlsafe_b64encode(data).decode()
    if padded.endswith("="):
        assert _code(padded) == "b64.alphabet"
    else:
        assert b64u_decode(padded) == data
