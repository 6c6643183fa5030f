"""The TUI history of disclosures that left without a (valid) receipt: it says so in words,
never "nothing was shown"."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ssiwallet.tui.screens.history import HistoryScreen, ReceiptScreen
from ssiwallet.wallet.records import NO_RECEIPT, RECEIPT_INVALID
from tests.tui.conftest import NOW, fixed_app, fixed_wallet, screen_text, wait_for

pytestmark = pytest.mark.asyncio

OTHER_DID = "did:keten:7Fz1other0verifier0not0keten"


@pytest.mark.parametrize(("outcome", "receipt_jwt", "words"), [
    ("sent", None, NO_RECEIPT), ("sent, receipt invalid", "a.b.c", RECEIPT_INVALID)],
    ids=["none", "invalid"])
async def test_a_disclosure_without_a_receipt_says_so(tmp_path: Path, outcome: str,
                                                      receipt_jwt: str | None,
                                                      words: str) -> None:
    home = tmp_path / "w"
    wallet = fixed_wallet(home)
    with wallet.store.transaction() as db:
        db.execute("INSERT INTO history VALUES (?,?,?,?,?,?,?,?,?,?,?)", (
            "h00000000000000ff", NOW - 60, OTHER_DID, OTHER_DID,
            json.dumps({"nl": "?", "en": "?"}), outcome, json.dumps(["c1d0000000000001"]),
            json.dumps({"c1d0000000000001": [["age_over_18"]]}), json.dumps([]), None,
            receipt_jwt))
    app = fixed_app(home, wallet)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("h")
        await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen))
        assert outcome in screen_text(app)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ReceiptScreen))
        text = screen_text(app)
        assert words[:1].upper() + words[1:] in text, text
        assert "nothing was shown" not in text
