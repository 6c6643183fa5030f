"""Compact JWS (RFC 7515) with the hardening of RFC 8725.

Parsing and verification are separate steps because the verification key is usually found
from the (still untrusted) header and payload: ``kid``, ``iss``, ``iat``. Nothing in a
header is ever used as a source of trust: ``jwk``/``jku``/``x5u``/``x5c`` are refused where
a caller says so, and never fetched or used as a verification key by this module.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from ssiwallet.core import strictjson
from ssiwallet.core.b64 import b64u_decode, b64u_encode
from ssiwallet.core.keys import PrivateKey, PublicKey
from ssiwallet.errors import InputError, JoseError

ALLOWED_ALGS = frozenset({"EdDSA", "Ed25519", "ES256"})
HEADER_KEY_PARAMS = ("jwk", "jku", "x5u", "x5c")
MAX_TOKEN_CHARS = 1 << 20


@dataclass(frozen=True)
class Jws:
    """A parsed, not yet verified, compact JWS."""

    header: dict[str, Any]
    payload: bytes
    signing_input: bytes
    signature: bytes

    @property
    def alg(self) -> str:
        return str(self.header["alg"])

    def payload_json(self, what: str = "JWS payload") -> dict[str, Any]:
        """The payload as a strict I-JSON object."""
        return strictjson.loads_object(self.payload, what=what)


def _b64_json(part: str, what: str) -> dict[str, Any]:
    return strictjson.loads_object(b64u_decode(part, what=what), what=what)


def normalize_typ(typ: str) -> str:
    """RFC 7515 §4.1.9: media types compare case-insensitively, ``application/`` optional."""
    lowered = typ.lower()
    return lowered[len("application/"):] if lowered.startswith("application/") else lowered


def parse_compact(token: str, *, what: str = "JWS") -> Jws:
    """Split and decode a compact JWS; check the header's shape, not the signature.

    Raises:
        JoseError: ``jose.malformed`` for structure, ``jose.alg_not_allowed`` for ``none``,
            HMAC and any algorithm outside Ed25519/ES256, ``jose.unknown_crit`` for any
            ``crit`` extension (we implement none), ``jose.invalid_header`` otherwise.
    """
    if not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS:
        raise JoseError(f"{what} must be a string of bounded size", code="jose.malformed")
    parts = token.split(".")
    if len(parts) != 3 or not all(parts):
        raise JoseError(f"{what} must have three non-empty parts", code="jose.malformed")
    header = parse_header(parts[0], what=what)
    try:
        payload = b64u_decode(parts[1], what=f"{what} payload")
        signature = b64u_decode(parts[2], what=f"{what} signature")
    except InputError as exc:
        raise JoseError(exc.detail, code="jose.malformed") from exc
    signing_input = f"{parts[0]}.{parts[1]}".encode("ascii")
    return Jws(header, payload, signing_input, signature)


def parse_header(protected: str, *, what: str = "JWS") -> dict[str, Any]:
    """Decode and check a protected header; see :func:`parse_compact` for the errors."""
    try:
        if len(protected) <= _CACHED_HEADER_CHARS:
            # The cache shares one decoded header between callers: a nested value (jwk,
            # crit, x5c) mutated by one caller must not change what the next one parses.
            header = dict(_parse_header_cached(protected))
            if any(isinstance(value, dict | list) for value in header.values()):
                header = copy.deepcopy(header)
            return header
        return dict(_parse_header(protected))
    except JoseError as exc:
        raise JoseError(f"{what} {exc.detail}", code=exc.code) from exc.__cause__


_CACHED_HEADER_CHARS = 512


def _parse_header(protected: str) -> Mapping[str, Any]:
    try:
        header = _b64_json(protected, "header")
    except InputError as exc:
        raise JoseError(exc.detail, code="jose.malformed") from exc
    alg = header.get("alg")
    if not isinstance(alg, str):
        raise JoseError("header has no alg", code="jose.invalid_header")
    if alg not in ALLOWED_ALGS:
        raise JoseError(f"alg {alg!r} is not allowed", code="jose.alg_not_allowed")
    if "crit" in header:
        raise JoseError("names critical extensions we do not implement: "
                        f"{header['crit']!r}", code="jose.unknown_crit")
    if "b64" in header:
        raise JoseError("uses unencoded payload (RFC 7797)", code="jose.invalid_header")
    typ = header.get("typ")
    if typ is not None and not isinstance(typ, str):
        raise JoseError("typ must be a string", code="jose.invalid_header")
    # ``kid`` is not checked here: it only matters to a key lookup, which checks its type.
    return MappingProxyType(header)


# Headers repeat across tokens (one per issuer key, one per holder key type), so checked
# short headers are cached; the mapping is read-only and copied for every caller.
_parse_header_cached = functools.lru_cache(maxsize=512)(_parse_header)


def refuse_header_keys(jws: Jws, *, what: str = "JWS") -> None:
    """Refuse key material or key URLs in the header of a token whose key we look up."""
    offered = [name for name in HEADER_KEY_PARAMS if name in jws.header]
    if offered:
        raise JoseError(f"{what} header offers its own key ({', '.join(offered)}); "
                        "the key comes from the trust source only",
                        code="jose.header_key_refused")


def verify(jws: Jws, key: PublicKey, *, typ: str | Collection[str] | None = None,
           what: str = "JWS") -> None:
    """Verify the signature with ``key``; the key's type decides which alg is acceptable.

    Args:
        jws: the parsed token.
        key: the verification key from a trusted source.
        typ: the accepted ``typ`` value(s); ``None`` skips the check.
        what: names the token in error details.
    """
    if jws.alg not in key.algs:
        raise JoseError(f"{what} alg {jws.alg!r} does not fit the issuer's key type",
                        code="jose.alg_key_mismatch")
    if typ is not None:
        accepted = _accepted_typs(typ if isinstance(typ, str) else frozenset(typ))
        actual = jws.header.get("typ")
        if not isinstance(actual, str) or normalize_typ(actual) not in accepted:
            raise JoseError(f"{what} typ {actual!r} is not {sorted(accepted)}",
                            code="jose.wrong_typ")
    if not key.verify(jws.signing_input, jws.signature):
        raise JoseError(f"{what} signature does not verify", code="jose.bad_signature")


@functools.lru_cache(maxsize=64)
def _accepted_typs(typ: str | frozenset[str]) -> frozenset[str]:
    return frozenset({normalize_typ(typ)} if isinstance(typ, str) else map(normalize_typ, typ))


def sign_compact(header: Mapping[str, Any], payload: bytes | Mapping[str, Any],
                 key: PrivateKey) -> str:
    """Sign ``payload`` with ``key``; ``alg`` is set from the key type."""
    if "alg" in header and header["alg"] != key.sign_alg:
        raise JoseError(f"alg {header['alg']!r} does not fit the signing key",
                        code="jose.alg_key_mismatch")
    full_header = {"alg": key.sign_alg, **header}
    body = payload if isinstance(payload, bytes) else strictjson.dumps(payload).encode()
    signing_input = (b64u_encode(strictjson.dumps(full_header).encode()) + "."
                     + b64u_encode(body))
    signature = key.sign(signing_input.encode("ascii"))
    return signing_input + "." + b64u_encode(signature)
