"""SD-JWT issuance (RFC 9901 §4–§6): turn marked claims into digests and disclosures.

Claims to hide are marked with :class:`SD`: as a dict key (``{SD("email"): "a@b"}``) for an
object property, or as a list element (``[SD("x"), "y"]``) for an array element. Marks nest,
giving recursive disclosures (§4.2.6). Randomness (salts, decoy counts) is a parameter.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from ssiwallet.core import strictjson
from ssiwallet.core.b64 import b64u_encode
from ssiwallet.core.jws import sign_compact
from ssiwallet.core.keys import PrivateKey
from ssiwallet.core.sdjwt.disclosure import (
    DEFAULT_SD_ALG,
    FORBIDDEN_NAMES,
    Disclosure,
    digest,
    hasher,
    make_disclosure,
)
from ssiwallet.core.sdjwt.serialize import JwsSignature, SdJwt
from ssiwallet.errors import SdJwtError


class SD:
    """Marks a claim name (as a key) or an array element (as an element) as disclosable.

    Compared by identity, so ``{SD("a"): 1, "a": 2}`` can be built and is then refused
    at issuance as a duplicate claim, rather than silently merged.
    """

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __repr__(self) -> str:
        return f"SD({self.value!r})"


_SCALARS = frozenset({str, int, float, bool, type(None)})


def random_salt() -> str:
    """128 random bits from the OS, base64url: the default salt source."""
    return b64u_encode(os.urandom(16))  # what secrets.token_bytes does, minus two calls


@dataclass
class _Builder:
    salt: Callable[[], str]
    decoys: int
    rand_below: Callable[[int], int]
    sd_alg: str

    def __post_init__(self) -> None:
        self.disclosures: list[Disclosure] = []
        self.salts: set[str] = set()
        self.hash_fn = hasher(self.sd_alg)

    def _disclose(self, name: str | None, value: Any) -> str:
        salt = self.salt()
        if salt in self.salts:
            raise SdJwtError("salt source repeated a salt", code="sdjwt.salt_reused")
        self.salts.add(salt)
        disclosure = make_disclosure(salt, name, value)
        self.disclosures.append(disclosure)
        return b64u_encode(self.hash_fn(disclosure.encoded.encode("ascii")).digest())

    def _decoy(self) -> str:
        return b64u_encode(hasher(self.sd_alg)(self.salt().encode("ascii")).digest())

    def build(self, value: Any) -> Any:
        kind = type(value)
        if kind in _SCALARS:
            return value
        if kind is dict or (kind is not SD and isinstance(value, Mapping)):
            return self._object(value)
        if kind is list or kind is tuple:
            return self._array(value)
        if kind is SD:
            raise SdJwtError("SD marks a key or an array element, not a value",
                             code="sdjwt.invalid_sd_mark")
        return value

    def _object(self, obj: Mapping[Any, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        digests: list[str] = []
        names: set[str] = set()
        for key, member in obj.items():
            marked = type(key) is SD
            name = key.value if marked else key
            if type(name) is not str:
                raise SdJwtError(f"claim name {name!r} is not a string",
                                 code="sdjwt.invalid_claim_name")
            if name in FORBIDDEN_NAMES:
                raise SdJwtError(f"claim name {name!r} is reserved",
                                 code="sdjwt.forbidden_claim_name")
            if name in names:
                raise SdJwtError(f"claim {name!r} given twice", code="sdjwt.duplicate_claim")
            names.add(name)
            built = self.build(member)
            if marked:
                digests.append(self._disclose(name, built))
            else:
                out[name] = built
        if digests:
            extra = self.rand_below(self.decoys + 1) if self.decoys else 0
            digests.extend(self._decoy() for _ in range(extra))
            out["_sd"] = sorted(digests)
        return out

    def _array(self, arr: list[Any] | tuple[Any, ...]) -> list[Any]:
        out: list[Any] = []
        for element in arr:
            if type(element) is SD:
                out.append({"...": self._disclose(None, self.build(element.value))})
            else:
                out.append(self.build(element))
        return out


@dataclass(frozen=True)
class IssuedSdJwt:
    """What an issuer hands out: the SD-JWT and its disclosures, decoded for convenience."""

    sd_jwt: SdJwt
    disclosures: tuple[Disclosure, ...]
    payload: dict[str, Any]

    def compact(self) -> str:
        return self.sd_jwt.compact()


def issue(claims: Mapping[Any, Any], key: PrivateKey, *, header: Mapping[str, Any] | None = None,
          sd_alg: str = DEFAULT_SD_ALG, salt: Callable[[], str] = random_salt,
          decoys: int = 0, rand_below: Callable[[int], int] = secrets.randbelow,
          include_sd_alg: bool = True) -> IssuedSdJwt:
    """Build and sign an SD-JWT.

    Args:
        claims: the payload with :class:`SD` marks.
        key: the issuer's signing key (its type sets ``alg``).
        header: extra JOSE header members (``typ``, ``kid``).
        sd_alg: digest algorithm for disclosures.
        salt: source of salts; each must be unique and at least 128 bits.
        decoys: at most this many decoy digests are added to each ``_sd`` array
            (the exact count drawn from ``rand_below`` so it reveals nothing).
        rand_below: randomness for decoy counts.
        include_sd_alg: write ``_sd_alg`` (always true for our credentials).
    """
    hasher(sd_alg)
    builder = _Builder(salt, decoys, rand_below, sd_alg)
    payload = builder._object(claims)
    if include_sd_alg:
        if "_sd_alg" in payload:
            raise SdJwtError("_sd_alg is set by the issuer", code="sdjwt.forbidden_claim_name")
        payload["_sd_alg"] = sd_alg
    jwt = sign_compact(dict(header or {}), payload, key)
    protected, body, signature = jwt.split(".")
    sd_jwt = SdJwt(body, (JwsSignature(protected, signature),),
                   tuple(d.encoded for d in builder.disclosures))
    return IssuedSdJwt(sd_jwt, tuple(builder.disclosures), payload)


__all__ = ["SD", "IssuedSdJwt", "add_signature", "issue", "random_salt", "digest"]


def add_signature(sd_jwt: SdJwt, key: PrivateKey, header: Mapping[str, Any] | None = None,
                  unprotected: Mapping[str, Any] | None = None) -> SdJwt:
    """Add a further issuer signature over the same payload (general JSON serialization,
    RFC 9901 §8.3), e.g. by a second key during a key rollover."""
    protected = b64u_encode(strictjson.dumps({"alg": key.sign_alg, **(header or {})}).encode())
    signature = b64u_encode(key.sign(f"{protected}.{sd_jwt.payload}".encode("ascii")))
    extra = JwsSignature(protected, signature, dict(unprotected or {}))
    return replace(sd_jwt, signatures=(*sd_jwt.signatures, extra))
