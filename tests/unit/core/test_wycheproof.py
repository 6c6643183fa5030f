"""Wycheproof Ed25519 (EddsaVerify) vectors against our verifier, and through a compact JWS.

Every case must get exactly its expected verdict: accepting an ``invalid`` case means
malleable or forgeable signatures (non-canonical ``s``, small-order points, truncation);
rejecting a ``valid`` one means credentials that other implementations accept fail here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ssiwallet.core import jws
from ssiwallet.core.b64 import b64u_encode
from ssiwallet.core.keys import Ed25519PrivateKey, Ed25519PublicKey, public_key_from_jwk
from ssiwallet.errors import JoseError
from tests.support.paths import VECTORS

REPO = Path(__file__).resolve().parents[3]
WYCHEPROOF: dict[str, Any] = json.loads(
    (VECTORS / "wycheproof" / "ed25519_test.json").read_text(encoding="utf-8"))

# Ed25519 group order L (RFC 8032 §5.1).
ED25519_ORDER = 2**252 + 27742317777372353535851937790883648493


def _cases() -> list[Any]:
    params = []
    for group in WYCHEPROOF["testGroups"]:
        for case in group["tests"]:
            label = case["comment"] or "+".join(case["flags"])
            params.append(pytest.param(group, case, id=f"{case['tcId']}-{label}"))
    return params


CASES = _cases()


def _group_key(group: dict[str, Any]) -> Ed25519PublicKey:
    """The group's key, built from the raw hex and from the JWK, which must agree."""
    raw = Ed25519PublicKey(bytes.fromhex(group["publicKey"]["pk"]))
    from_jwk = public_key_from_jwk(group["publicKeyJwk"])
    assert from_jwk == raw
    return raw


def test_file_is_the_one_we_expect() -> None:
    assert WYCHEPROOF["algorithm"] == "EDDSA"
    assert WYCHEPROOF["schema"] == "eddsa_verify_schema_v1.json"
    assert len(CASES) == WYCHEPROOF["numberOfTests"] == 151
    results = {case["result"] for group in WYCHEPROOF["testGroups"] for case in group["tests"]}
    # No "acceptable" cases in this version; if a future file adds some, decide them
    # explicitly here instead of letting them pass either way.
    assert results == {"valid", "invalid"}


@pytest.mark.parametrize("group,case", CASES)
def test_ed25519_verdict(group: dict[str, Any], case: dict[str, Any]) -> None:
    key = _group_key(group)
    verdict = key.verify(bytes.fromhex(case["msg"]), bytes.fromhex(case["sig"]))
    assert verdict is (case["result"] == "valid")


SIGNER = Ed25519PrivateKey(bytes(range(32)))


def _signed_token() -> tuple[str, bytes]:
    token = jws.sign_compact({"typ": "dc+sd-jwt"}, {"iss": "did:keten:abc"}, SIGNER)
    return token, jws.parse_compact(token).signature


def _malleable(signature: bytes) -> dict[str, bytes]:
    """The Wycheproof invalid-signature families, applied to a genuine JWS signature."""
    r, s = signature[:32], int.from_bytes(signature[32:], "little")
    return {
        "s-plus-L": r + (s + ED25519_ORDER).to_bytes(32, "little"),      # SignatureMalleability
        "s-plus-2L": r + (s + 2 * ED25519_ORDER).to_bytes(32, "little"),
        "s-is-L": r + ED25519_ORDER.to_bytes(32, "little"),              # InvalidSignature
        "s-is-zero": r + bytes(32),
        "r-and-s-zero": bytes(64),
        "r-is-identity": (b"\x01" + bytes(31)) + signature[32:],         # small-order R
        "s-top-bit-set": r + (s | (1 << 255)).to_bytes(32, "little"),    # InvalidEncoding
        "truncated": signature[:-1],                                     # TruncatedSignature
        "garbage-appended": signature + b"\x00",                         # SignatureWithGarbage
    }


@pytest.mark.parametrize("name", sorted(_malleable(bytes(64))))
def test_compact_jws_with_wycheproof_style_invalid_signature_is_rejected(name: str) -> None:
    token, signature = _signed_token()
    jws.verify(jws.parse_compact(token), SIGNER.public_key, typ="dc+sd-jwt")   # genuine: ok
    forged = token.rsplit(".", 1)[0] + "." + b64u_encode(_malleable(signature)[name])
    with pytest.raises(JoseError) as info:
        jws.verify(jws.parse_compact(forged), SIGNER.public_key, typ="dc+sd-jwt")
    assert info.value.code == "jose.bad_signature"


def test_compact_jws_with_a_wycheproof_invalid_case_signature_is_rejected() -> None:
    """A signature Wycheproof marks invalid stays invalid when carried in a JWS."""
    group = next(g for g in WYCHEPROOF["testGroups"]
                 if any(c["result"] == "invalid" for c in g["tests"]))
    key = _group_key(group)
    case = next(c for c in group["tests"] if c["result"] == "invalid")
    header = b64u_encode(b'{"alg":"EdDSA"}')
    token = f"{header}.{b64u_encode(b'{}')}.{b64u_encode(bytes.fromhex(case['sig']))}"
    with pytest.raises(JoseError) as info:
        jws.verify(jws.parse_compact(token), key)
    assert info.value.code == "jose.bad_signature"
