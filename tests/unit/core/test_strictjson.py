"""Strict I-JSON input: every trick that makes two JSON parsers disagree is refused by code."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ssiwallet.core import strictjson
from ssiwallet.errors import InputError


def _code(data: str | bytes, **kwargs: Any) -> str:
    with pytest.raises(InputError) as info:
        strictjson.loads(data, **kwargs)
    return info.value.code


@pytest.mark.parametrize("text", [
    '{"a": 1, "a": 2}',
    '{"a": 1, "b": 2, "a": 1}',                   # same value still a duplicate
    '{"exp": 1, "exp": "1"}',
    '{"outer": {"x": 1, "x": 2}}',                  # nested object
    '[{"ok": 1}, {"k": 1, "k": 1}]',                # object inside an array
    '{"a": {"b": {"c": {"d": 1, "d": 2}}}}',
    '{"a": 1, "\\u0061": 2}',                       # the same name, escaped
])
def test_duplicate_keys(text: str) -> None:
    assert _code(text) == "json.duplicate_key"


@pytest.mark.parametrize("text", [
    "NaN", "Infinity", "-Infinity",
    '{"exp": NaN}', '{"exp": Infinity}', '{"exp": -Infinity}', "[1, NaN]",
    "1e400", "-1e400", '{"exp": 1e400}', "[1E999]", "123456789e999",
])
def test_non_finite_numbers(text: str) -> None:
    assert _code(text) == "json.non_finite"


@pytest.mark.parametrize("text", [
    "1" * 5000,
    '{"exp": ' + "9" * 5000 + "}",
    "-" + "1" * 5000,
    "0." + "1" * 5000,
    "1" * 41,
])
def test_numbers_too_long(text: str) -> None:
    assert _code(text) == "json.number_too_long"


def test_number_at_the_length_limit_is_accepted() -> None:
    assert strictjson.loads("9" * strictjson.MAX_NUMBER_CHARS) == int("9" * 40)
    assert strictjson.loads("-1.5e-300") == -1.5e-300


@pytest.mark.parametrize("text", [
    '"\\ud800"',                      # escaped lone high surrogate
    '"\\uDC00"',                      # escaped lone low surrogate, upper-case hex
    '"a\\udfffb"',
    '{"\\ud800": 1}',                 # in a member name
    '["ok", {"x": ["\\ud83d"]}]',     # high surrogate without its low half, nested
    '"\\ude00\\ud83d"',               # a pair in the wrong order
    '"\ud800"',                       # literal lone surrogate in the text
    '{"k": "x\udfffy"}',
])
def test_lone_surrogates(text: str) -> None:
    assert _code(text) == "json.lone_surrogate"


def test_valid_surrogate_pair_escape_is_accepted() -> None:
    assert strictjson.loads('"\\ud83d\\ude00"') == "\U0001f600"
    assert strictjson.loads('{"\\uD83D\\uDE00": "\\u00e9"}') == {"\U0001f600": "é"}
    assert strictjson.loads('"\U0001f600"'.encode()) == "\U0001f600"


def test_escaped_backslash_before_u_is_not_a_surrogate() -> None:
    assert strictjson.loads('"\\\\ud800"') == "\\ud800"


@pytest.mark.parametrize("opener,closer", [("[", "]"), ('{"a":', "}")])
def test_ten_thousand_deep_nesting_is_refused_without_recursion_error(
        opener: str, closer: str) -> None:
    text = opener * 10_000 + "1" + closer * 10_000
    assert _code(text) == "json.too_deep"
    assert _code(text.encode()) == "json.too_deep"


def test_deep_nesting_that_is_also_malformed_is_refused() -> None:
    assert _code("[" * 10_000) == "json.too_deep"


def test_depth_limit_boundary() -> None:
    depth = strictjson.MAX_DEPTH
    assert strictjson.loads("[" * depth + "]" * depth) is not None
    assert _code("[" * (depth + 1) + "]" * (depth + 1)) == "json.too_deep"


def test_brackets_inside_strings_do_not_count_toward_depth() -> None:
    many = "[{" * 10_000
    assert strictjson.loads(json.dumps(many)) == many
    assert strictjson.loads(json.dumps({"k": many, many: [many]})) == {"k": many, many: [many]}
    # An escaped quote does not end the string early.
    tricky = '["\\"' + "[" * 100 + '"]'
    assert strictjson.loads(tricky) == ['"' + "[" * 100]


def test_too_large() -> None:
    assert _code("[" + "1," * 600_000 + "1]") == "json.too_large"
    assert _code(b" " * (strictjson.MAX_BYTES + 1)) == "json.too_large"
    assert _code('{"a": "bcd"}', max_bytes=5) == "json.too_large"
    assert strictjson.loads('{"a":1}', max_bytes=7) == {"a": 1}


@pytest.mark.parametrize("data", [
    b"\xff",
    b'"\xc3"',                          # truncated two-byte sequence
    b'"\xed\xa0\x80"',                  # CESU-8 surrogate: not UTF-8
    b'"\xc0\xaf"',                      # overlong encoding of "/"
    b'{"a": "\xfe"}',
    "é".encode("latin-1"),
])
def test_not_utf8(data: bytes) -> None:
    assert _code(data) == "json.not_utf8"


@pytest.mark.parametrize("text", [
    "", " ", "{", "[1,]", '{"a":1,}', "{'a': 1}", '{"a" 1}', "[1 2]", "01", "{} {}",
    "nan", "true false", '"unterminated', "\ufeff{}", "[", "]", "/* c */ 1", "+1", ".5",
])
def test_malformed(text: str) -> None:
    assert _code(text) == "json.malformed"


@pytest.mark.parametrize("value", [None, 1, 1.5, ["{}"], {"a": 1}])
def test_non_text_input(value: Any) -> None:
    with pytest.raises(InputError) as info:
        strictjson.loads(value)
    assert info.value.code == "json.invalid"


def test_errors_are_input_errors_not_value_errors() -> None:
    with pytest.raises(InputError):
        strictjson.loads("{")
    assert issubclass(InputError, Exception)
    assert not issubclass(InputError, ValueError)


def test_loads_object() -> None:
    assert strictjson.loads_object(b'{"a": [1]}') == {"a": [1]}
    for text in ("[]", "1", '"x"', "null"):
        with pytest.raises(InputError) as info:
            strictjson.loads_object(text, what="header")
        assert info.value.code == "json.not_object"
        assert "header" in info.value.detail


def test_dumps_is_compact_and_keeps_unicode() -> None:
    assert strictjson.dumps({"a": [1, "é"]}) == '{"a":[1,"é"]}'
    with pytest.raises(ValueError):
        strictjson.dumps(float("nan"))


_TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=20)
_JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | _TEXT,
    lambda children: st.lists(children, max_size=5)
    | st.dictionaries(_TEXT, children, max_size=5),
    max_leaves=30,
)


@given(_JSON_VALUES)
def test_dumps_then_loads_round_trips(value: Any) -> None:
    text = strictjson.dumps(value)
    assert strictjson.loads(text) == value
    assert strictjson.loads(text.encode("utf-8")) == value
