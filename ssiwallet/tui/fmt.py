"""Small text helpers every screen shares: dates, states, claim labels and error lines.

Kept in one place so that a state has the same colour and a date the same form on every
screen, and so that no screen ever formats an exception on its own (a traceback or a
``repr`` could carry personal data; only ``detail`` and ``code`` are shown).

Text from an issuer or a verifier (names, purposes, reasons, labels, claim values, error
details) goes through :func:`clean` (``terminal_text``) before any screen shows it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from rich.text import Text

from ssiwallet.core.claimpath import Element
from ssiwallet.errors import SsiError, UnlockError
from ssiwallet.wallet.records import (
    CredentialCard,
    flatten,
    terminal_text,
    type_claim_label,
    type_label,
)

__all__ = ["STATE_STYLE", "UNLOCK_FAILED", "accreditation", "claim_label", "clean", "day",
           "flatten", "path_text", "problem", "retention", "show_value", "state_text",
           "type_name", "when"]

clean = terminal_text
"""Text from outside as one line a terminal shows as it is (no escapes, no controls)."""

STATE_STYLE = {"valid": "bold green", "suspended": "bold yellow", "revoked": "bold red",
               "expired": "bold dark_orange", "unknown": "bold magenta"}
"""One colour per credential state, the same on the list, the detail and the history."""

UNLOCK_FAILED = ("The {what} cannot be opened: wrong passphrase, or the file is damaged. "
                 "(wallet.unlock_failed)")
"""One message for a wrong guess and a damaged file, on purpose (see ``UnlockError``)."""


def when(ts: int | None) -> str:
    """A moment as ``YYYY-MM-DD HH:MM UTC`` (UTC so every screen and test agrees)."""
    if ts is None:
        return "never"
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(ts))


def day(ts: int | None, none: str = "no end date") -> str:
    """A date as ``YYYY-MM-DD`` (UTC); ``none`` when there is none."""
    return none if ts is None else time.strftime("%Y-%m-%d", time.gmtime(ts))


def retention(seconds: int) -> str:
    """How long a verifier keeps what it received, in words a person reads at a glance."""
    if seconds <= 0:
        return "not kept"
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} seconds"


def problem(exc: BaseException, *, what: str = "wallet") -> str:
    """The one line a person sees for a failure: ``detail (code)``, never a traceback.

    Every ``UnlockError`` gives the same sentence: telling a wrong passphrase from a
    damaged file would tell an attacker which guess was close.
    """
    if isinstance(exc, UnlockError) and exc.code == UnlockError.code:
        return UNLOCK_FAILED.format(what=what)
    if isinstance(exc, SsiError):
        return clean(f"{exc.detail} ({exc.code})")
    if isinstance(exc, OSError):
        return clean(f"{exc.strerror or 'the file cannot be used'} (os.{type(exc).__name__})")
    return f"something unexpected went wrong (internal.{type(exc).__name__})"


def state_text(state: str, *, upper: bool = False) -> Text:
    """A credential state in its colour."""
    return Text(state.upper() if upper else state, style=STATE_STYLE.get(state, "bold"))


def accreditation(accredited: bool) -> Text:
    """Accredited in green, NOT accredited in capitals on red: it must not be missed."""
    if accredited:
        return Text("accredited", style="green")
    return Text(" NOT accredited ", style="bold white on red")


type_name = type_label
"""The credential type's name for a ``vct`` alone (when no card is at hand)."""


def path_text(path: Sequence[Element]) -> str:
    """A claim path written the way the registry and the receipts write it."""
    return clean(".".join(map(str, path)))


def claim_label(vct: str, path: Sequence[Element], cards: Sequence[CredentialCard] = (),
                lang: str = "en") -> str:
    """A claim's label from a card of that type if one is at hand, else from the type."""
    for card in cards:
        if card.vct == vct:
            return card.claim_label(path, lang)
    return type_claim_label(vct, path, lang)


def show_value(value: Any) -> str:
    """A claim value for people: yes/no for booleans, lists comma-separated."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(show_value(v) for v in value)
    if value is None:
        return "-"
    return clean(value)
