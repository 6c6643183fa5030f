"""``did:key`` for Ed25519 keys (W3C CCG did:key Method, v0.7).

Holders identify themselves with ``did:key`` DIDs: the DID *is* the public key, so a wallet
needs no registry entry and a verifier needs no network to resolve it. A did:key is
``did:key:`` + multibase base58btc (``z``) of the multicodec varint ``0xed 0x01`` followed
by the 32 raw key bytes, which is why every Ed25519 did:key starts with ``z6Mk``.

The same key, converted to Curve25519, gives the document's ``keyAgreement`` method
(multicodec ``0xec 0x01``, ``z6LS…``), so the one DID also names an encryption key.

Parsing is strict: a did:key that could be spelled two ways would be two identities for one
key, so only the canonical spelling is accepted, and every refusal carries a ``did.*`` code.
"""

from __future__ import annotations

import re
from typing import Any, Literal

import base58
import nacl.bindings
import nacl.exceptions
import pydid
from pydid.verification_method import (
    Ed25519VerificationKey2018,
    JsonWebKey2020,
    X25519KeyAgreementKey2019,
)

from ssiwallet.core import strictjson
from ssiwallet.core.b64 import b64u_encode
from ssiwallet.core.keys import Ed25519PublicKey
from ssiwallet.errors import DidError

ED25519_PUB_CODEC = 0xED
X25519_PUB_CODEC = 0xEC

# Codecs a did:key may carry that we recognise but cannot use as a signing key, named in
# the error so the user learns *what* they passed, not just that it failed.
_KNOWN_CODECS = {
    0xE7: "secp256k1-pub",
    0xEC: "x25519-pub",
    0xEB: "bls12_381-g1-pub",
    0x1200: "p256-pub",
    0x1201: "p384-pub",
    0x1205: "rsa-pub",
}

KeyFormat = Literal["Ed25519VerificationKey2018", "JsonWebKey2020"]

_CONTEXTS: dict[str, list[str]] = {
    "Ed25519VerificationKey2018": [
        "https://www.w3.org/ns/did/v1",
        "https://w3id.org/security/suites/ed25519-2018/v1",
        "https://w3id.org/security/suites/x25519-2019/v1",
    ],
    "JsonWebKey2020": [
        "https://www.w3.org/ns/did/v1",
        "https://w3id.org/security/suites/jws-2020/v1",
    ],
}

_PREFIX = "did:key:"
# A DID is did:<method>:<method-specific-id> (W3C DID Core §3.1); the method name is
# lower-case letters and digits. Anything else is not a DID at all.
_DID_SYNTAX = re.compile(r"did:([a-z0-9]+):(.+)", re.DOTALL)
_BASE58BTC = re.compile(r"[1-9A-HJ-NP-Za-km-z]+")
# Ed25519 fingerprints are 48 characters; the cap keeps base58 decoding (quadratic in the
# length) cheap whatever a caller passes in.
_MAX_ID_CHARS = 128


def _encode_fingerprint(codec: int, raw: bytes) -> str:
    # Both codecs used here are below 0x4000, so their varint is exactly two bytes.
    varint = bytes([(codec & 0x7F) | 0x80, codec >> 7])
    encoded: bytes = base58.b58encode(varint + raw)
    return "z" + encoded.decode("ascii")


def _read_varint(data: bytes) -> tuple[int, int]:
    """Read an unsigned varint (multiformats unsigned-varint); return (value, length).

    Non-minimal encodings (a trailing ``0x00`` continuation) are refused, because they would
    give one key several did:key spellings.
    """
    value = 0
    for i, byte in enumerate(data[:9]):
        value |= (byte & 0x7F) << (7 * i)
        if not byte & 0x80:
            if byte == 0 and i > 0:
                raise DidError("multicodec varint is not minimally encoded", code="did.invalid")
            return value, i + 1
    raise DidError("multicodec varint is truncated or too long", code="did.invalid")


def ed25519_fingerprint(key: Ed25519PublicKey) -> str:
    """The multibase fingerprint (``z6Mk…``) of an Ed25519 key: the did:key method-specific id."""
    return _encode_fingerprint(ED25519_PUB_CODEC, key.raw)


def x25519_fingerprint(x25519_public: bytes) -> str:
    """The multibase fingerprint (``z6LS…``) of an X25519 key, the id of ``keyAgreement``."""
    if len(x25519_public) != 32:
        raise DidError("X25519 public key must be 32 bytes", code="did.unsupported_key_type")
    return _encode_fingerprint(X25519_PUB_CODEC, x25519_public)


def did_key_from_public(key: Ed25519PublicKey) -> str:
    """The ``did:key`` DID of an Ed25519 public key."""
    return _PREFIX + ed25519_fingerprint(key)


def x25519_from_ed25519(key: Ed25519PublicKey) -> bytes:
    """Convert an Ed25519 public key to the X25519 key did:key lists under ``keyAgreement``.

    Raises:
        DidError: ``did.invalid`` if the bytes are not a usable Ed25519 point (libsodium
            refuses small-order and off-curve points), since such a "key" names nobody.
    """
    try:
        return nacl.bindings.crypto_sign_ed25519_pk_to_curve25519(key.raw)
    except nacl.exceptions.CryptoError:
        raise DidError("not a valid Ed25519 public key", code="did.invalid") from None


def _split(did_or_did_url: object) -> tuple[str, str | None]:
    """Split a did:key DID or DID URL into its method-specific id and fragment (if any)."""
    if not isinstance(did_or_did_url, str):
        raise DidError("a DID must be a string", code="did.invalid")
    if len(did_or_did_url) > len(_PREFIX) + 2 * _MAX_ID_CHARS + 1:
        raise DidError("DID is too long", code="did.invalid")
    did, hash_sign, fragment = did_or_did_url.partition("#")
    match = _DID_SYNTAX.fullmatch(did)
    if match is None:
        raise DidError(f"not a DID: {did_or_did_url!r}", code="did.invalid")
    if match.group(1) != "key":
        raise DidError(f"DID method {match.group(1)!r} is not did:key",
                       code="did.unsupported_method")
    return match.group(2), (fragment if hash_sign else None)


def ed25519_from_fingerprint(method_id: str) -> Ed25519PublicKey:
    """The Ed25519 key of a multibase fingerprint (``z6Mk…``; also a Multikey's
    ``publicKeyMultibase``). Refuses other codecs, non-minimal varints and unusable points."""
    if len(method_id) > _MAX_ID_CHARS:
        raise DidError("did:key identifier is too long", code="did.invalid")
    if not method_id.startswith("z"):
        raise DidError("did:key identifier must be multibase base58btc ('z')",
                       code="did.invalid")
    encoded = method_id[1:]
    if not _BASE58BTC.fullmatch(encoded):
        # Also refuses '/', '?', ':' and whitespace: paths, queries and padding are not ours.
        raise DidError("did:key identifier is not base58btc", code="did.invalid")
    data: bytes = base58.b58decode(encoded)
    codec, offset = _read_varint(data)
    if codec != ED25519_PUB_CODEC:
        name = _KNOWN_CODECS.get(codec, f"multicodec 0x{codec:x}")
        raise DidError(f"did:key carries a {name} key; only ed25519-pub is supported",
                       code="did.unsupported_key_type")
    raw = data[offset:]
    if len(raw) != 32:
        raise DidError(f"Ed25519 did:key holds {len(raw)} key bytes, not 32", code="did.invalid")
    key = Ed25519PublicKey(raw)
    x25519_from_ed25519(key)  # refuses bytes that are not a usable Ed25519 point
    return key


def public_key_from_did_key(did_or_did_url: str) -> Ed25519PublicKey:
    """The Ed25519 key named by a did:key DID, or by its one verification method's DID URL.

    ``did:key:z6Mk…`` and ``did:key:z6Mk…#z6Mk…`` are accepted; a did:key document has
    exactly one signing method, whose fragment is the method-specific id, so any other
    fragment names nothing that could sign.

    Raises:
        DidError: ``did.invalid`` (syntax, multibase, encoding or key length),
            ``did.unsupported_method`` (not did:key), ``did.unsupported_key_type`` (a
            multicodec other than ed25519-pub), ``did.invalid_fragment``.
    """
    method_id, fragment = _split(did_or_did_url)
    key = ed25519_from_fingerprint(method_id)
    if fragment is not None and fragment != method_id:
        raise DidError(f"fragment {fragment!r} does not name this did:key's key",
                       code="did.invalid_fragment")
    return key


def _bare_did(did: str) -> tuple[str, Ed25519PublicKey]:
    method_id, fragment = _split(did)
    if fragment is not None:
        raise DidError("expected a DID, not a DID URL", code="did.invalid")
    return _PREFIX + method_id, ed25519_from_fingerprint(method_id)


def verification_method_id(did: str) -> str:
    """The DID URL (``did#fingerprint``) of a did:key's signing method: what ``kid`` names."""
    bare, key = _bare_did(did)
    return f"{bare}#{ed25519_fingerprint(key)}"


def _method(did: str, fingerprint: str, key_format: KeyFormat, kind: str, raw: bytes
            ) -> dict[str, Any]:
    method: dict[str, Any] = {"id": f"{did}#{fingerprint}", "controller": did}
    if key_format == "JsonWebKey2020":
        crv = "Ed25519" if kind == "sign" else "X25519"
        method["type"] = "JsonWebKey2020"
        method["publicKeyJwk"] = {"kty": "OKP", "crv": crv, "x": b64u_encode(raw)}
    else:
        method["type"] = ("Ed25519VerificationKey2018" if kind == "sign"
                          else "X25519KeyAgreementKey2019")
        method["publicKeyBase58"] = base58.b58encode(raw).decode("ascii")
    return method


def did_key_document(did: str, *, key_format: KeyFormat = "Ed25519VerificationKey2018"
                     ) -> dict[str, Any]:
    """Resolve a did:key to its DID document, as the did:key method specification builds it.

    The document is derived from the DID alone (no I/O) and then parsed by ``pydid`` so that
    what we hand to resolvers and verifiers is a conformant DID Core document.

    Args:
        did: a ``did:key:z6Mk…`` DID (not a DID URL).
        key_format: ``Ed25519VerificationKey2018`` (base58 keys, the did:key default) or
            ``JsonWebKey2020`` (JWK keys) for consumers that only read JWKs.

    Returns:
        The DID document as plain JSON types.

    Raises:
        DidError: the codes of :func:`public_key_from_did_key`; ``did.invalid`` also for a
            DID URL, which names a part of a document rather than a document.
    """
    bare, key = _bare_did(did)
    x25519 = x25519_from_ed25519(key)
    sign_id = f"{bare}#{ed25519_fingerprint(key)}"
    agree_fp = x25519_fingerprint(x25519)
    document: dict[str, Any] = {
        "@context": list(_CONTEXTS[key_format]),
        "id": bare,
        "verificationMethod": [
            _method(bare, ed25519_fingerprint(key), key_format, "sign", key.raw),
            _method(bare, agree_fp, key_format, "agree", x25519),
        ],
        "assertionMethod": [sign_id],
        "authentication": [sign_id],
        "capabilityInvocation": [sign_id],
        "capabilityDelegation": [sign_id],
        "keyAgreement": [f"{bare}#{agree_fp}"],
    }
    return _validated(document, key_format)


def _validated(document: dict[str, Any], key_format: KeyFormat) -> dict[str, Any]:
    """Round-trip ``document`` through pydid, and check it parsed as the method types we meant.

    pydid silently falls back to a generic method class for a misspelt field, so the parsed
    classes are checked, not just the absence of an exception; and what pydid serialises
    must equal what we built, so nothing was dropped or rewritten on the way.
    """
    expected = ((JsonWebKey2020, JsonWebKey2020) if key_format == "JsonWebKey2020"
                else (Ed25519VerificationKey2018, X25519KeyAgreementKey2019))
    try:
        parsed = pydid.DIDDocument.deserialize(document)
    except (ValueError, pydid.DIDDocumentError) as exc:
        raise DidError(f"did:key document does not validate: {exc}", code="did.invalid") from None
    methods = parsed.verification_method or []
    if len(methods) != 2 or not all(isinstance(m, cls) for m, cls in zip(methods, expected,
                                                                          strict=True)):
        raise DidError("did:key document methods did not parse as their types",
                       code="did.invalid")
    serialized = strictjson.loads_object(parsed.to_json(), what="DID document")
    if serialized != document:
        raise DidError("pydid altered the did:key document", code="did.invalid")
    return serialized
