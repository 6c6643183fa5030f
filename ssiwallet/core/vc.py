"""The SD-JWT VC profile (draft-ietf-oauth-sd-jwt-vc) as Keten uses it.

Header ``typ: dc+sd-jwt``; plaintext ``iss``, ``iat``, ``exp``, ``nbf``, ``vct``, ``cnf``,
``status`` (those that steer validity may never hide in a disclosure); every subject claim
selectively disclosable, objects recursively.

Verification is in two steps. :func:`keys_named` (pure) reads which issuer keys a credential
names: ``(iss, kid, iat)`` per issuer signature. The caller finds those keys wherever it
trusts them (the registry, asynchronously, as of the issuance day; a pinned JWK) and hands
them to :func:`verify_vc` (pure, synchronous) by ``kid``::

    refs = keys_named(token)
    keys = {r.kid: await registry.issuer_key_on_day(r.kid, r.iat) for r in refs}
    vc = verify_vc(token, keys=keys, now=now, key_binding=policy)
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ssiwallet.core.keys import PrivateKey, PublicKey, public_key_from_jwk
from ssiwallet.core.sdjwt import (
    SD,
    IssuedSdJwt,
    KeyBindingPolicy,
    SdJwt,
    Verified,
    issue,
    parse,
    random_salt,
    verify_sd_jwt,
)
from ssiwallet.core.sdjwt.verify import decode_unverified_payload, issuer_headers, numeric_date
from ssiwallet.core.statuslist import StatusRef, parse_status_reference
from ssiwallet.errors import SdJwtError, VcError

VC_TYP = "dc+sd-jwt"
#: Registered claims that must stay in plaintext (SD-JWT VC §3.2.2.2) …
NEVER_DISCLOSABLE = frozenset({"iss", "nbf", "exp", "cnf", "vct", "vct#integrity", "status",
                               "aka_vcts"})
#: … and those our issuer sets itself, so a subject claim may not carry their names.
RESERVED = NEVER_DISCLOSABLE | {"iat", "_sd", "_sd_alg", "..."}
DAY = 86400
_SCALARS = frozenset({str, int, float, bool, type(None)})
DEFAULT_DECOYS = 3


def day_floor(t: int) -> int:
    """Round a time down to 00:00 UTC: all credentials of a day share ``iat``/``exp``."""
    return t - t % DAY


def mark_all_disclosable(value: Any) -> Any:
    """Every object member and array element becomes its own disclosure, recursively."""
    kind = type(value)
    if kind is dict or (kind not in _SCALARS and isinstance(value, Mapping)):
        return {SD(k): mark_all_disclosable(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [SD(mark_all_disclosable(v)) for v in value]
    return value


def check_payload_marks(payload: Mapping[Any, Any]) -> None:
    """Refuse an issuance payload that would hide a validity-steering claim."""
    for key in payload:
        if isinstance(key, SD) and key.value in NEVER_DISCLOSABLE:
            raise VcError(f"{key.value!r} may never be selectively disclosable",
                          code="vc.claim_not_disclosable")
    for name in ("cnf", "status"):
        if _contains_marks(payload.get(name)):
            raise VcError(f"{name!r} may never contain disclosures",
                          code="vc.claim_not_disclosable")


def _contains_marks(value: Any) -> bool:
    if isinstance(value, Mapping):
        return any(isinstance(k, SD) or _contains_marks(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(isinstance(v, SD) or _contains_marks(v) for v in value)
    return False


def issue_marked(payload: Mapping[Any, Any], *, key: PrivateKey, kid: str,
                 salt: Callable[[], str] = random_salt, decoys: int = DEFAULT_DECOYS,
                 rand_below: Callable[[int], int] = secrets.randbelow) -> IssuedSdJwt:
    """Sign a payload the caller marked with :class:`SD`, enforcing the VC rules."""
    check_payload_marks(payload)
    return _sign(payload, key=key, kid=kid, salt=salt, decoys=decoys, rand_below=rand_below)


def _sign(payload: Mapping[Any, Any], *, key: PrivateKey, kid: str,
          salt: Callable[[], str], decoys: int,
          rand_below: Callable[[int], int]) -> IssuedSdJwt:
    for name in ("iss", "vct"):
        if not isinstance(payload.get(name), str) or not payload[name]:
            raise VcError(f"{name!r} is required", code=f"vc.missing_{name}")
    return issue(payload, key, header={"typ": VC_TYP, "kid": kid}, salt=salt, decoys=decoys,
                 rand_below=rand_below)


def issue_vc(*, issuer: str, kid: str, key: PrivateKey, vct: str, claims: Mapping[str, Any],
             holder_jwk: Mapping[str, Any], now: int, validity: int | None = None,
             status: StatusRef | None = None, salt: Callable[[], str] = random_salt,
             decoys: int = DEFAULT_DECOYS,
             rand_below: Callable[[int], int] = secrets.randbelow) -> IssuedSdJwt:
    """Issue one SD-JWT VC bound to ``holder_jwk`` with every subject claim disclosable.

    ``iat`` and ``exp`` are rounded to the day so that the time of issuance does not
    single out a holder among those issued the same day.
    """
    clash = sorted(set(claims) & RESERVED)
    if clash:
        raise VcError(f"subject claims may not use registered names {clash}",
                      code="vc.reserved_claim")
    public_key_from_jwk(holder_jwk)  # refuse a malformed or private holder key early
    iat = day_floor(now)
    payload: dict[Any, Any] = {"iss": issuer, "iat": iat, "vct": vct,
                               "cnf": {"jwk": dict(holder_jwk)}}
    if validity is not None:
        payload["exp"] = day_floor(now + validity) + DAY
    if status is not None:
        payload["status"] = status.to_claim()
    payload.update(mark_all_disclosable(dict(claims)))
    # cnf and status were built here and subject claims cannot carry registered names,
    # so the mark check of issue_marked has nothing to find.
    return _sign(payload, key=key, kid=kid, salt=salt, decoys=decoys, rand_below=rand_below)


@dataclass(frozen=True)
class VerifiedVc:
    """A verified SD-JWT VC and what its holder disclosed."""

    iss: str
    kid: str
    vct: str
    iat: int
    exp: int | float | None
    status: StatusRef | None
    claims: dict[str, Any]  # the processed payload (RFC 9901 §7.1)
    verified: Verified

    @property
    def disclosed(self) -> dict[str, Any]:
        """Only the subject claims (registered claims removed)."""
        return {k: v for k, v in self.claims.items() if k not in RESERVED}


@dataclass(frozen=True)
class IssuerKeyRef:
    """One issuer key a credential names: key ``kid`` of issuer ``iss``, as of ``iat``."""

    iss: str
    kid: str
    iat: int


def keys_named(presentation: str | Mapping[str, Any] | SdJwt) -> tuple[IssuerKeyRef, ...]:
    """The issuer keys a credential's issuer signature(s) name, read before verification.

    One ref per distinct ``kid``, in signature order; nothing is verified, so the refs only
    say which keys to find. A ``kid`` that is a DID URL (or any ``kid`` of a DID issuer)
    must name a key of ``iss`` itself (``iss#fragment``), so no other party's key can be
    asked for.

    Raises:
        VcError: ``vc.missing_iss``, ``vc.missing_iat``, ``vc.invalid_kid`` (a signature
            without a string ``kid``), ``issuer.kid_mismatch`` (a key of another party).
        SdJwtError / JoseError / InputError: the token cannot be read
            (``sdjwt.*``, ``jose.*``, ``json.*``, ``b64.*``).
    """
    sd_jwt = presentation if isinstance(presentation, SdJwt) else parse(presentation)
    unverified = decode_unverified_payload(sd_jwt)
    iss = unverified.get("iss")
    if not isinstance(iss, str) or not iss:
        raise VcError("credential has no issuer", code="vc.missing_iss")
    iat = numeric_date(unverified, "iat", required=True)
    if not isinstance(iat, int):
        raise VcError("iat must be an integer", code="vc.missing_iat")
    refs: dict[str, IssuerKeyRef] = {}
    for header in issuer_headers(sd_jwt):
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise VcError("issuer-signed JWT has no string kid", code="vc.invalid_kid")
        if not _names_key_of(iss, kid):
            raise VcError(f"{kid[:120]!r} is not a key of the issuer {iss[:120]}",
                          code="issuer.kid_mismatch")
        refs.setdefault(kid, IssuerKeyRef(iss, kid, iat))
    return tuple(refs.values())


def _names_key_of(iss: str, kid: str) -> bool:
    """Whether ``kid`` may name a key of ``iss``: a DID's keys are its own DID URLs."""
    if not iss.startswith("did:") and not kid.startswith("did:"):
        return True  # a key id of a non-DID issuer (a JWKS ``kid``): the caller's trust source
    did, sep, fragment = kid.partition("#")
    return did == iss and bool(sep) and bool(fragment)


def verify_vc(presentation: str | Mapping[str, Any] | SdJwt, *,
              keys: Mapping[str, PublicKey], now: int, key_binding: KeyBindingPolicy | None,
              expect_kb: bool | None = None, leeway: int = 60) -> VerifiedVc:
    """Verify an SD-JWT VC presentation (verifier) or an issued SD-JWT VC (holder).

    Args:
        presentation: compact or JSON serialization, or parsed.
        keys: the issuer keys by ``kid``, for every key :func:`keys_named` lists, found by
            the caller as of the credential's ``iat``. A named key not handed in is refused
            (``vc.key_not_given``); keys for other kids are never used.
        now: the verifier's clock.
        key_binding: the KB policy; ``None`` means KB is not required.
        expect_kb: ``False`` for a holder receiving a credential: an SD-JWT+KB from an
            issuer is refused (RFC 9901 §7.2).
        leeway: clock skew tolerance.
    """
    sd_jwt = presentation if isinstance(presentation, SdJwt) else parse(presentation)
    if expect_kb is False and sd_jwt.kb_jwt is not None:
        raise SdJwtError("an issued SD-JWT must not carry a KB-JWT", code="sdjwt.unexpected_kb")
    refs = keys_named(sd_jwt)
    missing = [r.kid for r in refs if r.kid not in keys]
    if missing:
        raise VcError(f"no key was handed in for {missing[0][:120]!r}",
                      code="vc.key_not_given")

    def issuer_key(header: Mapping[str, Any], _payload: Mapping[str, Any]) -> PublicKey:
        return keys[header["kid"]]  # every kid was listed (and found) by keys_named

    verified = verify_sd_jwt(sd_jwt, issuer_key, now=now, typ=VC_TYP,
                             key_binding=key_binding, leeway=leeway)
    hidden = sorted({str(p[0]) for p in verified.processed.provenance
                     if p[0] in NEVER_DISCLOSABLE})
    if hidden:
        raise VcError(f"{hidden} arrived in a disclosure", code="vc.claim_not_disclosable")
    claims = verified.claims
    vct = claims.get("vct")
    if not isinstance(vct, str) or not vct:
        raise VcError("credential has no vct", code="vc.missing_vct")
    status = parse_status_reference(claims["status"]) if "status" in claims else None
    return VerifiedVc(refs[0].iss, refs[0].kid, vct, refs[0].iat, numeric_date(claims, "exp"),
                      status, claims, verified)
