"""The issuer end to end on loopback: registry + issuer + the wallet's OpenID4VCI client."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from registry.author import save_controller
from ssiwallet.core.oid4vci import parse_offer_uri
from ssiwallet.core.sdjwt import parse
from ssiwallet.core.vc import keys_named, verify_vc
from ssiwallet.errors import Oid4vciError
from ssiwallet.holder.receive import fetch_offer, receive

DIPLOMA = {"holder_name": "Saskia Vandenbroucke-Oyelaran", "title": "Bachelor in de verpleegkunde",
           "eqf_level": 6, "field_of_study": "Verpleegkunde", "awarded_on": "2024-06-28",
           "institution": "Hogeschool Gent"}
IDENTITY = {"given_name": "Jef", "family_name": "Kwartelmans", "birthdate": "1990-04-01",
            "address": {"street_address": "Veldstraat 1", "postal_code": "9000",
                        "locality": "Gent", "country": "BE"}}

pytestmark = pytest.mark.asyncio


@pytest_asyncio.fixture
async def session() -> Any:
    async with aiohttp.ClientSession() as s:
        yield s


async def test_offer_redeemed_into_ten_verified_unlinkable_copies(
        registry_node: Any, issuer_service: Any, session: aiohttp.ClientSession) -> None:
    reg = await registry_node()
    school = await issuer_service(reg, profile="school")
    created = await school.offer(DIPLOMA)
    assert len(created["tx_code"]) == 6 and created["offer_uri"].startswith(
        "openid-credential-offer://?credential_offer=")
    offer = await fetch_offer(created["offer_uri"], session)
    async with school.client() as registry:
        got = await receive(offer, tx_code=created["tx_code"], session=session,
                            registry=registry, copies=10, clock=reg.clock)
    assert len(got.copies) == 10 and got.accredited and got.claims == DIPLOMA
    assert got.vct == "urn:keten:vct:diploma:1"
    assert {c.verified.iss for c in got.copies} == {school.did}
    # unlinkable: every copy has its own holder key, status index, salts and signature
    assert len({c.verified.status.idx for c in got.copies if c.verified.status}) == 10
    assert len({str(c.verified.claims["cnf"]) for c in got.copies}) == 10
    tokens = [parse(c.credential) for c in got.copies]
    assert len({t.payload for t in tokens}) == 10
    disclosures = [d for t in tokens for d in t.disclosures]
    assert len(set(disclosures)) == len(disclosures)
    # iat and exp rounded to the day: issuance time does not single anyone out
    assert {c.verified.iat % 86400 for c in got.copies} == {0}
    status, listed = await school.admin("GET", "/admin/credentials")
    assert status == 200 and listed["credentials"][0]["copies"] == 10


async def test_identity_ages_are_derived_on_the_day_of_issuance(
        registry_node: Any, issuer_service: Any, session: aiohttp.ClientSession) -> None:
    reg = await registry_node()
    town = await issuer_service(reg, profile="municipality", batch_size=2)
    created = await town.offer(IDENTITY)
    async with town.client() as registry:
        got = await receive(await fetch_offer(created["offer_uri"], session),
                            tx_code=created["tx_code"], session=session, registry=registry,
                            clock=reg.clock)
    assert len(got.copies) == 2
    today = datetime.fromtimestamp(reg.clock(), UTC).date()
    age = today.year - 1990 - ((today.month, today.day) < (4, 1))
    assert got.claims["age_over_18"] is True and got.claims["age_over_65"] is (age >= 65)
    assert got.claims["address"]["locality"] == "Gent"


async def test_claims_are_gone_from_the_raw_database_after_redemption(
        registry_node: Any, issuer_service: Any, session: aiohttp.ClientSession) -> None:
    reg = await registry_node()
    school = await issuer_service(reg)
    created = await school.offer(DIPLOMA)
    db = school.ctx.config.database

    def raw() -> bytes:
        return b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*"))

    needles = [v.encode() for v in ("Vandenbroucke-Oyelaran", "verpleegkunde", "Verpleegkunde")]
    # sealed under the pre-authorized code even before redemption
    assert not any(n in raw() for n in needles)
    async with school.client() as registry:
        await receive(await fetch_offer(created["offer_uri"], session),
                      tx_code=created["tx_code"], session=session, registry=registry,
                      clock=reg.clock)
    school.ctx.store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert not any(n in raw() for n in needles)
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT sealed, pin_hash, state FROM offers").fetchall()
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        kept = conn.execute("SELECT vct, list_id, indices FROM credentials").fetchall()
    assert rows == [(None, None, "issued")] and "tokens" in tables
    assert kept[0][0] == "urn:keten:vct:diploma:1" and len(json.loads(kept[0][2])) == 10


async def test_expired_offer_forgets_its_claims_and_cannot_be_redeemed(
        registry_node: Any, issuer_service: Any, session: aiohttp.ClientSession) -> None:
    reg = await registry_node()
    school = await issuer_service(reg)
    created = await school.offer(DIPLOMA)
    reg.clock.advance(school.ctx.config.offer_ttl + 1)
    assert school.ctx.store.expire_offers(reg.clock()) == 1
    status, body = await school.admin("GET", f"/admin/offers/{created['id']}")
    assert (status, body["state"]) == (200, "expired")
    async with school.client() as registry:
        with pytest.raises(Oid4vciError) as err:
            await receive(await fetch_offer(created["offer_uri"], session),
                          tx_code=created["tx_code"], session=session, registry=registry,
                          clock=reg.clock)
    assert err.value.code == "oid4vci.invalid_grant" and "expired" in err.value.detail


async def test_revocation_reaches_every_copy_on_the_registry(
        registry_node: Any, issuer_service: Any, session: aiohttp.ClientSession) -> None:
    reg = await registry_node()
    school = await issuer_service(reg, batch_size=4)
    created = await school.offer(DIPLOMA)
    async with school.client() as registry:
        got = await receive(await fetch_offer(created["offer_uri"], session),
                            tx_code=created["tx_code"], session=session, registry=registry,
                            clock=reg.clock)
        refs = [c.verified.status for c in got.copies]
        assert [await registry.status_of_ref(r) for r in refs if r] == [0] * 4
        _, listed = await school.admin("GET", "/admin/credentials")
        cred_id = listed["credentials"][0]["id"]
        status, body = await school.admin("POST", f"/admin/credentials/{cred_id}/status",
                                          {"status": "suspended"})
        assert (status, body["status"]) == (200, 2)
    async with school.client() as fresh:  # a new client: no cached status list
        assert [await fresh.status_of_ref(r) for r in refs if r] == [2] * 4
        status, body = await school.admin("POST", f"/admin/credentials/{cred_id}/status",
                                          {"status": "revoked"})
        assert (status, body["status"]) == (200, 1)
    async with school.client() as fresh:
        assert [await fresh.status_of_ref(r) for r in refs if r] == [1] * 4
    status, body = await school.admin("POST", f"/admin/credentials/{cred_id}/status",
                                      {"status": "valid"})
    assert (status, body["error"]) == (409, "issuer.already_revoked")
    status, body = await school.admin("POST", "/admin/credentials/nope/status",
                                      {"status": "revoked"})
    assert (status, body["error"]) == (404, "issuer.not_found")


async def test_credentials_issued_before_a_key_rotation_keep_verifying(
        registry_node: Any, issuer_service: Any, session: aiohttp.ClientSession) -> None:
    reg = await registry_node()
    school = await issuer_service(reg, batch_size=2)
    first = await school.offer(DIPLOMA)
    async with school.client() as registry:
        old = await receive(await fetch_offer(first["offer_uri"], session),
                            tx_code=first["tx_code"], session=session, registry=registry,
                            clock=reg.clock)
    reg.clock.advance(3 * 86400)
    controller = school.controller  # what `ssi-issuer rotate-key` does to the key file
    async with school.client() as registry:
        controller.seq = await registry.sequence(controller.did)
    status, receipt = await reg.post(controller.rotate_tx(reg.chain, reg.clock()))
    assert status == 201, receipt
    save_controller(controller, school.ctx.config.key_file)
    second = await school.offer(DIPLOMA)
    async with school.client() as registry:
        new = await receive(await fetch_offer(second["offer_uri"], session),
                            tx_code=second["tx_code"], session=session, registry=registry,
                            clock=reg.clock)
        assert new.copies[0].verified.kid.endswith("#key-2")
        assert old.copies[0].verified.kid.endswith("#key-1")
        token = old.copies[0].credential
        keys = await registry.issuer_keys(keys_named(token))
        again = verify_vc(token, keys=keys, now=reg.clock(), key_binding=None,
                          expect_kb=False)
        assert again.disclosed == DIPLOMA


async def test_an_issuer_not_accredited_cannot_offer_or_issue(
        registry_node: Any, issuer_service: Any, session: aiohttp.ClientSession) -> None:
    reg = await registry_node()
    school = await issuer_service(reg)
    created = await school.offer(DIPLOMA)
    await reg.submit(reg.steward, "accreditation.revoke", {"accreditation": school.accreditation})
    status, body = await school.admin("POST", "/admin/offers", {
        "credential_configuration_id": "diploma_dc_sd_jwt", "claims": DIPLOMA})
    assert (status, body["error"]) == (409, "issuer.not_accredited")
    async with school.client() as registry:
        with pytest.raises(Oid4vciError) as err:  # the registry refuses the status list
            await receive(await fetch_offer(created["offer_uri"], session),
                          tx_code=created["tx_code"], session=session, registry=registry,
                          clock=reg.clock)
    assert err.value.code == "oid4vci.credential_request_denied"
    assert "registry.not_accredited" in err.value.detail or "accredit" in err.value.detail
    status, health = await school.admin("GET", "/health")
    assert status == 200 and health["accredited"] == {"urn:keten:vct:diploma:1": False}


async def test_offer_link_round_trips_through_the_parser(
        registry_node: Any, issuer_service: Any) -> None:
    reg = await registry_node()
    school = await issuer_service(reg)
    created = await school.offer(DIPLOMA)
    offer = parse_offer_uri(created["offer_uri"])
    assert not isinstance(offer, str)
    assert offer.to_json() == created["credential_offer"]
    assert offer.tx_code is not None and offer.tx_code.length == 6

