"""The consent step: who asks, why, and exactly what would leave the wallet.

Nothing is sent before this dialog answers ``True``. It shows the verifier's registered
name, DID and purpose; a clear line when the registry does not list it as a verifier; per
credential the claims that would LEAVE and those that STAY; and a warning in red when the
request asks for more than the verifier is registered for (``plan.over_asked``). A request
the wallet cannot answer only offers to close (which declines).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Static

from ssiwallet.core.claimpath import ClaimPath
from ssiwallet.holder.present import Plan
from ssiwallet.tui.fmt import claim_label, clean, path_text, type_name
from ssiwallet.wallet.records import CredentialCard

__all__ = ["ConsentDialog", "over_asked_lines"]

def over_asked_lines(over_asked: Sequence[str], cards: Sequence[CredentialCard] = ()
                     ) -> list[str]:
    """``vct:path`` entries as ``Type: Label (path)`` lines a person can read."""
    lines = []
    for entry in over_asked:
        vct, _, path = entry.rpartition(":")
        if not vct:
            lines.append(clean(entry))
            continue
        parts = path.split(".")
        lines.append(f"{type_name(vct)}: {claim_label(vct, parts, cards)} ({clean(path)})")
    return lines


class ConsentDialog(ModalScreen[bool]):
    """Ask the person whether to share; ``True`` only for an explicit "Share"."""

    BINDINGS = [
        Binding("y", "share", "Share"),
        Binding("n,escape", "decline", "Decline"),
    ]

    def __init__(self, plan: Plan, cards: Mapping[str, CredentialCard] | None = None) -> None:
        """Show ``plan``; ``cards`` (by id) give the credentials' names and claim labels."""
        super().__init__()
        self.plan = plan
        self.cards = dict(cards or {})

    # ------------------------------------------------------------------ content
    def _who(self) -> Text:
        plan = self.plan
        text = Text.assemble((clean(plan.name), "bold"), " asks for your data\n",
                             (clean(plan.verifier), "dim"), "  ")
        if plan.registered:
            text.append("registered verifier", style="green")
        else:
            text.append("\n NOT registered as a verifier on the registry: be careful ",
                        style="bold white on red")
            text.append("\nNobody vouches for who it is or for what it may ask. Share only "
                        "if you know it.", style="bold red")
        purpose = plan.purpose
        text.append("\nPurpose: ", style="bold")
        text.append(clean(purpose.get("en") or purpose.get("nl") or "?"))
        if purpose.get("nl") and purpose.get("nl") != purpose.get("en"):
            text.append(f"\n         {clean(purpose['nl'])} (nl)", style="italic")
        return text

    def _credential(self, cid: str) -> tuple[str, str, list[CredentialCard]]:
        card = self.cards.get(cid)
        if card is None:
            return clean(cid), "", []
        return card.type_name(), clean(card.issuer_name or card.issuer), [card]

    def _label(self, cid: str, path: ClaimPath) -> str:
        card = self.cards.get(cid)
        return card.claim_label(path) if card else path_text(path)

    def _leaving(self) -> Text:
        text = Text.assemble(("Will LEAVE your wallet:", "bold"))
        for cid, paths in self.plan.leaving.items():
            name, issuer, _ = self._credential(cid)
            text.append(f"\n  {name}" + (f" from {issuer}" if issuer else ""), style="bold")
            for path in paths:
                text.append(f"\n    > {self._label(cid, path)} ", style="bold yellow")
                text.append(f"({path_text(path)})", style="dim")
        if not self.plan.leaving:
            text.append("\n  nothing")
        return text

    def _staying(self) -> Text:
        text = Text.assemble(("Stays in your wallet:", "bold"))
        for cid, paths in self.plan.staying.items():
            name, _, _ = self._credential(cid)
            labels = ", ".join(self._label(cid, p) for p in paths) or "nothing else"
            text.append(f"\n  {name}: ", style="bold")
            text.append(labels, style="green")
        return text

    def _over(self) -> Text:
        cards = list(self.cards.values())
        text = Text.assemble(("WARNING: ", "bold red"), (
            f"{clean(self.plan.name)} asks for MORE than it is registered for:", "bold"))
        for line in over_asked_lines(self.plan.over_asked, cards):
            text.append(f"\n  ! {line}", style="bold")
        text.append("\nShare only if you trust this request anyway; Decline is safer.")
        return text

    def _unsatisfiable(self) -> Text:
        text = Text.assemble(("Your wallet cannot answer this request:", "bold"))
        for reason in self.plan.reasons or ["no credential in the wallet matches"]:
            text.append(f"\n  - {clean(reason)}")
        return text

    def compose(self) -> ComposeResult:
        plan = self.plan
        with Vertical(id="consent", classes="dialog"):
            with VerticalScroll(id="consent-body"):
                yield Static(self._who(), id="who")
                if plan.over_asked:
                    yield Static(self._over(), id="over-asked", classes="warning")
                if plan.satisfiable:
                    yield Static(self._leaving(), id="leaving")
                    yield Static(self._staying(), id="staying")
                else:
                    yield Static(self._unsatisfiable(), id="unsatisfiable", classes="warning")
            with Horizontal(classes="buttons"):
                if plan.satisfiable:
                    yield Button("Share (y)", id="share", variant="success")
                    yield Button("Decline (n)", id="decline", variant="error")
                else:
                    yield Button("Close and decline (n)", id="decline", variant="primary")
        yield Footer()

    def on_mount(self) -> None:
        # the safe answer has the focus: an Enter pressed by habit declines
        self.query_one("#decline", Button).focus()

    # ------------------------------------------------------------------ answers
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "share" and not self.plan.satisfiable:
            return False
        return True

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "share":
            self.action_share()
        else:
            self.action_decline()

    def action_share(self) -> None:
        if self.plan.satisfiable:
            self.dismiss(True)

    def action_decline(self) -> None:
        self.dismiss(False)
