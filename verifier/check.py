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
from ssiwallet.core.sdjwt.verify import KeyBindingPolicy
from ssiwallet.core.vc import VC_TYP, keys_named, verify_vc
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

    ``issuer_key`` is a pinned key (whatever the token's ``kid``), or the keys found for the
    kids the token names (:func:`ssiwallet.core.vc.keys_named`), by ``kid``. A ``dc+sd-jwt``
    token is held to the SD-JWT VC profile too; any other SD-JWT gets the plain RFC 9901
    checks.
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
        keys = issuer_key if isinstance(issuer_key, Mapping) else {
            ref.kid: issuer_key for ref in keys_named(token)}
        return verify_vc(token, keys=keys, now=now, key_binding=policy).claims
    verified = sdjwt.verify_sd_jwt(token, lambda h, _p: _key_for(issuer_key, h), now=now,
                                   key_binding=policy)
    return verified.claims


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
