"""did:key for Ed25519: the W3C CCG vectors, and every way a did:key can be wrong."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import base58
import nacl.bindings
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ssiwallet.core.b64 import b64u_decode
from ssiwallet.core.didkey import (
    KeyFormat,
    did_key_document,
    did_key_from_public,
    ed25519_fingerprint,
    public_key_from_did_key,
    verification_method_id,
    x25519_fingerprint,
    x25519_from_ed25519,
)
from ssiwallet.core.keys import Ed25519PrivateKey, Ed25519PublicKey
from ssiwallet.errors import DidError
from tests.support.paths import VECTORS as VECTOR_ROOT

REPO = Path(__file__).resolve().parents[3]
VECTORS: dict[str, dict[str, Any]] = json.loads(
    (VECTOR_ROOT / "did-key" / "ed25519-x25519.json").read_text(encoding="utf-8"))

SEED0_DID = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"
SEED0_ID = SEED0_DID.removeprefix("did:key:")


def _is_jwk_vector(vector: dict[str, Any]) -> bool:
    return bool(vector["verificationKeyPair"]["type"] == "JsonWebKey2020")


def _did_key(payload: bytes) -> str:
    return "did:key:z" + base58.b58encode(payload).decode("ascii")


def _raises(code: str, value: object) -> None:
    with pytest.raises(DidError) as info:
        public_key_from_did_key(value)  # type: ignore[arg-type]
    assert info.value.code == code, info.value


def test_all_five_vectors_are_present() -> None:
    assert len(VECTORS) == 5
    assert sum(_is_jwk_vector(v) for v in VECTORS.values()) == 1


@pytest.mark.parametrize("did", sorted(VECTORS))
def test_vector_did_from_seed(did: str) -> None:
    vector = VECTORS[did]
    private = Ed25519PrivateKey(bytes.fromhex(vector["seed"]))
    assert did_key_from_public(private.public_key) == did
    assert public_key_from_did_key(did) == private.public_key
    assert verification_method_id(did) == vector["didDocument"]["assertionMethod"][0]


@pytest.mark.parametrize("did", sorted(VECTORS))
def test_vector_keys(did: str) -> None:
    vector = VECTORS[did]
    private = Ed25519PrivateKey(bytes.fromhex(vector["seed"]))
    public = private.public_key
    x25519_public = x25519_from_ed25519(public)
    x25519_private = nacl.bindings.crypto_sign_ed25519_sk_to_curve25519(
        private.seed + public.raw)
    signing, agreement = vector["verificationKeyPair"], vector["keyAgreementKeyPair"]
    assert agreement["id"].endswith("#" + x25519_fingerprint(x25519_public))
    assert x25519_fingerprint(x25519_public).startswith("z6LS")
    if _is_jwk_vector(vector):
        assert signing["publicKeyJwk"] == public.to_jwk()
        assert signing["privateKeyJwk"] == private.to_private_jwk()
        assert b64u_decode(agreement["publicKeyJwk"]["x"]) == x25519_public
        assert b64u_decode(agreement["privateKeyJwk"]["d"]) == x25519_private
    else:
        assert base58.b58decode(signing["publicKeyBase58"]) == public.raw
        assert signing["id"] == "#" + ed25519_fingerprint(public)
        assert base58.b58decode(agreement["publicKeyBase58"]) == x25519_public
        assert base58.b58encode(x25519_private).decode() == agreement["privateKeyBase58"]


@pytest.mark.parametrize("did", sorted(VECTORS))
def test_vector_document(did: str) -> None:
    vector = VECTORS[did]
    key_format: KeyFormat = (
        "JsonWebKey2020" if _is_jwk_vector(vector) else "Ed25519VerificationKey2018")
    document = did_key_document(did, key_format=key_format)
    assert document == vector["didDocument"]
    # Plain JSON types, not pydid's str subclasses: the document is handed to json.dumps.
    assert json.loads(json.dumps(document)) == document
    assert type(document["id"]) is str


def test_default_document_format_is_the_2018_suite() -> None:
    assert did_key_document(SEED0_DID) == VECTORS[SEED0_DID]["didDocument"]


@given(st.binary(min_size=32, max_size=32))
def test_did_round_trips_for_any_key(seed: bytes) -> None:
    public = Ed25519PrivateKey(seed).public_key
    did = did_key_from_public(public)
    assert did.startswith("did:key:z6Mk")
    assert public_key_from_did_key(did) == public
    assert public_key_from_did_key(verification_method_id(did)) == public


def test_did_url_with_own_fragment_is_accepted() -> None:
    assert public_key_from_did_key(f"{SEED0_DID}#{SEED0_ID}") == public_key_from_did_key(
        SEED0_DID)


@pytest.mark.parametrize("value", [
    "did:key:" + "f" + SEED0_ID[1:],                 # multibase other than base58btc
    "did:key:" + "u" + SEED0_ID[1:],                 # base64url multibase
    "did:key:" + "Z" + SEED0_ID[1:],
    "did:key:" + SEED0_ID[1:],                       # no multibase prefix at all
    "did:key:z",                                     # nothing after the prefix
    "did:key:z6Mk0OIl",                              # not base58btc (0 O I l)
    SEED0_DID + " ",                                 # base58 libraries strip whitespace
    SEED0_DID + "\n",
    " " + SEED0_DID,
    SEED0_DID + "/path",
    SEED0_DID + "?versionTime=2020",
    SEED0_DID + ":extra",
    "did:key:",
    "did:key",
    "did::" + SEED0_ID,
    "DID:key:" + SEED0_ID,
    "key:" + SEED0_ID,
    SEED0_ID,
    "",
    "did:key:z" + "2" * 500,                         # bounded before base58 decoding
])
def test_malformed_did_is_invalid(value: str) -> None:
    _raises("did.invalid", value)


@pytest.mark.parametrize("value", [None, 42, b"did:key:z6Mk", ["did:key"]])
def test_non_string_is_invalid(value: object) -> None:
    _raises("did.invalid", value)


def test_truncated_and_overlong_keys_are_invalid() -> None:
    raw = public_key_from_did_key(SEED0_DID).raw
    _raises("did.invalid", _did_key(b"\xed\x01" + raw[:31]))
    _raises("did.invalid", _did_key(b"\xed\x01" + raw + b"\x00"))
    _raises("did.invalid", _did_key(b"\xed\x01"))
    _raises("did.invalid", _did_key(b"\xed"))           # varint cut in the middle


@pytest.mark.parametrize("cut", [1, 2, 10])
def test_did_with_characters_dropped_is_refused(cut: int) -> None:
    # Dropping base58 characters shifts every byte, so the codec usually changes too: the
    # code depends on what the shifted bytes say, but it is always a DidError.
    with pytest.raises(DidError):
        public_key_from_did_key(SEED0_DID[:-cut])


def test_non_minimal_varint_is_invalid() -> None:
    raw = public_key_from_did_key(SEED0_DID).raw
    _raises("did.invalid", _did_key(b"\xed\x81\x00" + raw))


def test_key_that_is_not_a_usable_point_is_invalid() -> None:
    identity = b"\x01" + b"\x00" * 31          # the neutral element: small order
    _raises("did.invalid", _did_key(b"\xed\x01" + identity))


@pytest.mark.parametrize("payload", [
    b"\xec\x01" + b"\x11" * 32,                  # x25519-pub: an encryption key cannot sign
    b"\x80\x24" + b"\x02" + b"\x11" * 32,        # p256-pub (0x1200)
    b"\xe7\x01" + b"\x02" + b"\x11" * 32,        # secp256k1-pub
    b"\x01" + b"\x11" * 32,                      # some other codec
    b"\x00" + b"\x11" * 33,                      # leading '1' in base58: codec 0
])
def test_other_multicodec_is_unsupported_key_type(payload: bytes) -> None:
    _raises("did.unsupported_key_type", _did_key(payload))


def test_x25519_did_key_from_the_vector_is_unsupported_key_type() -> None:
    agreement_id = VECTORS[SEED0_DID]["keyAgreementKeyPair"]["id"].lstrip("#")
    _raises("did.unsupported_key_type", "did:key:" + agreement_id)


@pytest.mark.parametrize("value", [
    "did:web:example.com",
    "did:keten:4Hb4Xk3Vn5y1",
    "did:jwk:eyJrdHkiOiJPS1AifQ",
    "did:keys:" + SEED0_ID,
    "did:example:" + SEED0_ID + "#" + SEED0_ID,
])
def test_other_method_is_unsupported(value: str) -> None:
    _raises("did.unsupported_method", value)


@pytest.mark.parametrize("fragment", [
    "",
    "key-1",
    "keys-1",
    SEED0_ID + "x",
    SEED0_ID[:-1],
    f"{SEED0_ID}#{SEED0_ID}",
    "z6LShs9GGnqk85isEBzzshkuVWrVKsRp24GnDuHk8QWkARMW",  # the keyAgreement id cannot sign
    "z6MkjchhfUsD6mmvni8mCdXHw216Xrm9bQe2mBH1P5RDjVJG",  # another DID's key
])
def test_bad_fragment(fragment: str) -> None:
    _raises("did.invalid_fragment", f"{SEED0_DID}#{fragment}")


def test_document_and_method_id_refuse_did_urls() -> None:
    for function in (did_key_document, verification_method_id):
        with pytest.raises(DidError) as info:
            function(f"{SEED0_DID}#{SEED0_ID}")
        assert info.value.code == "did.invalid"


@pytest.mark.parametrize("value,code", [
    ("did:web:example.com", "did.unsupported_method"),
    ("did:key:u" + SEED0_ID[1:], "did.invalid"),
])
def test_document_validates_its_did(value: str, code: str) -> None:
    with pytest.raises(DidError) as info:
        did_key_document(value)
    assert info.value.code == code


def test_x25519_fingerprint_requires_32_bytes() -> None:
    with pytest.raises(DidError):
        x25519_fingerprint(b"\x00" * 31)


def test_x25519_conversion_refuses_small_order_keys() -> None:
    with pytest.raises(DidError) as info:
        x25519_from_ed25519(Ed25519PublicKey(b"\x01" + b"\x00" * 31))
    assert info.value.code == "did.invalid"
