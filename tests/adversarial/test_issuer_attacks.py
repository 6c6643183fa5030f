"""Bad input against the issuer's endpoints: a clear OAuth-style error, and nothing changes.

Each refused request is followed by the check that matters: the database holds no
credential and no taken status index, and the same access token still works afterwards.
"""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from ssiwallet.core.b64 import b64u_encode
from ssiwallet.core.jws import sign_compact
from ssiwallet.core.keys import Ed25519PrivateKey, P256PrivateKey
from ssiwallet.core.oid4vci import PRE_AUTH_GRANT, PROOF_TYP, make_proof, parse_offer_uri

pytestmark = pytest.mark.asyncio

DIPLOMA = {"holder_name": "An Peeters", "title": "Master in de informatica", "eqf_level": 7,
           "field_of_study": "Informatica", "awarded_on": "2023-09-15",
           "institution": "Hogeschool Gent"}
CONFIG = "diploma_dc_sd_jwt"


@dataclass
class Flow:
    """One offer on a served issuer, driven step by step like a (possibly hostile) wallet."""

    school: Any
    session: aiohttp.ClientSession
    code: str
    pin: str

    @property
    def url(self) -> str:
        return str(self.school.url)

    @property
    def clock(self) -> Any:
        return self.school.registry.clock

    async def call(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any, Any]:
        async with self.session.request(method, self.url + path, **kwargs) as resp:
            raw = await resp.read()
            assert resp.status != 500, raw[:300]
            assert resp.content_type == "application/json", raw[:300]
            return resp.status, json.loads(raw), resp.headers

    async def token(self, **form: str) -> tuple[int, Any]:
        data = {"grant_type": PRE_AUTH_GRANT, "pre-authorized_code": self.code,
                "tx_code": self.pin, **form}
        status, body, _ = await self.call("POST", "/token", data=data)
        return status, body

    async def nonce(self) -> str:
        status, body, headers = await self.call("POST", "/nonce")
        assert status == 200 and headers["Cache-Control"] == "no-store"
        return str(body["c_nonce"])

    async def credential(self, access: str | None, body: object = None, **kwargs: Any
                         ) -> tuple[int, Any, Any]:
        headers = {"Authorization": f"Bearer {access}"} if access else {}
        headers.update(kwargs.pop("headers", {}))
        if body is not None:
            kwargs["json"] = body
        return await self.call("POST", "/credential", headers=headers, **kwargs)

    def request(self, proofs: list[str], config: str = CONFIG) -> dict[str, Any]:
        return {"credential_configuration_id": config, "proofs": {"jwt": proofs}}

    def proofs(self, nonce: str | None, n: int = 2, **changes: Any) -> list[str]:
        keys = [Ed25519PrivateKey.generate() for _ in range(n)]
        return [make_proof(k, aud=changes.get("aud", self.url), nonce=nonce,
                           iat=changes.get("iat", self.clock())) for k in keys]

    def unchanged(self) -> None:
        """Nothing was issued: no credential row, no status index taken."""
        conn = self.school.ctx.store.conn
        assert conn.execute("SELECT count(*) FROM credentials").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM status_indices").fetchone()[0] == 0


@pytest_asyncio.fixture
async def flow(registry_node: Any, issuer_service: Any) -> AsyncIterator[Flow]:
    reg = await registry_node()
    school = await issuer_service(reg, batch_size=3)
    created = await school.offer(DIPLOMA)
    offer = parse_offer_uri(created["offer_uri"])
    assert not isinstance(offer, str)
    async with aiohttp.ClientSession() as session:
        yield Flow(school, session, offer.pre_authorized_code, created["tx_code"])


# ---------------------------------------------------------------------------- token endpoint


@pytest.mark.parametrize(("form", "error", "code"), [
    ({"pre-authorized_code": "not-a-code-we-gave-out"}, "invalid_grant", "issuer.unknown_code"),
    ({"grant_type": "authorization_code"}, "unsupported_grant_type",
     "issuer.unsupported_grant_type"),
    ({"pre-authorized_code": ""}, "invalid_request", "issuer.missing_code"),
])
async def test_token_refusals(flow: Flow, form: dict[str, str], error: str, code: str) -> None:
    status, body = await flow.token(**form)
    assert (status, body["error"], body["code"]) == (400, error, code)
    status, _ = await flow.token()  # the real code still works: nothing was used up
    assert status == 200


async def test_missing_pin_is_invalid_request_and_costs_no_attempt(flow: Flow) -> None:
    async with flow.session.post(flow.url + "/token", data={
            "grant_type": PRE_AUTH_GRANT, "pre-authorized_code": flow.code}) as resp:
        body = await resp.json()
    assert (resp.status, body["error"], body["code"]) == (
        400, "invalid_request", "issuer.missing_tx_code")
    assert flow.school.ctx.store.offers()[0].attempts == 0


async def test_wrong_pins_lock_the_offer_and_forget_its_claims(flow: Flow) -> None:
    wrong = f"{(int(flow.pin) + 1) % 10**6:06d}"
    for left in (4, 3, 2, 1):
        status, body = await flow.token(tx_code=wrong)
        assert (status, body["error"], body["code"]) == (400, "invalid_grant",
                                                         "issuer.wrong_tx_code")
        assert f"{left} attempts left" in body["error_description"]
    status, body = await flow.token(tx_code=wrong)
    assert (status, body["code"]) == (400, "issuer.tx_code_locked")
    status, body = await flow.token()  # even the right PIN now
    assert (status, body["error"], body["code"]) == (400, "invalid_grant",
                                                     "issuer.tx_code_locked")
    offer = flow.school.ctx.store.offers()[0]
    assert (offer.state, offer.sealed, offer.attempts) == ("locked", None, 5)


async def test_a_pre_authorized_code_is_single_use(flow: Flow) -> None:
    assert (await flow.token())[0] == 200
    status, body = await flow.token()
    assert (status, body["error"], body["code"]) == (400, "invalid_grant", "issuer.code_used")


@pytest.mark.parametrize("send", ["json", "duplicate", "garbage", "huge"])
async def test_malformed_token_requests(flow: Flow, send: str) -> None:
    form = f"grant_type={PRE_AUTH_GRANT}&pre-authorized_code={flow.code}&tx_code={flow.pin}"
    requests: dict[str, dict[str, Any]] = {
        "json": {"json": {"grant_type": PRE_AUTH_GRANT}},
        "duplicate": {"data": form + "&tx_code=000000",
                      "headers": {"Content-Type": "application/x-www-form-urlencoded"}},
        "garbage": {"data": b"\xff\xfe=%%%", "headers": {
            "Content-Type": "application/x-www-form-urlencoded"}},
        "huge": {"data": io.BytesIO(b"a=" + b"x" * (2 << 20)), "headers": {
            "Content-Type": "application/x-www-form-urlencoded"}},
    }
    kwargs = requests[send]
    status, body, _ = await flow.call("POST", "/token", **kwargs)
    assert status == (413 if send == "huge" else 400)
    assert body["error"] == "invalid_request" and body["code"]
    assert (await flow.token())[0] == 200


# ---------------------------------------------------------------------------- credential endpoint


async def test_credential_request_needs_an_access_token(flow: Flow) -> None:
    for access in (None, "forged-token"):
        status, body, headers = await flow.credential(access, flow.request(flow.proofs(None)))
        assert (status, body["error"], body["code"]) == (401, "invalid_token",
                                                         "issuer.invalid_token")
        assert headers["WWW-Authenticate"].startswith("Bearer")


def _bad_requests(flow: Flow, nonce: str) -> list[tuple[str, Any, str, str]]:
    key = Ed25519PrivateKey.generate()
    good = flow.proofs(nonce, 1)[0]

    def proof(header: dict[str, Any], payload: dict[str, Any], signer: Any = key) -> str:
        return sign_compact(header, payload, signer)

    base = {"aud": flow.url, "iat": flow.clock(), "nonce": nonce}
    jwk = key.public_key.to_jwk()
    none_alg = (b64u_encode(json.dumps({"alg": "none", "typ": PROOF_TYP, "jwk": jwk}).encode())
                + "." + b64u_encode(json.dumps(base).encode()) + ".")
    return [
        ("missing proofs", {"credential_configuration_id": CONFIG}, "invalid_proof",
         "issuer.invalid_proof"),
        ("no nonce", flow.request(flow.proofs(None, 1)), "invalid_proof", "issuer.missing_nonce"),
        ("forged nonce", flow.request(flow.proofs(b64u_encode(b"x" * 40), 1)), "invalid_nonce",
         "issuer.invalid_nonce"),
        ("wrong aud", flow.request(flow.proofs(nonce, 1, aud="https://evil.example")),
         "invalid_proof", "issuer.invalid_proof"),
        ("stale iat", flow.request(flow.proofs(nonce, 1, iat=flow.clock() - 3600)),
         "invalid_proof", "issuer.invalid_proof"),
        ("wrong typ", flow.request([proof({"typ": "JWT", "jwk": jwk}, base)]), "invalid_proof",
         "issuer.invalid_proof"),
        ("private jwk", flow.request([proof({"typ": PROOF_TYP, "jwk": key.to_private_jwk()},
                                            base)]), "invalid_proof", "issuer.invalid_proof"),
        ("key of another", flow.request([proof({"typ": PROOF_TYP, "jwk": jwk}, base,
                                               Ed25519PrivateKey.generate())]),
         "invalid_proof", "issuer.invalid_proof"),
        ("alg none", flow.request([none_alg]), "invalid_proof", "issuer.invalid_proof"),
        ("same key twice", flow.request([good, good]), "invalid_proof", "issuer.invalid_proof"),
        ("batch too big", flow.request(flow.proofs(nonce, 4)), "invalid_proof",
         "issuer.invalid_proof"),
        ("iss present", flow.request([proof({"typ": PROOF_TYP, "jwk": jwk},
                                            {**base, "iss": "wallet"})]),
         "invalid_proof", "issuer.invalid_proof"),
        ("unknown configuration", flow.request([good], "no_such_config"),
         "unknown_credential_configuration", "issuer.unknown_configuration"),
        ("credential identifier", {"credential_identifier": "x", "proofs": {"jwt": [good]}},
         "unknown_credential_identifier", "issuer.unknown_credential_identifier"),
        ("encryption asked", {**flow.request([good]), "credential_response_encryption": {}},
         "invalid_encryption_parameters", "issuer.no_encryption"),
        ("not an object", [1, 2], "invalid_credential_request",
         "issuer.invalid_credential_request"),
        ("proofs of two types", {"credential_configuration_id": CONFIG,
                                 "proofs": {"jwt": [good], "attestation": ["x"]}},
         "invalid_proof", "issuer.invalid_proof"),
    ]


async def test_every_bad_credential_request_is_refused_and_changes_nothing(flow: Flow) -> None:
    status, token = await flow.token()
    assert status == 200
    access = token["access_token"]
    nonce = await flow.nonce()
    for name, body, error, code in _bad_requests(flow, nonce):
        status, answer, _ = await flow.credential(access, body)
        assert (status, answer["error"], answer["code"]) == (400, error, code), name
        flow.unchanged()
    for raw in (b"{not json", b'{"a":1,"a":2}', b"\xff"):
        status, answer, _ = await flow.credential(
            access, data=raw, headers={"Content-Type": "application/json"})
        assert (status, answer["error"]) == (400, "invalid_credential_request"), raw
    flow.unchanged()
    status, answer, _ = await flow.credential(access, flow.request(flow.proofs(nonce, 3)))
    assert status == 200 and len(answer["credentials"]) == 3


async def test_stale_and_reused_nonces(flow: Flow, issuer_service: Any) -> None:
    _, token = await flow.token()
    old = await flow.nonce()
    flow.clock.advance(301)
    status, body, _ = await flow.credential(token["access_token"],
                                            flow.request(flow.proofs(old)))
    assert (status, body["error"]) == (400, "invalid_nonce")
    flow.unchanged()
    nonce = await flow.nonce()
    status, _, _ = await flow.credential(token["access_token"], flow.request(flow.proofs(nonce)))
    assert status == 200
    # a second offer: the first request's nonce is spent
    second = await flow.school.offer(DIPLOMA)
    offer = parse_offer_uri(second["offer_uri"])
    assert not isinstance(offer, str)
    again = Flow(flow.school, flow.session, offer.pre_authorized_code, second["tx_code"])
    _, token2 = await again.token()
    status, body, _ = await again.credential(token2["access_token"],
                                             again.request(again.proofs(nonce)))
    assert (status, body["error"], body["code"]) == (400, "invalid_nonce",
                                                     "issuer.invalid_nonce")
    # and the access token of the first offer fetched its one batch
    status, body, _ = await flow.credential(token["access_token"],
                                            flow.request(flow.proofs(await flow.nonce())))
    assert (status, body["error"]) == (401, "invalid_token")


async def test_p256_holder_keys_and_did_key_kids_are_accepted(flow: Flow) -> None:
    from ssiwallet.core.didkey import did_key_from_public

    _, token = await flow.token()
    nonce = await flow.nonce()
    p256 = make_proof(P256PrivateKey.generate(), aud=flow.url, nonce=nonce, iat=flow.clock())
    ed = Ed25519PrivateKey.generate()
    did = did_key_from_public(ed.public_key)
    by_kid = sign_compact({"typ": PROOF_TYP, "kid": f"{did}#{did.split(':')[2]}"},
                          {"aud": flow.url, "iat": flow.clock(), "nonce": nonce}, ed)
    status, body, _ = await flow.credential(token["access_token"],
                                            flow.request([p256, by_kid]))
    assert status == 200 and len(body["credentials"]) == 2


# ---------------------------------------------------------------------------- admin API


async def test_admin_api_refuses_without_the_clerks_token(flow: Flow) -> None:
    for token in ("wrong-token-wrong-token", ""):
        status, body = await flow.school.admin("GET", "/admin/credentials", token=token or "x")
        assert (status, body["error"]) == (401, "issuer.unauthorized")


async def test_claims_violating_the_schema_are_listed_and_no_offer_is_made(flow: Flow) -> None:
    before = len(flow.school.ctx.store.offers())
    bad = {**DIPLOMA, "eqf_level": 9, "awarded_on": "2023-02-30", "hobby": "chess"}
    del bad["title"]
    status, body = await flow.school.admin("POST", "/admin/offers", {
        "credential_configuration_id": CONFIG, "claims": bad})
    assert (status, body["error"]) == (422, "credtype.invalid_claims")
    paths = sorted(p["path"] for p in body["problems"])
    assert paths == ["awarded_on", "eqf_level", "hobby", "title"]
    assert all("chess" not in p["message"] for p in body["problems"])
    assert len(flow.school.ctx.store.offers()) == before
    for payload in ({"credential_configuration_id": "nope", "claims": DIPLOMA},
                    {"credential_configuration_id": CONFIG, "claims": "text"}, [1]):
        status, body = await flow.school.admin("POST", "/admin/offers", payload)
        assert status in (400, 404, 422) and body["error"]
    assert len(flow.school.ctx.store.offers()) == before
