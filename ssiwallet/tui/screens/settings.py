"""Settings: the registry the wallet trusts (its URL, and the genesis hash it is pinned to).

Every issuer and verifier is checked against this registry, so changing it matters:
saving calls :meth:`Wallet.set_registry`, which forgets the old pin and checkpoint. An
empty genesis hash pins the new registry to the first genesis the wallet sees.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Button, Footer, Header, Input, Static

from ssiwallet.tui.base import WalletScreen, form_row
from ssiwallet.tui.fmt import problem

__all__ = ["SettingsScreen"]


class SettingsScreen(WalletScreen):
    """The registry URL and genesis hash; Enter or "Save" stores them."""

    BINDINGS = [Binding("escape", "app.pop_screen", "Back")]

    def compose(self) -> ComposeResult:
        wallet = self.wallet
        yield Header()
        with Vertical(classes="form"):
            yield Static("The registry every issuer and verifier is checked against",
                         classes="title")
            yield from form_row("Registry URL", Input(wallet.registry_url or "", id="registry",
                                                      placeholder="https://registry..."))
            yield from form_row("Genesis hash", Input(wallet.setting("genesis") or "",
                                                      id="genesis",
                                                      placeholder="empty: pin the first seen"),
                                Button("Save", id="save", variant="primary"))
            yield Static("Changing the registry forgets the old pin and checkpoint.",
                         classes="hint")
            yield Static("", id="error", classes="error", markup=False)
            yield Static("", id="saved", classes="ok", markup=False)
            yield Static(f"Wallet file: {wallet.store.path}", classes="hint", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "settings"
        self.query_one("#registry", Input).focus()

    @on(Input.Submitted)
    def _next(self, event: Input.Submitted) -> None:
        if event.input.id == "genesis":
            self.save()
        else:
            self.focus_next(Input)

    @on(Button.Pressed, "#save")
    def save(self) -> None:
        """Store the registry (and pin); a URL that is not an http(s) origin is refused by
        :meth:`Wallet.set_registry` (``input.bad_url``) and shown with its reason."""
        url = self.query_one("#registry", Input).value.strip()
        genesis = self.query_one("#genesis", Input).value.strip() or None
        error = self.query_one("#error", Static)
        saved = self.query_one("#saved", Static)
        saved.update("")
        try:
            self.wallet.set_registry(url, genesis)
        except Exception as exc:  # shown as detail and code; never a traceback
            error.update(problem(exc))
            return
        error.update("")
        self.query_one("#registry", Input).value = self.wallet.registry_url or ""
        self.query_one("#genesis", Input).value = self.wallet.setting("genesis") or ""
        pin = f"pinned to {genesis}" if genesis else "pinned to the first genesis it sees"
        saved.update(f"Saved: registry {self.wallet.registry_url}, {pin}.")
