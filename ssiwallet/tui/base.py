"""What every wallet screen shares: typed access to the app and its one unlocked wallet.

Screens never open HTTP sessions or the database themselves; they call the
:class:`~ssiwallet.wallet.wallet.Wallet` the app holds, so that the TUI and the CLI run
exactly the same flows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Label

from ssiwallet.wallet.wallet import Wallet

if TYPE_CHECKING:
    from ssiwallet.tui.app import KetenApp

__all__ = ["WalletScreen", "form_row"]


class WalletScreen(Screen[None]):
    """A full screen of the wallet (escape goes back unless a screen says otherwise)."""

    @property
    def keten(self) -> KetenApp:
        """The app, typed (it holds the wallet, its home and the clock)."""
        return cast("KetenApp", self.app)

    @property
    def wallet(self) -> Wallet:
        """The unlocked wallet."""
        return self.keten.wallet

    def now(self) -> int:
        """The wallet's clock (fixed in tests, so states and dates are reproducible)."""
        return self.keten.now()


def form_row(label: str, *fields: Widget) -> ComposeResult:
    """A labelled field (and its button) on one line, so that forms fit 80 x 24."""
    with Horizontal(classes="row"):
        yield Label(label, classes="label")
        yield from fields
