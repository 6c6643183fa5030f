"""Keys and JWKs: round trips, refusals of bad keys, and RFC 8037 / RFC 7638 thumbprints."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from ssiwallet.core.b64 import b64u_decode, b64u_encode
from ssiwallet.core.keys import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
    P256PrivateKey,
    P256PublicKey,
    jwk_thumbprint,
    private_key_from_jwk,
    public_key_from_jwk,
)
from ssiwallet.errors import JoseError

# RFC 8037 Appendix A.1-A.3.
RFC8037_PRIVATE = {
    "kty": "OKP", "crv": "Ed25519",
    "d": "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A",
    "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
}
RFC8037_PUBLIC = {"kty": "OKP", "crv": "Ed25519",
                  "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
RFC8037_THUMBPRINT = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"

P256_FIELD_PRIME = 2**256 - 2**224 + 2**192 + 2**96 - 1
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def _code(jwk: Any, *, private: bool = False) -> str:
    with pytest.raises(JoseError) as info:
        if private:
            private_key_from_jwk(jwk)
        else:
            public_key_from_jwk(jwk)
    return info.value.code


def _p256_jwk() -> dict[str, str]:
    return P256PrivateKey.generate().public_key.to_jwk()


def _small_x_point() -> tuple[int, int]:
    """A P-256 point whose x is small enough that x + p still fits in 32 bytes."""
    b = 0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B
    x = 1
    while True:
        rhs = (x**3 - 3 * x + b) % P256_FIELD_PRIME
        y = pow(rhs, (P256_FIELD_PRIME + 1) // 4, P256_FIELD_PRIME)
        if y * y % P256_FIELD_PRIME == rhs:
            return x, y
        x += 1


def _int_jwk(x: int, y: int) -> dict[str, str]:
    return {"kty": "EC", "crv": "P-256", "x": b64u_encode(x.to_bytes(32, "big")),
            "y": b64u_encode(y.to_bytes(32, "big"))}


# -- round trips ---------------------------------------------------------------------------

def test_ed25519_jwk_round_trip() -> None:
    private = Ed25519PrivateKey.generate()
    public = private.public_key
    assert public_key_from_jwk(public.to_jwk()) == public
    again = private_key_from_jwk(private.to_private_jwk())
    assert isinstance(again, Ed25519PrivateKey)
    assert again.seed == private.seed
    assert again.public_key == public


def test_p256_jwk_round_trip() -> None:
    private = P256PrivateKey.generate()
    jwk = private.public_key.to_jwk()
    assert set(jwk) == {"kty", "crv", "x", "y"}
    parsed = public_key_from_jwk(jwk)
    assert isinstance(parsed, P256PublicKey)
    assert parsed.to_jwk() == jwk
    again = private_key_from_jwk(private.to_private_jwk())
    assert isinstance(again, P256PrivateKey)
    assert again.public_key.to_jwk() == jwk
    message = b"signed by the re-imported key"
    assert parsed.verify(message, again.sign(message))


def test_rfc8037_private_key_gives_its_public_key() -> None:
    private = private_key_from_jwk(RFC8037_PRIVATE)
    assert private.public_key.to_jwk() == RFC8037_PUBLIC
    assert private_key_from_jwk({k: v for k, v in RFC8037_PRIVATE.items() if k != "x"}
                                ).public_key.to_jwk() == RFC8037_PUBLIC


def test_sign_and_verify_with_both_key_types() -> None:
    for private in (Ed25519PrivateKey.generate(), P256PrivateKey.generate()):
        signature = private.sign(b"message")
        assert len(signature) == 64
        assert private.public_key.verify(b"message", signature)
        assert not private.public_key.verify(b"messagE", signature)


def test_private_key_repr_hides_the_secret() -> None:
    private = Ed25519PrivateKey(bytes(range(32)))
    assert b64u_encode(private.seed) not in repr(private)
    p256 = P256PrivateKey.generate()
    assert p256.to_private_jwk()["d"] not in repr(p256)


# -- refusals ------------------------------------------------------------------------------

def test_private_member_in_public_jwk_is_refused() -> None:
    assert _code(RFC8037_PRIVATE) == "jose.private_key_in_jwk"
    assert _code(P256PrivateKey.generate().to_private_jwk()) == "jose.private_key_in_jwk"
    assert _code({**RFC8037_PUBLIC, "d": None}) == "jose.private_key_in_jwk"


def test_point_not_on_curve_is_refused() -> None:
    jwk = _p256_jwk()
    y = int.from_bytes(b64u_decode(jwk["y"]), "big")
    assert _code({**jwk, "y": b64u_encode(((y + 1) % P256_FIELD_PRIME).to_bytes(32, "big"))}
                 ) == "jose.invalid_jwk"
    assert _code(_int_jwk(0, 0)) == "jose.invalid_jwk"        # the point at infinity


def test_unreduced_p256_coordinates_are_refused() -> None:
    x, y = _small_x_point()
    assert public_key_from_jwk(_int_jwk(x, y)).to_jwk() == _int_jwk(x, y)
    # x + p names the same point to OpenSSL; accepting it would give one key two JWKs.
    assert _code(_int_jwk(x + P256_FIELD_PRIME, y)) == "jose.invalid_jwk"
    assert _code(_int_jwk(P256_FIELD_PRIME, y)) == "jose.invalid_jwk"
    other_y = P256_FIELD_PRIME - y
    if other_y + P256_FIELD_PRIME < 2**256:
        assert _code(_int_jwk(x, other_y + P256_FIELD_PRIME)) == "jose.invalid_jwk"


@pytest.mark.parametrize("size", [0, 16, 31, 33, 64])
def test_wrong_ed25519_lengths(size: int) -> None:
    assert _code({**RFC8037_PUBLIC, "x": b64u_encode(b"\x01" * size)}) == "jose.invalid_jwk"
    with pytest.raises(JoseError) as info:
        Ed25519PublicKey(b"\x01" * size)
    assert info.value.code == "jose.invalid_key"
    with pytest.raises(JoseError) as info:
        Ed25519PrivateKey(b"\x01" * size)
    assert info.value.code == "jose.invalid_key"
    assert _code({**RFC8037_PRIVATE, "d": b64u_encode(b"\x01" * size)}, private=True
                 ) == "jose.invalid_jwk"


@pytest.mark.parametrize("member,size", [("x", 31), ("x", 33), ("y", 31), ("y", 33)])
def test_wrong_p256_lengths(member: str, size: int) -> None:
    assert _code({**_p256_jwk(), member: b64u_encode(b"\x01" * size)}) == "jose.invalid_jwk"


@pytest.mark.parametrize("change", [
    {"x": None}, {"x": 1}, {"x": ["a"]},
    {"x": RFC8037_PUBLIC["x"] + "="},                 # padded
    {"x": RFC8037_PUBLIC["x"].replace("_", "/")},     # standard alphabet
    {"x": RFC8037_PUBLIC["x"][:-1] + "p"},            # non-canonical trailing bits
])
def test_bad_member_encodings(change: dict[str, Any]) -> None:
    assert _code({**RFC8037_PUBLIC, **change}) == "jose.invalid_jwk"


def test_missing_member() -> None:
    assert _code({"kty": "OKP", "crv": "Ed25519"}) == "jose.invalid_jwk"
    jwk = _p256_jwk()
    del jwk["y"]
    assert _code(jwk) == "jose.invalid_jwk"


@pytest.mark.parametrize("jwk", [
    {"kty": "RSA", "n": "AQAB", "e": "AQAB"},
    {"kty": "OKP", "crv": "X25519", "x": RFC8037_PUBLIC["x"]},
    {"kty": "OKP", "crv": "Ed448", "x": RFC8037_PUBLIC["x"]},
    {"kty": "EC", "crv": "P-384", "x": "AA", "y": "AA"},
    {"kty": "EC", "crv": "secp256k1", "x": "AA", "y": "AA"},
    {"kty": "oct", "k": "c2VjcmV0"},
    {"kty": "EC", "crv": "Ed25519", "x": RFC8037_PUBLIC["x"]},   # crv of the wrong kty
    {"crv": "Ed25519", "x": RFC8037_PUBLIC["x"]},
])
def test_unsupported_key_types(jwk: dict[str, Any]) -> None:
    assert _code(jwk) == "jose.unsupported_key"
    assert _code({**jwk, "d": "AA"}, private=True) == "jose.unsupported_key"


@pytest.mark.parametrize("jwk", [None, "{}", ["kty"], 1])
def test_jwk_that_is_not_an_object(jwk: Any) -> None:
    assert _code(jwk) == "jose.invalid_jwk"


def test_private_jwk_with_mismatching_public_part() -> None:
    other = Ed25519PrivateKey.generate().public_key.to_jwk()["x"]
    assert _code({**RFC8037_PRIVATE, "x": other}, private=True) == "jose.invalid_jwk"
    p256 = P256PrivateKey.generate().to_private_jwk()
    assert _code({**p256, "x": _p256_jwk()["x"]}, private=True) == "jose.invalid_jwk"


@pytest.mark.parametrize("d", [0, P256_ORDER, P256_ORDER + 1, 2**256 - 1])
def test_p256_private_scalar_out_of_range(d: int) -> None:
    jwk = {"kty": "EC", "crv": "P-256", "d": b64u_encode(d.to_bytes(32, "big"))}
    assert _code(jwk, private=True) == "jose.invalid_jwk"


def test_p256_key_from_cryptography_verifies() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    private = P256PrivateKey(key)
    assert private.public_key.verify(b"m", private.sign(b"m"))


# -- thumbprints ---------------------------------------------------------------------------

def test_rfc8037_thumbprint() -> None:
    assert jwk_thumbprint(RFC8037_PUBLIC) == RFC8037_THUMBPRINT


def test_thumbprint_ignores_other_members_and_member_order() -> None:
    reordered = {"x": RFC8037_PUBLIC["x"], "kid": "key-1", "use": "sig", "crv": "Ed25519",
                 "kty": "OKP", "alg": "EdDSA"}
    assert jwk_thumbprint(reordered) == RFC8037_THUMBPRINT


def test_p256_thumbprint_follows_rfc7638() -> None:
    jwk = _p256_jwk()
    canonical = ('{"crv":"P-256","kty":"EC","x":"' + jwk["x"] + '","y":"' + jwk["y"] + '"}'
                 ).encode()
    expected = b64u_encode(hashlib.sha256(canonical).digest())
    assert jwk_thumbprint({**jwk, "kid": "k"}) == expected


def test_thumbprint_refuses_private_and_bad_keys() -> None:
    with pytest.raises(JoseError):
        jwk_thumbprint(RFC8037_PRIVATE)
    with pytest.raises(JoseError):
        jwk_thumbprint({"kty": "RSA", "n": "AQAB", "e": "AQAB"})
