"""Hostile wallets against the verifier's HTTP endpoints (SECURITY-TESTS.md items 1–15).

A registry node, an accredited municipality and a verifier run on loopback, and the wallet
holds real identity credentials. Each test starts a session, reads the request object at its
``request_uri`` and posts a crafted ``direct_post`` form to ``/response``; where an attack
needs a valid issuer signature, the forged payload is re-signed with the issuer's registered
key, so the refusal is the check's. Every attack ends in a 400 ``invalid_request`` JSON error
(malformed form or ``vp_token``, session untouched) or a 200 receipt saying ``rejected`` with
the expected code, which the desk view shows on the failing check; never a 500, never
``accepted``. Each test ends by showing that an honest wallet is still accepted and that
nothing connected to the local trap servers.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import io
import json
import secrets
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web

from ssiwallet.core.b64 import b64u_decode, b64u_encode
from ssiwallet.core.dcql_match import Candidate
from ssiwallet.core.keys import Ed25519PrivateKey, P256PrivateKey, PrivateKey
from ssiwallet.core.oid4vp import parse_request_object, parse_request_uri
from ssiwallet.core.receipt import parse_post_answer, parse_receipt
from ssiwallet.core.sdjwt import make_disclosure, parse, parse_disclosure, random_salt
from ssiwallet.core.sdjwt.disclosure import digest
from ssiwallet.holder.present import prepare, send
from ssiwallet.holder.receive import ReceivedCredential, fetch_offer, receive
from tests.support.paths import VECTORS

pytestmark = pytest.mark.asyncio
P = pytest.param

IDENTITY = {"given_name": "Noor", "family_name": "Bakker", "birthdate": "2000-05-17",
            "address": {"street_address": "Korenmarkt 3", "postal_code": "9000",
                        "locality": "Gent", "country": "BE"}}
AGE = "age_over_18"
FORM = "application/x-www-form-urlencoded"
DROP = object()

ED25519_ORDER = 2**252 + 27742317777372353535851937790883648493
B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
ATTACKER = Ed25519PrivateKey.generate()
P256_ATTACKER = P256PrivateKey.generate()

# ------------------------------------------------------------------------ crafting helpers


def dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"))


def enc(text: str | bytes) -> str:
    return b64u_encode(text.encode() if isinstance(text, str) else text)


def with_raw(obj: dict[str, Any], name: str, raw: str) -> str:
    """``obj`` as compact JSON plus one member written verbatim (duplicates, NaN, …)."""
    return dumps(obj)[:-1] + f',"{name}":{raw}}}'


def jws_raw(header: str, payload: str, key: PrivateKey) -> str:
    """A compact JWS over exactly these header and payload texts, signed with ``key``."""
    signing_input = f"{enc(header)}.{enc(payload)}"
    return f"{signing_input}.{b64u_encode(key.sign(signing_input.encode('ascii')))}"


def resignature(jwt: str, change: Callable[[bytes], bytes]) -> str:
    """``jwt`` with its signature bytes replaced by ``change(signature)``."""
    head, sig = jwt.rsplit(".", 1)
    return f"{head}.{b64u_encode(change(b64u_decode(sig)))}"


def raw_disclosure(name: str, value_json: str) -> str:
    """A disclosure from hand-written JSON (reserved names, duplicates, surrogates …)."""
    return enc(f'["{random_salt()}","{name}",{value_json}]')


def awkward_age_disclosure() -> str:
    """An ``age_over_18`` disclosure whose encoding needs ``=`` padding and whose standard
    base64 spelling has ``+`` or ``/``. (Base64 of ASCII only reaches ``-``/``_`` at a byte
    like ``?``, so the salt, which may be any string, carries some.)"""
    while True:
        encoded = enc(dumps([random_salt() + "?" * secrets.choice((1, 2, 4)), AGE, True]))
        if len(encoded) % 4 and ("-" in encoded or "_" in encoded):
            return encoded


@dataclass(frozen=True)
class Asked:
    """A started session as the wallet sees it after fetching the request object."""

    id: str
    nonce: str
    state: str
    client_id: str


def form(a: Asked, *shown: str) -> dict[str, str]:
    return {"vp_token": dumps({"identity": list(shown)}), "state": a.state}


@dataclass
class World:
    reg: Any
    town: Any
    desk: Any
    http: aiohttp.ClientSession
    identity: ReceivedCredential
    trap: str  # a local HTTP server: every request it gets lands in ``hits``
    hits: list[str]
    dial_port: int  # a local TCP listener: every connection lands in ``dials``
    dials: list[int]

    @property
    def now(self) -> int:
        return int(self.reg.clock())

    def disclosure(self, name: str, n: int = 0) -> str:
        return next(d for d in parse(self.identity.copies[n].credential).disclosures
                    if parse_disclosure(d).name == name)

    @property
    def age(self) -> str:
        return self.disclosure(AGE)

    def header(self, **changes: Any) -> dict[str, Any]:
        protected = parse(self.identity.copies[0].credential).signatures[0].protected
        return {**json.loads(b64u_decode(protected)), **changes}

    def payload(self, **changes: Any) -> dict[str, Any]:
        out = {**json.loads(parse(self.identity.copies[0].credential).payload_bytes), **changes}
        return {k: v for k, v in out.items() if v is not DROP}

    def sd_plus(self, *encoded: str, minus: str | None = None) -> list[str]:
        return [d for d in self.payload()["_sd"] if d != minus] + [digest(e) for e in encoded]

    def genuine(self, *disclosures: str) -> str:
        """The issuer's own JWT of copy 0 with these disclosures (``~``-terminated)."""
        jwt = parse(self.identity.copies[0].credential).issuer_jwt
        return "".join([jwt, "~", *(d + "~" for d in disclosures)])

    def forge(self, *, payload: dict[str, Any] | str | None = None,
              header: dict[str, Any] | str | None = None, key: PrivateKey | None = None,
              disclosures: Sequence[str] | None = None) -> str:
        """``<issuer JWT>~<D1>~…~`` re-signed (by the issuer's registered key by default)."""
        p = payload if isinstance(payload, str) else dumps(payload or self.payload())
        h = header if isinstance(header, str) else dumps(header or self.header())
        jwt = jws_raw(h, p, key or self.town.controller.key)
        shown = [self.age] if disclosures is None else disclosures
        return "".join([jwt, "~", *(d + "~" for d in shown)])

    def kb_claims(self, a: Asked, sd: str) -> dict[str, Any]:
        return {"nonce": a.nonce, "aud": a.client_id, "iat": self.now, "sd_hash": digest(sd)}

    def kb(self, sd: str, a: Asked, *, key: PrivateKey | None = None,
           header: dict[str, Any] | str | None = None, payload: str | None = None,
           **claims: Any) -> str:
        """Append a KB-JWT for this session (by copy 0's holder key by default)."""
        body = payload or dumps({**self.kb_claims(a, sd), **claims})
        head = header if isinstance(header, str) else dumps(
            {"alg": "EdDSA", "typ": "kb+jwt", **(header or {})})
        return sd + jws_raw(head, body, key or self.identity.copies[0].holder_key)

    def present(self, a: Asked, **forged: Any) -> list[str]:
        """A forged issuer JWT with a valid KB-JWT over it."""
        return [self.kb(self.forge(**forged), a)]

    def shown(self, a: Asked, *extra: str, **kb: Any) -> list[str]:
        """The genuine credential showing ``age_over_18`` (and ``extra``), KB-JWT per ``kb``."""
        return [self.kb(self.genuine(self.age, *extra), a, **kb)]

    async def ask(self) -> Asked:
        started = await self.desk.start("age18")
        _, request_uri = parse_request_uri(started["uri"])
        async with self.http.get(request_uri) as resp:
            request = parse_request_object(await resp.text())
        assert request.client_id == self.desk.ctx.client_id
        return Asked(started["id"], request.nonce, request.state, request.client_id)

    async def post(self, path: str, data: dict[str, str] | bytes, ctype: str = FORM
                   ) -> tuple[int, dict[str, Any], bytes]:
        body = urlencode(data).encode() if isinstance(data, dict) else data
        stream = io.BytesIO(body) if len(body) > 1 << 20 else body
        async with self.http.post(self.desk.url + path, data=stream,
                                  headers={"Content-Type": ctype}) as resp:
            raw = await resp.read()
            status, rtype = resp.status, resp.content_type
        assert status != 500, raw[:300]
        assert rtype == "application/json", (status, raw[:300])
        return status, json.loads(raw), raw

    async def still_serving(self) -> None:
        """Nothing reached the traps, and an honest wallet (prepare/send) is accepted."""
        assert self.hits == [] and self.dials == []
        started = await self.desk.start("age18")
        c = self.identity.copies[-1]
        async with self.town.client() as registry:
            plan = await prepare(started["uri"], candidates=[Candidate(
                "identity", "dc+sd-jwt", self.identity.vct, self.identity.claims)],
                session=self.http, registry=registry, clock=self.reg.clock)
            result = await send(plan, copies={"identity": (c.credential, c.holder_key)},
                                session=self.http, registry=registry, clock=self.reg.clock)
        assert result.accepted and result.reasons == []
        assert (await self.desk.result(started["id"]))["result"]["ok"] is True


async def accepted(w: World, a: Asked, data: dict[str, str]) -> None:
    status, body, raw = await w.post("/response", data)
    assert status == 200, body
    assert parse_receipt(parse_post_answer(raw).receipt).result == "accepted", body
    assert (await w.desk.result(a.id))["result"]["ok"] is True


async def refused(w: World, a: Asked, data: dict[str, str], check: str, code: str) -> None:
    """200 with a ``rejected`` receipt naming ``code``; the desk shows ``check`` failing."""
    status, body, raw = await w.post("/response", data)
    assert status == 200, body
    receipt = parse_receipt(parse_post_answer(raw).receipt)
    assert (receipt.result, receipt.received, receipt.retention) == ("rejected", (), 0)
    assert (receipt.nonce, receipt.state) == (a.nonce, a.state)
    assert code in body["keten_reasons"], body["keten_reasons"]
    view = await w.desk.result(a.id)
    assert (view["status"], view["result"]["ok"], view["result"]["claims"]) == (
        "answered", False, [])
    failed = {(c["check"], c["code"]) for c in view["result"]["checks"] if not c["ok"]}
    assert (check, code) in failed, failed
    assert code in {r["code"] for r in view["result"]["reasons"]}


async def malformed(w: World, a: Asked, data: dict[str, str] | bytes, code: str, *,
                    ctype: str = FORM) -> None:
    """A 400 OAuth-style JSON error; the session is untouched and still takes an answer."""
    status, body, _ = await w.post("/response", data, ctype)
    assert (status, body["error"], body["code"]) == (400, "invalid_request", code), body
    view = await w.desk.result(a.id)
    assert (view["status"], view["result"]) == ("fetched", None)
    await accepted(w, a, form(a, *w.shown(a)))


@pytest_asyncio.fixture
async def world(registry_node: Any, issuer_service: Any, verifier_service: Any,
                aiohttp_server: Any) -> AsyncIterator[World]:
    reg = await registry_node()
    town = await issuer_service(reg, profile="municipality", batch_size=4)
    desk = await verifier_service(reg, presets=["age18"])
    hits: list[str] = []
    dials: list[int] = []

    async def record(request: web.Request) -> web.Response:
        hits.append(f"{request.method} {request.path_qs}")
        return web.json_response({"keys": []})

    async def dialled(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        dials.append(1)
        writer.close()
        await writer.wait_closed()

    trap_app = web.Application()
    trap_app.router.add_route("*", "/{tail:.*}", record)
    trap = await aiohttp_server(trap_app)
    listener = await asyncio.start_server(dialled, "127.0.0.1", 0)
    try:
        async with aiohttp.ClientSession() as http:
            created = await town.offer(IDENTITY)
            async with town.client() as registry:
                identity = await receive(await fetch_offer(created["offer_uri"], http),
                                         tx_code=created["tx_code"], session=http,
                                         registry=registry, copies=4, clock=reg.clock)
            yield World(reg, town, desk, http, identity, f"http://{trap.host}:{trap.port}",
                        hits, listener.sockets[0].getsockname()[1], dials)
    finally:
        listener.close()
        await listener.wait_closed()


# ---------------------------------------------------------------------------- control


async def test_control_genuine_and_resigned_presentations_are_accepted(world: World) -> None:
    """The crafting tools make presentations the verifier accepts when nothing is wrong."""
    a = await world.ask()
    await accepted(world, a, form(a, *world.shown(a)))
    b = await world.ask()
    await accepted(world, b, form(b, *world.present(b)))  # the same payload, re-signed
    c = await world.ask()
    d = awkward_age_disclosure()
    await accepted(world, c, form(c, *world.present(c, payload=world.payload(
        _sd=world.sd_plus(d, minus=digest(world.age))), disclosures=[d])))
    await world.still_serving()


# ------------------------------------------------------- items 1–13: one flaw each

Build = Callable[[World, Asked], list[str]]


def _hmac_with_public_key(w: World, a: Asked) -> list[str]:
    signing_input = f"{enc(dumps(w.header(alg='HS256')))}.{enc(dumps(w.payload()))}"
    mac = hmac.new(w.town.controller.key.public_key.raw, signing_input.encode(),
                   hashlib.sha256).digest()
    return [w.kb(f"{signing_input}.{b64u_encode(mac)}~{w.age}~", a)]


def _hidden(w: World, a: Asked, name: str) -> list[str]:
    d = make_disclosure(random_salt(), name, w.payload()[name]).encoded
    return w.present(a, payload=w.payload(**{name: DROP, "_sd": w.sd_plus(d)}),
                     disclosures=[w.age, d])


def _extra(w: World, a: Asked, d: str) -> list[str]:
    return w.present(a, payload=w.payload(_sd=w.sd_plus(d)), disclosures=[w.age, d])


def _kb_over(w: World, a: Asked, signed: Sequence[str], sent: Sequence[str]) -> list[str]:
    """A KB-JWT signed over the disclosures ``signed``, sent with ``sent``."""
    return [w.genuine(*sent) + w.shown(a, *signed[1:])[0].rsplit("~", 1)[1]]


EXP = [("NaN", "NaN", "format", "json.non_finite"),
       ("Infinity", "Infinity", "format", "json.non_finite"),
       ("1e400", "1e400", "format", "json.non_finite"),
       ("string", '"123"', "signature", "sdjwt.invalid_time_claim"),
       ("5000-digits", "9" * 5000, "format", "json.number_too_long")]

SINGLE: list[Any] = [
    # 1. a digest listed twice
    P(lambda w, a: w.present(a, payload=w.payload(_sd=w.sd_plus(w.age))),
      "signature", "sdjwt.duplicate_digest", id="01-digest-twice-in-_sd"),
    P(lambda w, a: w.present(a, payload=w.payload(extra={"_sd": [digest(w.age)]})),
      "signature", "sdjwt.duplicate_digest", id="01-digest-in-two-objects"),
    # 2. an extra, unreferenced disclosure
    P(lambda w, a: w.shown(a, w.disclosure(AGE, 1)),
      "signature", "sdjwt.unreferenced_disclosure", id="02-disclosure-of-other-copy"),
    P(lambda w, a: w.shown(a, make_disclosure(random_salt(), "age_over_65", True).encoded),
      "signature", "sdjwt.unreferenced_disclosure", id="02-made-up-disclosure"),
    P(lambda w, a: w.shown(a, w.age), "signature", "sdjwt.duplicate_disclosure",
      id="02-same-disclosure-twice"),
    # 3. reserved names, and a disclosure colliding with a plaintext claim
    P(lambda w, a: _extra(w, a, raw_disclosure("_sd", '["AAAA"]')),
      "signature", "sdjwt.forbidden_claim_name", id="03-named-_sd"),
    P(lambda w, a: _extra(w, a, raw_disclosure("...", '"x"')),
      "signature", "sdjwt.forbidden_claim_name", id="03-named-dots"),
    P(lambda w, a: w.present(a, payload=w.payload(age_over_18=False)),
      "signature", "sdjwt.claim_exists", id="03-collides-with-plaintext"),
    # 5. algorithm and key confusion, keys offered in the header (never fetched)
    P(lambda w, a: w.present(a, header=w.header(alg="none")),
      "format", "jose.alg_not_allowed", id="05-alg-none"),
    P(lambda w, a: [w.kb(resignature(w.forge(header=w.header(alg="none")).split("~")[0],
                                     lambda sig: b"") + f"~{w.age}~", a)],
      "format", "sdjwt.malformed", id="05-alg-none-empty-signature"),
    P(_hmac_with_public_key, "format", "jose.alg_not_allowed", id="05-HS256-with-public-key"),
    P(lambda w, a: w.present(a, header=w.header(alg="ES256")),
      "signature", "jose.alg_key_mismatch", id="05-ES256-header-Ed25519-signature"),
    P(lambda w, a: w.present(a, key=P256_ATTACKER, header=w.header(alg="ES256")),
      "signature", "jose.alg_key_mismatch", id="05-ES256-by-P256-attacker"),
    P(lambda w, a: w.present(a, key=ATTACKER, header=w.header(jwk=ATTACKER.public_key.to_jwk())),
      "signature", "jose.header_key_refused", id="05-jwk-header"),
    P(lambda w, a: w.present(a, key=ATTACKER, header=w.header(jku=w.trap + "/jwks.json")),
      "signature", "jose.header_key_refused", id="05-jku-header"),
    P(lambda w, a: w.present(a, key=ATTACKER, header=w.header(x5u=w.trap + "/cert.pem")),
      "signature", "jose.header_key_refused", id="05-x5u-header"),
    P(lambda w, a: w.shown(a, key=ATTACKER, header={"jku": w.trap + "/jwks.json",
                                                    "jwk": ATTACKER.public_key.to_jwk()}),
      "key_binding", "jose.header_key_refused", id="05-jku-jwk-in-kb-header"),
    # 6. unknown crit
    P(lambda w, a: w.present(a, header=w.header(crit=["urn:x"], **{"urn:x": 1})),
      "format", "jose.unknown_crit", id="06-crit-in-issuer-header"),
    P(lambda w, a: w.shown(a, header={"crit": ["exp"]}),
      "key_binding", "jose.unknown_crit", id="06-crit-in-kb-header"),
    # 7. duplicate keys
    P(lambda w, a: w.present(a, header=with_raw(w.header(), "kid", dumps(w.header()["kid"]))),
      "format", "jose.malformed", id="07-dup-key-issuer-header"),
    P(lambda w, a: w.present(a, payload=with_raw(w.payload(), "iss", '"did:keten:' + "z" * 22
                                                 + '"')),
      "format", "json.duplicate_key", id="07-dup-key-payload"),
    P(lambda w, a: _extra(w, a, raw_disclosure("address",
                                               '{"locality":"Gent","locality":"Brussel"}')),
      "signature", "json.duplicate_key", id="07-dup-key-disclosure"),
    P(lambda w, a: w.shown(a, header='{"alg":"EdDSA","typ":"kb+jwt","typ":"kb+jwt"}'),
      "key_binding", "jose.malformed", id="07-dup-key-kb-header"),
    P(lambda w, a: w.shown(a, payload=with_raw(w.kb_claims(a, w.genuine(w.age)), "nonce",
                                               dumps(a.nonce))),
      "key_binding", "json.duplicate_key", id="07-dup-key-kb-payload"),
    # 8. hostile exp values in the (re-signed) issuer JWT
    *[P(lambda w, a, raw=raw: w.present(a, payload=with_raw(w.payload(exp=DROP), "exp", raw)),
        check, code, id=f"08-exp-{name}") for name, raw, check, code in EXP],
    # 9. a lone surrogate and deep nesting inside a disclosure and the KB-JWT
    P(lambda w, a: _extra(w, a, raw_disclosure("given_name", '"Ada\\ud800"')),
      "signature", "json.lone_surrogate", id="09-lone-surrogate-disclosure"),
    P(lambda w, a: _extra(w, a, raw_disclosure("x", "[" * 10_000 + "]" * 10_000)),
      "signature", "json.too_deep", id="09-10000-deep-disclosure"),
    P(lambda w, a: w.shown(a, payload=with_raw(w.kb_claims(a, w.genuine(w.age)), "x",
                                               '"\\udbff"')),
      "key_binding", "json.lone_surrogate", id="09-lone-surrogate-kb-payload"),
    # 10. validity claims hidden in a disclosure
    *[P(lambda w, a, n=n: _hidden(w, a, n), "signature", "vc.claim_not_disclosable",
        id=f"10-{n}-hidden") for n in ("exp", "cnf", "status")],
    # 11. unknown or truncated _sd_alg
    *[P(lambda w, a, alg=alg: w.present(a, payload=w.payload(_sd_alg=alg)),
        "signature", "sdjwt.unsupported_sd_alg", id=f"11-sd_alg-{name}")
      for name, alg in (("sha-1", "sha-1"), ("truncated", "sha-25"), ("upper-case", "SHA-256"),
                        ("empty", ""), ("number", 5))],
    # 12. key binding: another session's nonce, another verifier, stale or future iat, none
    P(lambda w, a: w.shown(a, nonce=secrets.token_urlsafe(32)),
      "key_binding", "sdjwt.kb_nonce_mismatch", id="12-kb-other-nonce"),
    P(lambda w, a: w.shown(a, aud="decentralized_identifier:" + str(w.town.did)),
      "key_binding", "sdjwt.kb_aud_mismatch", id="12-kb-for-another-verifier"),
    P(lambda w, a: w.shown(a, iat=w.now - 301),
      "key_binding", "sdjwt.kb_stale", id="12-kb-stale-iat"),
    P(lambda w, a: w.shown(a, iat=w.now + 3600),
      "key_binding", "sdjwt.kb_iat_future", id="12-kb-future-iat"),
    P(lambda w, a: [w.genuine(w.age)], "key_binding", "sdjwt.kb_missing", id="12-kb-missing"),
    # 13. a disclosure removed after KB signing, a KB key other than cnf
    P(lambda w, a: _kb_over(w, a, [w.age, w.disclosure("given_name")], [w.age]),
      "key_binding", "sdjwt.kb_sd_hash_mismatch", id="13-disclosure-removed-after-kb"),
    P(lambda w, a: _kb_over(w, a, [w.age], [w.age, w.disclosure("given_name")]),
      "key_binding", "sdjwt.kb_sd_hash_mismatch", id="13-disclosure-added-after-kb"),
    P(lambda w, a: w.shown(a, key=ATTACKER),
      "key_binding", "jose.bad_signature", id="13-kb-by-key-other-than-cnf"),
    P(lambda w, a: w.shown(a, key=w.identity.copies[1].holder_key),
      "key_binding", "jose.bad_signature", id="13-kb-by-holder-key-of-other-copy"),
]


@pytest.mark.parametrize(("build", "check", "code"), SINGLE)
async def test_crafted_presentation_is_refused(world: World, build: Build, check: str,
                                               code: str) -> None:
    a = await world.ask()
    await refused(world, a, form(a, *build(world, a)), check, code)
    await world.still_serving()


# ------------------------------------------------------------ 4. re-encoded disclosure


@pytest.mark.parametrize(("reencode", "code"), [
    P(lambda d: enc(json.dumps(json.loads(b64u_decode(d)), indent=1)),
      "sdjwt.unreferenced_disclosure", id="whitespace"),
    P(lambda d: d + "=" * (-len(d) % 4), "b64.alphabet", id="padding"),
    P(lambda d: base64.b64encode(b64u_decode(d)).decode().rstrip("="), "b64.alphabet",
      id="plus-slash"),
    P(lambda d: d[:-1] + B64URL[B64URL.index(d[-1]) | 1], "b64.non_canonical",
      id="trailing-bits"),
])
async def test_reencoded_disclosure_is_refused(world: World, reencode: Callable[[str], str],
                                               code: str) -> None:
    """The same ``age_over_18: true`` spelt otherwise (the control test accepts ``d``)."""
    d = awkward_age_disclosure()
    twisted = reencode(d)
    assert twisted != d and json.loads(base64.urlsafe_b64decode(twisted.strip("=") + "==")) \
        == json.loads(b64u_decode(d))
    a = await world.ask()
    payload = world.payload(_sd=world.sd_plus(d, minus=digest(world.age)))
    await refused(world, a, form(a, *world.present(a, payload=payload, disclosures=[twisted])),
                  "signature", code)
    await world.still_serving()


# ------------------------------------------ 7, 9 and shapes: refused before verification


def _vp(a: Asked, vp_token: str) -> dict[str, str]:
    return {"vp_token": vp_token, "state": a.state}


@pytest.mark.parametrize(("build", "code"), [
    P(lambda a: _vp(a, '{"identity":["x"],"identity":["y"]}'), "json.duplicate_key",
      id="07-dup-key-in-vp_token"),
    P(lambda a: urlencode(form(a, "x")).encode() + b"&state=" + a.state.encode(),
      "form.malformed", id="07-form-field-twice"),
    P(lambda a: _vp(a, '{"identity":["\\ud800"]}'), "json.lone_surrogate",
      id="09-lone-surrogate-in-vp_token"),
    P(lambda a: b"vp_token=%ED%A0%80&state=" + a.state.encode(), "form.malformed",
      id="09-surrogate-bytes-in-form"),
    P(lambda a: _vp(a, '{"identity":' + "[" * 10_000 + "]" * 10_000 + "}"), "json.too_deep",
      id="09-10000-deep-vp_token"),
    P(lambda a: _vp(a, '{"identity":[NaN]}'), "json.non_finite", id="08-NaN-in-vp_token"),
    P(lambda a: _vp(a, "{"), "json.malformed", id="vp_token-not-json"),
    P(lambda a: _vp(a, '{"identity":[{"a":1}]}'), "oid4vp.bad_response",
      id="vp_token-object-presentation"),
    P(lambda a: {"vp_token": '{"identity":["x"]}'}, "oid4vp.bad_response", id="no-state"),
    P(lambda a: {**form(a, "x"), "state": "no-such-session"}, "verifier.unknown_state",
      id="unknown-state"),
    P(lambda a: {**form(a, "x"), "error": "access_denied"}, "oid4vp.bad_response",
      id="error-and-vp_token"),
])
async def test_malformed_response_is_a_400(world: World, build: Callable[[Asked], Any],
                                           code: str) -> None:
    a = await world.ask()
    await malformed(world, a, build(a), code)
    await world.still_serving()


# --------------------------------------------------------------------- 12. replays


async def test_replay_into_the_same_session_and_into_another(world: World) -> None:
    a = await world.ask()
    honest = form(a, *world.shown(a))
    await accepted(world, a, honest)
    status, body, _ = await world.post("/response", honest)
    assert (status, body["error"], body["code"]) == (400, "invalid_request",
                                                     "verifier.already_answered")
    assert (await world.desk.result(a.id))["result"]["ok"] is True  # the first verdict stands
    b = await world.ask()
    await refused(world, b, {**honest, "state": b.state}, "key_binding",
                  "sdjwt.kb_nonce_mismatch")
    await world.still_serving()


async def test_two_answers_racing_for_one_session(world: World) -> None:
    a = await world.ask()
    one, two = form(a, *world.shown(a)), form(a, *world.shown(a, world.disclosure("given_name")))
    answers = await asyncio.gather(world.post("/response", one), world.post("/response", two))
    assert sorted(status for status, _, _ in answers) == [200, 400]
    assert [b["code"] for s, b, _ in answers if s == 400] == ["verifier.already_answered"]
    assert (await world.desk.result(a.id))["status"] == "answered"
    await world.still_serving()


# ------------------------------------------------------ 14. Wycheproof Ed25519 families


WYCHEPROOF: dict[str, Any] = json.loads(
    (VECTORS / "wycheproof" / "ed25519_test.json").read_text(encoding="utf-8"))


def _s_plus(n: int) -> Callable[[bytes], bytes]:
    return lambda sig: sig[:32] + (int.from_bytes(sig[32:], "little") + n).to_bytes(32, "little")


RECIPES: dict[int, tuple[str, Callable[[bytes], bytes]]] = {
    # invalid tcId: (its flag, how it was made from the valid tcId 3 signature)
    31: ("TruncatedSignature", lambda sig: sig[:32]),
    37: ("SignatureWithGarbage", lambda sig: sig + b"\x00"),
    63: ("SignatureMalleability", _s_plus(ED25519_ORDER)),
    66: ("SignatureMalleability", _s_plus(8 * ED25519_ORDER)),
    69: ("SignatureMalleability", _s_plus(2**255)),
}


def _vector(tc: int) -> tuple[dict[str, Any], dict[str, Any]]:
    return next((g, c) for g in WYCHEPROOF["testGroups"] for c in g["tests"] if c["tcId"] == tc)


@pytest.mark.parametrize("target", ["issuer", "kb"])
@pytest.mark.parametrize("tc", sorted(RECIPES), ids=lambda tc: f"tc{tc}-{RECIPES[tc][0]}")
async def test_wycheproof_invalid_family_on_a_real_signature(world: World, tc: int,
                                                             target: str) -> None:
    flag, recipe = RECIPES[tc]
    (group, case), (base_group, base) = _vector(tc), _vector(3)
    assert (case["result"], case["flags"], base["result"]) == ("invalid", [flag], "valid")
    assert (base["msg"], base_group["publicKey"]) == (case["msg"], group["publicKey"])
    assert recipe(bytes.fromhex(base["sig"])) == bytes.fromhex(case["sig"])  # the vector's
    a = await world.ask()
    if target == "issuer":
        sd = f"{resignature(world.genuine().rstrip('~'), recipe)}~{world.age}~"
        await refused(world, a, form(a, world.kb(sd, a)), "signature", "jose.bad_signature")
    else:
        await refused(world, a, form(a, resignature(world.shown(a)[0], recipe)),
                      "key_binding", "jose.bad_signature")
    await world.still_serving()


# ----------------------------------------------------------- 15. no SSRF through iss


SSRF_ISSUERS: dict[str, Callable[[World], str]] = {
    "did-web-redis-port": lambda w: "did:web:127.0.0.1%3A6379",
    "did-web-listener": lambda w: f"did:web:127.0.0.1%3A{w.dial_port}",
    "did-web-localhost": lambda w: "did:web:localhost",
    "did-web-private-ip": lambda w: "did:web:10.0.0.1",
    "did-web-nip-io": lambda w: "did:web:x.nip.io",
    "did-web-metadata-ip": lambda w: "did:web:169.254.169.254.nip.io",
    "did-keten-unknown": lambda w: "did:keten:" + "".join(
        secrets.choice(B64URL.translate(str.maketrans("", "", "0OIl-_+/"))) for _ in range(22)),
    "https-url": lambda w: f"https://127.0.0.1:{w.dial_port}/issuer",
    "http-trap-url": lambda w: w.trap + "/issuer",
}


@pytest.mark.parametrize("name", sorted(SSRF_ISSUERS))
async def test_foreign_issuer_is_refused_without_a_connection(world: World, name: str) -> None:
    iss = SSRF_ISSUERS[name](world)
    payload = world.payload(iss=iss)
    a = await world.ask()  # kid names a key of that issuer: no registry knows it
    await refused(world, a, form(a, *world.present(a, payload=payload, header=world.header(
        kid=iss + "#key-1"))), "issuer_key", "registry.key_not_valid")
    b = await world.ask()  # kid of the real issuer: not a key of iss
    await refused(world, b, form(b, *world.present(b, payload=payload)), "issuer_key",
                  "issuer.kid_mismatch")
    await world.still_serving()


@pytest.mark.parametrize("where", ["trap-server", "tcp-listener"])
async def test_status_list_elsewhere_is_never_fetched(world: World, where: str) -> None:
    status = world.payload()["status"]["status_list"]
    host = world.trap if where == "trap-server" else f"http://127.0.0.1:{world.dial_port}"
    uri = f"{host}/status/{status['uri'].rsplit('/', 1)[1]}"
    a = await world.ask()
    await refused(world, a, form(a, *world.present(a, payload=world.payload(status={
        "status_list": {"idx": status["idx"], "uri": uri}}))), "status", "status.unavailable")
    await world.still_serving()


# ------------------------------------------------------------ bodies and content types


@pytest.mark.parametrize("path", ["/response", "/sessions"])
async def test_two_mib_body_is_a_413_json_error(world: World, path: str) -> None:
    if path == "/response":
        a = await world.ask()
        status, body, _ = await world.post(path, urlencode(form(a, "x" * (2 << 20))).encode())
        assert (status, body["error"], body["code"]) == (413, "invalid_request",
                                                         "http.body_too_large")
        await accepted(world, a, form(a, *world.shown(a)))
    else:
        data = dumps({"preset": "age18", "pad": "x" * (2 << 20)}).encode()
        status, body, _ = await world.post(path, data, "application/json")
        assert (status, body["error"]) == (413, "http.body_too_large")
    await world.still_serving()


@pytest.mark.parametrize("ctype", ["application/json", "text/plain", "multipart/form-data",
                                   "application/x-www-form-urlencoded+evil"])
async def test_response_that_is_not_a_form_is_a_400(world: World, ctype: str) -> None:
    a = await world.ask()
    honest = form(a, *world.shown(a))
    body = dumps(honest).encode() if ctype == "application/json" else urlencode(honest).encode()
    await malformed(world, a, body, "form.bad_content_type", ctype=ctype)
    await world.still_serving()
