"""The first screen: unlock the wallet, or create one when there is none yet.

Unlocking and creating derive the key with Argon2id (a noticeable fraction of a second on
purpose), so both run in a thread worker and the screen shows that it is working. Every
failure to unlock reads the same (wrong passphrase or damaged file), and the passphrase
fields are cleared after each attempt so that the secret does not linger on screen.
"""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Vertical
from textual.widgets import Button, Footer, Header, Input, LoadingIndicator, Static

from ssiwallet.tui.base import WalletScreen, form_row
from ssiwallet.tui.fmt import problem
from ssiwallet.wallet.store import Store
from ssiwallet.wallet.wallet import Wallet

__all__ = ["MIN_PASSPHRASE", "UnlockScreen"]

MIN_PASSPHRASE = 8
"""The shortest passphrase the TUI accepts for a new wallet (the store only refuses empty)."""


class UnlockScreen(WalletScreen):
    """Unlock an existing wallet, or create one (passphrase twice and the registry)."""

    BINDINGS = [Binding("escape", "app.quit", "Quit")]

    def __init__(self) -> None:
        super().__init__()
        self.creating = False

    def compose(self) -> ComposeResult:
        self.creating = not Store.exists(self.keten.home)
        yield Header()
        with Center(), Vertical(id="unlock-form", classes="form"):
            if self.creating:
                yield Static("Welcome to Keten. There is no wallet here yet: create one.",
                             classes="title")
                yield from form_row("Passphrase", Input(password=True, id="passphrase",
                                                    placeholder=f"at least {MIN_PASSPHRASE} "
                                                    "characters"))
                yield from form_row("Repeat it", Input(password=True, id="repeat"))
                yield from form_row("Registry URL", Input(id="registry",
                                                      placeholder="https://registry..."))
                yield from form_row("Genesis hash", Input(id="genesis",
                                                      placeholder="optional: pins the registry"))
                yield Static("The passphrase cannot be recovered: keep it safe, and make a "
                             "backup once you hold credentials.", classes="hint")
                yield Button("Create wallet", id="submit", variant="primary")
            else:
                yield Static("Unlock your wallet", classes="title")
                yield from form_row("Passphrase", Input(password=True, id="passphrase"))
                yield Button("Unlock", id="submit", variant="primary")
            yield LoadingIndicator(id="busy")
            yield Static("", id="error", classes="error", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "create a wallet" if self.creating else "unlock"
        self.query_one("#busy").display = False
        self.query_one("#passphrase", Input).focus()

    # ------------------------------------------------------------------ input
    @on(Input.Submitted)
    def _next(self, event: Input.Submitted) -> None:
        inputs = list(self.query(Input))
        if event.input is inputs[-1]:
            self.submit()
        else:
            inputs[inputs.index(event.input) + 1].focus()

    @on(Button.Pressed, "#submit")
    def _pressed(self) -> None:
        self.submit()

    def submit(self) -> None:
        """Check the form, then unlock or create in a thread."""
        passphrase = self.query_one("#passphrase", Input).value
        if not self.creating:
            self._busy(True)
            self._unlock(passphrase)
            return
        repeat = self.query_one("#repeat", Input).value
        url = self.query_one("#registry", Input).value.strip()
        genesis = self.query_one("#genesis", Input).value.strip() or None
        if len(passphrase) < MIN_PASSPHRASE:
            self._error(f"The passphrase needs at least {MIN_PASSPHRASE} characters.")
        elif passphrase != repeat:
            self._error("The two passphrases differ.")
        elif not url.startswith(("https://", "http://")):
            self._error("Give the registry's URL (https://...); the wallet checks every "
                        "issuer and verifier against it.")
        else:
            self._busy(True)
            self._create(passphrase, url, genesis)

    # ------------------------------------------------------------------ workers
    @work(thread=True, exclusive=True, group="unlock", description="unlock the wallet")
    def _unlock(self, passphrase: str) -> None:
        app = self.keten
        try:
            wallet = Wallet.unlock(app.home, passphrase, clock=app.clock)
        except Exception as exc:  # shown as detail and code; never a traceback
            app.call_from_thread(self._failed, exc)
        else:
            app.call_from_thread(app.opened, wallet)

    @work(thread=True, exclusive=True, group="unlock", description="create the wallet")
    def _create(self, passphrase: str, url: str, genesis: str | None) -> None:
        app = self.keten
        try:
            wallet = Wallet.create(app.home, passphrase, registry_url=url,
                                   genesis_hash=genesis, kdf=app.kdf, clock=app.clock)
        except Exception as exc:  # shown as detail and code; never a traceback
            app.call_from_thread(self._failed, exc)
        else:
            app.call_from_thread(app.opened, wallet)

    # ------------------------------------------------------------------ feedback
    def _failed(self, exc: Exception) -> None:
        self._busy(False)
        self._error(problem(exc), clear=True)

    def _error(self, message: str, *, clear: bool = False) -> None:
        if clear:
            for field in self.query(Input):
                if field.password:
                    field.value = ""
        self.query_one("#error", Static).update(message)
        self.query_one("#passphrase", Input).focus()

    def _busy(self, busy: bool) -> None:
        self.query_one("#busy").display = busy
        if busy:
            self.query_one("#error", Static).update("")
        for field in self.query(Input):
            field.disabled = busy
        self.query_one("#submit", Button).disabled = busy
