"""The value types refuse malformed input in their constructors, with a stable code."""

from __future__ import annotations

import copy
import json
import pickle
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from registry.ledger import fields, tx
from ssiwallet.core.values import (
    STATUS_LIST_ID_REGEX,
    VCT_REGEX,
    DidUrl,
    HttpOrigin,
    StatusListId,
    Vct,
)
from ssiwallet.errors import BadValueError

GOOD_ORIGINS = [
    ("https://registry.example", "https://registry.example"),
    ("https://registry.example/", "https://registry.example"),
    ("HTTPS://Registry.Example:8443/", "https://registry.example:8443"),
    ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
    ("http://localhost", "http://localhost"),
    ("http://[::1]:9000", "http://[::1]:9000"),
    ("https://issuer_1.gemeente-gent.example", "https://issuer_1.gemeente-gent.example"),
]

BAD_ORIGINS = [
    "registry.example",  # the case that used to be stored and crash every later command
    "localhost:8080",
    "",
    "https://",
    "ftp://registry.example",
    "mailto:someone@example.org",
    "https://user:pw@registry.example",
    "https://registry.example/api",
    "https://registry.example?x=1",
    "https://registry.example#top",
    "https://registry.example:0",
    "https://registry.example:65536",
    "https://registry.example:",
    "https://registry.example:http",
    "https://regi stry.example",
    "https://registry.example\n",
    "http://[::1",
    "https://-bad.example",
    "https://bad..example",
    "https://" + "a" * 3000,
]


@pytest.mark.parametrize(("value", "normal"), GOOD_ORIGINS)
def test_http_origin_accepts_and_normalises(value: str, normal: str) -> None:
    origin = HttpOrigin(value)
    assert origin == normal and isinstance(origin, str)
    assert HttpOrigin(origin) is origin and HttpOrigin(normal) == origin


@pytest.mark.parametrize("value", BAD_ORIGINS)
def test_http_origin_refuses(value: str) -> None:
    with pytest.raises(BadValueError) as info:
        HttpOrigin(value)
    assert info.value.code == "input.bad_url"
    assert "Traceback" not in info.value.detail and len(info.value.detail) < 300


def test_http_origin_without_scheme_says_how_to_write_it() -> None:
    with pytest.raises(BadValueError, match=r"write it as https://registry\.example"):
        HttpOrigin("registry.example")


def test_http_origin_parts() -> None:
    origin = HttpOrigin("https://Registry.example")
    assert (origin.scheme, origin.host, origin.port) == ("https", "registry.example", 443)
    assert HttpOrigin("http://[::1]:9000").host == "::1"
    assert HttpOrigin("http://x.example").port == 80


@pytest.mark.parametrize("value", [None, 42, b"https://a.example", ["https://a.example"]])
def test_values_refuse_non_strings(value: object) -> None:
    for kind, code in ((HttpOrigin, "input.bad_url"), (DidUrl, "input.bad_did_url"),
                       (Vct, "input.bad_vct"), (StatusListId, "input.bad_status_list_id")):
        with pytest.raises(BadValueError) as info:
            kind(value)
        assert info.value.code == code


@pytest.mark.parametrize("value", [
    "did:keten:3NvdN6Yj2bwCzhH1zSpYQq", "did:keten:3NvdN6Yj2bwCzhH1zSpYQq#key-2",
    "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK#z6MkhaXgBZDvotDkL5257faiztiGiC2Q"
    "tKLGpbnnEGta2doK", "did:web:example.com:user:alice", "did:example:a%20b#frag/x?y",
])
def test_did_url_accepts(value: str) -> None:
    assert DidUrl(value) == value


@pytest.mark.parametrize("value", [
    "", "did:", "did:keten", "did:keten:", "DID:keten:abc", "did:Keten:abc", "did:keten:a b",
    "did:keten:abc/path", "did:keten:abc?query=1", "did:keten:abc#frag ment",
    "did:keten:abc:", "did:keten:%zz", "https://example.org", "did:keten:abc\n",
])
def test_did_url_refuses(value: str) -> None:
    with pytest.raises(BadValueError) as info:
        DidUrl(value)
    assert info.value.code == "input.bad_did_url"


def test_did_url_parts() -> None:
    kid = DidUrl("did:keten:3NvdN6Yj2bwCzhH1zSpYQq#key-2")
    assert (kid.did, kid.method, kid.fragment) == ("did:keten:3NvdN6Yj2bwCzhH1zSpYQq", "keten",
                                                   "key-2")
    assert DidUrl("did:keten:3NvdN6Yj2bwCzhH1zSpYQq").fragment is None


@pytest.mark.parametrize("value", [
    "urn:keten:vct:identity:1", "urn:keten:vct:address:2", "https://credentials.example.com/id",
    "urn:eudi:pid:1",
])
def test_vct_accepts(value: str) -> None:
    assert Vct(value) == value


@pytest.mark.parametrize("value", [
    "", "identity", "urn:", "URN:keten:vct:identity:1", "http://credentials.example/id",
    "urn:keten:vct identity", "urn:keten:vct:" + "x" * 200, "urn:keten:vct:é",
])
def test_vct_refuses(value: str) -> None:
    with pytest.raises(BadValueError) as info:
        Vct(value)
    assert info.value.code == "input.bad_vct"


def test_status_list_id() -> None:
    sid = StatusListId("3NvdN6Yj2bwCzhH1zSpYQq.main")
    assert (sid.issuer_method_id, sid.name) == ("3NvdN6Yj2bwCzhH1zSpYQq", "main")
    for bad in ("main", "3NvdN6Yj2bwCzhH1zSpYQq", "3NvdN6Yj2bwCzhH1zSpYQq.", "short.main",
                "3NvdN6Yj2bwCzhH1zSpYQq.Main", "3NvdN6Yj2bwCzh0zSpYQq.main",
                "3NvdN6Yj2bwCzhH1zSpYQq.main/x"):
        with pytest.raises(BadValueError) as info:
            StatusListId(bad)
        assert info.value.code == "input.bad_status_list_id"


def test_registry_uses_the_same_syntax() -> None:
    assert tx.LIST_ID_REGEX == STATUS_LIST_ID_REGEX
    assert fields.VCT.regex == VCT_REGEX


def test_values_behave_as_strings() -> None:
    origin = HttpOrigin("https://registry.example/")
    assert json.dumps({"u": origin}) == '{"u": "https://registry.example"}'
    table: dict[str, int] = {origin: 1}
    assert table["https://registry.example"] == 1
    assert f"{origin}/status" == "https://registry.example/status"
    assert pickle.loads(pickle.dumps(origin)) == origin
    assert type(copy.deepcopy(origin)) is HttpOrigin


_ANY = st.one_of(
    st.text(max_size=120),
    st.from_regex(re.compile(r"(?i)(https?|ftp)://[a-z0-9.\-_\[\]:@/?#%]{0,40}"), fullmatch=True),
    st.from_regex(re.compile(r"did:[a-z0-9]{1,5}:[A-Za-z0-9.%:_#-]{0,30}"), fullmatch=True),
    st.integers(), st.none(), st.binary(max_size=20),
)


@given(_ANY)
def test_any_input_raises_only_our_errors(value: object) -> None:
    for kind in (HttpOrigin, DidUrl, Vct, StatusListId):
        try:
            made = kind(value)
        except BadValueError as exc:
            assert exc.code.startswith("input.")
            continue
        assert isinstance(made, str)
        assert kind(str(made)) == made  # a checked value is a fixed point


@given(st.from_regex(re.compile(r"(?i)https?://[a-z0-9]{1,10}(\.[a-z0-9]{1,10}){0,3}"
                                r"(:[0-9]{1,5})?/?"), fullmatch=True))
def test_origin_normalisation_is_idempotent(value: str) -> None:
    try:
        origin = HttpOrigin(value)
    except BadValueError as exc:
        assert exc.code == "input.bad_url"
        return
    assert HttpOrigin(str(origin)) == origin
    assert origin == origin.lower() and not origin.endswith("/")
