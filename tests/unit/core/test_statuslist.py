"""Token Status List: encoding vectors from the spec, the status list token, references."""

from __future__ import annotations

import re
import zlib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ssiwallet.core import jws as jose
from ssiwallet.core.b64 import b64u_decode, b64u_encode
from ssiwallet.core.keys import Ed25519PrivateKey, P256PrivateKey
from ssiwallet.core.statuslist import (
    INVALID,
    MAX_LIST_BYTES,
    SUSPENDED,
    VALID,
    StatusList,
    StatusListToken,
    StatusRef,
    create_status_list_token,
    parse_status_reference,
    status_name,
    status_of,
    verify_status_list_token,
)
from ssiwallet.errors import JoseError, StatusListError
from tests.support.paths import SPECS
from tests.support.paths import VECTORS as VECTOR_ROOT

REPO = Path(__file__).resolve().parents[3]
VECTORS = VECTOR_ROOT / "status-list"
SPEC = SPECS / "token-status-list.md"
VECTOR_FILES = sorted(VECTORS.glob("*.md"))
SPEC_LIST_SIZE = 1 << 20  # "All examples are initialized with a size of 2^20 entries."

# --- vectors as data -------------------------------------------------------------------------


def _vector_encoding(text: str) -> dict[str, Any]:
    """The ``{"bits", "lst"}`` object; ``lst`` is wrapped over lines in the files."""
    bits = re.search(r'"bits":\s*(\d+)', text)
    lst = re.search(r'"lst":\s*"([^"]*)"', text)
    assert bits and lst, "vector file has no bits/lst"
    return {"bits": int(bits.group(1)), "lst": re.sub(r"\s", "", lst.group(1))}


def _spec_statuses(name: str) -> dict[int, int]:
    """``status[i] = 0b...`` lines of the spec's code block just before ``include <name>``."""
    spec = SPEC.read_text()
    at = spec.index(f"{{::include examples/{name}}}")
    block = spec[:at].rsplit("~~~~~~~~~~\nstatus[", 1)[1]
    block = "status[" + block.split("~~~~~~~~~~", 1)[0]
    pairs = re.findall(r"status\[(\d+)\]\s*=\s*0b([01]+)", block)
    assert pairs, f"no statuses for {name} in the spec"
    return {int(i): int(v, 2) for i, v in pairs}


def _expected(path: Path) -> StatusList:
    """The status list a vector file stands for, from its byte array or the spec's statuses."""
    text = path.read_text()
    bits = _vector_encoding(text)["bits"]
    byte_array = re.search(r"byte_array\s*=\s*\[([^\]]*)\]", text)
    if byte_array:
        data = bytes(int(b, 16) for b in byte_array.group(1).split(","))
        return StatusList(bits, data)
    expected = StatusList.new(SPEC_LIST_SIZE, bits)
    for idx, value in _spec_statuses(path.name).items():
        expected.set(idx, value)
    return expected


def test_vectors_are_present() -> None:
    assert len(VECTOR_FILES) >= 5


@pytest.mark.parametrize("path", VECTOR_FILES, ids=[p.stem for p in VECTOR_FILES])
def test_vector_decodes_to_expected_statuses(path: Path) -> None:
    decoded = StatusList.decode(_vector_encoding(path.read_text()))
    expected = _expected(path)
    assert decoded == expected
    assert decoded.size == expected.size


@pytest.mark.parametrize("path", VECTOR_FILES, ids=[p.stem for p in VECTOR_FILES])
def test_vector_encode_round_trips(path: Path) -> None:
    expected = _expected(path)
    encoded = expected.encode()
    assert encoded["bits"] == expected.bits
    assert StatusList.decode(encoded) == expected


@pytest.mark.skipif("ng" in zlib.ZLIB_RUNTIME_VERSION.lower(),
                    reason="zlib-ng compresses to different (equally valid) bytes")
@pytest.mark.parametrize("path", VECTOR_FILES, ids=[p.stem for p in VECTOR_FILES])
def test_vector_encoding_is_byte_exact(path: Path) -> None:
    assert _expected(path).encode() == _vector_encoding(path.read_text())


# --- packing ---------------------------------------------------------------------------------


def _from_statuses(values: list[int], bits: int) -> StatusList:
    lst = StatusList.new(len(values), bits)
    for idx, value in enumerate(values):
        lst.set(idx, value)
    return lst


def test_one_bit_packing_matches_spec_figure() -> None:
    lst = _from_statuses([1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1], 1)
    assert lst.raw == bytes([0xB9, 0xA3])
    assert zlib.compress(lst.raw, 9).hex() == "78dadbb918000217015d"


def test_two_bit_packing_matches_spec_figure() -> None:
    lst = _from_statuses([1, 2, 0, 3, 0, 1, 0, 1, 1, 2, 3, 3], 2)
    assert lst.raw == bytes([0xC9, 0x44, 0xF9])
    assert zlib.compress(lst.raw, 9).hex() == "78da3be9f2130003df0207"


def test_four_and_eight_bit_packing() -> None:
    assert _from_statuses([0x3, 0xA, 0xF], 4).raw == bytes([0xA3, 0x0F])
    assert _from_statuses([0x12, 0xFF], 8).raw == bytes([0x12, 0xFF])


def test_set_overwrites_without_touching_neighbours() -> None:
    lst = _from_statuses([3, 3, 3, 3], 2)
    lst.set(1, VALID)
    assert [lst.get(i) for i in range(4)] == [3, 0, 3, 3]


def test_new_rounds_up_to_whole_bytes() -> None:
    assert StatusList.new(10, 1).size == 16
    assert StatusList.new(10, 8).size == 10
    assert StatusList.new(0, 2).size == 0
    assert len(StatusList.new(5, 4)) == 6


@pytest.mark.parametrize("bits", [0, 3, 16, True, "1", 1.0])
def test_bad_bits_refused(bits: Any) -> None:
    with pytest.raises(StatusListError) as exc:
        StatusList.new(8, bits)
    assert exc.value.code == "status.invalid_bits"


def test_new_refuses_bad_size() -> None:
    with pytest.raises(StatusListError) as exc:
        StatusList.new(MAX_LIST_BYTES * 8 + 1, 1)
    assert exc.value.code == "status.too_large"
    with pytest.raises(StatusListError) as exc:
        StatusList.new(-1, 1)
    assert exc.value.code == "status.invalid_list"


@pytest.mark.parametrize("bits", [1, 2, 4, 8])
@pytest.mark.parametrize("delta", [0, 1])
def test_value_out_of_range(bits: int, delta: int) -> None:
    lst = StatusList.new(8, bits)
    lst.set(0, (1 << bits) - 1)
    for value in [(1 << bits) + delta, -1 - delta, True, "1"]:
        with pytest.raises(StatusListError) as exc:
            lst.set(0, value)  # type: ignore[arg-type]
        assert exc.value.code == "status.value_out_of_range"


@pytest.mark.parametrize("idx", [-1, 16, 10**30, True, "1", 1.0])
def test_index_out_of_range(idx: Any) -> None:
    lst = StatusList.new(16, 1)
    for action in (lambda: lst.get(idx), lambda: lst.set(idx, 1)):
        with pytest.raises(StatusListError) as exc:
            action()
        assert exc.value.code == "status.index_out_of_range"


# --- decoding untrusted input ----------------------------------------------------------------


def _lst(raw: bytes) -> str:
    return b64u_encode(zlib.compress(raw, 9))


@pytest.mark.parametrize(("obj", "code"), [
    ([], "status.invalid_list"),
    ({"lst": _lst(b"\x00")}, "status.invalid_bits"),
    ({"bits": 3, "lst": _lst(b"\x00")}, "status.invalid_bits"),
    ({"bits": True, "lst": _lst(b"\x00")}, "status.invalid_bits"),
    ({"bits": 1.0, "lst": _lst(b"\x00")}, "status.invalid_bits"),
    ({"bits": "1", "lst": _lst(b"\x00")}, "status.invalid_bits"),
    ({"bits": 1}, "status.invalid_list"),
    ({"bits": 1, "lst": 5}, "status.invalid_list"),
    ({"bits": 1, "lst": _lst(b"\x00") + "="}, "status.invalid_list"),
    ({"bits": 1, "lst": "eNrbuRgAAhcBXQ=="}, "status.invalid_list"),
    ({"bits": 1, "lst": "eNrbuRgAAhcB+Q"}, "status.invalid_list"),
    ({"bits": 1, "lst": " eNrbuRgAAhcBXQ"}, "status.invalid_list"),
    ({"bits": 1, "lst": b64u_encode(b"\xb9\xa3")}, "status.invalid_list"),
    ({"bits": 1, "lst": b64u_encode(zlib.compress(b"\xb9\xa3")[:-3])}, "status.invalid_list"),
    ({"bits": 1, "lst": b64u_encode(zlib.compress(b"\xb9") + b"\x00")}, "status.invalid_list"),
    ({"bits": 1, "lst": _lst(b"\x00"), "aggregation_uri": 7}, "status.invalid_list"),
    ({"bits": 1, "lst": _lst(b"\x00"), "aggregation_uri": None}, "status.invalid_list"),
], ids=["not-object", "no-bits", "bits-3", "bits-bool", "bits-float", "bits-str", "no-lst",
        "lst-int", "lst-padding", "lst-padded-vector", "lst-plus", "lst-space", "not-zlib",
        "truncated", "trailing-bytes", "agg-int", "agg-null"])
def test_decode_refuses(obj: Any, code: str) -> None:
    with pytest.raises(StatusListError) as exc:
        StatusList.decode(obj)
    assert exc.value.code == code


@pytest.mark.parametrize("wbits", [-15, 31], ids=["raw-deflate", "gzip"])
def test_decode_requires_zlib_container(wbits: int) -> None:
    packer = zlib.compressobj(9, zlib.DEFLATED, wbits)
    data = packer.compress(b"\xb9\xa3") + packer.flush()
    with pytest.raises(StatusListError) as exc:
        StatusList.decode({"bits": 1, "lst": b64u_encode(data)})
    assert exc.value.code == "status.invalid_list"


def test_zip_bomb_refused() -> None:
    bomb = _lst(bytes(100 << 20))  # 100 MiB of zeros: about 100 KiB compressed
    assert len(bomb) < 200_000
    with pytest.raises(StatusListError) as exc:
        StatusList.decode({"bits": 1, "lst": bomb})
    assert exc.value.code == "status.too_large"


def test_decompression_cap_is_exact() -> None:
    assert StatusList.decode({"bits": 8, "lst": _lst(bytes(1000))}, max_bytes=1000).size == 1000
    with pytest.raises(StatusListError) as exc:
        StatusList.decode({"bits": 8, "lst": _lst(bytes(1001))}, max_bytes=1000)
    assert exc.value.code == "status.too_large"


def test_aggregation_uri_passes_through_and_unknown_members_are_ignored() -> None:
    lst = StatusList.new(8, 1, aggregation_uri="https://reg.example/aggregation")
    encoded = lst.encode()
    assert encoded["aggregation_uri"] == "https://reg.example/aggregation"
    decoded = StatusList.decode({**encoded, "future_member": [1, 2]})
    assert decoded == lst
    assert decoded.aggregation_uri == "https://reg.example/aggregation"
    assert "aggregation_uri" not in StatusList.new(8, 1).encode()


def test_empty_list_round_trips() -> None:
    empty = StatusList.new(0, 1)
    assert StatusList.decode(empty.encode()) == empty


@settings(max_examples=60, deadline=None)
@given(st.sampled_from([1, 2, 4, 8]).flatmap(
    lambda bits: st.tuples(st.just(bits),
                           st.lists(st.integers(0, (1 << bits) - 1), max_size=300))))
def test_random_lists_round_trip(case: tuple[int, list[int]]) -> None:
    bits, values = case
    lst = _from_statuses(values, bits)
    decoded = StatusList.decode(lst.encode())
    assert decoded == lst
    assert [decoded.get(i) for i in range(len(values))] == values
    assert all(decoded.get(i) == 0 for i in range(len(values), decoded.size))


# --- status list token -----------------------------------------------------------------------

URI = "https://registry.example/status/issuer-1"
NOW = 1_750_000_000
KEY = Ed25519PrivateKey.generate()


def _list() -> StatusList:
    lst = StatusList.new(64, 2)
    lst.set(3, INVALID)
    lst.set(7, SUSPENDED)
    return lst


def _token(**overrides: Any) -> str:
    args: dict[str, Any] = {"sub": URI, "iat": NOW - 10, "exp": NOW + 3600, "ttl": 300,
                            "key": KEY, "kid": "did:keten:reg#key-1"}
    args.update(overrides)
    return create_status_list_token(_list(), **args)


def _verify(token: str, **overrides: Any) -> StatusListToken:
    args: dict[str, Any] = {"key": KEY.public_key, "expected_sub": URI, "now": NOW}
    args.update(overrides)
    return verify_status_list_token(token, **args)


def _signed(payload: Any, header: dict[str, Any] | None = None, key: Any = KEY) -> str:
    return jose.sign_compact(header or {"typ": "statuslist+jwt"}, payload, key)


class _Drop:
    def __repr__(self) -> str:
        return "DROP"


_DROP = _Drop()  # a claim value meaning "leave this claim out"


def _claims(**changes: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {"sub": URI, "iat": NOW - 10, "exp": NOW + 3600, "ttl": 300,
                              "status_list": _list().encode()}
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not _DROP}


def test_token_round_trip() -> None:
    token = _token(extra_claims={"keten_height": 42, "iss": "did:keten:reg"})
    header = jose.parse_compact(token).header
    assert header == {"alg": "EdDSA", "typ": "statuslist+jwt", "kid": "did:keten:reg#key-1"}
    verified = _verify(token)
    assert (verified.sub, verified.iat, verified.exp, verified.ttl) == (URI, NOW - 10,
                                                                        NOW + 3600, 300)
    assert verified.status_list == _list()
    assert verified.extra == {"keten_height": 42, "iss": "did:keten:reg"}
    assert status_of(verified, 3) == INVALID
    assert status_of(verified, 7) == SUSPENDED
    assert status_of(verified, StatusRef(0, URI)) == VALID
    assert verified.cache_until(NOW) == NOW + 300


def test_token_without_exp_and_ttl() -> None:
    verified = _verify(_token(exp=None, ttl=None))
    assert verified.exp is None and verified.ttl is None and verified.extra == {}
    assert verified.cache_until(NOW) is None
    assert _verify(_token(ttl=None)).cache_until(NOW) == NOW + 3600


def test_token_with_p256_key() -> None:
    key = P256PrivateKey.generate()
    token = _token(key=key)
    assert jose.parse_compact(token).alg == "ES256"
    assert _verify(token, key=key.public_key).status_list == _list()


@pytest.mark.parametrize(("overrides", "code"), [
    ({"expected_sub": "https://registry.example/status/issuer-2"}, "status.sub_mismatch"),
    ({"now": NOW + 3600 + 60}, "status.expired"),
    ({"now": NOW - 10 - 61}, "status.not_yet_valid"),
    ({"max_age": 5}, "status.stale"),
])
def test_token_refused_by_policy(overrides: dict[str, Any], code: str) -> None:
    with pytest.raises(StatusListError) as exc:
        _verify(_token(), **overrides)
    assert exc.value.code == code


def test_token_leeway_edges_accepted() -> None:
    _verify(_token(), now=NOW + 3600 + 59)
    _verify(_token(), now=NOW - 10 - 60)
    _verify(_token(), max_age=10)


@pytest.mark.parametrize(("header", "code"), [
    ({"typ": "jwt"}, "jose.wrong_typ"),
    ({}, "jose.wrong_typ"),
    ({"typ": "statuslist+cwt"}, "jose.wrong_typ"),
    ({"typ": "statuslist+jwt", "jwk": KEY.public_key.to_jwk()}, "jose.header_key_refused"),
    ({"typ": "statuslist+jwt", "crit": ["exp"]}, "jose.unknown_crit"),
])
def test_token_header_refused(header: dict[str, Any], code: str) -> None:
    with pytest.raises(JoseError) as exc:
        _verify(_signed(_claims(), header or {"kid": "k"}))
    assert exc.value.code == code


def test_token_typ_with_application_prefix_accepted() -> None:
    assert _verify(_signed(_claims(), {"typ": "application/statuslist+jwt"})).sub == URI


def test_tampered_signature_is_a_jose_error() -> None:
    head, body, sig = _token().split(".")
    flipped = b64u_encode(bytes([sig_byte ^ 1 if i == 0 else sig_byte
                                 for i, sig_byte in enumerate(b64u_decode(sig))]))
    with pytest.raises(JoseError) as exc:
        _verify(f"{head}.{body}.{flipped}")
    assert exc.value.code == "jose.bad_signature"
    other = _signed(_claims(ttl=301))
    with pytest.raises(JoseError) as exc:
        _verify(f"{head}.{other.split('.')[1]}.{sig}")
    assert exc.value.code == "jose.bad_signature"
    with pytest.raises(JoseError) as exc:
        _verify(_token(), key=Ed25519PrivateKey.generate().public_key)
    assert exc.value.code == "jose.bad_signature"


@pytest.mark.parametrize("alg", ["none", "HS256", "RS256"])
def test_alg_none_and_others_refused(alg: str) -> None:
    head = b64u_encode(f'{{"alg":"{alg}","typ":"statuslist+jwt"}}'.encode())
    body = _token().split(".")[1]
    with pytest.raises(JoseError) as exc:
        _verify(f"{head}.{body}.{b64u_encode(b'x' * 64)}")
    assert exc.value.code == "jose.alg_not_allowed"
    with pytest.raises(JoseError):
        _verify(f"{head}.{body}.")


def test_alg_of_other_key_type_refused() -> None:
    with pytest.raises(JoseError) as exc:
        _verify(_token(key=P256PrivateKey.generate()))
    assert exc.value.code == "jose.alg_key_mismatch"


@pytest.mark.parametrize("changes", [
    {"iat": True}, {"iat": 1.5}, {"iat": str(NOW)}, {"iat": _DROP}, {"iat": -1},
    {"exp": True}, {"exp": float(NOW + 3600)}, {"exp": str(NOW + 3600)}, {"exp": NOW - 10},
    {"ttl": True}, {"ttl": 0}, {"ttl": -5}, {"ttl": 300.0}, {"ttl": "300"},
    {"nbf": True}, {"nbf": 1.5},
    {"sub": _DROP}, {"sub": 5}, {"status_list": _DROP},
], ids=lambda c: "-".join(f"{k}={v!r}" for k, v in c.items()))
def test_token_claims_must_be_strict(changes: dict[str, Any]) -> None:
    with pytest.raises(StatusListError) as exc:
        _verify(_signed(_claims(**changes)))
    assert exc.value.code == "status.invalid_token"


def test_token_nbf_in_future_refused() -> None:
    with pytest.raises(StatusListError) as exc:
        _verify(_signed(_claims(nbf=NOW + 600)))
    assert exc.value.code == "status.not_yet_valid"
    assert _verify(_signed(_claims(nbf=NOW))).extra == {"nbf": NOW}


@pytest.mark.parametrize("payload", [b"[]", b"not json", b'{"sub":1,"sub":2}'])
def test_token_payload_must_be_a_json_object(payload: bytes) -> None:
    with pytest.raises(StatusListError) as exc:
        _verify(_signed(payload))
    assert exc.value.code == "status.invalid_token"


def test_token_with_bad_status_list() -> None:
    with pytest.raises(StatusListError) as exc:
        _verify(_signed(_claims(status_list={"bits": 3, "lst": _lst(b"\x00")})))
    assert exc.value.code == "status.invalid_bits"
    bomb = {"bits": 1, "lst": _lst(bytes(100 << 20))}
    with pytest.raises(StatusListError) as exc:
        _verify(_signed(_claims(status_list=bomb)))
    assert exc.value.code == "status.too_large"


@pytest.mark.parametrize("overrides", [
    {"iat": True}, {"iat": 1.0}, {"exp": NOW - 10}, {"ttl": 0}, {"ttl": True},
    {"sub": "urn:x:1"}, {"sub": ""}, {"extra_claims": {"sub": "https://other.example/x"}},
    {"extra_claims": {"status_list": {}}},
])
def test_create_refuses_what_verify_would_refuse(overrides: dict[str, Any]) -> None:
    with pytest.raises(StatusListError) as exc:
        _token(**overrides)
    assert exc.value.code == "status.invalid_token"


# --- referenced token and lookups ------------------------------------------------------------


def test_parse_status_reference() -> None:
    ref = parse_status_reference({"status_list": {"idx": 0, "uri": URI, "x": 1}, "other": {}})
    assert ref == StatusRef(0, URI)
    assert parse_status_reference(ref.to_claim()) == ref
    assert parse_status_reference({"status_list": {"idx": 9, "uri": "http://localhost:8080/s/1"}
                                   }).idx == 9
    with pytest.raises(AttributeError):
        ref.idx = 3  # type: ignore[misc]


@pytest.mark.parametrize("claim", [
    None, [], "x", {}, {"status_list": None}, {"status_list": []},
    {"status_list": {"uri": URI}}, {"status_list": {"idx": -1, "uri": URI}},
    {"status_list": {"idx": True, "uri": URI}}, {"status_list": {"idx": "0", "uri": URI}},
    {"status_list": {"idx": 0.0, "uri": URI}}, {"status_list": {"idx": 0}},
    {"status_list": {"idx": 0, "uri": 5}}, {"status_list": {"idx": 0, "uri": ""}},
    {"status_list": {"idx": 0, "uri": "ftp://registry.example/s"}},
    {"status_list": {"idx": 0, "uri": "registry.example/s"}},
    {"status_list": {"idx": 0, "uri": "https://"}},
    {"status_list": {"idx": 0, "uri": "https://registry.example/s#frag"}},
    {"status_list": {"idx": 0, "uri": "https://registry.example/s t"}},
    {"status_list": {"idx": 0, "uri": "https://registry.example/s\n"}},
    {"status_list": {"idx": 0, "uri": "https://[::1/s"}},
])
def test_parse_status_reference_refuses(claim: Any) -> None:
    with pytest.raises(StatusListError) as exc:
        parse_status_reference(claim)
    assert exc.value.code == "status.invalid_reference"


def test_status_of() -> None:
    verified = _verify(_token())
    with pytest.raises(StatusListError) as exc:
        status_of(verified, StatusRef(3, "https://registry.example/status/issuer-2"))
    assert exc.value.code == "status.sub_mismatch"
    with pytest.raises(StatusListError) as exc:
        status_of(verified, 64)
    assert exc.value.code == "status.index_out_of_range"
    assert status_of(_list(), StatusRef(3, "https://anything.example/")) == INVALID


@pytest.mark.parametrize(("value", "word"), [
    (0, "valid"), (1, "invalid"), (2, "suspended"), (3, "application-specific"),
    (0x0C, "application-specific"), (0x0F, "application-specific"), (4, "unknown"),
    (0x10, "unknown"), (255, "unknown"),
])
def test_status_name(value: int, word: str) -> None:
    assert status_name(value) == word


@pytest.mark.parametrize("value", [-1, 256, True, "0"])
def test_status_name_refuses_non_bytes(value: Any) -> None:
    with pytest.raises(StatusListError) as exc:
        status_name(value)
    assert exc.value.code == "status.value_out_of_range"
