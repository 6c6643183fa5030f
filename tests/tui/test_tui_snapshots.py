"""SVG snapshots of the main screens at 80 x 24, from a wallet with fixed data and a fixed clock.

A snapshot fails when a screen's look changes; after a deliberate change, regenerate with
``pytest tests/tui --snapshot-update`` and review the new SVGs. No network is used: the
wallet's rows are written with fixed ids and times, and the consent dialog gets a plan
built directly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input

from ssiwallet.tui.dialogs.consent import ConsentDialog
from ssiwallet.tui.screens.cards import CardsScreen
from ssiwallet.tui.screens.unlock import UnlockScreen
from tests.tui.conftest import (
    PASSPHRASE,
    fixed_app,
    fixed_plan,
    fixed_wallet,
    identity_card,
    type_into,
    wait_for,
)

SIZE = (80, 24)


def _still(pilot: Pilot[Any]) -> None:
    """Stop the cursors blinking, so that every screenshot catches the same frame."""
    for field in pilot.app.screen.query(Input):
        field.cursor_blink = False


async def _settle(pilot: Pilot[Any]) -> None:
    await pilot.pause()
    _still(pilot)


def test_create_screen(snap_compare: Any, tmp_path: Path) -> None:
    assert snap_compare(fixed_app(tmp_path / "new"), terminal_size=SIZE, run_before=_settle)


def test_unlock_screen_with_the_generic_error(snap_compare: Any, tmp_path: Path) -> None:
    fixed_wallet(tmp_path / "w").store.close()

    async def wrong_passphrase(pilot: Pilot[Any]) -> None:
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, UnlockScreen))
        await type_into(pilot, "#passphrase", PASSPHRASE + "?")
        await pilot.press("enter")
        await wait_for(pilot, lambda: "unlock_failed" in str(
            pilot.app.screen.query_one("#error").render()), what="the error")
        _still(pilot)

    assert snap_compare(fixed_app(tmp_path / "w"), terminal_size=SIZE,
                        run_before=wrong_passphrase)


def test_cards_screen(snap_compare: Any, tmp_path: Path) -> None:
    home = tmp_path / "w"
    assert snap_compare(fixed_app(home, fixed_wallet(home)), terminal_size=SIZE,
                        run_before=_settle)


def test_detail_screen(snap_compare: Any, tmp_path: Path) -> None:
    home = tmp_path / "w"
    assert snap_compare(fixed_app(home, fixed_wallet(home)), press=["enter"],
                        terminal_size=SIZE, run_before=_settle)


def test_consent_dialog_with_the_over_asking_warning(snap_compare: Any, tmp_path: Path
                                                     ) -> None:
    home = tmp_path / "w"
    wallet = fixed_wallet(home)
    card = identity_card(wallet)

    async def ask(pilot: Pilot[Any]) -> None:
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, CardsScreen))
        await pilot.app.push_screen(ConsentDialog(fixed_plan(card), {card.id: card}))
        await pilot.pause()

    assert snap_compare(fixed_app(home, wallet), terminal_size=SIZE, run_before=ask)


def test_consent_dialog_for_an_unregistered_verifier(snap_compare: Any, tmp_path: Path
                                                     ) -> None:
    home = tmp_path / "w"
    wallet = fixed_wallet(home)
    card = identity_card(wallet)
    plan = fixed_plan(card, over_ask=False, registered=False)

    async def ask(pilot: Pilot[Any]) -> None:
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, CardsScreen))
        await pilot.app.push_screen(ConsentDialog(plan, {card.id: card}))
        await pilot.pause()

    assert snap_compare(fixed_app(home, wallet), terminal_size=SIZE, run_before=ask)


def test_history_screen(snap_compare: Any, tmp_path: Path) -> None:
    home = tmp_path / "w"
    assert snap_compare(fixed_app(home, fixed_wallet(home)), press=["h"],
                        terminal_size=SIZE, run_before=_settle)


def test_receipt_screen(snap_compare: Any, tmp_path: Path) -> None:
    home = tmp_path / "w"
    assert snap_compare(fixed_app(home, fixed_wallet(home)), press=["h", "enter"],
                        terminal_size=SIZE, run_before=_settle)
