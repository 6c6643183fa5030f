"""Verifier policies one piece at a time, and how AllOf / AnyOf compose them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from ssiwallet.core import sdjwt
from ssiwallet.core.dcql import parse_query
from ssiwallet.core.keys import Ed25519PrivateKey, PublicKey
from ssiwallet.core.statuslist import StatusRef
from ssiwallet.core.vc import DAY, issue_vc
from ssiwallet.errors import SsiError
from verifier.errors import PolicyError, VerifierError
from verifier.model import Check, Context, all_pass
from verifier.pipeline import Verdict, verify_presentation
from verifier.policy import (
    DEFAULT_POLICY,
    AllOf,
    AnyOf,
    ClaimsMatchSchema,
    IssuerAccredited,
    KeyBound,
    NotExpired,
    NotRevoked,
    Policy,
    SatisfiesQuery,
    relax_schema,
)

pytestmark = pytest.mark.asyncio

NOW = 1_790_000_000
ISS = "did:keten:School"
KID = f"{ISS}#key-1"
CLIENT_ID = "decentralized_identifier:did:keten:Employer"
NONCE = "policy-nonce"
DIPLOMA = "urn:keten:vct:diploma:1"
LIST = "https://registry.example/status/School.main"
ISSUER_KEY = Ed25519PrivateKey.generate()
QUERY = parse_query({"credentials": [{
    "id": "diploma", "format": "dc+sd-jwt", "meta": {"vct_values": [DIPLOMA]},
    "claims": [{"path": ["eqf_level"], "values": [6, 7, 8]}]}]})


@dataclass
class Registry:
    """An in-memory registry: one issuer key, accreditations by (iss, vct), status values."""

    accredited_for: set[tuple[str, str]] = field(default_factory=lambda: {(ISS, DIPLOMA)})
    statuses: dict[int, int] = field(default_factory=dict)

    async def issuer_key(self, kid: str, iat: int) -> PublicKey:
        if kid != KID:
            raise SsiError(f"no key {kid}", code="registry.key_not_valid")
        return ISSUER_KEY.public_key

    async def accredited(self, iss: str, vct: str, iat: int) -> bool:
        return (iss, vct) in self.accredited_for

    async def status(self, ref: StatusRef) -> int:
        return self.statuses.get(ref.idx, 0)


@dataclass
class Fixed:
    """A policy with a known answer, to test composition without any registry."""

    name: str
    ok: bool
    runs: list[str] = field(default_factory=list)

    async def evaluate(self, ctx: Context) -> list[Check]:
        self.runs.append(self.name)
        if self.ok:
            return [Check.passed(self.name, "fine")]
        return [Check.failed(self.name, f"test.{self.name}", "not fine")]


def context() -> Context:
    return Context((), (), QUERY, NONCE, CLIENT_ID, Registry(), NOW)


def diploma(*, eqf: int = 6, now: int = NOW, validity: int = 5 * 365 * DAY,
            status: bool = True, kb_iat: int = NOW, nonce: str = NONCE) -> dict[str, list[str]]:
    holder = Ed25519PrivateKey.generate()
    issued = issue_vc(issuer=ISS, kid=KID, key=ISSUER_KEY, vct=DIPLOMA,
                      claims={"title": "Bachelor", "eqf_level": eqf},
                      holder_jwk=holder.public_key.to_jwk(), now=now, validity=validity,
                      status=StatusRef(3, LIST) if status else None)
    shown = sdjwt.present(issued.sd_jwt, [("eqf_level",)], holder_key=holder, nonce=nonce,
                          aud=CLIENT_ID, iat=kb_iat)
    return {"diploma": [shown.compact()]}


async def verify(vp_token: dict[str, list[str]], policy: Policy | None = None,
                 registry: Registry | None = None) -> Verdict:
    return await verify_presentation(vp_token, query=QUERY, nonce=NONCE, client_id=CLIENT_ID,
                                     facts=registry or Registry(), now=NOW, policy=policy)


def lines(checks: list[Check]) -> list[tuple[str, bool, bool]]:
    return [(c.name, c.ok, c.waived) for c in checks]


# --- composition -------------------------------------------------------------------------------


async def test_all_of_needs_every_member_and_lists_them_in_order() -> None:
    members = [Fixed("a", True), Fixed("b", False), Fixed("c", True)]
    checks = await AllOf(members).evaluate(context())
    assert lines(checks) == [("a", True, False), ("b", False, False), ("c", True, False)]
    assert not all_pass(checks)
    assert all_pass(await AllOf([Fixed("a", True), Fixed("c", True)]).evaluate(context()))


async def test_any_of_needs_one_member_and_waives_the_others() -> None:
    members = [Fixed("a", False), Fixed("b", True), Fixed("c", False)]
    checks = await AnyOf(members).evaluate(context())
    assert [m.runs for m in members] == [["a"], ["b"], ["c"]]  # every member evaluated
    assert lines(checks) == [("a", False, True), ("b", True, False), ("c", False, True)]
    assert all_pass(checks)
    assert [c.code for c in checks] == ["test.a", "ok", "test.c"]  # reasons kept

    none = await AnyOf([Fixed("a", False), Fixed("c", False)]).evaluate(context())
    assert lines(none) == [("a", False, False), ("c", False, False)] and not all_pass(none)


async def test_nested_composition() -> None:
    rule = AllOf([AnyOf([Fixed("pinned", False), Fixed("accredited", True)]),
                  Fixed("fresh", False)])
    checks = await rule.evaluate(context())
    assert lines(checks) == [("pinned", False, True), ("accredited", True, False),
                             ("fresh", False, False)]
    assert not all_pass(checks)  # the waiver stays inside the AnyOf
    inner = AnyOf([AllOf([Fixed("x", True), Fixed("y", False)]), Fixed("z", True)])
    assert lines(await inner.evaluate(context())) == [
        ("x", True, False), ("y", False, True), ("z", True, False)]


@pytest.mark.parametrize("combinator", [AllOf, AnyOf])
async def test_empty_combinators_are_refused(combinator: type[AllOf] | type[AnyOf]) -> None:
    with pytest.raises(PolicyError) as err:
        combinator([])
    assert err.value.code == "policy.empty" and isinstance(err.value, VerifierError)


async def test_default_policy_is_all_of_the_non_cryptographic_checks() -> None:
    assert isinstance(DEFAULT_POLICY, AllOf)
    assert [type(p) for p in DEFAULT_POLICY.policies] == [
        IssuerAccredited, NotRevoked, NotExpired, ClaimsMatchSchema, SatisfiesQuery]


# --- policies in the pipeline ------------------------------------------------------------------


async def test_any_of_in_the_pipeline_accepts_with_waived_lines() -> None:
    registry = Registry(accredited_for=set())
    rule = AllOf([AnyOf([IssuerAccredited(), Fixed("pinned_issuer", True)]), NotRevoked(),
                  SatisfiesQuery()])
    verdict = await verify(diploma(), rule, registry)
    assert verdict.ok, verdict.failures
    accredited = next(c for c in verdict.checks if c.name == "issuer_accredited")
    assert (accredited.ok, accredited.code, accredited.waived) == (
        False, "issuer.not_accredited", True)
    assert verdict.to_json()["checks"][5]["waived"] is True
    assert [c.name for c in verdict.checks] == [
        "vp_token", "format", "issuer_key", "signature", "key_binding", "issuer_accredited",
        "status", "pinned_issuer", "dcql"]

    refused = await verify(diploma(), AnyOf([IssuerAccredited(), Fixed("pinned", False)]),
                           registry)
    assert not refused.ok
    assert [(c.name, c.code) for c in refused.failures] == [
        ("issuer_accredited", "issuer.not_accredited"), ("pinned", "test.pinned")]


async def test_a_policy_cannot_waive_the_cryptography() -> None:
    lenient = AnyOf([Fixed("anything", True)])
    verdict = await verify(diploma(nonce="elsewhere"), lenient)
    assert not verdict.ok
    assert [(c.name, c.code) for c in verdict.failures] == [
        ("key_binding", "sdjwt.kb_nonce_mismatch")]


async def test_leaving_out_not_expired_accepts_an_expired_credential() -> None:
    old = diploma(now=NOW - 400 * DAY, validity=DAY)
    assert [(c.name, c.code) for c in (await verify(old)).failures] == [
        ("validity", "vc.expired")]
    archive = AllOf([IssuerAccredited(), NotRevoked(), ClaimsMatchSchema(), SatisfiesQuery()])
    assert (await verify(old, archive)).ok


async def test_not_revoked_without_status_when_not_required() -> None:
    assert [(c.name, c.code) for c in (await verify(diploma(status=False))).failures] == [
        ("status", "status.missing")]
    verdict = await verify(diploma(status=False),
                           AllOf([NotRevoked(require_status=False), SatisfiesQuery()]))
    assert verdict.ok


async def test_key_bound_demands_a_fresher_proof() -> None:
    late = diploma(kb_iat=NOW - 120)
    assert (await verify(late, AllOf([KeyBound()]))).ok  # within the core's 300 s
    verdict = await verify(late, AllOf([KeyBound(max_age=60)]))
    assert [(c.name, c.code) for c in verdict.failures] == [
        ("key_binding_session", "sdjwt.kb_stale")]
    unbound = await verify(diploma(nonce="other"), AllOf([KeyBound()]))
    assert [(c.name, c.code) for c in unbound.failures] == [
        ("key_binding", "sdjwt.kb_nonce_mismatch"), ("key_binding_session", "kb.unverified")]


async def test_not_expired_leeway() -> None:
    # exp is the end of the expiry day; 30 s after it passes with the default 60 s leeway
    exp = (NOW - DAY) - (NOW - DAY) % DAY + DAY
    strict = AllOf([NotExpired(leeway=0)])
    holder_now = diploma(now=NOW - DAY, validity=0, kb_iat=exp + 30)
    verdict = await verify_presentation(holder_now, query=QUERY, nonce=NONCE,
                                        client_id=CLIENT_ID, facts=Registry(), now=exp + 30,
                                        policy=strict)
    assert [(c.name, c.code) for c in verdict.failures] == [("validity", "vc.expired")]
    lenient = await verify_presentation(holder_now, query=QUERY, nonce=NONCE,
                                        client_id=CLIENT_ID, facts=Registry(), now=exp + 30,
                                        policy=AllOf([NotExpired()]))
    assert lenient.ok


async def test_claims_that_break_the_schema_and_query_values() -> None:
    verdict = await verify(diploma(eqf=9))
    assert [(c.name, c.code) for c in verdict.failures] == [
        ("claims_schema", "claims.schema"), ("dcql", "dcql.value_mismatch")]
    verdict = await verify(diploma(eqf=5))
    assert [(c.name, c.code) for c in verdict.failures] == [("dcql", "dcql.value_mismatch")]


# --- the schema used for disclosed claims ------------------------------------------------------


async def test_relax_schema_drops_presence_rules_only() -> None:
    schema: dict[str, Any] = {
        "type": "object", "additionalProperties": False, "required": ["required", "a"],
        "minProperties": 2, "dependentRequired": {"a": ["b"]},
        "properties": {
            "required": {"type": "string", "enum": [{"required": ["x"]}, "y"]},
            "a": {"type": "object", "required": ["x"], "properties": {"x": {"type": "integer"}},
                  "additionalProperties": False},
            "list": {"type": "array", "minItems": 3, "items": {"const": {"required": 1}}},
        },
        "$defs": {"d": {"required": ["z"], "type": "object"}},
    }
    assert relax_schema(schema) == {
        "type": "object", "additionalProperties": False,
        "properties": {
            "required": {"type": "string", "enum": [{"required": ["x"]}, "y"]},
            "a": {"type": "object", "properties": {"x": {"type": "integer"}},
                  "additionalProperties": False},
            "list": {"type": "array", "items": {"const": {"required": 1}}},
        },
        "$defs": {"d": {"type": "object"}},
    }
