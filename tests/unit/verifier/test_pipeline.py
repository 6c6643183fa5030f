"""The verification pipeline over an in-memory registry: every check code, the listing and
order of checks, and vp_token shapes that must fail as a verdict, never as an exception."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

import pytest

from ssiwallet.core import sdjwt
from ssiwallet.core.credtypes import identity_claims
from ssiwallet.core.dcql import DcqlQuery, parse_query
from ssiwallet.core.keys import Ed25519PrivateKey, PublicKey
from ssiwallet.core.sdjwt import SD, IssuedSdJwt
from ssiwallet.core.statuslist import StatusRef
from ssiwallet.core.vc import DAY, VC_TYP, issue_marked, issue_vc
from ssiwallet.errors import SsiError, StatusListError
from verifier.errors import VerifierError
from verifier.model import OK, Check
from verifier.pipeline import MAX_PRESENTATIONS, Verdict, verify_presentation

pytestmark = pytest.mark.asyncio

NOW = 1_790_000_000
ISS = "did:keten:Gent"
KID = f"{ISS}#key-1"
OTHER = "did:keten:Elsewhere"
CLIENT_ID = "decentralized_identifier:did:keten:Bar"
NONCE = "n-0S6_WzA2Mj"
IDENTITY = "urn:keten:vct:identity:1"
DIPLOMA = "urn:keten:vct:diploma:1"
LIST = "https://registry.example/status/Gent.main"
ISSUER_KEY = Ed25519PrivateKey.generate()
CLAIMS = identity_claims(given_name="Amira", family_name="El Idrissi",
                         birthdate=date(1990, 5, 17),
                         address={"street_address": "Veldstraat 1", "postal_code": "9000",
                                  "locality": "Gent", "country": "BE"},
                         today=date(2026, 9, 1))
AGE_QUERY: dict[str, Any] = {"credentials": [{
    "id": "id1", "format": "dc+sd-jwt", "meta": {"vct_values": [IDENTITY]},
    "claims": [{"path": ["age_over_18"], "values": [True]}]}]}
MANDATORY = ["format", "issuer_key", "signature", "key_binding"]
DEFAULT = ["issuer_accredited", "status", "validity", "claims_schema"]


class Down(SsiError):
    code = "registry.unavailable"


@dataclass
class DictFacts:
    """A registry over dicts: keys with validity days, accreditations, status values.

    ``down`` makes every question fail as an unreachable registry would.
    """

    keys: dict[str, tuple[PublicKey, int, int | None]] = field(default_factory=dict)
    accreditations: dict[tuple[str, str], tuple[int, int | None]] = field(default_factory=dict)
    lists: dict[str, dict[int, int]] = field(default_factory=dict)
    down: bool = False
    asked: list[str] = field(default_factory=list)

    async def issuer_key(self, kid: str, iat: int) -> PublicKey:
        self.asked.append(f"key {kid} {iat}")
        if self.down:
            raise Down("registry unreachable")
        entry = self.keys.get(kid)
        if entry is None or not entry[1] <= iat < (entry[2] or 1 << 62):
            raise SsiError(f"{kid} was not valid at {iat}", code="registry.key_not_valid")
        return entry[0]

    async def accredited(self, iss: str, vct: str, iat: int) -> bool:
        self.asked.append(f"accredited {iss} {vct} {iat}")
        if self.down:
            raise Down("registry unreachable")
        window = self.accreditations.get((iss, vct))
        return window is not None and window[0] <= iat < (window[1] or 1 << 62)

    async def status(self, ref: StatusRef) -> int:
        self.asked.append(f"status {ref.uri} {ref.idx}")
        if self.down:
            raise Down("registry unreachable")
        values = self.lists.get(ref.uri)
        if values is None:
            raise SsiError(f"no list {ref.uri}", code="registry.status_uri_refused")
        if ref.idx >= 1024:
            raise StatusListError("index outside the list", code="status.index_out_of_range")
        return values.get(ref.idx, 0)


def facts() -> DictFacts:
    return DictFacts(keys={KID: (ISSUER_KEY.public_key, 0, None)},
                     accreditations={(ISS, IDENTITY): (0, None), (ISS, DIPLOMA): (0, None)},
                     lists={LIST: {}})


def credential(holder: Ed25519PrivateKey, *, claims: dict[str, Any] | None = None,
               vct: str = IDENTITY, now: int = NOW, validity: int | None = 365 * DAY,
               idx: int | None = 7, kid: str = KID, iss: str = ISS) -> IssuedSdJwt:
    return issue_vc(issuer=iss, kid=kid, key=ISSUER_KEY, vct=vct,
                    claims=CLAIMS if claims is None else claims,
                    holder_jwk=holder.public_key.to_jwk(), now=now, validity=validity,
                    status=None if idx is None else StatusRef(idx, LIST))


def present(issued: IssuedSdJwt, holder: Ed25519PrivateKey,
            paths: list[tuple[str | int | None, ...]] | None = None, *,
            nonce: str = NONCE, aud: str = CLIENT_ID, iat: int = NOW) -> str:
    return sdjwt.present(issued.sd_jwt, paths or [("age_over_18",)], holder_key=holder,
                         nonce=nonce, aud=aud, iat=iat).compact()


def age_presentation(**kwargs: Any) -> str:
    holder = Ed25519PrivateKey.generate()
    return present(credential(holder, **kwargs), holder)


async def verify(vp_token: object, *, query: dict[str, Any] | DcqlQuery = AGE_QUERY,
                 registry: DictFacts | None = None, now: int = NOW, **kwargs: Any) -> Verdict:
    parsed = query if isinstance(query, DcqlQuery) else parse_query(query)
    return await verify_presentation(vp_token, query=parsed, nonce=NONCE, client_id=CLIENT_ID,
                                     facts=registry or facts(), now=now, **kwargs)


def names(verdict: Verdict) -> list[str]:
    return [c.name for c in verdict.checks]


def only(verdict: Verdict, name: str, credential: str | None = "id1[0]") -> Check:
    found = [c for c in verdict.checks if c.name == name and c.credential == credential]
    assert len(found) == 1, verdict.checks
    return found[0]


def failing(verdict: Verdict) -> list[tuple[str, str]]:
    return [(c.name, c.code) for c in verdict.failures]


# --- accepted ----------------------------------------------------------------------------------


async def test_valid_presentation_is_accepted_with_every_check_listed() -> None:
    registry = facts()
    verdict = await verify({"id1": [age_presentation()]}, registry=registry)
    assert verdict.ok, verdict.failures
    assert names(verdict) == ["vp_token", *MANDATORY, *DEFAULT, "dcql"]
    assert all(c.ok and c.code == OK and not c.waived for c in verdict.checks)
    assert [c.credential for c in verdict.checks] == [None] + ["id1[0]"] * 8 + [None]
    assert verdict.disclosed == {"id1": [{"age_over_18": True}]}
    [info] = verdict.credentials
    assert (info.label, info.query_id, info.verified, info.iss, info.vct, info.iat) == (
        "id1[0]", "id1", True, ISS, IDENTITY, NOW - NOW % DAY)
    # the registry is asked about the issuance day, never about "now"
    day = NOW - NOW % DAY
    assert registry.asked == [f"key {KID} {day}", f"accredited {ISS} {IDENTITY} {day}",
                              f"status {LIST} 7"]
    body = verdict.to_json()
    assert json.loads(json.dumps(body)) == body and body["ok"] is True


async def test_vp_token_as_json_text_is_accepted() -> None:
    verdict = await verify(json.dumps({"id1": [age_presentation()]}))
    assert verdict.ok, verdict.failures


# --- vp_token shape ----------------------------------------------------------------------------


@pytest.mark.parametrize("vp_token", [
    None, 42, [], {}, "", "not json", "[1]", '{"id1": "x", "id1": "y"}', '{"id1": NaN}',
    b"\xff", {"id1": "abc"}, {"id1": []}, {"id1": [1]}, {"id1": [""]}, {"id1": [None]},
    {"id1": {"0": "abc"}}, {1: ["abc"]},
], ids=repr)
async def test_malformed_vp_token_is_one_failed_check(vp_token: object) -> None:
    verdict = await verify(vp_token)
    assert not verdict.ok and verdict.disclosed == {} and verdict.credentials == []
    assert [(c.name, c.ok, c.code) for c in verdict.checks] == [
        ("vp_token", False, "vp.malformed")]


async def test_vp_token_for_an_unrequested_query_is_refused_unverified() -> None:
    registry = facts()
    verdict = await verify({"id1": [age_presentation()], "extra": [age_presentation()]},
                           registry=registry)
    assert failing(verdict) == [("vp_token", "vp.unrequested")]
    assert registry.asked == []  # nothing the verifier did not ask for is processed


async def test_too_many_presentations() -> None:
    query = {"credentials": [{**AGE_QUERY["credentials"][0], "multiple": True}]}
    verdict = await verify({"id1": ["x"] * (MAX_PRESENTATIONS + 1)}, query=query)
    assert failing(verdict) == [("vp_token", "vp.too_many")]


@pytest.mark.parametrize("text", [
    "abc", "a.b.c~", "~~~", "eyJhbGciOiJub25lIn0.e30.~", "x" * 2_000_000,
    "eyJ.eyJ.sig~", "e30.e30.AAAA~WyJ4Il0~", "\ud800.e30.AAAA~",
], ids=lambda t: t[:20])
async def test_garbage_presentation_fails_format_and_nothing_escapes(text: str) -> None:
    verdict = await verify({"id1": [text]})
    assert not verdict.ok
    assert names(verdict)[:2] == ["vp_token", "format"]
    assert only(verdict, "format").ok is False
    assert verdict.credentials[0].verified is False and verdict.credentials[0].iss is None
    # the policy still runs, over no verified credential: the query is not answered
    assert only(verdict, "dcql", None).code == "dcql.unsatisfied"
    assert "did not verify: id1[0]" in only(verdict, "dcql", None).detail


# --- issuer key --------------------------------------------------------------------------------


async def test_unknown_or_invalid_issuer_key() -> None:
    registry = facts()
    registry.keys[KID] = (ISSUER_KEY.public_key, NOW + DAY, None)  # valid only from tomorrow
    verdict = await verify({"id1": [age_presentation()]}, registry=registry)
    assert failing(verdict)[0] == ("issuer_key", "registry.key_not_valid")
    assert names(verdict)[:3] == ["vp_token", "format", "issuer_key"]
    assert "signature" not in names(verdict)


async def test_registry_down_fails_closed() -> None:
    registry = facts()
    registry.down = True
    verdict = await verify({"id1": [age_presentation()]}, registry=registry)
    assert not verdict.ok
    assert failing(verdict)[0] == ("issuer_key", "registry.unavailable")


async def test_kid_of_another_did_is_never_looked_up() -> None:
    registry = facts()
    verdict = await verify({"id1": [age_presentation(kid=f"{OTHER}#key-1")]}, registry=registry)
    assert failing(verdict)[0] == ("issuer_key", "issuer.kid_mismatch")
    assert registry.asked == []


async def test_issuer_jwt_without_kid() -> None:
    holder = Ed25519PrivateKey.generate()
    payload = {"iss": ISS, "iat": NOW, "vct": IDENTITY, "cnf": {"jwk": holder.public_key.to_jwk()},
               SD("age_over_18"): True}
    issued = sdjwt.issue(payload, ISSUER_KEY, header={"typ": VC_TYP})
    verdict = await verify({"id1": [present(issued, holder)]})
    assert failing(verdict)[0] == ("issuer_key", "vc.invalid_kid")


# --- signature and disclosures -----------------------------------------------------------------


async def test_wrong_issuer_key_is_a_bad_signature() -> None:
    registry = facts()
    registry.keys[KID] = (Ed25519PrivateKey.generate().public_key, 0, None)
    verdict = await verify({"id1": [age_presentation()]}, registry=registry)
    assert failing(verdict)[0] == ("signature", "jose.bad_signature")
    assert names(verdict) == ["vp_token", "format", "issuer_key", "signature", "dcql"]
    assert verdict.credentials[0].iss is None  # unverified: not shown as a fact


async def test_unreferenced_disclosure_is_refused() -> None:
    holder = Ed25519PrivateKey.generate()
    issued = credential(holder)
    stranger = credential(holder).disclosures[0].encoded
    shown = sdjwt.present(issued.sd_jwt, [("age_over_18",)], holder_key=None)
    forged = replace(shown, disclosures=(*shown.disclosures, stranger))
    forged = replace(forged, kb_jwt=sdjwt.make_kb_jwt(forged, holder, nonce=NONCE,
                                                       aud=CLIENT_ID, iat=NOW))
    verdict = await verify({"id1": [forged.compact()]})
    assert failing(verdict)[0] == ("signature", "sdjwt.unreferenced_disclosure")


async def test_validity_claim_hidden_in_a_disclosure_is_refused() -> None:
    holder = Ed25519PrivateKey.generate()
    payload = {"iss": ISS, "iat": NOW, "vct": IDENTITY, SD("exp"): NOW + DAY,
               "cnf": {"jwk": holder.public_key.to_jwk()}, SD("age_over_18"): True}
    issued = sdjwt.issue(payload, ISSUER_KEY, header={"typ": VC_TYP, "kid": KID})
    verdict = await verify({"id1": [present(issued, holder, [("age_over_18",), ("exp",)])]})
    assert failing(verdict)[0] == ("signature", "vc.claim_not_disclosable")


# --- key binding -------------------------------------------------------------------------------


@pytest.mark.parametrize(("change", "code"), [
    ({"nonce": "another-session"}, "sdjwt.kb_nonce_mismatch"),
    ({"aud": "decentralized_identifier:did:keten:OtherDesk"}, "sdjwt.kb_aud_mismatch"),
    ({"iat": NOW - 3600}, "sdjwt.kb_stale"),
    ({"iat": NOW + 3600}, "sdjwt.kb_iat_future"),
])
async def test_key_binding_failures_keep_every_other_check_listed(
        change: dict[str, Any], code: str) -> None:
    holder = Ed25519PrivateKey.generate()
    verdict = await verify({"id1": [present(credential(holder), holder, **change)]})
    assert failing(verdict) == [("key_binding", code)]
    assert names(verdict) == ["vp_token", *MANDATORY, *DEFAULT, "dcql"]
    assert verdict.disclosed == {} and verdict.credentials[0].verified is False
    assert verdict.credentials[0].iss == ISS  # the issuer's signature did verify


async def test_missing_kb_and_kb_by_another_key() -> None:
    holder = Ed25519PrivateKey.generate()
    issued = credential(holder)
    bare = sdjwt.present(issued.sd_jwt, [("age_over_18",)], holder_key=None).compact()
    assert failing(await verify({"id1": [bare]})) == [("key_binding", "sdjwt.kb_missing")]
    thief = Ed25519PrivateKey.generate()
    stolen = present(issued, thief)
    assert failing(await verify({"id1": [stolen]})) == [("key_binding", "jose.bad_signature")]


async def test_disclosure_removed_after_kb_signing() -> None:
    holder = Ed25519PrivateKey.generate()
    shown = sdjwt.present(credential(holder).sd_jwt, [("age_over_18",), ("given_name",)],
                          holder_key=holder, nonce=NONCE, aud=CLIENT_ID, iat=NOW)
    cut = replace(shown, disclosures=shown.disclosures[:1]).compact()
    assert failing(await verify({"id1": [cut]}))[0] == ("key_binding",
                                                        "sdjwt.kb_sd_hash_mismatch")


# --- nonce single use --------------------------------------------------------------------------


async def test_nonce_is_consumed_once() -> None:
    used: set[str] = set()

    async def consume(nonce: str) -> bool:
        fresh = nonce not in used
        used.add(nonce)
        return fresh

    token = {"id1": [age_presentation()]}
    first = await verify(token, consume_nonce=consume)
    assert first.ok and only(first, "nonce", None).ok
    assert names(first)[-2:] == ["nonce", "dcql"]
    replay = await verify(token, consume_nonce=consume)
    assert failing(replay) == [("nonce", "kb.nonce_reused")]
    assert replay.disclosed == {}


async def test_nonce_not_consumed_by_a_response_that_does_not_prove_it() -> None:
    calls: list[str] = []

    async def consume(nonce: str) -> bool:
        calls.append(nonce)
        return True

    holder = Ed25519PrivateKey.generate()
    wrong = present(credential(holder), holder, nonce="guess")
    verdict = await verify({"id1": [wrong]}, consume_nonce=consume)
    assert calls == [] and "nonce" not in names(verdict)


# --- accreditation -----------------------------------------------------------------------------


async def test_issuer_not_accredited_for_the_vct_on_the_issuance_day() -> None:
    registry = facts()
    registry.accreditations[(ISS, IDENTITY)] = (0, NOW - NOW % DAY)  # ended before that day
    verdict = await verify({"id1": [age_presentation()]}, registry=registry)
    assert failing(verdict) == [("issuer_accredited", "issuer.not_accredited")]
    assert names(verdict) == ["vp_token", *MANDATORY, *DEFAULT, "dcql"]


async def test_accreditation_unknown_fails_closed() -> None:
    registry = facts()

    async def broken(iss: str, vct: str, iat: int) -> bool:
        raise Down("registry unreachable")

    registry.accredited = broken  # type: ignore[method-assign]
    verdict = await verify({"id1": [age_presentation()]}, registry=registry)
    assert failing(verdict) == [("issuer_accredited", "issuer.accreditation_unavailable")]


# --- status ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "code"), [
    (1, "status.revoked"), (2, "status.suspended"), (3, "status.unknown_value"),
    (0x10, "status.unknown_value"),
])
async def test_status_not_valid(value: int, code: str) -> None:
    registry = facts()
    registry.lists[LIST][7] = value
    verdict = await verify({"id1": [age_presentation()]}, registry=registry)
    assert failing(verdict) == [("status", code)]
    assert names(verdict) == ["vp_token", *MANDATORY, *DEFAULT, "dcql"]


async def test_status_unavailable_and_bad_references_fail_closed() -> None:
    registry = facts()

    async def broken(ref: StatusRef) -> int:
        raise Down("registry unreachable")

    registry.status = broken  # type: ignore[method-assign]
    verdict = await verify({"id1": [age_presentation()]}, registry=registry)
    assert failing(verdict) == [("status", "status.unavailable")]
    assert "registry.unavailable" in only(verdict, "status").detail
    verdict = await verify({"id1": [age_presentation(idx=5000)]})
    assert failing(verdict) == [("status", "status.index_out_of_range")]
    registry = facts()
    registry.lists.clear()  # a list the registry will not serve
    verdict = await verify({"id1": [age_presentation()]}, registry=registry)
    assert failing(verdict) == [("status", "status.unavailable")]


async def test_credential_without_status_is_refused_by_default() -> None:
    verdict = await verify({"id1": [age_presentation(idx=None)]})
    assert failing(verdict) == [("status", "status.missing")]


# --- validity ----------------------------------------------------------------------------------


async def test_expired_credential_keeps_every_other_check_listed() -> None:
    verdict = await verify({"id1": [age_presentation(now=NOW - 10 * DAY, validity=DAY)]})
    assert failing(verdict) == [("validity", "vc.expired")]
    assert names(verdict) == ["vp_token", *MANDATORY, *DEFAULT, "dcql"]


async def test_not_yet_valid_and_issued_in_future() -> None:
    holder = Ed25519PrivateKey.generate()
    payload = {"iss": ISS, "iat": NOW - NOW % DAY, "nbf": NOW + DAY, "vct": IDENTITY,
               "status": StatusRef(7, LIST).to_claim(),
               "cnf": {"jwk": holder.public_key.to_jwk()}, SD("age_over_18"): True}
    issued = issue_marked(payload, key=ISSUER_KEY, kid=KID)
    verdict = await verify({"id1": [present(issued, holder)]})
    assert failing(verdict) == [("validity", "vc.not_yet_valid")]
    verdict = await verify({"id1": [age_presentation(now=NOW + 2 * DAY)]})
    assert failing(verdict) == [("validity", "vc.issued_in_future")]


async def test_malformed_exp_is_refused_by_the_mandatory_checks() -> None:
    holder = Ed25519PrivateKey.generate()
    payload = {"iss": ISS, "iat": NOW, "exp": "tomorrow", "vct": IDENTITY,
               "cnf": {"jwk": holder.public_key.to_jwk()}, SD("age_over_18"): True}
    issued = issue_marked(payload, key=ISSUER_KEY, kid=KID)
    verdict = await verify({"id1": [present(issued, holder)]})
    assert failing(verdict)[0] == ("signature", "sdjwt.invalid_time_claim")


# --- claims against the schema -----------------------------------------------------------------


async def test_partial_disclosure_fits_the_schema_but_bad_values_do_not() -> None:
    holder = Ed25519PrivateKey.generate()
    shown = present(credential(holder), holder, [("age_over_18",), ("address", "locality")])
    verdict = await verify({"id1": [shown]})
    assert verdict.ok, verdict.failures  # required claims left out by the holder are fine
    assert verdict.disclosed["id1"] == [{"age_over_18": True, "address": {"locality": "Gent"}}]

    bad = {**CLAIMS, "birthdate": "1990-02-30", "nickname": "Mira"}
    shown = present(credential(holder, claims=bad), holder,
                    [("age_over_18",), ("birthdate",), ("nickname",)])
    verdict = await verify({"id1": [shown]})
    assert failing(verdict) == [("claims_schema", "claims.schema")]
    detail = only(verdict, "claims_schema").detail
    assert "birthdate" in detail and "nickname" in detail


async def test_unknown_credential_type() -> None:
    query = {"credentials": [{"id": "id1", "format": "dc+sd-jwt",
                              "meta": {"vct_values": ["urn:keten:vct:pet:1"]},
                              "claims": [{"path": ["age_over_18"]}]}]}
    registry = facts()
    registry.accreditations[(ISS, "urn:keten:vct:pet:1")] = (0, None)
    verdict = await verify({"id1": [age_presentation(vct="urn:keten:vct:pet:1")]},
                           query=query, registry=registry)
    assert failing(verdict) == [("claims_schema", "claims.unknown_type")]


# --- the DCQL query ----------------------------------------------------------------------------


async def test_claims_the_query_asked_for_are_missing() -> None:
    holder = Ed25519PrivateKey.generate()
    shown = present(credential(holder), holder, [("given_name",)])
    verdict = await verify({"id1": [shown]})
    assert failing(verdict) == [("dcql", "dcql.unsatisfied")]
    assert "age_over_18" in only(verdict, "dcql", None).detail
    assert names(verdict) == ["vp_token", *MANDATORY, *DEFAULT, "dcql"]


async def test_claim_value_outside_the_querys_values() -> None:
    verdict = await verify({"id1": [age_presentation(claims={**CLAIMS, "age_over_18": False})]})
    assert failing(verdict) == [("dcql", "dcql.value_mismatch")]


async def test_wrong_type_and_too_many_credentials_for_the_query() -> None:
    holder = Ed25519PrivateKey.generate()
    diploma = present(credential(holder, vct=DIPLOMA, claims={"age_over_18": True}), holder)
    verdict = await verify({"id1": [diploma]})
    assert ("dcql", "dcql.unsatisfied") in failing(verdict)
    verdict = await verify({"id1": [age_presentation(), age_presentation()]})
    assert failing(verdict) == [("dcql", "dcql.unsatisfied")]


async def test_checks_follow_the_querys_order_whatever_the_vp_token_order() -> None:
    query = {"credentials": [
        {"id": "age", "format": "dc+sd-jwt", "meta": {"vct_values": [IDENTITY]},
         "claims": [{"path": ["age_over_18"], "values": [True]}]},
        {"id": "diploma", "format": "dc+sd-jwt", "meta": {"vct_values": [DIPLOMA]},
         "claims": [{"path": ["eqf_level"], "values": [6, 7, 8]}]}]}
    holder = Ed25519PrivateKey.generate()
    diploma = credential(holder, vct=DIPLOMA, claims={"title": "Bachelor", "eqf_level": 6})
    registry = facts()
    registry.lists[LIST][7] = 1  # both copies share entry 7 here: both revoked
    verdict = await verify({"diploma": [present(diploma, holder, [("eqf_level",)])],
                            "age": [age_presentation()]}, query=query, registry=registry)
    per = [*MANDATORY, *DEFAULT]
    assert [(c.name, c.credential) for c in verdict.checks] == [
        ("vp_token", None), *((n, "age[0]") for n in per), *((n, "diploma[0]") for n in per),
        ("dcql", None)]
    assert failing(verdict) == [("status", "status.revoked")] * 2
    assert [i.label for i in verdict.credentials] == ["age[0]", "diploma[0]"]


async def test_mutated_presentations_are_refused_as_verdicts() -> None:
    """Every one-character change anywhere in a valid presentation (header, payload,
    signature, disclosures, KB-JWT, separators) is refused with a coded check, never an
    exception: sampled positions, every replacement class."""
    text = age_presentation()
    registry = facts()
    step = max(1, len(text) // 150)
    for pos in range(0, len(text), step):
        for new in ("A", "_", "~", ".", "=", "+", "\u00e9"):
            if text[pos] == new:
                continue
            mutated = text[:pos] + new + text[pos + 1:]
            verdict = await verify({"id1": [mutated]}, registry=registry)
            assert not verdict.ok, (pos, new)
            assert verdict.failures and all(c.code != OK for c in verdict.failures)


@pytest.mark.parametrize(("nonce", "client_id"), [("", CLIENT_ID), (NONCE, "")])
async def test_a_session_without_nonce_or_client_id_is_a_bug_not_a_verdict(
        nonce: str, client_id: str) -> None:
    with pytest.raises(VerifierError) as err:
        await verify_presentation({"id1": [age_presentation()]}, query=parse_query(AGE_QUERY),
                                  nonce=nonce, client_id=client_id, facts=facts(), now=NOW)
    assert err.value.code == "verifier.bad_session"
