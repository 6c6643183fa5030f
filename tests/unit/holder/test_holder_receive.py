"""The wallet side of OpenID4VCI (``ssiwallet.holder.receive``) without a network.

An issuer is played behind an ``infra.http.MockTransport`` with the real protocol code: it
publishes real metadata, checks the PIN at its token endpoint, hands out a ``c_nonce``,
checks the wallet's key proofs with ``oid4vci.verify_proofs`` and issues one real SD-JWT VC
(``vc.issue_vc``) per proof, bound to that proof's key. The registry is a small in-memory
stand-in with the two methods the holder calls while receiving (``issuer_keys`` and
``accredited_on_day``), refusing every key it does not hold the way the real client does.
Hooks let a test make the issuer lie: answer another body, re-sign or swap a copy.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import parse_qs, quote, urlsplit

import base58
import pytest

from registry.client import ClientError, KeyNotValidError, RegistryClient
from ssiwallet.core.jws import parse_compact
from ssiwallet.core.keys import Ed25519PrivateKey, Ed25519PublicKey
from ssiwallet.core.oid4vci import (
    PRE_AUTH_GRANT,
    CredentialOffer,
    TxCode,
    parse_offer,
    verify_proofs,
)
from ssiwallet.core.sdjwt import parse
from ssiwallet.core.sdjwt.verify import decode_unverified_payload
from ssiwallet.core.statuslist import StatusRef
from ssiwallet.core.vc import IssuerKeyRef, issue_vc
from ssiwallet.errors import Oid4vciError, SsiError
from ssiwallet.holder.receive import MAX_RESPONSE, ReceivedCredential, fetch_offer, receive
from ssiwallet.infra.clock import FakeClock
from ssiwallet.infra.http import Http, MockTransport, Request, Response, UnreachableError

pytestmark = pytest.mark.asyncio

T0 = 1_790_000_000
ISSUER_URL = "https://gemeente.keten.example"
ISSUER_DID = "did:keten:" + base58.b58encode(bytes(range(16))).decode()
KID = ISSUER_DID + "#key-1"
VCT = "https://keten.example/vct/identity"
OTHER_VCT = "https://keten.example/vct/library-card"
CONFIG = "identity"
PIN = "493817"
CODE = "pre-auth-code-0123456789"
ACCESS = "access-token-0123456789"
NONCE = "c-nonce-0123456789abcdef"
CLAIMS = {"given_name": "Noor", "family_name": "Bakker", "birthdate": "2000-05-17",
          "age_over_18": True}
REGISTRY_URL = "https://registry.keten.example"
STATUS = StatusRef(7, f"{REGISTRY_URL}/status/gemeente-1")
ISSUER_KEY = Ed25519PrivateKey(bytes([11]) * 32)
ATTACKER = Ed25519PrivateKey(bytes([66]) * 32)

Tamper = Callable[[list[str], list[dict[str, str]]], list[str]]


def answer(obj: object, status: int = 200) -> Response:
    return Response(status, json.dumps(obj).encode(), {"content-type": "application/json"})


SIX_DIGITS = TxCode(length=6)


def offer(*, tx_code: TxCode | None = SIX_DIGITS) -> CredentialOffer:
    return CredentialOffer(ISSUER_URL, (CONFIG,), CODE, tx_code)


class FakeRegistry:
    """The registry calls the holder makes while receiving, answered from memory."""

    def __init__(self) -> None:
        self.keys: dict[str, Ed25519PublicKey] = {KID: ISSUER_KEY.public_key}
        self.accreditations: set[tuple[str, str]] = {(ISSUER_DID, VCT)}
        self.accreditation_error: ClientError | None = None
        self.asked: list[IssuerKeyRef] = []

    async def issuer_keys(self, refs: Iterable[IssuerKeyRef]) -> dict[str, Ed25519PublicKey]:
        out = {}
        for ref in refs:
            self.asked.append(ref)
            if ref.kid not in self.keys:
                raise KeyNotValidError(f"{ref.kid} was not a valid key on {ref.iat}")
            out[ref.kid] = self.keys[ref.kid]
        return out

    async def accredited_on_day(self, issuer: str, vct: str, iat: int) -> bool:
        if self.accreditation_error is not None:
            raise self.accreditation_error
        return (issuer, vct) in self.accreditations

    # the status list calls, for a holder that checks where a copy's status lives
    base_url = REGISTRY_URL

    async def status_of_ref(self, ref: StatusRef, *, max_age: int | None = None) -> int:
        if not ref.uri.startswith(REGISTRY_URL + "/status/"):
            raise ClientError(f"status list {ref.uri!r} is not on {REGISTRY_URL}",
                              code="registry.status_uri_refused")
        return 0

    def client(self) -> RegistryClient:
        return cast(RegistryClient, self)


@dataclass
class FakeIssuer:
    """An OpenID4VCI issuer (pre-authorized code) answering from memory."""

    clock: FakeClock
    batch_size: int = 4
    vct: str = VCT
    claims: dict[str, Any] = field(default_factory=lambda: dict(CLAIMS))
    status: StatusRef | None = STATUS
    with_nonce_endpoint: bool = True
    overrides: dict[tuple[str, str], Callable[[Request], Response]] = field(default_factory=dict)
    tamper: Tamper | None = None
    offer_json: dict[str, Any] = field(default_factory=lambda: offer().to_json())
    issued: list[str] = field(default_factory=list)
    proofs_seen: list[dict[str, str]] = field(default_factory=list)
    proof_payloads: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.transport = MockTransport(self.handle)
        self.http = Http(self.transport)

    # what the issuer publishes ----------------------------------------------------------

    def metadata(self) -> dict[str, Any]:
        meta: dict[str, Any] = {
            "credential_issuer": ISSUER_URL,
            "credential_endpoint": f"{ISSUER_URL}/credential",
            "display": [{"name": "Gemeente Gent", "locale": "nl"}],
            "credential_configurations_supported": {CONFIG: {
                "format": "dc+sd-jwt", "vct": VCT,
                "credential_metadata": {"display": [{"name": "Identiteit", "locale": "nl"},
                                                    "not an object"]}}},
        }
        if self.with_nonce_endpoint:
            meta["nonce_endpoint"] = f"{ISSUER_URL}/nonce"
        if self.batch_size >= 2:
            meta["batch_credential_issuance"] = {"batch_size": self.batch_size}
        return meta

    def as_metadata(self) -> dict[str, Any]:
        return {"issuer": ISSUER_URL, "token_endpoint": f"{ISSUER_URL}/token",
                "grant_types_supported": [PRE_AUTH_GRANT]}

    # the endpoints ----------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        parts = urlsplit(request.url)
        key = (request.method, parts.path)
        if key in self.overrides:
            return self.overrides[key](request)
        assert f"{parts.scheme}://{parts.netloc}" == ISSUER_URL, request.url
        if key == ("GET", "/.well-known/openid-credential-issuer"):
            return answer(self.metadata())
        if key == ("GET", "/.well-known/oauth-authorization-server"):
            return answer(self.as_metadata())
        if key == ("GET", "/offers/1"):
            return answer(self.offer_json)
        if key == ("POST", "/token"):
            return self.token(request)
        if key == ("POST", "/nonce"):
            return answer({"c_nonce": NONCE})
        if key == ("POST", "/credential"):
            return self.credential(request)
        return answer({"error": "not_found"}, 404)

    def token(self, request: Request) -> Response:
        assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
        form = {k: v[0] for k, v in parse_qs((request.body or b"").decode()).items()}
        if form.get("grant_type") != PRE_AUTH_GRANT or form.get("pre-authorized_code") != CODE:
            return answer({"error": "invalid_grant", "error_description": "unknown code"}, 400)
        if form.get("tx_code") != PIN:
            return answer({"error": "invalid_grant", "error_description": "wrong PIN",
                           "code": "issuer.invalid_grant"}, 400)
        return answer({"access_token": ACCESS, "token_type": "Bearer", "expires_in": 300})

    def credential(self, request: Request) -> Response:
        if request.headers.get("Authorization") != f"Bearer {ACCESS}":
            return answer({"error": "invalid_token"}, 401)
        body = json.loads(request.body or b"")
        assert body["credential_configuration_id"] == CONFIG
        self.proof_payloads = [parse_compact(p).payload_json("proof")
                               for p in body["proofs"]["jwt"]]
        if self.with_nonce_endpoint:
            proofs = verify_proofs(body["proofs"], aud=ISSUER_URL, now=self.clock(),
                                   batch_size=self.batch_size)
            assert all(p.nonce == NONCE for p in proofs)
            self.proofs_seen = [p.jwk for p in proofs]
        else:  # verify_proofs insists on a nonce: read the keys from the headers
            self.proofs_seen = [parse_compact(p).header["jwk"] for p in body["proofs"]["jwt"]]
        tokens = [issue_vc(issuer=ISSUER_DID, kid=KID, key=ISSUER_KEY, vct=self.vct,
                           claims=self.claims, holder_jwk=jwk, now=self.clock(),
                           validity=365 * 86400, status=self.status).compact()
                  for jwk in self.proofs_seen]
        if self.tamper is not None:
            tokens = self.tamper(tokens, self.proofs_seen)
        self.issued = tokens
        return answer({"credentials": [{"credential": t} for t in tokens]})

    def paths(self) -> list[tuple[str, str]]:
        return [(r.method, urlsplit(r.url).path) for r in self.transport.requests]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def issuer(clock: FakeClock) -> FakeIssuer:
    return FakeIssuer(clock)


@pytest.fixture
def registry() -> FakeRegistry:
    return FakeRegistry()


async def redeem(issuer: FakeIssuer, registry: FakeRegistry, *, pin: str | None = PIN,
                 copies: int = 3, the_offer: CredentialOffer | None = None,
                 config_id: str | None = None) -> ReceivedCredential:
    return await receive(the_offer or offer(), tx_code=pin, session=issuer.http,
                         registry=registry.client(), copies=copies, clock=issuer.clock,
                         config_id=config_id)


async def refused(call: Any, code: str) -> SsiError:
    with pytest.raises(SsiError) as err:
        await call
    assert err.value.code == code, repr(err.value)
    return err.value


def issued_by(key: Ed25519PrivateKey, kid: str, jwk: dict[str, str], *, vct: str = VCT,
              claims: Mapping[str, Any] = CLAIMS, now: int = T0) -> str:
    return issue_vc(issuer=ISSUER_DID, kid=kid, key=key, vct=vct, claims=claims,
                    holder_jwk=jwk, now=now, validity=365 * 86400, status=STATUS).compact()


# --- the offer link ------------------------------------------------------------------------


async def test_an_offer_by_value_is_read_from_the_link_without_any_request(
        issuer: FakeIssuer) -> None:
    got = await fetch_offer(offer().to_uri(), issuer.http)
    assert got == offer()
    assert issuer.transport.requests == []


async def test_an_offer_by_reference_is_fetched_from_the_uri_it_names(
        issuer: FakeIssuer) -> None:
    link = ("openid-credential-offer://?credential_offer_uri="
            + quote(f"{ISSUER_URL}/offers/1", safe=""))
    got = await fetch_offer(link, issuer.http)
    assert got == parse_offer(issuer.offer_json)
    assert [(r.method, r.url) for r in issuer.transport.requests] == [
        ("GET", f"{ISSUER_URL}/offers/1")]


@pytest.mark.parametrize(("body", "status", "code"), [
    (b"<html>gone</html>", 404, "oid4vci.bad_response"),
    (b"[1, 2]", 200, "oid4vci.bad_response"),
    (b'{"a": 1, "a": 2}', 200, "oid4vci.bad_response"),
    (b'{"credential_issuer": "https://x.example"}', 200, "oid4vci.invalid_offer"),
])
async def test_a_bad_offer_by_reference_gives_only_our_codes(
        issuer: FakeIssuer, body: bytes, status: int, code: str) -> None:
    issuer.overrides[("GET", "/offers/1")] = lambda _: Response(status, body)
    link = "openid-credential-offer://?credential_offer_uri=" + quote(
        f"{ISSUER_URL}/offers/1", safe="")
    err = await refused(fetch_offer(link, issuer.http), code)
    assert isinstance(err, Oid4vciError)


# --- the good path ------------------------------------------------------------------------


async def test_a_good_offer_yields_n_copies_each_bound_to_its_own_fresh_key(
        issuer: FakeIssuer, registry: FakeRegistry) -> None:
    got = await redeem(issuer, registry, copies=3)
    assert (got.issuer_url, got.configuration_id, got.vct) == (ISSUER_URL, CONFIG, VCT)
    assert got.claims == CLAIMS
    assert got.accredited is True
    assert got.issuer_display == [{"name": "Gemeente Gent", "locale": "nl"}]
    assert got.credential_display == [{"name": "Identiteit", "locale": "nl"}]
    assert len(got.copies) == 3
    assert [c.credential for c in got.copies] == issuer.issued
    holder_jwks = [c.holder_key.public_key.to_jwk() for c in got.copies]
    assert len({json.dumps(j, sort_keys=True) for j in holder_jwks}) == 3
    assert holder_jwks == issuer.proofs_seen  # one proof per key, in order
    for copy in got.copies:
        payload = decode_unverified_payload(parse(copy.credential))
        assert payload["cnf"]["jwk"] == copy.holder_key.public_key.to_jwk()
        assert copy.verified.disclosed == CLAIMS
        assert copy.verified.status == STATUS
        assert copy.verified.iss == ISSUER_DID


async def test_the_steps_go_to_the_issuers_own_endpoints_in_order(
        issuer: FakeIssuer, registry: FakeRegistry) -> None:
    await redeem(issuer, registry, copies=2)
    assert [(r.method, r.url) for r in issuer.transport.requests] == [
        ("GET", f"{ISSUER_URL}/.well-known/openid-credential-issuer"),
        ("GET", f"{ISSUER_URL}/.well-known/oauth-authorization-server"),
        ("POST", f"{ISSUER_URL}/token"),
        ("POST", f"{ISSUER_URL}/nonce"),
        ("POST", f"{ISSUER_URL}/credential"),
    ]
    token = issuer.transport.requests[2]
    assert parse_qs((token.body or b"").decode()) == {
        "grant_type": [PRE_AUTH_GRANT], "pre-authorized_code": [CODE], "tx_code": [PIN]}
    credential = issuer.transport.requests[4]
    assert credential.headers["Authorization"] == f"Bearer {ACCESS}"
    assert credential.headers["Content-Type"] == "application/json"
    assert all(r.max_bytes == MAX_RESPONSE for r in issuer.transport.requests)


async def test_each_copy_is_checked_against_the_registry_on_its_issuance_day(
        issuer: FakeIssuer, registry: FakeRegistry) -> None:
    await redeem(issuer, registry, copies=3)
    day = T0 - T0 % 86400
    assert registry.asked == [IssuerKeyRef(ISSUER_DID, KID, day)] * 3


@pytest.mark.parametrize(("batch", "asked", "made"), [(4, 10, 4), (4, 2, 2), (1, 10, 1),
                                                     (4, 0, 1)])
async def test_the_number_of_proofs_is_what_was_asked_capped_by_the_batch_size(
        issuer: FakeIssuer, registry: FakeRegistry, batch: int, asked: int, made: int) -> None:
    issuer.batch_size = batch
    got = await redeem(issuer, registry, copies=asked)
    assert len(got.copies) == len(issuer.proofs_seen) == made


async def test_the_proofs_carry_the_nonce_the_audience_and_the_wallets_time(
        issuer: FakeIssuer, registry: FakeRegistry) -> None:
    await redeem(issuer, registry, copies=2)
    assert issuer.proof_payloads == [{"aud": ISSUER_URL, "iat": T0, "nonce": NONCE}] * 2


async def test_without_a_nonce_endpoint_the_proofs_carry_no_nonce(
        issuer: FakeIssuer, registry: FakeRegistry) -> None:
    issuer.with_nonce_endpoint = False
    got = await redeem(issuer, registry, copies=2)
    assert ("POST", "/nonce") not in issuer.paths()
    assert issuer.proof_payloads == [{"aud": ISSUER_URL, "iat": T0}] * 2
    assert len(got.copies) == 2


async def test_an_offer_without_a_pin_sends_no_tx_code(
        issuer: FakeIssuer, registry: FakeRegistry) -> None:
    issuer.overrides[("POST", "/token")] = lambda r: answer(
        {"access_token": ACCESS, "token_type": "bearer"})
    await redeem(issuer, registry, pin=None, the_offer=offer(tx_code=None))
    token = issuer.transport.requests[2]
    assert "tx_code" not in parse_qs((token.body or b"").decode())


async def test_an_accreditation_the_registry_cannot_confirm_is_not_claimed(
        issuer: FakeIssuer, registry: FakeRegistry) -> None:
    registry.accreditations.clear()
    assert (await redeem(issuer, registry)).accredited is False
    registry.accreditations.add((ISSUER_DID, VCT))
    registry.accreditation_error = ClientError("node down")
    assert (await redeem(issuer, registry)).accredited is False


# --- the PIN and the token -----------------------------------------------------------------


async def test_a_wrong_pin_is_the_issuers_invalid_grant(
        issuer: FakeIssuer, registry: FakeRegistry) -> None:
    err = await refused(redeem(issuer, registry, pin="000000"), "oid4vci.invalid_grant")
    assert isinstance(err, Oid4vciError)
    assert "wrong PIN" in err.detail
    assert issuer.paths()[-1] == ("POST", "/token")  # nothing asked after the refusal


@pytest.mark.parametrize("pin", [None, "12345", "12345a"])
async def test_a_pin_of_the_wrong_form_is_refused_before_any_request(
        issuer: FakeIssuer, registry: FakeRegistry, pin: str | None) -> None:
    await refused(redeem(issuer, registry, pin=pin), "oid4vci.tx_code_required")
    assert issuer.transport.requests == []


async def test_an_oauth_error_string_becomes_a_plain_code(
        issuer: FakeIssuer, registry: FakeRegistry) -> None:
    issuer.overrides[("POST", "/token")] = lambda _: answer(
        {"error": "Slow_Down!<b>", "error_description": "x" * 1000}, 429)
    err = await refused(redeem(issuer, registry), "oid4vci.slow_downb")
    assert len(err.detail) < 400


async def test_a_configuration_not_offered_is_refused_before_any_request(
        issuer: FakeIssuer, registry: FakeRegistry) -> None:
    await refused(redeem(issuer, registry, config_id="passport"),
                  "oid4vci.unknown_configuration")
    assert issuer.transport.requests == []


async def test_a_token_endpoint_outside_the_issuer_is_never_called(
        issuer: FakeIssuer, registry: FakeRegistry) -> None:
    issuer.overrides[("GET", "/.well-known/oauth-authorization-server")] = lambda _: answer(
        {"issuer": ISSUER_URL, "token_endpoint": "https://gemeente.keten.example.evil/token"})
    await refused(redeem(issuer, registry), "oid4vci.invalid_metadata")
    assert ("POST", "/token") not in issuer.paths()


async def test_metadata_naming_another_issuer_is_refused(
        issuer: FakeIssuer, registry: FakeRegistry) -> None:
    issuer.overrides[("GET", "/.well-known/openid-credential-issuer")] = lambda _: answer(
        {**issuer.metadata(), "credential_issuer": "https://other.keten.example"})
    await refused(redeem(issuer, registry), "oid4vci.issuer_mismatch")
    assert issuer.paths() == [("GET", "/.well-known/openid-credential-issuer")]


# --- the transport -------------------------------------------------------------------------


@pytest.mark.parametrize("path", [("GET", "/.well-known/openid-credential-issuer"),
                                  ("POST", "/credential")])
async def test_an_oversized_answer_is_a_bad_response(
        issuer: FakeIssuer, registry: FakeRegistry, path: tuple[str, str]) -> None:
    huge = b'{"pad": "' + b"x" * MAX_RESPONSE + b'"}'
    issuer.overrides[path] = lambda _: Response(200, huge)
    err = await refused(redeem(issuer, registry), "oid4vci.bad_response")
    assert isinstance(err, Oid4vciError)
    assert "larger than" in err.detail


async def test_an_unreachable_issuer_is_named_as_such(
        issuer: FakeIssuer, registry: FakeRegistry) -> None:
    def down(request: Request) -> Response:
        raise UnreachableError(f"{request.url}: connection refused")

    issuer.overrides[("GET", "/.well-known/openid-credential-issuer")] = down
    err = await refused(redeem(issuer, registry), "oid4vci.unreachable")
    assert isinstance(err, Oid4vciError)


ENDPOINTS = [("GET", "/.well-known/openid-credential-issuer"),
             ("GET", "/.well-known/oauth-authorization-server"),
             ("POST", "/token"), ("POST", "/nonce"), ("POST", "/credential")]


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize(("status", "body"), [
    (200, b"<html>hello</html>"), (200, b'["a list"]'), (200, b'{"a": 1, "a": 2}'),
    (200, b'{"n": NaN}'), (500, b"Internal Server Error"), (200, b"\xff\xfe{}"), (200, b""),
])
async def test_a_malformed_answer_at_any_step_gives_only_our_error(
        issuer: FakeIssuer, registry: FakeRegistry, path: tuple[str, str], status: int,
        body: bytes) -> None:
    issuer.overrides[path] = lambda _: Response(status, body)
    err = await refused(redeem(issuer, registry), "oid4vci.bad_response")
    assert type(err) is Oid4vciError
    assert issuer.paths()[-1] == path


@pytest.mark.parametrize(("path", "obj", "code"), [
    (("POST", "/token"), {"access_token": ACCESS}, "oid4vci.bad_response"),
    (("POST", "/token"), {"access_token": 12, "token_type": "Bearer"}, "oid4vci.bad_response"),
    (("POST", "/token"), {"access_token": ACCESS, "token_type": "DPoP"},
     "oid4vci.bad_response"),
    (("POST", "/nonce"), {"nonce": NONCE}, "oid4vci.bad_response"),
    (("POST", "/credential"), {"credential": "x"}, "oid4vci.bad_response"),
    (("POST", "/credential"), {"credentials": []}, "oid4vci.bad_response"),
    (("POST", "/credential"), {"credentials": [{"credential": 5}]}, "oid4vci.bad_response"),
    (("POST", "/credential"), {"credentials": [{"credential": "a"}] * 4},
     "oid4vci.bad_response"),
    (("GET", "/.well-known/oauth-authorization-server"), {"issuer": ISSUER_URL},
     "oid4vci.invalid_metadata"),
    (("GET", "/.well-known/openid-credential-issuer"), {"credential_issuer": ISSUER_URL},
     "oid4vci.invalid_metadata"),
])
async def test_a_json_answer_missing_what_the_step_needs_is_refused(
        issuer: FakeIssuer, registry: FakeRegistry, path: tuple[str, str],
        obj: dict[str, Any], code: str) -> None:
    issuer.overrides[path] = lambda _: answer(obj)
    await refused(redeem(issuer, registry, copies=3), code)


# --- copies that must be refused -----------------------------------------------------------


async def test_a_copy_signed_by_a_key_the_registry_does_not_hold_refuses_all(
        issuer: FakeIssuer, registry: FakeRegistry) -> None:
    def resign_last(tokens: list[str], jwks: list[dict[str, str]]) -> list[str]:
        return [*tokens[:-1], issued_by(ATTACKER, ISSUER_DID + "#key-2", jwks[-1])]

    issuer.tamper = resign_last
    await refused(redeem(issuer, registry, copies=3), "registry.key_not_valid")
    assert [r.kid for r in registry.asked] == [KID, KID, ISSUER_DID + "#key-2"]


async def test_a_copy_signed_by_another_key_under_the_registered_kid_is_refused(
        issuer: FakeIssuer, registry: FakeRegistry) -> None:
    def forge_first(tokens: list[str], jwks: list[dict[str, str]]) -> list[str]:
        return [issued_by(ATTACKER, KID, jwks[0]), *tokens[1:]]

    issuer.tamper = forge_first
    await refused(redeem(issuer, registry, copies=3), "jose.bad_signature")


async def test_copies_whose_claims_differ_are_inconsistent(
        issuer: FakeIssuer, registry: FakeRegistry) -> None:
    def other_name(tokens: list[str], jwks: list[dict[str, str]]) -> list[str]:
        return [*tokens[:-1], issued_by(ISSUER_KEY, KID, jwks[-1],
                                        claims={**CLAIMS, "given_name": "Anouk"})]

    issuer.tamper = other_name
    await refused(redeem(issuer, registry, copies=3), "oid4vci.inconsistent_copies")


async def test_a_copy_of_another_type_is_refused(
        issuer: FakeIssuer, registry: FakeRegistry) -> None:
    def other_type(tokens: list[str], jwks: list[dict[str, str]]) -> list[str]:
        return [*tokens[:-1], issued_by(ISSUER_KEY, KID, jwks[-1], vct=OTHER_VCT)]

    issuer.tamper = other_type
    await refused(redeem(issuer, registry, copies=2), "oid4vci.wrong_type")


async def test_copies_in_another_order_than_the_proofs_are_wrongly_bound(
        issuer: FakeIssuer, registry: FakeRegistry) -> None:
    issuer.tamper = lambda tokens, _: tokens[::-1]
    await refused(redeem(issuer, registry, copies=2), "oid4vci.wrong_binding")


async def test_a_copy_bound_to_a_key_the_wallet_did_not_make_is_refused(
        issuer: FakeIssuer, registry: FakeRegistry) -> None:
    stranger = Ed25519PrivateKey.generate().public_key.to_jwk()
    issuer.tamper = lambda tokens, _: [*tokens[:-1], issued_by(ISSUER_KEY, KID, stranger)]
    await refused(redeem(issuer, registry, copies=2), "oid4vci.wrong_binding")


async def test_a_copy_without_a_status_reference_is_refused(
        issuer: FakeIssuer, registry: FakeRegistry) -> None:
    issuer.status = None
    await refused(redeem(issuer, registry), "oid4vci.no_status")


async def test_a_copy_whose_status_list_is_not_on_the_registry_is_refused(
        issuer: FakeIssuer, registry: FakeRegistry) -> None:
    """A status list elsewhere would never be fetched by a registry client: refused."""
    issuer.status = StatusRef(7, "https://tracker.example/status/gemeente-1")
    with pytest.raises(SsiError) as err:
        await redeem(issuer, registry)
    assert err.value.code == "oid4vci.status_not_on_registry"


async def test_a_copy_that_is_not_an_sd_jwt_is_refused_with_a_core_code(
        issuer: FakeIssuer, registry: FakeRegistry) -> None:
    issuer.tamper = lambda tokens, _: [*tokens[:-1], "not-a-credential"]
    with pytest.raises(SsiError) as err:
        await redeem(issuer, registry, copies=2)
    assert err.value.code.split(".")[0] in {"sdjwt", "jose", "json", "b64", "vc"}


async def test_an_expired_copy_is_refused(
        issuer: FakeIssuer, registry: FakeRegistry) -> None:
    def expired(tokens: list[str], jwks: list[dict[str, str]]) -> list[str]:
        old = issue_vc(issuer=ISSUER_DID, kid=KID, key=ISSUER_KEY, vct=VCT, claims=CLAIMS,
                       holder_jwk=jwks[0], now=T0 - 10 * 86400, validity=86400,
                       status=STATUS).compact()
        return [old, *tokens[1:]]

    issuer.tamper = expired
    with pytest.raises(SsiError) as err:
        await redeem(issuer, registry, copies=2)
    assert "expired" in err.value.code
