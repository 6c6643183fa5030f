"""Verifier policies: small checks that compose (in the style of sigstore-python's
``verify/policy.py``).

The pipeline (:mod:`verifier.pipeline`) always runs the cryptographic part itself: the
issuer key from the registry, the issuer signature, the disclosures, the SD-JWT VC rules and
key binding to this session's nonce and ``client_id``. No policy can switch those off. What
a verifier chooses is the rest, written as a rule that reads like one::

    AllOf([IssuerAccredited(), NotRevoked(), NotExpired(), ClaimsMatchSchema(),
           SatisfiesQuery()])

Every policy answers with :class:`~verifier.model.Check` lines (one per credential, or one
for the whole response) and never raises for anything a wallet or the registry sent: the
clerk is shown each check and its reason. A policy passes when none of its lines counts as
a failure (:func:`~verifier.model.all_pass`).

Per-credential policies judge the credentials whose signature verified; a response in which
no credential verified is refused by the pipeline anyway, so they pass vacuously there.
:class:`AnyOf` is judged over the whole response: it passes when one alternative passes for
all credentials, and the failed lines of the other alternatives are marked ``waived``.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from functools import cache
from typing import Any, ClassVar, Protocol

from ssiwallet.core.credtypes import CredentialType, InvalidClaimsError, get_type
from ssiwallet.core.dcql import FORMAT_SD_JWT_VC, DcqlQuery
from ssiwallet.core.dcql_match import Candidate, check_presented
from ssiwallet.core.sdjwt import check_validity
from ssiwallet.core.sdjwt.verify import DEFAULT_KB_MAX_AGE, DEFAULT_LEEWAY
from ssiwallet.core.statuslist import INVALID, SUSPENDED, VALID, status_name
from ssiwallet.errors import CredentialTypeError, SsiError
from verifier.errors import PolicyError
from verifier.model import Check, Context, Presented, all_pass

__all__ = [
    "AllOf", "AnyOf", "ClaimsMatchSchema", "DEFAULT_POLICY", "IssuerAccredited", "KeyBound",
    "NotExpired", "NotRevoked", "Policy", "SatisfiesQuery", "default_policy", "relax_schema",
]


class Policy(Protocol):
    """Anything that judges a :class:`~verifier.model.Context` and lists its checks."""

    async def evaluate(self, ctx: Context) -> list[Check]:
        """The checks this policy ran, passed or failed, in a stable order."""
        ...


class AllOf:
    """Passes when every member passes; lists the members' checks in member order."""

    def __init__(self, policies: Sequence[Policy]) -> None:
        if not policies:
            # An empty AllOf would accept anything: surely not what its author meant.
            raise PolicyError("AllOf needs at least one policy", code="policy.empty")
        self.policies = tuple(policies)

    async def evaluate(self, ctx: Context) -> list[Check]:
        checks: list[Check] = []
        for policy in self.policies:
            checks.extend(await policy.evaluate(ctx))
        return checks


class AnyOf:
    """Passes when at least one member passes; lists every member's checks.

    All members are evaluated (not just up to the first that passes), so the clerk sees
    the same lines whatever the order; when one passes, the failed lines of the others are
    marked ``waived`` and do not count against the verdict.
    """

    def __init__(self, policies: Sequence[Policy]) -> None:
        if not policies:
            raise PolicyError("AnyOf needs at least one policy", code="policy.empty")
        self.policies = tuple(policies)

    async def evaluate(self, ctx: Context) -> list[Check]:
        results = [await policy.evaluate(ctx) for policy in self.policies]
        checks = [check for result in results for check in result]
        if any(all_pass(result) for result in results):
            return [replace(c, waived=True) if c.counts else c for c in checks]
        return checks


class _PerCredential(ABC):
    """A policy that judges each verified credential on its own, one line each."""

    name: ClassVar[str]

    async def evaluate(self, ctx: Context) -> list[Check]:
        return list(await asyncio.gather(*(self.judge(ctx, p) for p in ctx.credentials)))

    @abstractmethod
    async def judge(self, ctx: Context, presented: Presented) -> Check:
        """The check of one credential."""


def _said(exc: SsiError) -> str:
    return f"{exc.code}: {exc.detail}"


class IssuerAccredited(_PerCredential):
    """The issuer was accredited on the registry for the credential's ``vct`` on its
    issuance day (so a later revocation of the accreditation does not void what was
    issued before it, and an accreditation granted later does not bless what came before)."""

    name = "issuer_accredited"

    async def judge(self, ctx: Context, presented: Presented) -> Check:
        vc, label = presented.vc, presented.label
        try:
            accredited = await ctx.facts.accredited(vc.iss, vc.vct, vc.iat)
        except SsiError as exc:
            return Check.failed(self.name, "issuer.accreditation_unavailable",
                                f"the registry could not say whether {vc.iss} was accredited "
                                f"({_said(exc)})", label)
        if accredited is not True:
            return Check.failed(self.name, "issuer.not_accredited",
                                f"{vc.iss} was not accredited for {vc.vct} on the issuance "
                                f"day {_day(vc.iat)}", label)
        return Check.passed(self.name, f"{vc.iss} accredited for {vc.vct} on {_day(vc.iat)}",
                            label)


class NotRevoked(_PerCredential):
    """The credential's entry in its Token Status List is VALID (0).

    Args:
        require_status: refuse a credential without a ``status`` claim (default): Keten's
            issuers always set one, and a credential that cannot be revoked should not be
            accepted by accident.
    """

    name = "status"

    def __init__(self, *, require_status: bool = True) -> None:
        self.require_status = require_status

    async def judge(self, ctx: Context, presented: Presented) -> Check:
        ref, label = presented.vc.status, presented.label
        if ref is None:
            if self.require_status:
                return Check.failed(self.name, "status.missing",
                                    "the credential has no status reference, so it could "
                                    "never be revoked", label)
            return Check.passed(self.name, "no status reference (not required)", label)
        try:
            value = await ctx.facts.status(ref)
        except SsiError as exc:
            # status.* codes say something about the reference itself (an index outside
            # the list, a list naming another uri); anything else means no trustworthy
            # answer could be had. Either way: fail closed.
            code = exc.code if exc.code.startswith("status.") else "status.unavailable"
            return Check.failed(self.name, code, f"status of entry {ref.idx} of {ref.uri} "
                                f"unknown ({_said(exc)})", label)
        if type(value) is not int:
            return Check.failed(self.name, "status.unknown_value",
                                f"the status list gave {value!r}, not a status value", label)
        if value == VALID:
            return Check.passed(self.name, f"valid (entry {ref.idx} of {ref.uri})", label)
        if value == INVALID:
            return Check.failed(self.name, "status.revoked", "the issuer revoked the "
                                "credential", label)
        if value == SUSPENDED:
            return Check.failed(self.name, "status.suspended", "the issuer suspended the "
                                "credential", label)
        try:
            named = status_name(value)
        except SsiError:
            named = "out of range"
        return Check.failed(self.name, "status.unknown_value",
                            f"status value {value} ({named}) is not VALID", label)


class NotExpired(_PerCredential):
    """``exp``, ``nbf`` and ``iat`` of the credential against the verifier's clock.

    The pipeline checks that these are well-formed numbers but not where ``now`` lies, so
    that an expired credential still gets every other check listed. Leave this policy out
    only where an expired credential is meant to be accepted (an old diploma, say).
    """

    name = "validity"
    _CODES: ClassVar[Mapping[str, str]] = {
        "sdjwt.expired": "vc.expired",
        "sdjwt.not_yet_valid": "vc.not_yet_valid",
        "sdjwt.issued_in_future": "vc.issued_in_future",
    }

    def __init__(self, *, leeway: int = DEFAULT_LEEWAY) -> None:
        self.leeway = leeway

    async def judge(self, ctx: Context, presented: Presented) -> Check:
        vc, label = presented.vc, presented.label
        try:
            check_validity(vc.claims, ctx.now, self.leeway)
        except SsiError as exc:
            return Check.failed(self.name, self._CODES.get(exc.code, exc.code),
                                f"{exc.detail} (exp {_day(vc.exp)}, nbf "
                                f"{_day(vc.claims.get('nbf'))})", label)
        until = "no expiry" if vc.exp is None else f"until {_day(vc.exp)}"
        return Check.passed(self.name, f"valid ({until})", label)


class ClaimsMatchSchema(_PerCredential):
    """The disclosed subject claims fit the credential type's JSON Schema.

    Only what was disclosed can be judged: the schema is applied with every ``required``
    (and ``dependentRequired``, ``minProperties``, ``minItems``) dropped, because selective
    disclosure leaves claims and array elements out by design. Types, formats, patterns,
    enums and closed objects all still apply.
    """

    name = "claims_schema"

    async def judge(self, ctx: Context, presented: Presented) -> Check:
        vc, label = presented.vc, presented.label
        try:
            ctype = _disclosure_type(vc.vct)
        except CredentialTypeError as exc:
            return Check.failed(self.name, "claims.unknown_type",
                                f"no schema for {vc.vct} ({_said(exc)})", label)
        try:
            ctype.validate(vc.disclosed)
        except InvalidClaimsError as exc:
            listed = "; ".join(f"{p['path'] or '(claims)'}: {p['message']}"
                               for p in exc.problems)
            return Check.failed(self.name, "claims.schema",
                                f"disclosed claims do not fit {vc.vct}: {listed}", label)
        return Check.passed(self.name, f"{len(vc.disclosed)} disclosed claims fit {vc.vct}",
                            label)


class KeyBound(_PerCredential):
    """A stricter key binding than the mandatory one: the verified KB-JWT names this
    session's nonce and ``client_id`` and is at most ``max_age`` seconds old.

    The pipeline already requires a valid KB-JWT (nonce, audience, 300 s freshness) for
    every credential, so this policy is not in :data:`DEFAULT_POLICY`; add it to demand a
    fresher proof, e.g. ``KeyBound(max_age=60)`` at a desk.
    """

    name = "key_binding_session"

    def __init__(self, *, max_age: int = DEFAULT_KB_MAX_AGE) -> None:
        self.max_age = max_age

    async def judge(self, ctx: Context, presented: Presented) -> Check:
        kb, label = presented.kb, presented.label
        if kb is None:
            return Check.failed(self.name, "kb.unverified", "no verified KB-JWT", label)
        if kb.get("nonce") != ctx.nonce:
            return Check.failed(self.name, "sdjwt.kb_nonce_mismatch",
                                "KB-JWT nonce is not this session's", label)
        if kb.get("aud") != ctx.client_id:
            return Check.failed(self.name, "sdjwt.kb_aud_mismatch",
                                "KB-JWT was made for another verifier", label)
        iat = kb.get("iat")
        if not isinstance(iat, int | float) or ctx.now - iat > self.max_age:
            return Check.failed(self.name, "sdjwt.kb_stale",
                                f"KB-JWT older than {self.max_age} s", label)
        return Check.passed(self.name, f"KB-JWT for this session, at most {self.max_age} s "
                            "old", label)


class SatisfiesQuery:
    """The verified, disclosed claims answer the DCQL query (OpenID4VP §6.4), ``values``
    included; one line for the whole response.

    ``dcql.value_mismatch`` when the response would satisfy the query if the ``values``
    constraints were dropped (the claims are there, with other values), otherwise
    ``dcql.unsatisfied``.
    """

    name = "dcql"

    async def evaluate(self, ctx: Context) -> list[Check]:
        presented: dict[str, list[Candidate]] = {}
        for p in ctx.credentials:
            presented.setdefault(p.query_id, []).append(
                Candidate(p.label, FORMAT_SD_JWT_VC, p.vc.vct, p.vc.disclosed))
        problems = check_presented(ctx.query, presented)
        if not problems:
            return [Check.passed(self.name, "the disclosed claims answer the query")]
        code = "dcql.unsatisfied"
        if not check_presented(_without_values(ctx.query), presented):
            code = "dcql.value_mismatch"
        detail = "; ".join(problems)
        if ctx.rejected:
            detail += f" (not counted, did not verify: {', '.join(ctx.rejected)})"
        return [Check.failed(self.name, code, detail)]


def _without_values(query: DcqlQuery) -> DcqlQuery:
    """The same query with every ``values`` constraint dropped."""
    return replace(query, credentials=tuple(
        replace(cq, claims=None if cq.claims is None else tuple(
            replace(claim, values=None) for claim in cq.claims))
        for cq in query.credentials))


# Keywords whose absence-of-claims rules selective disclosure may legitimately break.
_PRESENCE_KEYWORDS = frozenset({"required", "dependentRequired", "minProperties", "minItems"})
# Keywords whose value maps names to subschemas, and those whose value is data, not schema.
_SCHEMA_MAPS = frozenset({"properties", "patternProperties", "$defs", "definitions",
                          "dependentSchemas"})
_DATA_KEYWORDS = frozenset({"const", "enum", "default", "examples"})


def relax_schema(schema: Any) -> Any:
    """``schema`` with the presence rules dropped recursively (see
    :class:`ClaimsMatchSchema`); claim names that happen to be ``required`` are kept."""
    if isinstance(schema, list):
        return [relax_schema(item) for item in schema]
    if not isinstance(schema, Mapping):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _PRESENCE_KEYWORDS:
            continue
        if key in _SCHEMA_MAPS and isinstance(value, Mapping):
            out[key] = {name: relax_schema(sub) for name, sub in value.items()}
        elif key in _DATA_KEYWORDS:
            out[key] = value
        else:
            out[key] = relax_schema(value)
    return out


@cache  # keyed by the few vcts get_type knows; unknown ones raise
def _disclosure_type(vct: str) -> CredentialType:
    ctype = get_type(vct)
    return CredentialType(vct=ctype.vct, name=ctype.name, description=ctype.description,
                          schema=relax_schema(ctype.schema), claim_labels=ctype.claim_labels)


def _day(t: object) -> str:
    """A NumericDate as a UTC date for the clerk (``-`` when absent or unprintable)."""
    if isinstance(t, bool) or not isinstance(t, int | float):
        return "-"
    try:
        return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d")
    except (OverflowError, OSError, ValueError):
        return str(t)


def default_policy() -> AllOf:
    """Everything the design asks of a verifier beyond the mandatory cryptography."""
    return AllOf([IssuerAccredited(), NotRevoked(), NotExpired(), ClaimsMatchSchema(),
                  SatisfiesQuery()])


DEFAULT_POLICY: Policy = default_policy()
