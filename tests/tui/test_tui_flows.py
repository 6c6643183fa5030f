"""The TUI driven by keys at 80 x 24, against a real registry, issuer and verifier on loopback.

Each test goes through the screens a person would: unlock or create, receive with the
offer link and PIN, look at the card and its claims, present with the consent dialog
(share, decline, and the over-asking warning), read the history and its receipts, update
the status after a revocation, delete, back up and restore, and change the registry.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from textual.pilot import Pilot
from textual.widgets import Input, ListView

from ssiwallet.tui.app import KetenApp, create_app
from ssiwallet.tui.dialogs.confirm import ConfirmDialog
from ssiwallet.tui.dialogs.consent import ConsentDialog
from ssiwallet.tui.fmt import UNLOCK_FAILED
from ssiwallet.tui.screens.backup import BackupScreen
from ssiwallet.tui.screens.cards import EMPTY, CardsScreen
from ssiwallet.tui.screens.detail import DetailScreen
from ssiwallet.tui.screens.history import HistoryScreen, ReceiptScreen
from ssiwallet.tui.screens.present import PresentScreen
from ssiwallet.tui.screens.receive import ReceiveScreen
from ssiwallet.tui.screens.settings import SettingsScreen
from ssiwallet.tui.screens.unlock import UnlockScreen
from ssiwallet.wallet.sealed import FAST_KDF
from ssiwallet.wallet.wallet import Wallet
from tests.tui.conftest import (
    CREDENTIALS,
    PASSPHRASE,
    fixed_app,
    fixed_wallet,
    screen_text,
    shows,
    type_into,
    wait_for,
)

pytestmark = pytest.mark.asyncio

SIZE = (80, 24)
IDENTITY = {"given_name": "Noor", "family_name": "Bakker", "birthdate": "2000-05-17",
            "address": {"street_address": "Korenmarkt 3", "postal_code": "9000",
                        "locality": "Gent", "country": "BE"}}


@dataclass
class World:
    reg: Any
    town: Any
    library: Any
    wallet: Wallet
    home: Path

    def app(self) -> KetenApp:
        return create_app(self.home, kdf=FAST_KDF, clock=self.reg.clock)

    async def receive(self, copies: int = 4) -> Any:
        """A credential received through the library API (for tests about other screens)."""
        created = await self.town.offer(IDENTITY)
        return await self.wallet.receive(created["offer_uri"], pin=created["tx_code"],
                                         copies=copies)


@pytest_asyncio.fixture
async def world(registry_node: Any, issuer_service: Any, verifier_service: Any,
                tmp_path: Path) -> AsyncIterator[World]:
    reg = await registry_node()
    town = await issuer_service(reg, profile="municipality", batch_size=4)
    library = await verifier_service(reg, presets=["age18"], name="Bibliotheek Gent")
    home = tmp_path / "wallet"
    wallet = Wallet.create(home, PASSPHRASE, registry_url=reg.url,
                           genesis_hash=reg.genesis_hash, kdf=FAST_KDF, clock=reg.clock)
    yield World(reg, town, library, wallet, home)


async def unlock(pilot: Pilot[Any], passphrase: str = PASSPHRASE) -> None:
    """Type the passphrase on the unlock screen and wait for the cards."""
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, UnlockScreen))
    await type_into(pilot, "#passphrase", passphrase)
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, CardsScreen), what="cards")


async def present(pilot: Pilot[Any], uri: str) -> ConsentDialog:
    """From the cards, open the present screen, paste ``uri`` and wait for the consent."""
    await pilot.press("p")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, PresentScreen))
    await type_into(pilot, "#request", uri)
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, ConsentDialog),
                   what="the consent dialog")
    screen = pilot.app.screen
    assert isinstance(screen, ConsentDialog)
    return screen


# ------------------------------------------------------------------ unlock and create
async def test_create_a_wallet_on_the_unlock_screen(tmp_path: Path) -> None:
    home = tmp_path / "new"
    app = create_app(home, kdf=FAST_KDF, clock=lambda: 1_750_000_000)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, UnlockScreen))
        assert shows(app, "There is no wallet here yet")
        await type_into(pilot, "#passphrase", PASSPHRASE)
        await type_into(pilot, "#repeat", PASSPHRASE + "x")
        await type_into(pilot, "#registry", "http://127.0.0.1:9")
        await pilot.press("enter", "enter")  # registry -> genesis -> submit
        assert shows(app, "The two passphrases differ.")
        assert isinstance(app.screen, UnlockScreen) and not (home / "wallet.keten").exists()
        await type_into(pilot, "#passphrase", PASSPHRASE)
        await type_into(pilot, "#repeat", PASSPHRASE)
        await type_into(pilot, "#genesis", "ab" * 32)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, CardsScreen))
        assert shows(app, EMPTY)
    wallet = Wallet.unlock(home, PASSPHRASE)
    assert wallet.registry_url == "http://127.0.0.1:9"
    assert wallet.setting("genesis") == "ab" * 32 and wallet.cards() == []


async def test_unlock_and_the_generic_error_for_a_wrong_passphrase(tmp_path: Path) -> None:
    fixed_wallet(tmp_path / "w")
    app = fixed_app(tmp_path / "w")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, UnlockScreen))
        assert shows(app, "Unlock your wallet")
        await type_into(pilot, "#passphrase", "not the passphrase")
        await pilot.press("enter")
        await wait_for(pilot, lambda: shows(app, UNLOCK_FAILED.format(what="wallet")),
                       what="the unlock error")
        assert app.screen.query_one("#passphrase", Input).value == ""  # not left on screen
        assert isinstance(app.screen, UnlockScreen)
        await unlock(pilot)
        view = app.screen.query_one("#cards", ListView)
        assert len(view.children) == len(CREDENTIALS)
        text = screen_text(app)
        for needle in ("Identity credential", "Gemeente Gent", "7/10 copies left", "VALID",
                       "REVOKED", "EXPIRED", "UNKNOWN", "NOT accredited"):
            assert needle in text, needle
        assert "Korenmarkt" not in text and "Noor" not in text  # no claim values on cards


# ------------------------------------------------------------------ receive, cards, detail
async def test_receive_then_the_card_and_its_details(world: World) -> None:
    app = world.app()
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        assert shows(app, EMPTY)
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, ReceiveScreen))
        wrong = await world.town.offer(IDENTITY)
        await type_into(pilot, "#offer", wrong["offer_uri"])
        await type_into(pilot, "#pin", "000000" if wrong["tx_code"] != "000000" else "111111")
        await type_into(pilot, "#copies", "4")
        await pilot.press("enter")
        await wait_for(pilot, lambda: "(oid4vci." in screen_text(app), what="a PIN error")
        assert world.wallet.cards() == []

        created = await world.town.offer(IDENTITY)
        await type_into(pilot, "#offer", created["offer_uri"])
        await type_into(pilot, "#pin", created["tx_code"])
        await type_into(pilot, "#copies", "4")
        await pilot.press("enter")
        await wait_for(pilot, lambda: shows(app, "Received: Identity credential"),
                       what="the received card")
        assert shows(app, "4/4 copies left", "accredited")
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, CardsScreen))
        await wait_for(pilot, lambda: shows(app, "Identity credential"))
        name = world.town.ctx.config.display["en"]
        assert shows(app, f"issued by {name}", "accredited", "valid", "4/4 copies left")
        assert not shows(app, "NOT accredited")

        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, DetailScreen))
        text = screen_text(app)
        for needle in ("Given name", "Noor", "Family name", "Bakker", "Date of birth",
                       "2000-05-17", "Aged 18 or over", "Street and number", "Korenmarkt 3",
                       "Municipality", "address.locality", "Gent", world.town.did, name,
                       "VALID", "last checked"):
            assert needle in text, needle
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, CardsScreen))


# ------------------------------------------------------------------ present and history
@pytest.mark.slow
async def test_share_then_decline_and_the_history(world: World) -> None:
    card = await world.receive()
    app = world.app()
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        started = await world.library.start("age18")
        dialog = await present(pilot, started["uri"])
        text = screen_text(app)
        for needle in ("Bibliotheek Gent asks for your data", world.library.did,
                       "registered verifier", "Access to the library",
                       "Toegang tot de bibliotheek", "Will LEAVE", "Aged 18 or over",
                       "(age_over_18)", "Stays in your wallet", "Given name"):
            assert needle in text, needle
        assert not dialog.query("#over-asked") and "MORE than" not in text
        await pilot.press("y")
        await wait_for(pilot, lambda: shows(app, "Outcome: ACCEPTED"), what="the outcome")
        entry = world.wallet.history()[0]
        assert entry.outcome == "accepted" and entry.receipt is not None
        assert shows(app, "retention  10 minutes", entry.receipt["jti"], "(age_over_18)")
        view = await world.library.result(started["id"])
        assert view["status"] == "answered" and view["result"]["ok"] is True
        assert world.wallet.card(card.id).copies_left == 3

        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, CardsScreen))
        world.reg.clock.advance(60)  # the history is ordered by time
        again = await world.library.start("age18")
        await present(pilot, again["uri"])
        await pilot.press("n")
        await wait_for(pilot, lambda: shows(app, "Outcome: DECLINED"), what="the outcome")
        assert shows(app, "nothing was shown")
        assert (await world.library.result(again["id"]))["status"] == "declined"
        assert world.wallet.card(card.id).copies_left == 3

        await pilot.press("escape", "h")
        await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen))
        rows = [r for r in screen_text(app).splitlines() if "Bibliotheek Gent" in r]
        assert len(rows) == 2
        assert "declined" in rows[0] and "nothing" in rows[0]
        assert "accepted" in rows[1] and "Aged 18 or over" in rows[1]
        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ReceiptScreen))
        text = screen_text(app)
        for needle in ("outcome    accepted", "Access to the library", "retention  10 minutes",
                       "Aged 18 or over (age_over_18)", entry.receipt["jti"]):
            assert needle in text, needle
        await pilot.press("escape", "up", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ReceiptScreen))
        assert shows(app, "outcome    declined", "No receipt")


async def test_the_consent_dialog_warns_when_a_verifier_over_asks(world: World) -> None:
    from verifier.presets import Preset

    await world.receive()
    greedy = Preset("age18", {"nl": "x", "en": "x"}, {"credentials": [{
        "id": "identity", "format": "dc+sd-jwt",
        "meta": {"vct_values": ["urn:keten:vct:identity:1"]},
        "claims": [{"path": ["age_over_18"]}, {"path": ["birthdate"]}]}]})
    object.__setattr__(world.library.ctx.config, "presets", (greedy,))
    app = world.app()
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        started = await world.library.start("age18")
        dialog = await present(pilot, started["uri"])
        warning = screen_text(app)
        assert dialog.query("#over-asked")
        assert "asks for MORE than it is registered for" in warning
        assert "Identity credential: Date of birth (birthdate)" in warning
        await pilot.press("escape")  # escape declines
        await wait_for(pilot, lambda: shows(app, "Outcome: DECLINED"), what="the outcome")
        assert (await world.library.result(started["id"]))["status"] == "declined"


# ------------------------------------------------------------------ status update
async def test_update_shows_revoked_after_the_issuer_revokes(world: World) -> None:
    await world.receive()
    app = world.app()
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        assert shows(app, "VALID") and not shows(app, "REVOKED")
        _, listed = await world.town.admin("GET", "/admin/credentials")
        for cred in listed["credentials"]:
            status, body = await world.town.admin(
                "POST", f"/admin/credentials/{cred['id']}/status", {"status": "revoked"})
            assert status == 200, body
        await pilot.press("u")
        await wait_for(pilot, lambda: shows(app, "REVOKED"), what="the revoked state")
        assert shows(app, "revoked") and not shows(app, "VALID")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, DetailScreen))
        assert shows(app, "State     REVOKED")


# ------------------------------------------------------------------ delete
@pytest.mark.slow
async def test_delete_asks_first(tmp_path: Path) -> None:
    wallet = fixed_wallet(tmp_path / "w")
    app = fixed_app(tmp_path / "w", wallet)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, CardsScreen))
        await pilot.press("down", "d")  # the diploma (second, newest first)
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        assert shows(app, "Delete the Diploma from Universiteit Gent?", "All 4 copies")
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, CardsScreen))
        assert len(wallet.cards()) == len(CREDENTIALS)
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("y")
        await wait_for(pilot, lambda: len(app.screen.query_one("#cards", ListView).children)
                       == len(CREDENTIALS) - 1, what="one card fewer")
    assert CREDENTIALS[1][0] not in {c.id for c in wallet.cards()}
    assert len(wallet.cards()) == len(CREDENTIALS) - 1


# ------------------------------------------------------------------ backup and restore
@pytest.mark.slow
async def test_backup_then_restore_into_a_new_wallet(tmp_path: Path) -> None:
    wallet = fixed_wallet(tmp_path / "old")
    target = tmp_path / "keten-backup.keten"
    app = fixed_app(tmp_path / "old", wallet)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("b")
        await wait_for(pilot, lambda: isinstance(app.screen, BackupScreen))
        await type_into(pilot, "#backup-path", str(target))
        await type_into(pilot, "#backup-pass", "not the passphrase")
        await pilot.press("enter")
        await wait_for(pilot, lambda: shows(app, "(wallet.wrong_passphrase)"), what="error")
        assert not target.exists()
        await type_into(pilot, "#backup-pass", PASSPHRASE)
        await pilot.press("enter")
        await wait_for(pilot, lambda: shows(app, "Backup written to"), what="the backup")
    assert target.exists()

    new = Wallet.create(tmp_path / "new", "another passphrase", kdf=FAST_KDF)
    app = fixed_app(tmp_path / "new", new)
    async with app.run_test(size=SIZE) as pilot:
        assert shows(app, "no credentials yet")
        await pilot.press("b")
        await wait_for(pilot, lambda: isinstance(app.screen, BackupScreen))
        await type_into(pilot, "#restore-path", str(target))
        await type_into(pilot, "#restore-pass", "wrong")
        await pilot.press("enter")
        await wait_for(pilot, lambda: shows(app, "The backup cannot be opened"), what="error")
        await type_into(pilot, "#restore-pass", PASSPHRASE)
        await pilot.press("enter")
        await wait_for(pilot, lambda: shows(app, "exact copy"), what="the report")
        assert shows(app, "Added: 4 credentials, 26 copies, 3 history entries")
        await pilot.press("escape")
        await wait_for(pilot, lambda: len(app.screen.query_one("#cards", ListView).children)
                       == len(CREDENTIALS), what="the restored cards")
    assert [c.id for c in new.cards()] == [c.id for c in wallet.cards()]


# ------------------------------------------------------------------ settings
async def test_settings_change_the_registry(tmp_path: Path) -> None:
    wallet = fixed_wallet(tmp_path / "w")
    app = fixed_app(tmp_path / "w", wallet)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(app.screen, SettingsScreen))
        assert app.screen.query_one("#registry", Input).value == wallet.registry_url
        await type_into(pilot, "#registry", "ftp://nowhere")
        await pilot.press("enter", "enter")
        assert shows(app, "is not an http(s) URL") and shows(app, "input.bad_url")
        await type_into(pilot, "#registry", "registry.example")
        await pilot.press("enter", "enter")
        assert shows(app, "write it as https://registry.example")
        assert wallet.registry_url == "https://registry.keten.example"
        await type_into(pilot, "#registry", "https://other.registry.example/")
        await type_into(pilot, "#genesis", "cd" * 32)
        await pilot.press("enter")
        await wait_for(pilot, lambda: shows(app, "Saved: registry"), what="saved")
    assert wallet.registry_url == "https://other.registry.example"
    assert wallet.setting("genesis") == "cd" * 32
