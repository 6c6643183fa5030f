"""SECURITY-TESTS 40: presenting many times to one verifier never uses up the copies meant
for others; the verifier that already saw a copy gets that copy again.

Against the real registry, issuer and verifiers on loopback: twelve visits to one desk use
one copy, and another desk still gets a copy nobody has seen. The same policy without
network on :meth:`Wallet._take_copies`, with every copy marked (and its verifier kept)
before it would leave.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from ssiwallet.errors import WalletError
from ssiwallet.wallet.sealed import FAST_KDF
from ssiwallet.wallet.wallet import Wallet
from tests.integration.test_verifier_service import IDENTITY

LIBRARY = "did:keten:6vBibGentReadingRm3"
CAFE = "did:keten:2wCafeDeKroonGentZZ9"


def plan_for(verifier: str, cid: str = "cred") -> Any:
    match = SimpleNamespace(candidate_id=cid)
    return SimpleNamespace(verifier=verifier, matches={"q": match})


@pytest.fixture
def wallet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Wallet:
    monkeypatch.setenv("SSIWALLET_STATE_HOME", str(tmp_path / "state"))
    w = Wallet.create(tmp_path / "w", "correct horse", kdf=FAST_KDF, clock=lambda: 1_750_000_000)
    with w.store.transaction() as db:
        db.execute("INSERT INTO credentials VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", (
            "cred", 1_700_000_000, "urn:eudi:pid:1", "did:keten:town", "https://town.example",
            "pid", json.dumps({"age_over_18": True}), json.dumps({"claims": []}), "Town", 1,
            1_700_000_000, 1_900_000_000, "valid", None))
        db.executemany("INSERT INTO copies VALUES (?,?,?,?,NULL,NULL)", [
            (f"cred-{i}", "cred", "eyJ.token~", bytes([i + 1]) * 32) for i in range(3)])
    return w


def test_40_one_verifier_keeps_getting_its_own_copy(wallet: Wallet) -> None:
    taken = {wallet._take_copies(plan_for(LIBRARY))["cred"].id for _ in range(12)}
    assert len(taken) == 1
    used = [c for c in wallet.copies("cred") if c.used_at is not None]
    assert [(c.id, c.used_for) for c in used] == [(taken.pop(), LIBRARY)]
    assert wallet.card("cred").copies_left == 2
    other = wallet._take_copies(plan_for(CAFE))["cred"]
    assert other.id not in {c.id for c in used} and other.used_at is None  # fresh
    assert {c.used_for for c in wallet.copies("cred") if c.used_at} == {LIBRARY, CAFE}


def test_40_no_fresh_copy_left_for_a_new_verifier_is_refused(wallet: Wallet) -> None:
    for n in range(3):
        wallet._take_copies(plan_for(f"did:keten:desk{n}"))
    with pytest.raises(WalletError) as err:
        wallet._take_copies(plan_for(CAFE))
    assert err.value.code == "wallet.no_fresh_copy"
    again = wallet._take_copies(plan_for("did:keten:desk1"))["cred"]
    assert again.used_for == "did:keten:desk1"



@pytest.mark.asyncio
async def test_40_twelve_visits_to_one_desk_then_another_desk(
        registry_node: Any, issuer_service: Any, verifier_service: Any, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSIWALLET_STATE_HOME", str(tmp_path / "state"))
    reg = await registry_node()
    town = await issuer_service(reg, profile="municipality", batch_size=4)
    library = await verifier_service(reg, presets=["age18"], name="Bibliotheek Gent")
    cafe = await verifier_service(reg, presets=["age18"], name="Café De Kroon")
    wallet = Wallet.create(tmp_path / "w", "correct horse", registry_url=reg.url,
                           genesis_hash=reg.genesis_hash, kdf=FAST_KDF, clock=reg.clock)
    offer = await town.offer(IDENTITY)
    card = await wallet.receive(offer["offer_uri"], pin=offer["tx_code"], copies=4)
    for _ in range(12):
        entry = await wallet.present(await wallet.prepare((await library.start("age18"))["uri"]))
        assert entry.outcome == "accepted"
    used = [c for c in wallet.copies(card.id) if c.used_at is not None]
    assert [c.used_for for c in used] == [library.did]
    assert wallet.card(card.id).copies_left == 3
    entry = await wallet.present(await wallet.prepare((await cafe.start("age18"))["uri"]))
    assert entry.outcome == "accepted"
    now_used = {c.id: c.used_for for c in wallet.copies(card.id) if c.used_at is not None}
    assert len(now_used) == 2 and set(now_used.values()) == {library.did, cafe.did}
    assert now_used[used[0].id] == library.did
