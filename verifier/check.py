"""Offline verification of one SD-JWT(+KB) presentation against a pinned issuer key.

The contract of ``ssi-verifier check`` lives here so it can be tested without a process:
the processed payload (RFC 9901 §7.1) on success, ``{"error", "detail"}`` on failure.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ssiwallet.core import sdjwt, strictjson
from ssiwallet.core.jws import normalize_typ, parse_compact
from ssiwallet.core.keys import PublicKey, public_key_from_jwk
from ssiwallet.core.sdjwt.verify import (
    KeyBindingPolicy,
    decode_unverified_payload,
    issuer_headers,
)
from ssiwallet.core.statuslist import parse_status_reference
from ssiwallet.core.vc import NEVER_DISCLOSABLE, VC_TYP, keys_named, verify_vc
from ssiwallet.errors import InputError, JoseError, VcError
from verifier.errors import UsageError


def load_jwk(text: str) -> PublicKey:
    """A public JWK from a file's text (strict JSON, no private members)."""
    try:
        return public_key_from_jwk(strictjson.loads_object(text, what="issuer JWK"))
    except InputError as exc:
        raise JoseError(f"issuer JWK: {exc.detail}", code="jose.invalid_jwk") from exc


def check_presentation(text: str, issuer_key: PublicKey | Mapping[str, PublicKey], *,
                       now: int, nonce: str | None, aud: str | None,
                       require_kb: bool) -> dict[str, Any]:
    """Verify ``text`` and return the processed payload.

    ``issuer_key`` is a pinned key (whatever the token's ``kid``, and with no ``kid`` at
    all: SD-JWT VC does not require one), or the keys found for the kids the token names
    (:func:`ssiwallet.core.vc.keys_named`), by ``kid``. A ``dc+sd-jwt`` token is held to
    the SD-JWT VC profile too; any other SD-JWT gets the plain RFC 9901 checks.
    """
    policy = None
    if require_kb:
        if nonce is None or aud is None:
            raise UsageError("key binding is required: give --nonce and --aud, or --no-kb",
                             code="cli.missing_kb_params")
        policy = KeyBindingPolicy(nonce=nonce, aud=aud)
    token = sdjwt.parse(text.strip())
    header = _unverified_header(token)
    typ = header.get("typ")
    if isinstance(typ, str) and normalize_typ(typ) == VC_TYP:
        if not isinstance(issuer_key, Mapping) and not _all_name_a_kid(token):
            return _verify_vc_with_pinned_key(token, issuer_key, now=now, policy=policy)
        keys = issuer_key if isinstance(issuer_key, Mapping) else {
            ref.kid: issuer_key for ref in keys_named(token)}
        return verify_vc(token, keys=keys, now=now, key_binding=policy).claims
    verified = sdjwt.verify_sd_jwt(token, lambda h, _p: _key_for(issuer_key, h), now=now,
                                   key_binding=policy)
    return verified.claims


def _all_name_a_kid(token: sdjwt.SdJwt) -> bool:
    return all(isinstance(h.get("kid"), str) and h["kid"] for h in issuer_headers(token))


def _verify_vc_with_pinned_key(token: sdjwt.SdJwt, key: PublicKey, *, now: int,
                               policy: KeyBindingPolicy | None) -> dict[str, Any]:
    """An SD-JWT VC without ``kid`` (as RFC 9901 A.3 and OpenID4VP 1.0 B.3 print them).

    The key is the one the operator pinned, so there is no key to look up and no ``kid``
    to check against ``iss``; the rest of the profile is what :func:`verify_vc` checks:
    ``iss`` and ``vct`` present, validity claims never in a disclosure, a status reference
    that parses.
    """
    unverified = decode_unverified_payload(token)
    if not isinstance(unverified.get("iss"), str) or not unverified["iss"]:
        raise VcError("credential has no issuer", code="vc.missing_iss")
    verified = sdjwt.verify_sd_jwt(token, lambda _h, _p: key, now=now, typ=VC_TYP,
                                   key_binding=policy)
    hidden = sorted({str(p[0]) for p in verified.processed.provenance
                     if p[0] in NEVER_DISCLOSABLE})
    if hidden:
        raise VcError(f"{hidden} arrived in a disclosure", code="vc.claim_not_disclosable")
    claims = verified.claims
    if not isinstance(claims.get("vct"), str) or not claims["vct"]:
        raise VcError("credential has no vct", code="vc.missing_vct")
    if "status" in claims:
        parse_status_reference(claims["status"])
    return claims


def _key_for(issuer_key: PublicKey | Mapping[str, PublicKey], header: Mapping[str, Any]
             ) -> PublicKey:
    if not isinstance(issuer_key, Mapping):
        return issuer_key
    kid = header.get("kid")
    if not isinstance(kid, str) or kid not in issuer_key:
        raise VcError(f"no key was handed in for {str(kid)[:120]!r}", code="vc.key_not_given")
    return issuer_key[kid]


def _unverified_header(token: sdjwt.SdJwt) -> Mapping[str, Any]:
    return parse_compact(token.issuer_jwt, what="issuer-signed JWT").header
