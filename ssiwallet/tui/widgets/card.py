"""The credential card: what a person needs to pick a credential, and no claim value.

A card shows the type, who issued it, whether the registry accredits that issuer, the
state (in colour) and how many unused copies are left. Values stay on the detail screen,
so that a glance over someone's shoulder at the list reveals nothing but the types.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from ssiwallet.tui.fmt import accreditation, clean, day, state_text
from ssiwallet.wallet.records import CredentialCard

__all__ = ["CredentialCardWidget", "card_lines"]


def card_lines(card: CredentialCard, now: int) -> Text:
    """The two lines under the card's title (issuer, then state and copies)."""
    name = clean(card.issuer_name or card.issuer)
    text = Text.assemble("issued by ", (name, "bold"), "  ")
    text.append_text(accreditation(card.accredited))
    text.append("\n")
    text.append_text(state_text(card.state(now)))
    copies = f"{card.copies_left}/{card.copies_total} copies left"
    text.append("   ")
    text.append(copies, style="bold" if card.copies_left else "bold red")
    text.append(f"   received {day(card.received_at)}", style="dim")
    return text


class CredentialCardWidget(Static):
    """One credential, drawn as a bordered card titled with its type."""

    DEFAULT_CSS = """
    CredentialCardWidget {
        border: round $primary;
        padding: 0 1;
        height: auto;
        width: 1fr;
    }
    CredentialCardWidget.-revoked, CredentialCardWidget.-suspended { border: round $error; }
    CredentialCardWidget.-expired, CredentialCardWidget.-unknown { border: round $warning; }
    """

    def __init__(self, card: CredentialCard, now: int, *, id: str | None = None) -> None:
        """Draw ``card`` as it stands at ``now`` (its state depends on the time)."""
        super().__init__(card_lines(card, now), id=id)
        self.card = card
        state = card.state(now)
        self.add_class(f"-{state}")
        self.border_title = card.type_name()
        self.border_subtitle = state.upper()
