"""The Keten wallet's terminal interface: one app, one unlocked wallet, a screen per task.

:func:`create_app` is what ``ssiwallet`` (without arguments) runs and what the tests drive.
The app starts on the unlock screen (which creates a wallet when there is none), then
shows the credential cards; every other screen is pushed on top of the cards and goes
back with escape. The app holds the only :class:`~ssiwallet.wallet.wallet.Wallet`, so
every screen runs the same flows as the command line.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from textual.app import App

from ssiwallet.errors import WalletError
from ssiwallet.infra.clock import system_clock
from ssiwallet.tui.screens.cards import CardsScreen
from ssiwallet.tui.screens.unlock import UnlockScreen
from ssiwallet.wallet.sealed import DEFAULT_KDF, KdfParams
from ssiwallet.wallet.store import default_home
from ssiwallet.wallet.wallet import Wallet

__all__ = ["KetenApp", "create_app"]


class KetenApp(App[None]):
    """The wallet's TUI.

    Attributes:
        home: the wallet's directory (``wallet.keten`` lives there).
        kdf: key-derivation cost for a new wallet and for backups (tests use a fast one).
        clock: the wallet's clock, or ``None`` for the system's.
    """

    CSS_PATH = "keten.tcss"
    TITLE = "Keten"
    SUB_TITLE = "identity wallet"
    ENABLE_COMMAND_PALETTE = False

    def __init__(self, home: Path, *, kdf: KdfParams = DEFAULT_KDF,
                 clock: Callable[[], int] | None = None, wallet: Wallet | None = None) -> None:
        """Open on ``home``; an already unlocked ``wallet`` skips the unlock screen."""
        super().__init__()
        self.home = home
        self.kdf = kdf
        self.clock = clock
        self._wallet = wallet
        self._owns_wallet = False

    @property
    def wallet(self) -> Wallet:
        """The unlocked wallet (only the unlock screen runs before there is one)."""
        if self._wallet is None:
            raise WalletError("the wallet is locked", code="wallet.locked")
        return self._wallet

    def now(self) -> int:
        """The wallet's notion of now: states (expired?) and dates depend on it."""
        if self._wallet is not None:
            return self._wallet.clock()
        return self.clock() if self.clock is not None else system_clock()

    def on_mount(self) -> None:
        self.push_screen(CardsScreen() if self._wallet is not None else UnlockScreen())

    def opened(self, wallet: Wallet) -> None:
        """The unlock screen succeeded: keep the wallet and show its cards."""
        self._wallet = wallet
        self._owns_wallet = True
        self.switch_screen(CardsScreen())

    def on_unmount(self) -> None:
        if self._wallet is not None and self._owns_wallet:
            self._wallet.store.close()


def create_app(home: Path | None = None, *, kdf: KdfParams = DEFAULT_KDF,
               clock: Callable[[], int] | None = None) -> KetenApp:
    """The app for the wallet in ``home`` (default: ``$SSIWALLET_HOME`` or the XDG dir)."""
    return KetenApp(home if home is not None else default_home(), kdf=kdf, clock=clock)
