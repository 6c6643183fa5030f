"""Signing and verification keys, and their JWK form (RFC 7517/7518/8037, RFC 7638).

Two key types exist: Ed25519 (PyNaCl; what Keten signs with) and P-256 (``cryptography``;
verified so that credentials from EU wallets and the specifications' examples verify, and
signed only where a holder brings such a key). **The key decides the algorithm**: a JWS is
verified with the algorithm its key type allows, never with the one its header asks for.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

import nacl.bindings
import nacl.exceptions
import nacl.signing
import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from ssiwallet.core.b64 import b64u_decode, b64u_encode
from ssiwallet.errors import InputError, JoseError

_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_P256_FIELD_PRIME = 2**256 - 2**224 + 2**192 + 2**96 - 1


class PublicKey(Protocol):
    """A key that verifies JWS signatures of exactly one family of algorithms."""

    algs: ClassVar[frozenset[str]]
    sign_alg: ClassVar[str]

    def verify(self, message: bytes, signature: bytes) -> bool: ...

    def to_jwk(self) -> dict[str, str]: ...


class PrivateKey(Protocol):
    sign_alg: ClassVar[str]

    @property
    def public_key(self) -> PublicKey: ...

    def sign(self, message: bytes) -> bytes: ...


@dataclass(frozen=True)
class Ed25519PublicKey:
    """An Ed25519 public key (32 raw bytes); verifies ``EdDSA`` and ``Ed25519``."""

    raw: bytes
    algs: ClassVar[frozenset[str]] = frozenset({"EdDSA", "Ed25519"})
    sign_alg: ClassVar[str] = "EdDSA"

    def __post_init__(self) -> None:
        if len(self.raw) != 32:
            raise JoseError("Ed25519 public key must be 32 bytes", code="jose.invalid_key")

    def verify(self, message: bytes, signature: bytes) -> bool:
        if len(signature) != 64:
            return False
        try:
            nacl.bindings.crypto_sign_open(signature + message, self.raw)
        except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError,
                nacl.exceptions.TypeError, nacl.exceptions.CryptoError):
            return False
        return True

    def to_jwk(self) -> dict[str, str]:
        return {"kty": "OKP", "crv": "Ed25519", "x": b64u_encode(self.raw)}


@dataclass(frozen=True)
class P256PublicKey:
    """A NIST P-256 public key; verifies ``ES256`` (raw r‖s signatures, RFC 7518 §3.4)."""

    key: ec.EllipticCurvePublicKey
    algs: ClassVar[frozenset[str]] = frozenset({"ES256"})
    sign_alg: ClassVar[str] = "ES256"

    def verify(self, message: bytes, signature: bytes) -> bool:
        if len(signature) != 64:
            return False
        r = int.from_bytes(signature[:32], "big")
        s = int.from_bytes(signature[32:], "big")
        if not (0 < r < _P256_ORDER and 0 < s < _P256_ORDER):
            return False
        try:
            self.key.verify(encode_dss_signature(r, s), message, ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            return False
        return True

    def to_jwk(self) -> dict[str, str]:
        numbers = self.key.public_numbers()
        return {
            "kty": "EC",
            "crv": "P-256",
            "x": b64u_encode(numbers.x.to_bytes(32, "big")),
            "y": b64u_encode(numbers.y.to_bytes(32, "big")),
        }


class Ed25519PrivateKey:
    """An Ed25519 signing key held in memory (seed never leaves this object's repr)."""

    sign_alg: ClassVar[str] = "EdDSA"

    def __init__(self, seed: bytes) -> None:
        if len(seed) != 32:
            raise JoseError("Ed25519 seed must be 32 bytes", code="jose.invalid_key")
        self._signing = nacl.signing.SigningKey(seed)
        self._public = Ed25519PublicKey(bytes(self._signing.verify_key))

    @classmethod
    def generate(cls) -> Ed25519PrivateKey:
        return cls(bytes(nacl.signing.SigningKey.generate()))

    @property
    def seed(self) -> bytes:
        return bytes(self._signing)

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self._public

    def sign(self, message: bytes) -> bytes:
        return self._signing.sign(message).signature

    def to_private_jwk(self) -> dict[str, str]:
        return {**self._public.to_jwk(), "d": b64u_encode(self.seed)}

    def __repr__(self) -> str:
        return f"Ed25519PrivateKey(public={b64u_encode(self._public.raw)})"


class P256PrivateKey:
    """A P-256 signing key (for holders bringing P-256 keys, and for interop tests)."""

    sign_alg: ClassVar[str] = "ES256"

    def __init__(self, key: ec.EllipticCurvePrivateKey) -> None:
        self._key = key
        self._public = P256PublicKey(key.public_key())

    @classmethod
    def generate(cls) -> P256PrivateKey:
        return cls(ec.generate_private_key(ec.SECP256R1()))

    @property
    def public_key(self) -> P256PublicKey:
        return self._public

    def sign(self, message: bytes) -> bytes:
        der = self._key.sign(message, ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")

    def to_private_jwk(self) -> dict[str, str]:
        d = self._key.private_numbers().private_value
        return {**self._public.to_jwk(), "d": b64u_encode(d.to_bytes(32, "big"))}

    def __repr__(self) -> str:
        return f"P256PrivateKey(public={self._public.to_jwk()['x']})"


def _member(jwk: Mapping[str, Any], name: str, size: int) -> bytes:
    value = jwk.get(name)
    if not isinstance(value, str):
        raise JoseError(f"JWK member {name!r} missing or not a string", code="jose.invalid_jwk")
    try:
        raw = b64u_decode(value, what=f"JWK member {name!r}")
    except InputError as exc:
        raise JoseError(exc.detail, code="jose.invalid_jwk") from None
    if len(raw) != size:
        raise JoseError(f"JWK member {name!r} must be {size} bytes", code="jose.invalid_jwk")
    return raw


def public_key_from_jwk(jwk: object) -> PublicKey:
    """Build a public key from a JWK; refuse private members, unknown types and bad points.

    A ``d`` member is refused: a public JWK that carries a private key means the sender has
    leaked it, and accepting it silently would hide the leak.
    """
    if type(jwk) is not dict and not isinstance(jwk, Mapping):
        raise JoseError("JWK must be a JSON object", code="jose.invalid_jwk")
    if "d" in jwk:
        raise JoseError("public JWK carries a private key", code="jose.private_key_in_jwk")
    kty, crv = jwk.get("kty"), jwk.get("crv")
    if kty == "OKP" and crv == "Ed25519":
        return Ed25519PublicKey(_member(jwk, "x", 32))
    if kty == "EC" and crv == "P-256":
        x = int.from_bytes(_member(jwk, "x", 32), "big")
        y = int.from_bytes(_member(jwk, "y", 32), "big")
        # OpenSSL reduces coordinates modulo p, so x + p would name the same key: refuse it,
        # or one key would have several JWKs and JWK equality would stop meaning key equality.
        if not (x < _P256_FIELD_PRIME and y < _P256_FIELD_PRIME):
            raise JoseError("EC coordinate is not reduced modulo p", code="jose.invalid_jwk")
        try:
            key = ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()
        except ValueError:
            raise JoseError("EC point is not on P-256", code="jose.invalid_jwk") from None
        return P256PublicKey(key)
    raise JoseError(f"unsupported JWK kty={kty!r} crv={crv!r}", code="jose.unsupported_key")


def private_key_from_jwk(jwk: Mapping[str, Any]) -> Ed25519PrivateKey | P256PrivateKey:
    """Build a signing key from a private JWK (key files, test settings)."""
    kty, crv = jwk.get("kty"), jwk.get("crv")
    if kty == "OKP" and crv == "Ed25519":
        key = Ed25519PrivateKey(_member(jwk, "d", 32))
        if key.public_key.to_jwk()["x"] != jwk.get("x", key.public_key.to_jwk()["x"]):
            raise JoseError("JWK x does not match d", code="jose.invalid_jwk")
        return key
    if kty == "EC" and crv == "P-256":
        d = int.from_bytes(_member(jwk, "d", 32), "big")
        try:
            p256 = P256PrivateKey(ec.derive_private_key(d, ec.SECP256R1()))
        except ValueError:
            raise JoseError("invalid P-256 private key", code="jose.invalid_jwk") from None
        public = p256.public_key.to_jwk()
        if (jwk.get("x", public["x"]), jwk.get("y", public["y"])) != (public["x"], public["y"]):
            raise JoseError("JWK x/y do not match d", code="jose.invalid_jwk")
        return p256
    raise JoseError(f"unsupported JWK kty={kty!r} crv={crv!r}", code="jose.unsupported_key")


_THUMBPRINT_MEMBERS = {"OKP": ("crv", "kty", "x"), "EC": ("crv", "kty", "x", "y")}


def jwk_thumbprint(jwk: Mapping[str, Any]) -> str:
    """RFC 7638 SHA-256 thumbprint (base64url) of a public JWK."""
    public = public_key_from_jwk(jwk).to_jwk()
    members = _THUMBPRINT_MEMBERS[public["kty"]]
    canonical = rfc8785.dumps({m: public[m] for m in members})
    return b64u_encode(hashlib.sha256(canonical).digest())
