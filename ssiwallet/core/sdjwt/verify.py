"""SD-JWT verification by holders and verifiers (RFC 9901 §7.1 and §7.3).

The issuer key is found by a callback given the (unverified) header and payload, so the
trust source (a pinned JWK, the did:keten registry as of ``iat``) stays outside this
module. Key binding is required or not by the caller's policy, never because a KB-JWT
happens to be present.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from ssiwallet.core import jws as jwslib
from ssiwallet.core.b64 import b64u_decode
from ssiwallet.core.keys import PublicKey, public_key_from_jwk
from ssiwallet.core.sdjwt.disclosure import DEFAULT_SD_ALG, digest, hasher, parse_disclosure
from ssiwallet.core.sdjwt.process import Processed, process
from ssiwallet.core.sdjwt.serialize import SdJwt
from ssiwallet.errors import InputError, JoseError, SdJwtError

KeyLookup = Callable[[Mapping[str, Any], Mapping[str, Any]], PublicKey]

DEFAULT_LEEWAY = 60  # seconds of clock skew tolerated on exp/nbf/iat
DEFAULT_KB_MAX_AGE = 300


@dataclass(frozen=True)
class KeyBindingPolicy:
    """What a verifier expects of the KB-JWT: this transaction's nonce, its own audience."""

    nonce: str
    aud: str
    max_age: int = DEFAULT_KB_MAX_AGE
    leeway: int = DEFAULT_LEEWAY


@dataclass(frozen=True)
class Verified:
    """A verified SD-JWT: header, processed payload and what the holder disclosed."""

    header: dict[str, Any]
    claims: dict[str, Any]
    processed: Processed
    kb_payload: dict[str, Any] | None
    sd_jwt: SdJwt


def numeric_date(payload: Mapping[str, Any], name: str, *, required: bool = False
                 ) -> int | float | None:
    """A JWT NumericDate: a finite JSON number, never a bool or a string."""
    value = payload.get(name)
    if value is None:
        if required or name in payload:
            raise SdJwtError(f"claim {name!r} is missing", code="sdjwt.invalid_time_claim")
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SdJwtError(f"claim {name!r} must be a number", code="sdjwt.invalid_time_claim")
    return value


def check_validity(claims: Mapping[str, Any], now: int, leeway: int = DEFAULT_LEEWAY) -> None:
    """§7.1 step 6: ``exp``, ``nbf`` and ``iat`` against the verifier's clock."""
    exp = numeric_date(claims, "exp")
    if exp is not None and now >= exp + leeway:
        raise SdJwtError("the credential has expired", code="sdjwt.expired")
    nbf = numeric_date(claims, "nbf")
    if nbf is not None and now + leeway < nbf:
        raise SdJwtError("the credential is not valid yet", code="sdjwt.not_yet_valid")
    iat = numeric_date(claims, "iat")
    if iat is not None and now + leeway < iat:
        raise SdJwtError("the credential was issued in the future",
                         code="sdjwt.issued_in_future")


def _issuer_jws(sd_jwt: SdJwt) -> list[jwslib.Jws]:
    parsed = []
    for sig in sd_jwt.signatures:
        header = jwslib.parse_header(sig.protected, what="issuer-signed JWT")
        # Unprotected members are not signed: only a key hint may live there, never
        # anything that steers verification (alg, typ, crit …), and never twice.
        unprotected = set(sig.header) - {"kid"}
        if unprotected:
            raise JoseError(f"unprotected header may only carry kid, not {sorted(unprotected)}",
                            code="jose.invalid_header")
        if "kid" in sig.header and "kid" in header:
            raise SdJwtError("kid in both the protected and unprotected header",
                             code="sdjwt.malformed")
        try:
            signature = b64u_decode(sig.signature, what="issuer-signed JWT signature")
        except InputError as exc:
            raise JoseError(exc.detail, code="jose.malformed") from exc
        parsed.append(jwslib.Jws({**sig.header, **header}, sd_jwt.payload_bytes,
                                 f"{sig.protected}.{sd_jwt.payload}".encode("ascii"), signature))
    return parsed


def issuer_headers(sd_jwt: SdJwt) -> list[dict[str, Any]]:
    """The header of each issuer signature (protected, plus an unprotected ``kid``), read
    as :func:`verify_sd_jwt` reads them and *unverified*: only for naming the key."""
    return [jws.header for jws in _issuer_jws(sd_jwt)]


def verify_sd_jwt(sd_jwt: SdJwt, issuer_key: KeyLookup, *, now: int,
                  typ: str | Collection[str] | None = None,
                  key_binding: KeyBindingPolicy | None = None,
                  leeway: int = DEFAULT_LEEWAY) -> Verified:
    """Verify an SD-JWT or SD-JWT+KB per §7.1 and §7.3.

    Args:
        sd_jwt: the parsed presentation.
        issuer_key: returns the issuer's key for the header and payload, or raises.
        now: the verifier's clock (seconds since the epoch).
        typ: the accepted issuer-JWT ``typ`` values (``None``: not checked).
        key_binding: when given, a KB-JWT is required and checked against it; when
            ``None`` no KB-JWT is required, but one that is present must still be valid.
        leeway: tolerated clock skew for ``exp``/``nbf``/``iat``.
    """
    jwss = _issuer_jws(sd_jwt)
    payload = sd_jwt.unverified_claims
    for jws in jwss:  # every signature must verify: none is decorative
        jwslib.refuse_header_keys(jws, what="issuer-signed JWT")
        jwslib.verify(jws, issuer_key(jws.header, payload), typ=typ, what="issuer-signed JWT")
    sd_alg = payload.get("_sd_alg", DEFAULT_SD_ALG)
    hasher(sd_alg)
    disclosures = [parse_disclosure(d) for d in sd_jwt.disclosures]
    processed = process(payload, disclosures, sd_alg)
    check_validity(processed.claims, now, leeway)
    kb_payload = None
    if key_binding is not None and sd_jwt.kb_jwt is None:
        raise SdJwtError("key binding is required but no KB-JWT was presented",
                         code="sdjwt.kb_missing")
    if sd_jwt.kb_jwt is not None:
        kb_payload = verify_kb_jwt(sd_jwt, sd_jwt.kb_jwt, processed.claims, sd_alg,
                                   key_binding, now)
    return Verified(jwss[0].header, processed.claims, processed, kb_payload, sd_jwt)


def holder_key(claims: Mapping[str, Any]) -> PublicKey:
    """The holder's key from ``cnf.jwk`` (RFC 7800)."""
    cnf = claims.get("cnf")
    if not isinstance(cnf, dict) or "jwk" not in cnf:
        raise SdJwtError("no cnf.jwk to check key binding against",
                         code="sdjwt.no_holder_key")
    return public_key_from_jwk(cnf["jwk"])


def verify_kb_jwt(sd_jwt: SdJwt, kb_jwt: str, claims: Mapping[str, Any], sd_alg: str,
                  policy: KeyBindingPolicy | None, now: int) -> dict[str, Any]:
    """§7.3 step 5. Without a policy, nonce and audience are not checked (nothing to
    compare them with) but signature, ``typ``, ``iat`` shape and ``sd_hash`` are."""
    kb = jwslib.parse_compact(kb_jwt, what="KB-JWT")
    jwslib.refuse_header_keys(kb, what="KB-JWT")
    jwslib.verify(kb, holder_key(claims), typ="kb+jwt", what="KB-JWT")
    payload = kb.payload_json("KB-JWT payload")
    iat = numeric_date(payload, "iat", required=True) or 0
    for name in ("nonce", "aud", "sd_hash"):
        if not isinstance(payload.get(name), str):
            raise SdJwtError(f"KB-JWT claim {name!r} must be a string",
                             code="sdjwt.kb_invalid")
    if payload["sd_hash"] != digest(sd_jwt.sd_part(), sd_alg):
        raise SdJwtError("KB-JWT sd_hash does not cover the presented SD-JWT",
                         code="sdjwt.kb_sd_hash_mismatch")
    if policy is not None:
        if iat > now + policy.leeway:
            raise SdJwtError("KB-JWT issued in the future", code="sdjwt.kb_iat_future")
        if iat < now - policy.max_age:
            raise SdJwtError("KB-JWT is too old", code="sdjwt.kb_stale")
        if payload["nonce"] != policy.nonce:
            raise SdJwtError("KB-JWT nonce is not this transaction's",
                             code="sdjwt.kb_nonce_mismatch")
        if payload["aud"] != policy.aud:
            raise SdJwtError("KB-JWT was made for another verifier",
                             code="sdjwt.kb_aud_mismatch")
    return payload


def decode_unverified_payload(sd_jwt: SdJwt) -> dict[str, Any]:
    """The issuer JWT payload without checking anything: only to find ``iss``/``kid``."""
    return sd_jwt.unverified_claims
