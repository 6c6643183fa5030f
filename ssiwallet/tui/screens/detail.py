"""One credential in full: every claim with its label, the issuer as the registry knows it.

This is the only screen that shows claim values. Nested claims (the address) are flattened
to one row per member, each labelled by the issuer's display metadata or the credential
type. The issuer block gives the DID and the name and accreditation the registry gave at
the last check, and the state says when it was last checked, so a stale "valid" can be
told from a fresh one.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Footer, Header, Static

from ssiwallet.tui.base import WalletScreen
from ssiwallet.tui.fmt import (
    accreditation,
    clean,
    day,
    flatten,
    path_text,
    show_value,
    state_text,
    when,
)
from ssiwallet.wallet.records import CredentialCard

__all__ = ["DetailScreen", "claims_text", "facts_text"]

LABEL_WIDTH = 22


def _field(text: Text, name: str) -> None:
    text.append(f"\n{name:<10}", style="bold")


def facts_text(card: CredentialCard, now: int) -> Text:
    """State, issuer, dates and copies of ``card`` as seen at ``now``."""
    text = Text.assemble((card.type_name(), "bold underline"))
    text.append(f"  {clean(card.vct)}", style="dim")
    _field(text, "State")
    text.append_text(state_text(card.state(now), upper=True))
    checked = "never checked on the registry" if card.checked_at is None else \
        f"last checked {when(card.checked_at)}"
    text.append(f"   {checked}", style="dim")
    _field(text, "Issuer")
    text.append(clean(card.issuer_name or card.issuer), style="bold")
    text.append("  ")
    text.append_text(accreditation(card.accredited))
    text.append(f"\n{'':<10}{clean(card.issuer)}", style="dim")
    if card.issuer_url:
        text.append(f"\n{'':<10}{clean(card.issuer_url)}", style="dim")
    _field(text, "Issued")
    text.append(day(card.iat))
    text.append("   expires ", style="bold")
    text.append(day(card.exp))
    _field(text, "Received")
    text.append(day(card.received_at))
    text.append("   copies ", style="bold")
    text.append(f"{card.copies_left}/{card.copies_total} left")
    return text


def claims_text(card: CredentialCard) -> Text:
    """Every claim: label, value, and the path verifiers ask it by."""
    text = Text.assemble(("Claims", "bold underline"))
    for path, value in flatten(card.claims):
        text.append(f"\n{card.claim_label(path):<{LABEL_WIDTH}} ")
        text.append(show_value(value), style="bold")
        text.append(f"  {path_text(path)}", style="dim")
    return text


class DetailScreen(WalletScreen):
    """The claims and facts of one credential."""

    BINDINGS = [Binding("escape,backspace", "app.pop_screen", "Back")]

    def __init__(self, card: CredentialCard) -> None:
        super().__init__()
        self.card = card

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="detail"):
            yield Static(facts_text(self.card, self.now()), id="facts")
            yield Static(claims_text(self.card), id="claims")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = self.card.type_name()
        self.query_one("#detail").focus()
