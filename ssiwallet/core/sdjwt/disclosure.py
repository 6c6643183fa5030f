"""Disclosures (RFC 9901 §4.2) and the digest algorithms that bind them."""

from __future__ import annotations

import hashlib
import json
import json.encoder
import re
from collections.abc import Callable
from typing import Any, NamedTuple

from ssiwallet.core import strictjson
from ssiwallet.core.b64 import b64u_decode, b64u_encode
from ssiwallet.errors import SdJwtError

#: ``_sd_alg`` values (IANA "Named Information Hash Algorithm" names) we accept.
HASH_ALGS: dict[str, Callable[[bytes], Any]] = {
    "sha-256": hashlib.sha256,
    "sha-384": hashlib.sha384,
    "sha-512": hashlib.sha512,
}
DEFAULT_SD_ALG = "sha-256"
FORBIDDEN_NAMES = frozenset({"_sd", "..."})
MIN_SALT_BYTES = 16  # 128 bits (RFC 9901 §9.3)
# 22 base64url characters carry 132 bits, the shortest encoding of 16 bytes.
_SALT = re.compile(r"[A-Za-z0-9_-]{22,}")
_quote: Callable[[str], str] = json.encoder.encode_basestring


def hasher(sd_alg: object) -> Callable[[bytes], Any]:
    """The hash function named by ``_sd_alg``; unknown or malformed names are refused."""
    if not isinstance(sd_alg, str) or sd_alg not in HASH_ALGS:
        raise SdJwtError(f"_sd_alg {sd_alg!r} is not supported",
                         code="sdjwt.unsupported_sd_alg")
    return HASH_ALGS[sd_alg]


def digest(encoded: str, sd_alg: str = DEFAULT_SD_ALG) -> str:
    """Digest over the US-ASCII bytes of a base64url string (disclosure or SD-JWT)."""
    return b64u_encode(hasher(sd_alg)(encoded.encode("ascii")).digest())


class Disclosure(NamedTuple):
    """One disclosure: ``[salt, name, value]`` for an object property, ``[salt, value]``
    for an array element (``name is None``). ``encoded`` is kept verbatim: its digest,
    not a re-encoding, is what the issuer signed. (A named tuple: immutable, and cheap to
    build on the hot path of issuance and verification.)"""

    encoded: str
    salt: str
    name: str | None
    value: Any

    @property
    def is_array_element(self) -> bool:
        return self.name is None

    def digest(self, sd_alg: str = DEFAULT_SD_ALG) -> str:
        return digest(self.encoded, sd_alg)


def make_disclosure(salt: str, name: str | None, value: Any) -> Disclosure:
    """Create a disclosure with a salt of at least 128 bits."""
    if type(salt) is not str or not _SALT.fullmatch(salt):
        raise SdJwtError("salt must be base64url of at least 128 bits",
                         code="sdjwt.weak_salt")
    if name is not None and name in FORBIDDEN_NAMES:
        raise SdJwtError(f"claim name {name!r} is reserved", code="sdjwt.forbidden_claim_name")
    if type(value) is str:  # the common case, encoded exactly as strictjson.dumps would
        text = (f"[{_quote(salt)},{_quote(value)}]" if name is None
                else f"[{_quote(salt)},{_quote(name)},{_quote(value)}]")
    else:
        text = strictjson.dumps([salt, value] if name is None else [salt, name, value])
    return Disclosure(b64u_encode(text.encode()), salt, name, value)


def parse_disclosure(encoded: str) -> Disclosure:
    """Decode a disclosure strictly; its meaning (property or element) comes from its length.

    Whether that shape fits the place its digest is found is checked during processing.
    """
    raw = b64u_decode(encoded, what="disclosure")
    array = strictjson.loads(raw)
    if not isinstance(array, list) or len(array) not in (2, 3):
        raise SdJwtError("disclosure must be a JSON array of two or three elements",
                         code="sdjwt.malformed_disclosure")
    if not isinstance(array[0], str):
        raise SdJwtError("disclosure salt must be a string", code="sdjwt.malformed_disclosure")
    if len(array) == 2:
        return Disclosure(encoded, array[0], None, array[1])
    if not isinstance(array[1], str):
        raise SdJwtError("disclosure claim name must be a string",
                         code="sdjwt.malformed_disclosure")
    return Disclosure(encoded, array[0], array[1], array[2])
