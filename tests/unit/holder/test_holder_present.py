"""The wallet side of OpenID4VP (``ssiwallet.holder.present``) without a network.

A verifier is played behind an ``infra.http.MockTransport`` with the real protocol code: it
signs a request object (``oid4vp.build_request_object``) at its ``request_uri``, and at its
``response_uri`` reads the ``direct_post`` form (``receipt.parse_response``), verifies every
presentation with its KB-JWT (``vc.verify_vc`` with this session's nonce and client id) and
answers a signed receipt (``receipt.build_receipt``). The wallet holds real SD-JWT VCs. The
registry is a small in-memory stand-in with the two methods the holder calls while
presenting (``issuer_key`` and ``verifier``), refusing keys it does not hold the way the
real client does.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

import base58
import pytest

from registry.client import ClientError, KeyNotValidError, RegistryClient
from ssiwallet.core.claimpath import ClaimPath
from ssiwallet.core.dcql_match import Candidate
from ssiwallet.core.jws import parse_compact, verify
from ssiwallet.core.keys import Ed25519PrivateKey, Ed25519PublicKey
from ssiwallet.core.oid4vp import build_request_object, build_request_uri, client_id_for
from ssiwallet.core.receipt import (
    ReceivedCredential,
    build_post_answer,
    build_receipt,
    is_error_response,
    parse_error_response,
    parse_response,
)
from ssiwallet.core.sdjwt import KeyBindingPolicy, parse, parse_disclosure
from ssiwallet.core.statuslist import StatusRef
from ssiwallet.core.vc import issue_vc, verify_vc
from ssiwallet.errors import Oid4vpError, SsiError
from ssiwallet.holder.present import Plan, decline, prepare, send
from ssiwallet.infra.clock import FakeClock
from ssiwallet.infra.http import Http, MockTransport, Request, Response, UnreachableError

pytestmark = pytest.mark.asyncio

T0 = 1_790_000_000
ISSUER_DID = "did:keten:" + base58.b58encode(bytes(range(16))).decode()
ISSUER_KID = ISSUER_DID + "#key-1"
VERIFIER_DID = "did:keten:" + base58.b58encode(bytes(range(1, 17))).decode()
VERIFIER_KID = VERIFIER_DID + "#key-1"
CLIENT_ID = client_id_for(VERIFIER_DID)
VERIFIER_URL = "https://bibliotheek.keten.example"
REQUEST_URI = f"{VERIFIER_URL}/request/s1"
RESPONSE_URI = f"{VERIFIER_URL}/response"
LINK = build_request_uri(client_id=CLIENT_ID, request_uri=REQUEST_URI)
NONCE = "nonce-0123456789abcdefghij"
STATE = "state-0123456789abcdefghij"
VCT = "https://keten.example/vct/identity"
OTHER_VCT = "https://keten.example/vct/library-card"
CLAIMS = {"given_name": "Noor", "family_name": "Bakker", "birthdate": "2000-05-17",
          "age_over_18": True}
STATUS = StatusRef(7, "https://registry.keten.example/status/gemeente-1")
PURPOSE = {"nl": "Toegang tot de bibliotheek", "en": "Access to the library"}
ISSUER_KEY = Ed25519PrivateKey(bytes([11]) * 32)
VERIFIER_KEY = Ed25519PrivateKey(bytes([22]) * 32)
ATTACKER = Ed25519PrivateKey(bytes([66]) * 32)
FORM = "application/x-www-form-urlencoded"


def query(*paths: str, vct: str = VCT) -> dict[str, Any]:
    return {"credentials": [{"id": "id_card", "format": "dc+sd-jwt",
                             "meta": {"vct_values": [vct]},
                             "claims": [{"path": [p]} for p in paths]}]}


def answer(obj: object, status: int = 200) -> Response:
    return Response(status, json.dumps(obj).encode(), {"content-type": "application/json"})


def registration(*paths: str, active: bool = True) -> dict[str, Any]:
    return {"verifier": VERIFIER_DID, "name": "Bibliotheek Gent", "purpose": PURPOSE,
            "credentials": [{"vct": VCT, "claims": [[p] for p in paths]}],
            "active": active}


class FakeRegistry:
    """The registry calls the holder makes while presenting, answered from memory."""

    def __init__(self) -> None:
        self.keys: dict[str, Ed25519PublicKey] = {VERIFIER_KID: VERIFIER_KEY.public_key}
        self.registrations: dict[str, dict[str, Any]] = {
            VERIFIER_DID: registration("age_over_18")}
        self.verifier_error: ClientError | None = None
        self.asked: list[tuple[str, int]] = []

    async def issuer_key(self, kid: str, at: int) -> Ed25519PublicKey:
        self.asked.append((kid, at))
        if kid not in self.keys:
            raise KeyNotValidError(f"{kid} was not a valid key at {at}")
        return self.keys[kid]

    async def verifier(self, did: str) -> dict[str, Any] | None:
        if self.verifier_error is not None:
            raise self.verifier_error
        return self.registrations.get(did)

    def client(self) -> RegistryClient:
        return cast(RegistryClient, self)


@dataclass
class FakeVerifier:
    """An OpenID4VP verifier (signed request by reference, direct_post) from memory."""

    clock: FakeClock
    dcql: dict[str, Any] = field(default_factory=lambda: query("age_over_18"))
    request_key: Ed25519PrivateKey = VERIFIER_KEY
    request_kid: str = VERIFIER_KID
    receipt_key: Ed25519PrivateKey = VERIFIER_KEY
    receipt_vp_token: str | None = None  # sign the receipt over another vp_token
    result: str = "accepted"
    reasons: list[str] = field(default_factory=list)
    overrides: dict[tuple[str, str], Callable[[Request], Response]] = field(default_factory=dict)
    posted: list[dict[str, str]] = field(default_factory=list)
    verified: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.transport = MockTransport(self.handle)
        self.http = Http(self.transport)

    def handle(self, request: Request) -> Response:
        parts = urlsplit(request.url)
        key = (request.method, parts.path)
        if key in self.overrides:
            return self.overrides[key](request)
        assert f"{parts.scheme}://{parts.netloc}" == VERIFIER_URL, request.url
        if key == ("GET", "/request/s1"):
            token = build_request_object(
                client_id=CLIENT_ID, nonce=NONCE, state=STATE, dcql_query=self.dcql,
                response_uri=RESPONSE_URI, now=self.clock(), lifetime=300,
                key=self.request_key, kid=self.request_kid)
            return Response(200, token.encode(),
                            {"content-type": "application/oauth-authz-req+jwt"})
        if key == ("POST", "/response"):
            return self.response(request)
        return answer({"error": "not_found"}, 404)

    def response(self, request: Request) -> Response:
        assert request.headers["Content-Type"] == FORM
        form = {k: v[0] for k, v in parse_qs((request.body or b"").decode()).items()}
        self.posted.append(form)
        if is_error_response(form):
            parse_error_response(form)
            return answer({})
        vp_token, state = parse_response(form)
        assert state == STATE
        received = []
        for presentations in vp_token.values():
            for shown in presentations:
                vc = verify_vc(shown, keys={ISSUER_KID: ISSUER_KEY.public_key},
                               now=self.clock(),
                               key_binding=KeyBindingPolicy(nonce=NONCE, aud=CLIENT_ID))
                self.verified.append(vc.disclosed)
                received.append(ReceivedCredential(
                    vc.vct, vc.iss, tuple(ClaimPath((k,)) for k in sorted(vc.disclosed))))
        receipt = build_receipt(
            verifier=VERIFIER_DID, kid=VERIFIER_KID, key=self.receipt_key, nonce=NONCE,
            state=STATE, vp_token=self.receipt_vp_token or form["vp_token"],
            received=received, purpose=PURPOSE, retention=0, result=self.result,
            now=self.clock(), jti="jti-0123456789abcdefghijk")
        return answer({**build_post_answer(receipt=receipt), "keten_reasons": self.reasons})

    def paths(self) -> list[tuple[str, str]]:
        return [(r.method, urlsplit(r.url).path) for r in self.transport.requests]


def credential(holder: Ed25519PrivateKey, *, vct: str = VCT) -> str:
    return issue_vc(issuer=ISSUER_DID, kid=ISSUER_KID, key=ISSUER_KEY, vct=vct, claims=CLAIMS,
                    holder_jwk=holder.public_key.to_jwk(), now=T0, validity=365 * 86400,
                    status=STATUS).compact()


WALLET = [Candidate("cred-1", "dc+sd-jwt", VCT, CLAIMS)]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def verifier(clock: FakeClock) -> FakeVerifier:
    return FakeVerifier(clock)


@pytest.fixture
def registry() -> FakeRegistry:
    return FakeRegistry()


async def plan_for(verifier: FakeVerifier, registry: FakeRegistry, *,
                   candidates: list[Candidate] | None = None, link: str = LINK) -> Plan:
    return await prepare(link, candidates=WALLET if candidates is None else candidates,
                         session=verifier.http, registry=registry.client(),
                         clock=verifier.clock)


async def refused(call: Any, code: str) -> SsiError:
    with pytest.raises(SsiError) as err:
        await call
    assert err.value.code == code, repr(err.value)
    return err.value


def shown_names(presentation: str) -> set[str]:
    return {str(parse_disclosure(d).name) for d in parse(presentation).disclosures}


# --- prepare -------------------------------------------------------------------------------


async def test_prepare_fetches_verifies_and_matches_a_registered_request(
        verifier: FakeVerifier, registry: FakeRegistry) -> None:
    plan = await plan_for(verifier, registry)
    assert verifier.transport.requests[0].url == REQUEST_URI
    assert verifier.paths() == [("GET", "/request/s1")]  # nothing is sent yet
    assert registry.asked == [(VERIFIER_KID, T0)]
    assert (plan.verifier, plan.name, plan.purpose) == (VERIFIER_DID, "Bibliotheek Gent",
                                                        PURPOSE)
    assert plan.registered and plan.satisfiable and plan.reasons == []
    assert (plan.request.nonce, plan.request.state, plan.request.client_id) == (
        NONCE, STATE, CLIENT_ID)
    assert plan.matches["id_card"].candidate_id == "cred-1"
    assert plan.leaving == {"cred-1": [ClaimPath(("age_over_18",))]}
    assert sorted(plan.staying["cred-1"]) == sorted(
        ClaimPath((k,)) for k in ("given_name", "family_name", "birthdate"))
    assert plan.over_asked == []


async def test_a_request_signed_by_another_key_is_refused(
        verifier: FakeVerifier, registry: FakeRegistry) -> None:
    verifier.request_key = ATTACKER
    await refused(plan_for(verifier, registry), "jose.bad_signature")


async def test_a_request_signed_by_a_key_the_registry_does_not_hold_is_refused(
        verifier: FakeVerifier, registry: FakeRegistry) -> None:
    verifier.request_key, verifier.request_kid = ATTACKER, VERIFIER_DID + "#key-2"
    await refused(plan_for(verifier, registry), "registry.key_not_valid")


async def test_a_link_whose_client_id_differs_from_the_request_is_refused(
        verifier: FakeVerifier, registry: FakeRegistry) -> None:
    other = client_id_for("did:keten:" + base58.b58encode(bytes(range(2, 18))).decode())
    link = build_request_uri(client_id=other, request_uri=REQUEST_URI)
    await refused(plan_for(verifier, registry, link=link), "oid4vp.client_id_mismatch")


async def test_an_expired_request_is_refused(
        verifier: FakeVerifier, registry: FakeRegistry, clock: FakeClock) -> None:
    verifier.overrides[("GET", "/request/s1")] = lambda r: Response(200, build_request_object(
        client_id=CLIENT_ID, nonce=NONCE, state=STATE, dcql_query=verifier.dcql,
        response_uri=RESPONSE_URI, now=T0 - 1000, lifetime=300, key=VERIFIER_KEY,
        kid=VERIFIER_KID).encode())
    await refused(plan_for(verifier, registry), "oid4vp.expired_request")


@pytest.mark.parametrize(("status", "body"), [
    (404, b'{"error": "not_found"}'), (200, "é".encode()), (200, b"x" * ((1 << 20) + 1)),
])
async def test_a_request_object_that_cannot_be_fetched_is_unavailable(
        verifier: FakeVerifier, registry: FakeRegistry, status: int, body: bytes) -> None:
    verifier.overrides[("GET", "/request/s1")] = lambda _: Response(status, body)
    err = await refused(plan_for(verifier, registry), "oid4vp.request_unavailable")
    assert isinstance(err, Oid4vpError)


async def test_an_unreachable_verifier_is_unavailable(
        verifier: FakeVerifier, registry: FakeRegistry) -> None:
    def down(request: Request) -> Response:
        raise UnreachableError(f"{request.url}: connection refused")

    verifier.overrides[("GET", "/request/s1")] = down
    await refused(plan_for(verifier, registry), "oid4vp.request_unavailable")


async def test_a_request_asking_more_than_the_registration_is_flagged(
        verifier: FakeVerifier, registry: FakeRegistry) -> None:
    verifier.dcql = query("age_over_18", "given_name", "birthdate")
    plan = await plan_for(verifier, registry)
    assert plan.registered and plan.satisfiable
    assert plan.over_asked == [f"{VCT}:given_name", f"{VCT}:birthdate"]
    assert plan.leaving["cred-1"] == [ClaimPath((p,)) for p in
                                      ("age_over_18", "given_name", "birthdate")]


async def test_a_registration_for_another_type_does_not_cover_the_request(
        verifier: FakeVerifier, registry: FakeRegistry) -> None:
    registry.registrations[VERIFIER_DID]["credentials"] = [
        {"vct": OTHER_VCT, "claims": [["age_over_18"]]}]
    plan = await plan_for(verifier, registry)
    assert plan.over_asked == [f"{VCT}:age_over_18"]


async def test_an_unregistered_verifier_is_shown_by_its_did_and_everything_is_over_asked(
        verifier: FakeVerifier, registry: FakeRegistry) -> None:
    registry.registrations.clear()
    plan = await plan_for(verifier, registry)
    assert plan.registered is False
    assert (plan.name, plan.purpose) == (VERIFIER_DID, {"nl": "?", "en": "?"})
    assert plan.over_asked == [f"{VCT}:age_over_18"]


async def test_an_inactive_registration_grants_nothing(
        verifier: FakeVerifier, registry: FakeRegistry) -> None:
    registry.registrations[VERIFIER_DID] = registration("age_over_18", active=False)
    plan = await plan_for(verifier, registry)
    assert plan.registered is False
    assert plan.over_asked == [f"{VCT}:age_over_18"]


async def test_a_registry_that_cannot_say_leaves_the_verifier_unregistered(
        verifier: FakeVerifier, registry: FakeRegistry) -> None:
    registry.verifier_error = ClientError("no trustworthy answer")
    plan = await plan_for(verifier, registry)
    assert plan.registered is False and plan.over_asked == [f"{VCT}:age_over_18"]


async def test_no_matching_credential_gives_an_unsatisfiable_plan_and_sends_nothing(
        verifier: FakeVerifier, registry: FakeRegistry) -> None:
    plan = await plan_for(verifier, registry,
                          candidates=[Candidate("card", "dc+sd-jwt", OTHER_VCT, CLAIMS)])
    assert plan.satisfiable is False and plan.reasons
    assert plan.matches == {} and plan.leaving == {} and plan.over_asked == []
    await refused(send(plan, copies={}, session=verifier.http, registry=registry.client(),
                       clock=verifier.clock), "oid4vp.unsatisfiable")
    assert verifier.paths() == [("GET", "/request/s1")]


# --- send ----------------------------------------------------------------------------------


async def send_plan(verifier: FakeVerifier, registry: FakeRegistry, plan: Plan,
                    copies: dict[str, tuple[str, Ed25519PrivateKey]]) -> Any:
    registry.asked.clear()
    return await send(plan, copies=copies, session=verifier.http, registry=registry.client(),
                      clock=verifier.clock)


async def test_send_posts_only_the_disclosed_claims_with_a_bound_kb_jwt(
        verifier: FakeVerifier, registry: FakeRegistry) -> None:
    holder = Ed25519PrivateKey.generate()
    copy = credential(holder)
    plan = await plan_for(verifier, registry)
    result = await send_plan(verifier, registry, plan, {"cred-1": (copy, holder)})

    request = verifier.transport.requests[-1]
    assert (request.method, request.url) == ("POST", RESPONSE_URI)
    form = verifier.posted[0]
    assert set(form) == {"vp_token", "state"} and form["state"] == STATE
    vp_token = json.loads(form["vp_token"])
    assert list(vp_token) == ["id_card"] and len(vp_token["id_card"]) == 1
    shown = vp_token["id_card"][0]
    assert shown_names(shown) == {"age_over_18"}
    for value in ("Noor", "Bakker", "2000-05-17"):
        assert value not in shown
    kb_jwt = parse(shown).kb_jwt
    assert kb_jwt is not None
    kb = parse_compact(kb_jwt)
    verify(kb, holder.public_key, typ="kb+jwt")
    assert {k: kb.payload_json("kb")[k] for k in ("aud", "nonce", "iat")} == {
        "aud": CLIENT_ID, "nonce": NONCE, "iat": T0}
    assert verifier.verified == [{"age_over_18": True}]

    assert result.accepted and result.reasons == []
    assert result.sent == vp_token and result.used == {"cred-1": copy}
    assert result.receipt.verifier == VERIFIER_DID
    assert registry.asked == [(VERIFIER_KID, T0)]  # the receipt's key, from the registry


async def test_send_presents_the_copy_it_is_given(
        verifier: FakeVerifier, registry: FakeRegistry) -> None:
    holders = [Ed25519PrivateKey.generate() for _ in range(2)]
    copies = [credential(h) for h in holders]
    plan = await plan_for(verifier, registry)
    result = await send_plan(verifier, registry, plan, {"cred-1": (copies[1], holders[1])})
    shown = parse(json.loads(verifier.posted[0]["vp_token"])["id_card"][0])
    assert shown.issuer_jwt == parse(copies[1]).issuer_jwt != parse(copies[0]).issuer_jwt
    assert shown.kb_jwt is not None
    verify(parse_compact(shown.kb_jwt), holders[1].public_key, typ="kb+jwt")
    assert result.used == {"cred-1": copies[1]}


async def test_each_credential_is_presented_from_its_own_copy(
        verifier: FakeVerifier, registry: FakeRegistry) -> None:
    verifier.dcql = {"credentials": [
        query("age_over_18")["credentials"][0],
        {**query("family_name", vct=OTHER_VCT)["credentials"][0], "id": "library"}]}
    holders = {"cred-1": Ed25519PrivateKey.generate(), "card-1": Ed25519PrivateKey.generate()}
    copies = {"cred-1": (credential(holders["cred-1"]), holders["cred-1"]),
              "card-1": (credential(holders["card-1"], vct=OTHER_VCT), holders["card-1"])}
    plan = await plan_for(verifier, registry, candidates=[
        *WALLET, Candidate("card-1", "dc+sd-jwt", OTHER_VCT, CLAIMS)])
    assert {q: m.candidate_id for q, m in plan.matches.items()} == {
        "id_card": "cred-1", "library": "card-1"}
    result = await send_plan(verifier, registry, plan, copies)
    posted = json.loads(verifier.posted[0]["vp_token"])
    for qid, cid in (("id_card", "cred-1"), ("library", "card-1")):
        shown = parse(posted[qid][0])
        assert shown.issuer_jwt == parse(copies[cid][0]).issuer_jwt
        assert shown.kb_jwt is not None
        verify(parse_compact(shown.kb_jwt), holders[cid].public_key, typ="kb+jwt")
    assert shown_names(posted["library"][0]) == {"family_name"}
    assert result.used == {cid: token for cid, (token, _) in copies.items()}


async def test_a_rejection_is_reported_with_the_verifiers_reasons(
        verifier: FakeVerifier, registry: FakeRegistry) -> None:
    verifier.result, verifier.reasons = "rejected", ["status.revoked"]
    holder = Ed25519PrivateKey.generate()
    plan = await plan_for(verifier, registry)
    result = await send_plan(verifier, registry, plan, {"cred-1": (credential(holder), holder)})
    assert result.accepted is False and result.reasons == ["status.revoked"]


async def test_a_verifier_answering_400_refused_the_response(
        verifier: FakeVerifier, registry: FakeRegistry) -> None:
    verifier.overrides[("POST", "/response")] = lambda _: answer(
        {"error": "invalid_request", "error_description": "bad vp_token"}, 400)
    holder = Ed25519PrivateKey.generate()
    plan = await plan_for(verifier, registry)
    err = await refused(send_plan(verifier, registry, plan,
                                  {"cred-1": (credential(holder), holder)}),
                        "oid4vp.response_refused")
    assert "400" in err.detail and "invalid_request" in err.detail


async def test_a_verifier_unreachable_at_its_response_uri_is_named(
        verifier: FakeVerifier, registry: FakeRegistry) -> None:
    def down(request: Request) -> Response:
        raise UnreachableError(f"{request.url}: connection reset")

    verifier.overrides[("POST", "/response")] = down
    holder = Ed25519PrivateKey.generate()
    plan = await plan_for(verifier, registry)
    await refused(send_plan(verifier, registry, plan, {"cred-1": (credential(holder), holder)}),
                  "oid4vp.response_unavailable")


async def test_an_answer_without_a_receipt_completes_without_one(
        verifier: FakeVerifier, registry: FakeRegistry) -> None:
    verifier.overrides[("POST", "/response")] = lambda _: answer({})
    holder = Ed25519PrivateKey.generate()
    plan = await plan_for(verifier, registry)
    result = await send_plan(verifier, registry, plan, {"cred-1": (credential(holder), holder)})
    assert result.receipt is None and result.accepted is None  # OpenID4VP 1.0 §8.2


async def test_a_receipt_for_another_vp_token_is_refused(
        verifier: FakeVerifier, registry: FakeRegistry) -> None:
    verifier.receipt_vp_token = '{"id_card":["something else"]}'
    holder = Ed25519PrivateKey.generate()
    plan = await plan_for(verifier, registry)
    await refused(send_plan(verifier, registry, plan, {"cred-1": (credential(holder), holder)}),
                  "oid4vp.receipt_mismatch")


async def test_a_receipt_not_signed_by_the_verifiers_registered_key_is_refused(
        verifier: FakeVerifier, registry: FakeRegistry) -> None:
    verifier.receipt_key = ATTACKER
    holder = Ed25519PrivateKey.generate()
    plan = await plan_for(verifier, registry)
    await refused(send_plan(verifier, registry, plan, {"cred-1": (credential(holder), holder)}),
                  "jose.bad_signature")


# --- decline -------------------------------------------------------------------------------


async def test_decline_posts_access_denied_with_the_state_and_no_credential(
        verifier: FakeVerifier, registry: FakeRegistry) -> None:
    plan = await plan_for(verifier, registry)
    await decline(plan, session=verifier.http)
    request = verifier.transport.requests[-1]
    assert (request.method, request.url) == ("POST", RESPONSE_URI)
    assert request.headers["Content-Type"] == FORM
    assert verifier.posted == [{"error": "access_denied", "state": STATE}]


async def test_a_decline_the_verifier_refuses_is_reported(
        verifier: FakeVerifier, registry: FakeRegistry) -> None:
    plan = await plan_for(verifier, registry)
    verifier.overrides[("POST", "/response")] = lambda _: answer({"error": "x"}, 400)
    await refused(decline(plan, session=verifier.http), "oid4vp.response_refused")




async def test_the_plan_shows_every_claim_that_leaves_when_two_queries_share_a_credential(
        verifier: FakeVerifier, registry: FakeRegistry) -> None:
    verifier.dcql = {"credentials": [
        {**query("given_name")["credentials"][0], "id": "q1"},
        {**query("birthdate")["credentials"][0], "id": "q2"}]}
    plan = await plan_for(verifier, registry)
    holder = Ed25519PrivateKey.generate()
    result = await send_plan(verifier, registry, plan, {"cred-1": (credential(holder), holder)})
    sent = {name for shown in result.sent.values() for p in shown for name in shown_names(p)}
    assert sent == {"given_name", "birthdate"}
    assert {str(p[0]) for p in plan.leaving["cred-1"]} == sent
    assert not sent & {str(p[0]) for p in plan.staying["cred-1"]}
