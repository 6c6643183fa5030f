"""The main screen: one card per credential, and a key for every task.

The list shows no claim values (see :mod:`ssiwallet.tui.widgets.card`). It is read again
whenever the screen comes back to the front, so a credential received, restored or
deleted elsewhere shows at once. "Update" asks the registry for every credential's status
and its issuer's accreditation; "delete" asks first.
"""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.events import ScreenResume
from textual.widgets import Footer, Header, ListItem, ListView, Static

from ssiwallet.tui.base import WalletScreen
from ssiwallet.tui.dialogs.confirm import ConfirmDialog
from ssiwallet.tui.fmt import clean, problem
from ssiwallet.tui.screens.backup import BackupScreen
from ssiwallet.tui.screens.detail import DetailScreen
from ssiwallet.tui.screens.history import HistoryScreen
from ssiwallet.tui.screens.present import PresentScreen
from ssiwallet.tui.screens.receive import ReceiveScreen
from ssiwallet.tui.screens.settings import SettingsScreen
from ssiwallet.tui.widgets.card import CredentialCardWidget
from ssiwallet.wallet.records import CredentialCard

__all__ = ["EMPTY", "CardsScreen"]

EMPTY = ("Your wallet holds no credentials yet.\n\n"
         "To receive your first one, ask the issuer (your municipality, school or VDAB) for "
         "an offer: you get a link starting with openid-credential-offer:// and a PIN.\n"
         "Press r, paste the link, type the PIN and press Enter.\n\n"
         "Press s first if the registry still has to be set.")


class CardsScreen(WalletScreen):
    """Every credential in the wallet, newest first."""

    BINDINGS = [
        Binding("enter", "details", "Open", priority=True),
        Binding("r", "receive", "Receive"),
        Binding("p", "present", "Share"),
        Binding("h", "history", "History"),
        Binding("b", "backup", "Backup"),
        Binding("s", "settings", "Settings"),
        Binding("u", "update", "Update"),
        Binding("d", "delete", "Delete"),
        Binding("q", "app.quit", "Quit"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.cards: list[CredentialCard] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield ListView(id="cards")
        yield Static(EMPTY, id="empty", classes="empty", markup=False)
        yield Footer(compact=True)

    async def on_mount(self) -> None:
        self.sub_title = "credentials"
        await self.reload()

    async def on_screen_resume(self, event: ScreenResume) -> None:
        if self.is_mounted and self.cards != self.wallet.cards():
            await self.reload()

    async def reload(self, cards: list[CredentialCard] | None = None) -> None:
        """Show ``cards`` (default: read the wallet again), keeping the selection."""
        view = self.query_one("#cards", ListView)
        keep = view.index
        self.cards = self.wallet.cards() if cards is None else cards
        now = self.now()
        await view.clear()
        await view.extend(ListItem(CredentialCardWidget(c, now)) for c in self.cards)
        view.display = bool(self.cards)
        self.query_one("#empty").display = not self.cards
        if self.cards:
            view.index = min(keep or 0, len(self.cards) - 1)
            view.focus()
        count = len(self.cards)
        self.sub_title = f"{count} credential{'s' if count != 1 else ''}"

    def selected(self) -> CredentialCard | None:
        """The highlighted credential, if any."""
        index = self.query_one("#cards", ListView).index
        if index is None or not 0 <= index < len(self.cards):
            return None
        return self.cards[index]

    # ------------------------------------------------------------------ actions
    @on(ListView.Selected)
    def _open(self) -> None:
        self.action_details()

    def action_details(self) -> None:
        card = self.selected()
        if card is None:
            self.notify("No credential to open yet: press r to receive one.")
            return
        self.app.push_screen(DetailScreen(card))

    def action_receive(self) -> None:
        self.app.push_screen(ReceiveScreen())

    def action_present(self) -> None:
        self.app.push_screen(PresentScreen())

    def action_history(self) -> None:
        self.app.push_screen(HistoryScreen())

    def action_backup(self) -> None:
        self.app.push_screen(BackupScreen())

    def action_settings(self) -> None:
        self.app.push_screen(SettingsScreen())

    def action_update(self) -> None:
        if not self.cards:
            self.notify("Nothing to update: the wallet holds no credentials.")
            return
        self.notify("Asking the registry for each credential's status...")
        self._update()

    @work(exclusive=True, group="update", description="update statuses")
    async def _update(self) -> None:
        try:
            cards = await self.wallet.refresh()
        except Exception as exc:  # shown as detail and code; never a traceback
            self.notify(problem(exc), title="Update failed", severity="error", markup=False)
            return
        await self.reload(cards)
        self.notify("Statuses and accreditations are up to date.")

    def action_delete(self) -> None:
        card = self.selected()
        if card is None:
            self.notify("No credential to delete.")
            return
        question = (f"Delete the {card.type_name()} from {clean(card.issuer_name)}?\n\n"
                    f"All {card.copies_total} copies go; the history keeps what was shown. "
                    "This cannot be undone (a backup can bring it back).")

        async def answer(yes: bool | None) -> None:
            if not yes:
                return
            try:
                self.wallet.delete(card.id)
            except Exception as exc:  # shown as detail and code; never a traceback
                self.notify(problem(exc), title="Delete failed", severity="error",
                            markup=False)
                return
            self.notify(f"Deleted the {card.type_name()}.", markup=False)
            await self.reload()

        self.app.push_screen(ConfirmDialog(question, yes="Delete", no="Keep"), answer)
