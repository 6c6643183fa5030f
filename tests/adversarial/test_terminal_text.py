"""SECURITY-TESTS 42: text from an issuer or a verifier reaches the terminal without control
characters or escape sequences.

A verifier's name, purpose and refusal reasons, an issuer's names, claim labels and claim
values, and the detail of an error from either side can carry ESC, CSI and OSC sequences,
BEL, C1 controls and bidi overrides. The CLI's text output and the TUI's screens show them
with those removed (the JSON documents keep the data as it is, escaped by JSON).
"""

from __future__ import annotations

import dataclasses
import json
import unicodedata
from pathlib import Path
from typing import Any

import pytest

from ssiwallet import cli
from ssiwallet import cli_text as text
from ssiwallet.errors import WalletError
from ssiwallet.tui.dialogs.consent import ConsentDialog
from ssiwallet.tui.fmt import problem
from ssiwallet.tui.screens.detail import DetailScreen
from ssiwallet.tui.screens.history import ReceiptScreen
from ssiwallet.wallet.wallet import Wallet
from tests.tui.conftest import (
    CREDENTIALS,
    NOW,
    PASSPHRASE,
    fixed_app,
    fixed_plan,
    fixed_wallet,
    identity_card,
    screen_text,
    wait_for,
)

EVIL = "\x1b]0;pwned\x07\x1b[2J"
NASTY = [EVIL, "\x1b[31m", "\x9b2J", "\x9d0;t\x9c", "\u202e", "\u2066", "\x07", "\r", "\x08",
         "\x1bc", "\x1bP1$q\x1b\\", "\x00", "\x7f"]


def clean(out: str) -> bool:
    """No control character but the newline, no bidi control, nothing of ``EVIL``."""
    bad = [c for c in out if (unicodedata.category(c) == "Cc" and c != "\n")
           or unicodedata.bidirectional(c) in ("LRE", "RLE", "LRO", "RLO", "PDF", "LRI",
                                               "RLI", "FSI", "PDI")]
    return not bad and "pwned" not in out and "[2J" not in out


@pytest.mark.parametrize("nasty", NASTY)
def test_42_the_one_function_removes_every_sequence(nasty: str) -> None:
    from ssiwallet.wallet.records import terminal_text

    out = terminal_text(f"Biblio{nasty}theek\nGent")
    assert clean(out) and "\n" not in out
    assert out.replace(" ", "") == "BibliotheekGent"
    assert terminal_text("a\nb", lines=True) == "a\nb"
    assert terminal_text("Café De Kroon — 18+ ✓ 🚲") == "Café De Kroon — 18+ ✓ 🚲"
    assert terminal_text(f"x{nasty}\ny", lines=True).replace(" ", "") in ("x\ny",)


def evil_wallet(home: Path) -> Wallet:
    wallet = fixed_wallet(home)
    cid = CREDENTIALS[0][0]
    with wallet.store.transaction() as db:
        display = {"issuer": [], "credential": [{"locale": "en", "name": f"Identity{EVIL}"}],
                   "claims": [{"path": ["given_name"],
                               "display": [{"locale": "en", "name": f"Name{EVIL}"}]}]}
        claims = {"given_name": f"Noor{EVIL}", "family_name": "Bakker\u202e"}
        db.execute("UPDATE credentials SET display = ?, claims = ?, issuer_name = ? "
                   "WHERE id = ?", (json.dumps(display), json.dumps(claims),
                                    f"Gemeente{EVIL}", cid))
        db.execute("UPDATE history SET name = ?, purpose = ?, reasons = ?, receipt = ? "
                   "WHERE id = 'h0000000000000001'", (
                       f"Bibliotheek{EVIL} Gent", json.dumps({"en": f"Access{EVIL}",
                                                              "nl": f"Toegang{EVIL}"}),
                       json.dumps([f"status.revoked{EVIL}"]),
                       json.dumps({"jti": f"rcpt{EVIL}", "iat": NOW, "result": "accepted",
                                   "retention": 600, "purpose": {"en": f"Access{EVIL}"},
                                   "received": [{"vct": f"urn:x{EVIL}", "claims": [
                                       [f"age{EVIL}"]]}]})))
    return wallet


def evil_plan(wallet: Wallet) -> Any:
    plan = fixed_plan(identity_card(wallet))
    return dataclasses.replace(plan, name=f"Bibliotheek{EVIL} Gent",
                               purpose={"en": f"Access{EVIL}", "nl": f"Toegang\x9b2J{EVIL}"},
                               verifier=f"did:keten:x{EVIL}",
                               over_asked=[f"urn:x:{EVIL}", EVIL],
                               reasons=[f"no match{EVIL}"])


def test_42_cli_text_views(tmp_path: Path) -> None:
    wallet = evil_wallet(tmp_path / "w")
    cards, history = wallet.cards(), wallet.history()
    plan = evil_plan(wallet)
    views = [text.card_table(cards, NOW), text.card_detail(identity_card(wallet), NOW),
             text.consent_text(plan, cards), text.history_text(history),
             text.consent_text(dataclasses.replace(plan, satisfiable=False), cards)]
    for view in views:
        assert clean(view), repr(view)
    assert "Bibliotheek Gent asks for information" in views[2]
    assert "Noor" in views[1] and "Gemeente" in views[0]


def test_42_cli_error_detail_and_words(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    def hostile(*args: Any, **kwargs: Any) -> Wallet:
        raise WalletError(f"the verifier said: no{EVIL}\u202e", code="verifier.refused")

    monkeypatch.setenv("SSIWALLET_PASSPHRASE", PASSPHRASE)
    monkeypatch.setattr(Wallet, "unlock", hostile)
    assert cli.main(["--home", str(tmp_path), "list"]) == 1
    out = capsys.readouterr()
    assert clean(out.err + out.out) and "the verifier said: no" in out.err
    assert cli.main(["--home", str(tmp_path), "--json", "list"]) == 1
    doc = json.loads(capsys.readouterr().out)  # the document keeps the data, escaped
    assert doc["error"] == "verifier.refused"

    monkeypatch.undo()
    evil_wallet(tmp_path / "w").close()
    monkeypatch.setenv("SSIWALLET_PASSPHRASE", PASSPHRASE)
    for command in (["list"], ["show", CREDENTIALS[0][0]], ["history"]):
        assert cli.main(["--home", str(tmp_path / "w"), *command]) == 0
        out = capsys.readouterr()
        assert clean(out.out + out.err), command


def test_42_tui_problem_line() -> None:
    assert clean(problem(WalletError(f"bad{EVIL}\nthing", code="x.y")))


@pytest.mark.asyncio
async def test_42_tui_consent_receipt_and_detail(tmp_path: Path) -> None:
    wallet = evil_wallet(tmp_path / "w")
    app = fixed_app(tmp_path / "w", wallet)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        for screen in (ConsentDialog(evil_plan(wallet), {c.id: c for c in wallet.cards()}),
                       ConsentDialog(dataclasses.replace(evil_plan(wallet), satisfiable=False)),
                       ReceiptScreen(wallet.history()[0]),
                       DetailScreen(identity_card(wallet))):
            await app.push_screen(screen)
            await wait_for(pilot, lambda: app.screen is screen)  # noqa: B023 - awaited here
            await pilot.pause()
            shown = screen_text(app)
            assert clean(shown), repr(shown)
            assert "Bibliotheek" in shown or "Noor" in shown
            app.pop_screen()
            await pilot.pause()
        assert clean(screen_text(app))  # the cards
