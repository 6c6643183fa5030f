"""``did:keten`` identifiers: self-certifying DIDs, Multikeys and pre-rotation commitments.

A DID is ``did:keten:`` + base58btc(first 16 bytes of sha256(JCS(inception))), where the
inception is the body of its ``did.create`` transaction (first key, commitment to the next
key, organisation name). Nobody can pick a DID for someone else's keys, and the registry
operator cannot swap the first key of a DID without changing the DID itself.

The commitment to the next key is base64url(sha256(UTF-8 Multikey string)): a rotation must
reveal a key hashing to it, so a thief of the *current* key cannot take the DID over.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

import base58
import rfc8785

from registry.errors import RegistryError
from ssiwallet.core.b64 import b64u_encode
from ssiwallet.core.didkey import ed25519_fingerprint, ed25519_from_fingerprint
from ssiwallet.core.keys import Ed25519PublicKey
from ssiwallet.errors import SsiError

__all__ = [
    "DID_PREFIX",
    "DidUrlError",
    "KetenDid",
    "commitment",
    "did_from_inception",
    "key_fragment",
    "multikey",
    "public_key_from_multikey",
    "split_kid",
]

DID_PREFIX = "did:keten:"
_DID = re.compile(r"did:keten:[1-9A-HJ-NP-Za-km-z]{16,24}")
_KEY_FRAGMENT = re.compile(r"key-([1-9][0-9]{0,5})")


class DidUrlError(RegistryError):
    """A did:keten DID, DID URL or Multikey that is not well formed."""

    code = "registry.invalid_did"


class KetenDid(str):
    """A syntactically valid ``did:keten`` DID; cannot exist in an invalid state."""

    __slots__ = ()

    def __new__(cls, value: object) -> KetenDid:
        if not isinstance(value, str) or not _DID.fullmatch(value):
            raise DidUrlError(f"not a did:keten DID: {str(value)[:80]!r}")
        return super().__new__(cls, value)

    @property
    def method_id(self) -> str:
        """The base58btc part after ``did:keten:``."""
        return self[len(DID_PREFIX):]


def multikey(key: Ed25519PublicKey) -> str:
    """The Multikey ``publicKeyMultibase`` (``z6Mk…``) of an Ed25519 key."""
    return ed25519_fingerprint(key)


def public_key_from_multikey(value: object) -> Ed25519PublicKey:
    """Decode a ``z6Mk…`` Multikey; anything else is a :class:`DidUrlError`."""
    if not isinstance(value, str):
        raise DidUrlError("a Multikey must be a string")
    try:
        return ed25519_from_fingerprint(value)
    except SsiError as exc:
        raise DidUrlError(f"bad Multikey: {exc.detail}") from None


def commitment(key_multibase: str) -> str:
    """The pre-rotation commitment to a next key: base64url(sha256(Multikey))."""
    return b64u_encode(hashlib.sha256(key_multibase.encode("utf-8")).digest())


def did_from_inception(inception: dict[str, Any]) -> KetenDid:
    """The DID a ``did.create`` body certifies (its JCS hash, truncated to 128 bits)."""
    digest = hashlib.sha256(rfc8785.dumps(inception)).digest()[:16]
    return KetenDid(DID_PREFIX + base58.b58encode(digest).decode("ascii"))


def key_fragment(number: int) -> str:
    """``key-N``: the fragment of the N-th key in a DID's history (1 = inception key)."""
    return f"key-{number}"


def split_kid(kid: object) -> tuple[KetenDid, int]:
    """Split ``did:keten:…#key-N`` into the DID and N; refuse any other DID URL."""
    if not isinstance(kid, str) or "#" not in kid:
        raise DidUrlError(f"not a did:keten key id: {str(kid)[:80]!r}")
    did, _, fragment = kid.partition("#")
    match = _KEY_FRAGMENT.fullmatch(fragment)
    if match is None:
        raise DidUrlError(f"key id fragment must be key-N: {fragment[:40]!r}")
    return KetenDid(did), int(match.group(1))
