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
from ssiwallet.core.vc import VC_TYP, verify_vc
from ssiwallet.errors import InputError, JoseError, VcError
from verifier.errors import UsageError


def load_jwk(text: str) -> PublicKey:
    """A public JWK from a file's text (strict JSON, no private members)."""
    try:
        return public_key_from_jwk(strictjson.loads_object(text, what="issuer JWK"))
    except InputError as exc:
        raise JoseError(f"issuer JWK: {exc.detail}", code="jose.invalid_jwk") from exc


def check_presentation(text: str, issuer_key: PublicKey, *, now: int, nonce: str | None,
                       aud: str | None, require_kb: bool) -> dict[str, Any]:
    """Verify ``text`` and return the processed payload.

    A ``dc+sd-jwt`` token is held to the SD-JWT VC profile too; any other SD-JWT gets the
    plain RFC 9901 checks.
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
        result = verify_vc(token, lookup=lambda iss, kid, *, at: issuer_key, now=now,
                           key_binding=policy)
        return result.claims
    verified = sdjwt.verify_sd_jwt(token, lambda h, p: issuer_key, now=now, key_binding=policy)
    return verified.claims


def unverified_kid_and_iat(text: str) -> tuple[str, int]:
    """The issuer ``kid`` and ``iat`` a presentation names, to find the key on a registry.

    Raises:
        VcError: ``vc.invalid_kid`` / ``vc.missing_iat`` when they are absent or mistyped.
    """
    token = sdjwt.parse(text.strip())
    kid = _unverified_header(token).get("kid")
    iat = token.unverified_claims.get("iat")
    if not isinstance(kid, str) or not kid:
        raise VcError("the issuer-signed JWT has no string kid", code="vc.invalid_kid")
    if type(iat) is not int:
        raise VcError("the credential has no integer iat", code="vc.missing_iat")
    return kid, iat


def _unverified_header(token: sdjwt.SdJwt) -> Mapping[str, Any]:
    return parse_compact(token.issuer_jwt, what="issuer-signed JWT").header
