"""Receive a credential: paste the offer link, type the PIN, get the card.

The wallet redeems the offer (OpenID4VCI, pre-authorized code with the PIN as
``tx_code``), asks for the number of bound copies given here, and checks every copy and
the issuer's accreditation on the registry before anything is stored. That takes a few
network round trips, so it runs in a worker while a loading indicator shows.
"""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Button, Footer, Header, Input, LoadingIndicator, Static

from ssiwallet.tui.base import WalletScreen, form_row
from ssiwallet.tui.fmt import problem
from ssiwallet.tui.widgets.card import CredentialCardWidget
from ssiwallet.wallet.records import CredentialCard

__all__ = ["DEFAULT_COPIES", "MAX_COPIES", "ReceiveScreen"]

DEFAULT_COPIES = 10
MAX_COPIES = 50


class ReceiveScreen(WalletScreen):
    """The offer link, the PIN and the number of copies; then the new card or the error."""

    BINDINGS = [Binding("escape", "app.pop_screen", "Back")]

    def __init__(self) -> None:
        super().__init__()
        self.received: CredentialCard | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(classes="form"):
            yield Static("Paste the offer link and type the PIN the issuer gave you.",
                         classes="title")
            yield from form_row("Offer link", Input(id="offer",
                                                    placeholder="openid-credential-offer://"))
            yield from form_row("PIN", Input(id="pin", password=True,
                                             placeholder="if the issuer gave one"))
            yield from form_row("Copies", Input(str(DEFAULT_COPIES), id="copies",
                                                type="integer", classes="short"),
                                Button("Receive", id="submit", variant="primary"))
            yield Static("Each verifier gets its own copy, so that verifiers cannot link "
                         "your visits. Enter on the last field receives.", classes="hint")
            yield LoadingIndicator(id="busy")
            yield Static("", id="error", classes="error", markup=False)
            yield Vertical(id="result")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "receive a credential"
        self.query_one("#busy").display = False
        self.query_one("#offer", Input).focus()

    @on(Input.Submitted)
    def _next(self, event: Input.Submitted) -> None:
        if event.input.id == "copies":
            self.submit()
        else:
            self.focus_next(Input)

    @on(Button.Pressed, "#submit")
    def _pressed(self) -> None:
        self.submit()

    def submit(self) -> None:
        """Check the form and start receiving."""
        uri = self.query_one("#offer", Input).value.strip()
        pin = self.query_one("#pin", Input).value.strip() or None
        raw = self.query_one("#copies", Input).value.strip()
        copies = int(raw) if raw.isdigit() else 0
        if not uri:
            self._error("Paste the offer link first.")
        elif not 1 <= copies <= MAX_COPIES:
            self._error(f"Ask for 1 to {MAX_COPIES} copies.")
        else:
            self._busy(True)
            self._receive(uri, pin, copies)

    @work(exclusive=True, group="receive", description="receive a credential")
    async def _receive(self, uri: str, pin: str | None, copies: int) -> None:
        try:
            card = await self.wallet.receive(uri, pin=pin, copies=copies)
        except Exception as exc:  # shown as detail and code; never a traceback
            self._busy(False)
            self._error(problem(exc))
            return
        self._busy(False)
        self.received = card
        self.query_one("#offer", Input).value = ""
        self.query_one("#pin", Input).value = ""
        result = self.query_one("#result", Vertical)
        await result.remove_children()
        await result.mount(Static(f"Received: {card.type_name()} ({card.copies_total} "
                                  "copies). Escape goes back to your cards.", classes="ok",
                                  markup=False),
                           CredentialCardWidget(card, self.now()))

    def _error(self, message: str) -> None:
        self.query_one("#error", Static).update(message)

    def _busy(self, busy: bool) -> None:
        self.query_one("#busy").display = busy
        if busy:
            self.query_one("#error", Static).update("")
        for field in self.query(Input):
            field.disabled = busy
        self.query_one("#submit", Button).disabled = busy
