"""The wallet library end to end: registry, issuers and verifiers on loopback, a sealed
wallet on disk, and every holder flow (receive, present, decline, refresh, delete)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from ssiwallet.core.sdjwt import parse
from ssiwallet.errors import Oid4vciError, WalletError
from ssiwallet.wallet.sealed import FAST_KDF
from ssiwallet.wallet.wallet import Wallet
from tests.integration.test_verifier_service import DIPLOMA, IDENTITY

pytestmark = pytest.mark.asyncio

@dataclass
class World:
    reg: Any
    town: Any
    school: Any
    library: Any
    wallet: Wallet
    home: Path

    async def receive(self, issuer: Any, claims: dict[str, Any], copies: int = 4) -> Any:
        created = await issuer.offer(claims)
        return await self.wallet.receive(created["offer_uri"], pin=created["tx_code"],
                                         copies=copies)


@pytest_asyncio.fixture
async def world(registry_node: Any, issuer_service: Any, verifier_service: Any,
                tmp_path: Path) -> AsyncIterator[World]:
    reg = await registry_node()
    town = await issuer_service(reg, profile="municipality", batch_size=4)
    school = await issuer_service(reg, profile="school", batch_size=4)
    library = await verifier_service(reg, presets=["age18"], name="Bibliotheek Gent")
    home = tmp_path / "wallet"
    wallet = Wallet.create(home, "correct horse", registry_url=reg.url,
                           genesis_hash=reg.genesis_hash, kdf=FAST_KDF, clock=reg.clock)
    yield World(reg, town, school, library, wallet, home)


async def test_receive_list_present_history(world: World) -> None:
    card = await world.receive(world.town, IDENTITY)
    assert card.issuer == world.town.did and card.accredited
    assert card.issuer_name == world.town.ctx.config.display["en"]
    assert (card.copies_left, card.copies_total) == (4, 4)
    assert card.claims["age_over_18"] is True and card.state(world.reg.clock()) == "valid"
    again = Wallet.unlock(world.home, "correct horse", clock=world.reg.clock)
    assert [c.id for c in again.cards()] == [card.id]

    started = await world.library.start("age18")
    plan = await again.prepare(started["uri"])
    assert plan.name == "Bibliotheek Gent" and plan.registered and not plan.over_asked
    assert plan.leaving == {card.id: [("age_over_18",)]}
    assert ("given_name",) in plan.staying[card.id]
    entry = await again.present(plan)
    assert entry.outcome == "accepted" and entry.receipt is not None
    assert entry.receipt["received"] == [{"vct": card.vct, "issuer": card.issuer,
                                          "claims": [["age_over_18"]]}]
    assert entry.disclosed == {card.id: [["age_over_18"]]}
    view = await world.library.result(started["id"])
    assert view["status"] == "answered" and view["result"]["ok"] is True
    history = world.wallet.history()
    assert [h.id for h in history] == [entry.id] and history[0].receipt_jwt
    assert world.wallet.card(card.id[:6]).copies_left == 3


async def test_revoked_credential_shows_revoked_and_is_refused(world: World) -> None:
    card = await world.receive(world.town, IDENTITY)
    listed = await world.town.admin("GET", "/admin/credentials")
    cred_id = listed[1]["credentials"][0]["id"]
    status, body = await world.town.admin("POST", f"/admin/credentials/{cred_id}/status",
                                          {"status": "revoked"})
    assert status == 200, body
    started = await world.library.start("age18")
    entry = await world.wallet.present(await world.wallet.prepare(started["uri"]))
    assert entry.outcome == "refused" and "status.revoked" in entry.reasons
    assert world.wallet.card(card.id).state(world.reg.clock()) == "revoked"
    # a revoked credential is no longer offered to verifiers
    plan = await world.wallet.prepare((await world.library.start("age18"))["uri"])
    assert not plan.satisfiable


async def test_decline_records_that_nothing_left(world: World) -> None:
    await world.receive(world.town, IDENTITY)
    started = await world.library.start("age18")
    plan = await world.wallet.prepare(started["uri"])
    entry = await world.wallet.decline(plan)
    assert entry.outcome == "declined" and entry.disclosed == {} and entry.receipt is None
    assert (await world.library.result(started["id"]))["status"] == "declined"
    assert world.wallet.cards()[0].copies_left == 4


async def test_two_verifiers_get_unlinkable_copies(world: World, verifier_service: Any
                                                   ) -> None:
    other = await verifier_service(world.reg, presets=["age18"], name="Café De Kroon")
    card = await world.receive(world.town, IDENTITY)
    sent = []
    for desk in (world.library, other):
        plan = await world.wallet.prepare((await desk.start("age18"))["uri"])
        before = {c.id for c in world.wallet.copies(card.id) if c.used_at is None}
        await world.wallet.present(plan)
        used = [c for c in world.wallet.copies(card.id) if c.id in before and c.used_at]
        assert len(used) == 1 and used[0].used_for == desk.did
        sent.append(used[0])
    a, b = (parse(c.token) for c in sent)
    ca, cb = a.unverified_claims, b.unverified_claims
    assert ca["cnf"] != cb["cnf"] and sent[0].holder_key.seed != sent[1].holder_key.seed
    assert set(ca["_sd"]).isdisjoint(cb["_sd"])
    assert a.issuer_jwt.split(".")[2] != b.issuer_jwt.split(".")[2]
    assert ca["status"]["status_list"]["idx"] != cb["status"]["status_list"]["idx"]
    assert set(a.disclosures).isdisjoint(b.disclosures)


async def test_same_verifier_again_reuses_its_copy_when_none_is_fresh(world: World) -> None:
    card = await world.receive(world.town, IDENTITY, copies=1)
    for _ in range(2):
        await world.wallet.present(
            await world.wallet.prepare((await world.library.start("age18"))["uri"]))
    assert [h.outcome for h in world.wallet.history()] == ["accepted", "accepted"]
    assert world.wallet.card(card.id).copies_left == 0


async def test_wrong_pin_stores_nothing_and_refresh_reads_status(world: World) -> None:
    created = await world.town.offer(IDENTITY)
    with pytest.raises(Oid4vciError):
        await world.wallet.receive(created["offer_uri"], pin="000000" if
                                   created["tx_code"] != "000000" else "111111")
    assert world.wallet.cards() == []
    card = await world.receive(world.school, DIPLOMA)
    cards = await world.wallet.refresh()
    assert cards[0].id == card.id and cards[0].status == "valid" and cards[0].checked_at


async def test_delete_one_and_everything(world: World) -> None:
    a = await world.receive(world.town, IDENTITY)
    b = await world.receive(world.school, DIPLOMA)
    world.wallet.delete(a.id)
    assert [c.id for c in world.wallet.cards()] == [b.id]
    with pytest.raises(WalletError) as err:
        world.wallet.card(a.id)
    assert err.value.code == "wallet.unknown_credential"
    world.wallet.delete_all()
    with pytest.raises(WalletError) as err:
        Wallet.unlock(world.home, "correct horse")
    assert err.value.code == "wallet.not_found"
