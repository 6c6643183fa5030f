"""The verifier's verification pipeline: one OpenID4VP response in, a verdict out.

Pure: the registry comes in as :class:`~verifier.model.RegistryFacts`, the clock as
``now``, the nonce store as ``consume_nonce``; nothing here opens a socket or a file.
:func:`verify_presentation` never raises for what a wallet or the registry sends. It lists
every check it ran, passed or failed, with a stable code, so a clerk sees *why* ("signature
ok, issuer accredited ok, status: revoked") and a program can act on the code.

For each presentation, always (no policy can switch these off):

1. ``format``: a compact SD-JWT+KB whose header and payload can be read;
2. ``issuer_key``: ``kid`` is a key of ``iss``, and the registry says it was a valid key
   of a live DID on the issuance day (``iat``, which our issuers round to the day);
3. ``signature``: issuer signature with that key, disclosures, ``typ`` and the SD-JWT VC
   rules (RFC 9901 §7.1, :func:`ssiwallet.core.vc.verify_vc`);
4. ``key_binding``: a KB-JWT signed by the ``cnf`` key over exactly these disclosures,
   fresh, for this session's ``nonce`` and this verifier's ``client_id`` (§7.3). It is
   required even when the query says ``require_cryptographic_holder_binding: false``:
   a presentation anyone could replay proves nothing about who shows it.

Then ``nonce`` (when a ``consume_nonce`` store is given), and the policy
(:data:`~verifier.policy.DEFAULT_POLICY` unless another is given) over the credentials
whose signature verified. A credential whose key binding failed is still judged by the
policy, so the clerk sees everything that is wrong at once; it is refused all the same.

Check codes (``ok`` when the check passed)::

    check              failure codes
    vp_token           vp.malformed       not a non-empty object of non-empty string arrays
                       vp.unrequested     a key that is no credential query id of the query
                       vp.too_many        more than MAX_PRESENTATIONS presentations
    format             sdjwt.malformed, jose.*, json.*, b64.*   unreadable presentation
    issuer_key         vc.missing_iss, vc.missing_iat, sdjwt.invalid_time_claim,
                       vc.invalid_kid, issuer.kid_mismatch (kid is not a key of iss),
                       registry.key_not_valid (not active, compromised before the end of
                       the issuance day, DID deactivated), registry.unavailable,
                       registry.untrusted / other registry.* (no trustworthy answer)
    signature          jose.* (bad_signature, alg_key_mismatch, wrong_typ, …), sdjwt.*
                       (unreferenced_disclosure, duplicate_digest, forbidden_claim_name,
                       claim_exists, …), vc.* (claim_not_disclosable, missing_vct),
                       status.invalid_reference
    key_binding        sdjwt.kb_missing, sdjwt.kb_nonce_mismatch (wrong nonce),
                       sdjwt.kb_aud_mismatch (made for another verifier), sdjwt.kb_stale,
                       sdjwt.kb_iat_future, sdjwt.kb_sd_hash_mismatch, sdjwt.kb_invalid,
                       sdjwt.no_holder_key, jose.* (of the KB-JWT)
    nonce              kb.nonce_reused    the session's nonce was used before
    issuer_accredited  issuer.not_accredited, issuer.accreditation_unavailable
    status             status.revoked, status.suspended, status.unknown_value,
                       status.missing, status.unavailable (fail closed),
                       status.index_out_of_range, status.sub_mismatch
    validity           vc.expired, vc.not_yet_valid, vc.issued_in_future
    claims_schema      claims.schema, claims.unknown_type
    key_binding_session  kb.unverified, sdjwt.kb_nonce_mismatch, sdjwt.kb_aud_mismatch,
                       sdjwt.kb_stale           (only with the optional KeyBound policy)
    dcql               dcql.unsatisfied, dcql.value_mismatch (claims there, other values)

Order: ``vp_token``; then per presentation, in the query's credential order, its mandatory
checks and its policy checks (in policy order); then the checks on the whole response
(``nonce``, ``dcql``).

Nonce single use: the HTTP service owns the session store and passes ``consume_nonce``,
which must atomically mark the nonce used and say whether it was still unused. It is
called once per response, as soon as one KB-JWT has proven the nonce, whatever the rest of
the verdict: a captured response (or a part of it) can never be replayed into the same
session. Without ``consume_nonce`` no ``nonce`` check is listed and the caller must
enforce single use itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ssiwallet.core import strictjson
from ssiwallet.core.dcql import DcqlQuery
from ssiwallet.core.jws import parse_header
from ssiwallet.core.sdjwt import KeyBindingPolicy, SdJwt, parse_compact
from ssiwallet.core.sdjwt.disclosure import DEFAULT_SD_ALG
from ssiwallet.core.sdjwt.verify import verify_kb_jwt
from ssiwallet.core.vc import VerifiedVc, keys_named, verify_vc
from ssiwallet.errors import SsiError, VcError
from verifier.errors import VerifierError
from verifier.model import Check, Context, Presented, RegistryFacts, all_pass
from verifier.policy import DEFAULT_POLICY, Policy

__all__ = ["MAX_PRESENTATIONS", "CredentialInfo", "Verdict", "verify_presentation"]

MAX_PRESENTATIONS = 16
"""Presentations accepted in one response: each costs registry look-ups, and no query of
ours asks for more than a handful."""

# verify_vc checks exp/nbf/iat against the clock; the NotExpired policy does that here, so
# the core is given a leeway no date reaches and an expired credential still gets every
# other check listed. (Malformed dates are still refused by the core.)
_CLOCK_DEFERRED = 1 << 62

NonceStore = Callable[[str], Awaitable[bool]]


@dataclass(frozen=True)
class CredentialInfo:
    """What a receipt and the desk page say about one presentation.

    ``iss``, ``vct``, ``iat`` and ``exp`` are filled only once the issuer signature
    verified: an unverified issuer name is not a fact to show anyone.
    """

    label: str
    query_id: str
    verified: bool
    iss: str | None = None
    vct: str | None = None
    iat: int | None = None
    exp: int | float | None = None

    def to_json(self) -> dict[str, Any]:
        return {"credential": self.label, "query_id": self.query_id,
                "verified": self.verified, "iss": self.iss, "vct": self.vct,
                "iat": self.iat, "exp": self.exp}


@dataclass(frozen=True)
class Verdict:
    """The answer to one response.

    Attributes:
        ok: accepted: every check passed (or was waived by an ``AnyOf``).
        checks: every check that ran, in the order of the module docstring.
        credentials: one entry per presentation, in the same order.
        disclosed: the disclosed subject claims per credential query id, only when ``ok``
            (a refused presentation's personal data is not handed on).
    """

    ok: bool
    checks: list[Check]
    credentials: list[CredentialInfo] = field(default_factory=list)
    disclosed: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def failures(self) -> list[Check]:
        """The checks that make the verdict fail."""
        return [c for c in self.checks if c.counts]

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "checks": [c.to_json() for c in self.checks],
                "credentials": [c.to_json() for c in self.credentials],
                "disclosed": self.disclosed}


@dataclass
class _Outcome:
    """One presentation after the mandatory checks."""

    label: str
    query_id: str
    checks: list[Check]
    vc: VerifiedVc | None = None
    kb: dict[str, Any] | None = None


async def verify_presentation(vp_token: object, *, query: DcqlQuery, nonce: str,
                              client_id: str, facts: RegistryFacts, now: int,
                              policy: Policy | None = None,
                              consume_nonce: NonceStore | None = None) -> Verdict:
    """Verify an OpenID4VP 1.0 DCQL response.

    Args:
        vp_token: the ``vp_token`` as received: a JSON object (or its text) keyed by
            credential query id, each value a non-empty array of compact SD-JWT+KB strings.
        query: the DCQL query of this session's request.
        nonce: this session's nonce; every KB-JWT must carry it.
        client_id: the verifier's ``client_id``; every KB-JWT's ``aud``.
        facts: the registry, asked about each credential's issuance day.
        now: the verifier's clock (Unix seconds).
        policy: what to require beyond the cryptography (default
            :data:`~verifier.policy.DEFAULT_POLICY`).
        consume_nonce: marks the nonce used; ``False`` if it was used before (see the
            module docstring).

    Returns:
        The verdict; never raises for bad input or an unreachable registry.

    Raises:
        VerifierError: ``verifier.bad_session`` for an empty ``nonce`` or ``client_id``:
            a service bug that would let any KB-JWT through, so it is not a verdict.
    """
    if not nonce or not client_id:
        raise VerifierError("a session needs a nonce and a client_id",
                            code="verifier.bad_session")
    read = _read_vp_token(vp_token, query)
    if isinstance(read, Check):
        return Verdict(False, [read])
    kb_policy = KeyBindingPolicy(nonce=nonce, aud=client_id)
    outcomes = list(await asyncio.gather(*(
        _mandatory(label, qid, text, facts=facts, now=now, kb_policy=kb_policy)
        for label, qid, text in read)))
    checks = [Check.passed("vp_token", f"{len(read)} presentation(s) for "
                           f"{len({qid for _, qid, _ in read})} credential query(ies)")]
    checks.extend(c for o in outcomes for c in o.checks)
    if consume_nonce is not None and any(o.kb is not None for o in outcomes):
        if await consume_nonce(nonce):
            checks.append(Check.passed("nonce", "first use of this session's nonce"))
        else:
            checks.append(Check.failed("nonce", "kb.nonce_reused",
                                       "this session's nonce was already used: a replay"))
    verified = tuple(Presented(o.label, o.query_id, o.vc, o.kb)
                     for o in outcomes if o.vc is not None)
    ctx = Context(verified, tuple(o.label for o in outcomes if o.vc is None), query, nonce,
                  client_id, facts, now)
    checks.extend(await (policy or DEFAULT_POLICY).evaluate(ctx))
    position = {o.label: n for n, o in enumerate(outcomes)}
    checks[1:] = sorted(checks[1:], key=lambda c: position.get(c.credential or "", len(position)))
    ok = all_pass(checks) and bool(verified)
    disclosed: dict[str, list[dict[str, Any]]] = {}
    if ok:
        for p in verified:
            disclosed.setdefault(p.query_id, []).append(p.vc.disclosed)
    return Verdict(ok, checks, [_info(o) for o in outcomes], disclosed)


def _read_vp_token(vp_token: object, query: DcqlQuery) -> list[tuple[str, str, str]] | Check:
    """The presentations as (label, query id, text) in the query's order, or why not."""
    def bad(detail: str, code: str = "vp.malformed") -> Check:
        return Check.failed("vp_token", code, detail)

    if isinstance(vp_token, str | bytes):
        try:
            vp_token = strictjson.loads(vp_token)
        except SsiError as exc:
            return bad(f"vp_token is not strict JSON ({exc.code}: {exc.detail})")
    if not isinstance(vp_token, Mapping) or not vp_token:
        return bad("vp_token must be a non-empty JSON object keyed by credential query id")
    order = {cq.id: n for n, cq in enumerate(query.credentials)}
    found: list[tuple[str, str, str]] = []
    for qid, value in vp_token.items():
        if not isinstance(qid, str):
            return bad("vp_token keys must be strings")
        if qid not in order:
            return bad(f"vp_token answers {qid[:40]!r}, which the query did not ask for",
                       "vp.unrequested")
        if not isinstance(value, list | tuple) or not value:
            return bad(f"vp_token[{qid!r}] must be a non-empty array of presentations")
        for n, text in enumerate(value):
            if not isinstance(text, str) or not text:
                return bad(f"vp_token[{qid!r}][{n}] must be a non-empty string")
            found.append((f"{qid}[{n}]", qid, text))
        if len(found) > MAX_PRESENTATIONS:
            return bad(f"more than {MAX_PRESENTATIONS} presentations", "vp.too_many")
    found.sort(key=lambda item: order[item[1]])  # stable: keeps each array's own order
    return found


async def _mandatory(label: str, qid: str, text: str, *, facts: RegistryFacts, now: int,
                     kb_policy: KeyBindingPolicy) -> _Outcome:
    """The checks no policy can waive, for one presentation; stops at the first that
    leaves nothing to check further."""
    out = _Outcome(label, qid, [])

    def fail(name: str, exc: SsiError) -> _Outcome:
        out.checks.append(Check.failed(name, exc.code, exc.detail, label))
        return out

    try:
        sd_jwt = parse_compact(text)
        parse_header(sd_jwt.signatures[0].protected, what="issuer-signed JWT")
        sd_jwt.unverified_claims  # noqa: B018  (readable, or a format failure)
    except SsiError as exc:
        return fail("format", exc)
    out.checks.append(Check.passed("format", "a compact SD-JWT+KB", label))

    try:
        refs = keys_named(sd_jwt)
        keys = {ref.kid: await facts.issuer_key(ref.kid, ref.iat) for ref in refs}
    except SsiError as exc:
        return fail("issuer_key", exc)
    out.checks.append(Check.passed("issuer_key", f"{', '.join(keys)} was valid on the "
                                   "issuance day", label))

    try:
        vc = verify_vc(replace(sd_jwt, kb_jwt=None), keys=keys, now=now,
                       key_binding=None, leeway=_CLOCK_DEFERRED)
    except SsiError as exc:
        return fail("signature", exc)
    out.vc = vc
    out.checks.append(Check.passed("signature", "issuer signature, disclosures and SD-JWT "
                                   "VC rules hold", label))

    try:
        out.kb = _key_binding(sd_jwt, vc, kb_policy, now)
    except SsiError as exc:
        return fail("key_binding", exc)
    out.checks.append(Check.passed("key_binding", "KB-JWT by the holder key for this "
                                   "session and this verifier", label))
    return out


def _key_binding(sd_jwt: SdJwt, vc: VerifiedVc, policy: KeyBindingPolicy, now: int
                 ) -> dict[str, Any]:
    """RFC 9901 §7.3 step 5 over the verified credential; KB is always required."""
    if sd_jwt.kb_jwt is None:
        raise VcError("key binding is required but no KB-JWT was presented",
                      code="sdjwt.kb_missing")
    sd_alg = sd_jwt.unverified_claims.get("_sd_alg", DEFAULT_SD_ALG)
    return verify_kb_jwt(sd_jwt, sd_jwt.kb_jwt, vc.claims, sd_alg, policy, now)


def _info(o: _Outcome) -> CredentialInfo:
    if o.vc is None:
        return CredentialInfo(o.label, o.query_id, False)
    vc = o.vc
    return CredentialInfo(o.label, o.query_id, o.kb is not None, vc.iss, vc.vct, vc.iat,
                          vc.exp)
