"""The verifier service end to end: registry + issuer + verifier on loopback, and the
wallet's OpenID4VP client (prepare → consent → send) against them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from registry.author import save_controller
from ssiwallet.core.dcql_match import Candidate
from ssiwallet.core.sdjwt import parse
from ssiwallet.errors import Oid4vpError
from ssiwallet.holder.present import decline, prepare, send
from ssiwallet.holder.receive import ReceivedCredential, fetch_offer, receive
from verifier.errors import VerifierError

pytestmark = pytest.mark.asyncio

IDENTITY = {"given_name": "Noor", "family_name": "Bakker", "birthdate": "2000-05-17",
            "address": {"street_address": "Korenmarkt 3", "postal_code": "9000",
                        "locality": "Gent", "country": "BE"}}
DIPLOMA = {"holder_name": "Noor Bakker", "title": "Master in de rechten", "eqf_level": 7,
           "field_of_study": "Rechten", "awarded_on": "2024-07-01",
           "institution": "Universiteit Gent"}


@dataclass
class World:
    reg: Any
    town: Any
    school: Any
    desk: Any
    http: aiohttp.ClientSession
    identity: ReceivedCredential
    diploma: ReceivedCredential

    def candidates(self) -> list[Candidate]:
        return [Candidate("identity", "dc+sd-jwt", self.identity.vct, self.identity.claims),
                Candidate("diploma", "dc+sd-jwt", self.diploma.vct, self.diploma.claims)]

    def copies(self, n: int = 0) -> dict[str, tuple[str, Any]]:
        return {"identity": (self.identity.copies[n].credential,
                             self.identity.copies[n].holder_key),
                "diploma": (self.diploma.copies[n].credential,
                            self.diploma.copies[n].holder_key)}

    async def present(self, preset: str, copy: int = 0) -> tuple[dict[str, Any], Any]:
        started = await self.desk.start(preset)
        async with self.town.client() as registry:
            plan = await prepare(started["uri"], candidates=self.candidates(),
                                 session=self.http, registry=registry, clock=self.reg.clock)
            result = await send(plan, copies=self.copies(copy), session=self.http,
                                registry=registry, clock=self.reg.clock)
        return started, result


async def _receive(issuer: Any, claims: dict[str, Any], http: aiohttp.ClientSession
                   ) -> ReceivedCredential:
    created = await issuer.offer(claims)
    async with issuer.client() as registry:
        return await receive(await fetch_offer(created["offer_uri"], http),
                             tx_code=created["tx_code"], session=http, registry=registry,
                             copies=4, clock=issuer.registry.clock)


@pytest_asyncio.fixture
async def world(registry_node: Any, issuer_service: Any, verifier_service: Any
                ) -> AsyncIterator[World]:
    reg = await registry_node()
    town = await issuer_service(reg, profile="municipality", batch_size=4)
    school = await issuer_service(reg, profile="school", batch_size=4)
    desk = await verifier_service(reg)
    async with aiohttp.ClientSession() as http:
        yield World(reg, town, school, desk, http, await _receive(town, IDENTITY, http),
                    await _receive(school, DIPLOMA, http))


async def test_age_18_reveals_nothing_else_and_the_receipt_says_so(world: World) -> None:
    started, result = await world.present("age18")
    assert result.accepted and result.reasons == []
    receipt = result.receipt
    assert receipt.verifier == world.desk.did and receipt.retention == 600
    assert [(r.vct, r.issuer, r.claims) for r in receipt.received] == [
        ("urn:keten:vct:identity:1", world.town.did, (("age_over_18",),))]
    assert receipt.purpose.en == "Access to the library"
    view = await world.desk.result(started["id"])
    assert view["status"] == "answered" and view["result"]["ok"] is True
    assert [(c["path"], c["value"]) for c in view["result"]["claims"]] == [("age_over_18", True)]
    # what actually left the wallet: one disclosure (age_over_18), no name, no birthdate
    (sent,) = result.sent["identity"]
    shown = parse(sent)
    assert len(shown.disclosures) == 1 and shown.kb_jwt is not None
    assert len(parse(result.used["identity"]).disclosures) > 10  # the copy holds them all
    assert {c["check"] for c in view["result"]["checks"]} >= {
        "signature", "key_binding", "issuer_accredited", "status", "dcql", "nonce"}


async def test_diploma_for_an_employer(world: World) -> None:
    started, result = await world.present("diploma-eqf6")
    assert result.accepted
    view = await world.desk.result(started["id"])
    values = {c["path"]: c["value"] for c in view["result"]["claims"]}
    assert values == {"holder_name": "Noor Bakker", "title": "Master in de rechten",
                      "eqf_level": 7, "institution": "Universiteit Gent"}


async def test_revoked_credential_is_refused_with_its_reason(world: World) -> None:
    _, listed = await world.school.admin("GET", "/admin/credentials")
    status, _ = await world.school.admin(
        "POST", f"/admin/credentials/{listed['credentials'][0]['id']}/status",
        {"status": "revoked"})
    assert status == 200
    world.reg.clock.advance(400)  # past the status list's ttl in every cache
    started, result = await world.present("diploma-eqf6", copy=1)
    assert not result.accepted and result.reasons == ["status.revoked"]
    assert result.receipt.received == () and result.receipt.retention == 0
    view = await world.desk.result(started["id"])
    assert view["result"]["ok"] is False and view["result"]["claims"] == []
    reason = view["result"]["reasons"][0]
    assert reason["code"] == "status.revoked" and "revoked" in reason["en"]


async def test_declining_shows_at_the_desk(world: World) -> None:
    started = await world.desk.start("age18")
    async with world.town.client() as registry:
        plan = await prepare(started["uri"], candidates=world.candidates(), session=world.http,
                             registry=registry, clock=world.reg.clock)
    assert plan.name == "Bibliotheek Gent" and plan.registered and plan.over_asked == []
    assert plan.leaving == {"identity": [("age_over_18",)]}
    assert ("given_name",) in plan.staying["identity"]
    assert ("address", "locality") in plan.staying["identity"]
    await decline(plan, session=world.http)
    view = await world.desk.result(started["id"])
    assert view["status"] == "declined"
    assert view["result"]["reasons"][0]["code"] == "wallet.declined"


async def test_a_session_takes_one_answer(world: World) -> None:
    started = await world.desk.start("age18")
    async with world.town.client() as registry:
        plan = await prepare(started["uri"], candidates=world.candidates(), session=world.http,
                             registry=registry, clock=world.reg.clock)
        result = await send(plan, copies=world.copies(0), session=world.http,
                            registry=registry, clock=world.reg.clock)
        assert result.accepted
        with pytest.raises(Oid4vpError) as err:
            await send(plan, copies=world.copies(1), session=world.http, registry=registry,
                       clock=world.reg.clock)
    assert err.value.code == "oid4vp.response_refused"
    assert "already_answered" in err.value.detail


async def test_a_preset_that_over_asks_stops_the_service(
        registry_node: Any, verifier_service: Any) -> None:
    reg = await registry_node()
    with pytest.raises(VerifierError) as err:
        await verifier_service(reg, presets=["diploma-eqf6"], register_for=["age18"])
    assert err.value.code == "verifier.preset_over_asks"
    assert "diploma-eqf6" in err.value.detail and "eqf_level" in err.value.detail


async def test_the_wallet_warns_when_a_request_asks_more_than_registered(
        registry_node: Any, issuer_service: Any, verifier_service: Any) -> None:
    reg = await registry_node()
    town = await issuer_service(reg, profile="municipality", batch_size=2)
    desk = await verifier_service(reg, presets=["age18"])
    # a verifier that changes its own preset after start-up asks more than it may
    from verifier.presets import Preset

    greedy = Preset("age18", {"nl": "x", "en": "x"}, {"credentials": [{
        "id": "identity", "format": "dc+sd-jwt", "meta": {"vct_values": [
            "urn:keten:vct:identity:1"]}, "claims": [{"path": ["age_over_18"]},
                                                     {"path": ["birthdate"]}]}]})
    object.__setattr__(desk.ctx.config, "presets", (greedy,))
    async with aiohttp.ClientSession() as http:
        identity = await _receive(town, IDENTITY, http)
        started = await desk.start("age18")
        async with town.client() as registry:
            plan = await prepare(started["uri"], candidates=[Candidate(
                "identity", "dc+sd-jwt", identity.vct, identity.claims)], session=http,
                registry=registry, clock=reg.clock)
    assert plan.over_asked == ["urn:keten:vct:identity:1:birthdate"]


async def test_suspension_is_refused_and_lifting_it_is_accepted_again(world: World) -> None:
    _, listed = await world.town.admin("GET", "/admin/credentials")
    cred = listed["credentials"][0]["id"]
    for status, copy, expected in (("suspended", 0, ["status.suspended"]),
                                   ("valid", 1, [])):
        code, _ = await world.town.admin("POST", f"/admin/credentials/{cred}/status",
                                         {"status": status})
        assert code == 200
        world.reg.clock.advance(400)  # past the status list's ttl
        _, result = await world.present("age18", copy=copy)
        assert result.reasons == expected and result.accepted is (expected == [])


async def test_a_diploma_issued_before_the_school_rotated_its_key_still_verifies(
        world: World) -> None:
    controller = world.school.controller
    async with world.school.client() as registry:
        controller.seq = await registry.sequence(controller.did)
    world.reg.clock.advance(2 * 86400)
    status, receipt = await world.reg.post(controller.rotate_tx(world.reg.chain,
                                                                world.reg.clock()))
    assert status == 201, receipt
    save_controller(controller, world.school.ctx.config.key_file)
    started, result = await world.present("diploma-eqf6", copy=2)
    assert result.accepted, result.reasons
    view = await world.desk.result(started["id"])
    assert view["result"]["ok"] is True


async def test_the_verifier_follows_the_registry_checkpoint(world: World) -> None:
    tracked = world.desk.ctx.client.tracked
    assert tracked is not None  # fetched and verified at start
    async with world.http.get(world.desk.url + "/health") as resp:
        assert (await resp.json())["registry_checkpoint"] == "verified"
    await world.reg.new_did("Nog een school")
    await world.desk.ctx.follow_checkpoint()
    assert world.desk.ctx.client.tracked.size > tracked.size  # extended, with a proof
