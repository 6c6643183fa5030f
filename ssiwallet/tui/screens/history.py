"""The disclosure history: every answer given to a verifier, and its receipt.

The table lists when, who, the outcome and what left the wallet; Enter opens the entry
with the verifier's signed receipt (purpose, retention, the claims it says it received,
the receipt's id), the evidence a person needs to hold a verifier to its word.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Footer, Header, Static

from ssiwallet.tui.base import WalletScreen
from ssiwallet.tui.fmt import clean, path_text, when
from ssiwallet.tui.screens.present import OUTCOME_STYLE, receipt_text
from ssiwallet.wallet.records import CredentialCard, HistoryEntry

__all__ = ["HistoryScreen", "ReceiptScreen", "left_text"]

EMPTY = "No answers yet: what you show to verifiers (or decline) is listed here."


def left_text(entry: HistoryEntry, cards: Sequence[CredentialCard]) -> str:
    """What left the wallet, by claim label (paths for a credential deleted since)."""
    if not entry.disclosed:
        return "nothing"
    by_id = {c.id: c for c in cards}
    labels: list[str] = []
    for cid, paths in entry.disclosed.items():
        card = by_id.get(cid)
        labels.extend(card.claim_label(p) if card else path_text(p) for p in paths)
    return ", ".join(labels)


class ReceiptScreen(WalletScreen):
    """One history entry in full, with the verifier's receipt."""

    BINDINGS = [Binding("escape,backspace", "app.pop_screen", "Back")]

    def __init__(self, entry: HistoryEntry) -> None:
        super().__init__()
        self.entry = entry

    def compose(self) -> ComposeResult:
        entry = self.entry
        cards = self.wallet.cards()
        text = Text.assemble((clean(entry.name), "bold"), f"  {clean(entry.verifier)}",
                             "\nwhen       ", when(entry.at),
                             "\noutcome    ",
                             (entry.outcome, OUTCOME_STYLE.get(entry.outcome, "bold")))
        purpose = entry.purpose
        text.append(f"\nasked for  {clean(purpose.get('en', '?'))}")
        if purpose.get("nl"):
            text.append(f" / {clean(purpose['nl'])} (nl)", style="italic")
        for reason in entry.reasons:
            text.append(f"\nreason     {clean(reason)}", style="red")
        text.append(f"\nwhat left  {left_text(entry, cards)}\n\n")
        text.append_text(receipt_text(entry, cards))
        yield Header()
        with VerticalScroll(id="receipt-box"):
            yield Static(text, id="receipt")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = f"answer to {clean(self.entry.name)}"
        self.query_one("#receipt-box").focus()


class HistoryScreen(WalletScreen):
    """Every answer to a verifier, newest first."""

    BINDINGS = [Binding("escape", "app.pop_screen", "Back"),
                Binding("enter", "open", "Receipt", priority=True)]

    def __init__(self) -> None:
        super().__init__()
        self.entries: list[HistoryEntry] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield DataTable(id="history", cursor_type="row", zebra_stripes=True)
        yield Static(EMPTY, id="empty", classes="empty", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "history"
        self.entries = self.wallet.history()
        cards = self.wallet.cards()
        table = self.query_one("#history", DataTable)
        table.add_columns("When (UTC)", "Who", "Outcome", "What left")
        for entry in self.entries:
            table.add_row(when(entry.at).removesuffix(" UTC"), clean(entry.name),
                          Text(entry.outcome, style=OUTCOME_STYLE.get(entry.outcome, "")),
                          left_text(entry, cards), key=entry.id)
        table.display = bool(self.entries)
        self.query_one("#empty").display = not self.entries
        table.focus()

    @on(DataTable.RowSelected)
    def _selected(self, event: DataTable.RowSelected) -> None:
        self._open(event.cursor_row)

    def action_open(self) -> None:
        self._open(self.query_one("#history", DataTable).cursor_row)

    def _open(self, row: int) -> None:
        if 0 <= row < len(self.entries):
            self.app.push_screen(ReceiptScreen(self.entries[row]))
