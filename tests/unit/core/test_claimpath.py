"""One ClaimPath: checked when made, read from JSON with ``dcql.invalid_path``, a tuple."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ssiwallet.core.claimpath import ROOT, ClaimPath, leaves
from ssiwallet.core.dcql import parse_path
from ssiwallet.errors import DcqlError, SsiError


def test_a_claim_path_is_a_tuple() -> None:
    path = ClaimPath(["address", "street"])
    assert path == ("address", "street") and hash(path) == hash(("address", "street"))
    assert {("address", "street"): 1}[path] == 1 and {path: 2}[("address", "street")] == 2
    assert ClaimPath(path) is path
    assert path.child(0) == ("address", "street", 0) and type(path.child(0)) is ClaimPath


@pytest.mark.parametrize("value", [
    [], (), "address", b"ab", {"a": 1}, 7, None, [True], [-1], [1.5], [["a"]], [{"a": 1}],
])
def test_the_constructor_refuses(value: Any) -> None:
    with pytest.raises(DcqlError) as info:
        ClaimPath(value)
    assert info.value.code == "dcql.invalid_path"


@pytest.mark.parametrize("value", [["a"], ["a", 0, None], [None], [0], ["", 10**6]])
def test_parse_accepts_json_pointers(value: list[Any]) -> None:
    path = ClaimPath.parse(value)
    assert path == tuple(value) and type(path) is ClaimPath
    assert parse_path(value) == path


@pytest.mark.parametrize("value", [None, [], "a", ("a",), [False], [-2], ["a", 1.0]])
def test_parse_refuses_and_names_where(value: object) -> None:
    with pytest.raises(DcqlError) as info:
        ClaimPath.parse(value, where="credentials[0].claims[2]")
    assert info.value.code == "dcql.invalid_path"
    assert info.value.detail.startswith("credentials[0].claims[2]")


def test_mdoc_paths_are_namespace_and_element() -> None:
    assert ClaimPath.parse(["org.iso.18013.5.1", "age_over_18"], mdoc=True) == (
        "org.iso.18013.5.1", "age_over_18")
    for bad in (["ns"], ["ns", "a", "b"], ["ns", 0]):
        with pytest.raises(DcqlError):
            ClaimPath.parse(bad, mdoc=True)


def test_concrete_dotted_and_prefix() -> None:
    assert ClaimPath(["a", 0]).is_concrete and not ClaimPath(["a", None]).is_concrete
    assert ClaimPath(["degrees", None, "title"]).dotted() == "degrees.*.title"
    assert ClaimPath(["address", "street"]).startswith(("address",))
    assert not ClaimPath(["address"]).startswith(("address", "street"))
    assert ClaimPath(["a", 1]).to_json() == ["a", 1]


def test_root_is_only_a_starting_point() -> None:
    assert ROOT.child("a") == ("a",)
    with pytest.raises(DcqlError):
        ROOT.child(True)
    assert ROOT == () and not ROOT


def test_leaves() -> None:
    claims = {"a": 1, "b": {"c": [1, {"d": 2}], "e": {}}, "f": []}
    assert leaves(claims) == [("a",), ("b", "c", 0), ("b", "c", 1, "d"), ("b", "e"), ("f",)]
    assert all(type(p) is ClaimPath and p.is_concrete for p in leaves(claims))
    assert leaves({}) == [] and leaves(5) == []


_JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
                     lambda inner: st.lists(inner, max_size=4)
                     | st.dictionaries(st.text(max_size=3), inner, max_size=4), max_leaves=10)


@given(_JSON)
def test_any_input_raises_only_our_errors(value: object) -> None:
    for make in (ClaimPath, ClaimPath.parse):
        try:
            path = make(value)  # type: ignore[arg-type]
        except SsiError as exc:
            assert exc.code == "dcql.invalid_path"
            continue
        assert ClaimPath(path) == path and len(path) > 0
