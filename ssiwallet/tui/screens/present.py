"""Present credentials: read the verifier's link, ask for consent, answer, show the outcome.

The flow is one worker: :meth:`Wallet.prepare` fetches and verifies the request and
matches it against the wallet (nothing leaves yet); the :class:`ConsentDialog` shows what
would leave; then :meth:`Wallet.present` or :meth:`Wallet.decline` answers the verifier.
The outcome shows the verifier's signed receipt: what it says it received, for what
purpose and how long it keeps it; a refusal shows the verifier's reason codes.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Footer, Header, Input, LoadingIndicator, Static

from ssiwallet.tui.base import WalletScreen, form_row
from ssiwallet.tui.dialogs.consent import ConsentDialog
from ssiwallet.tui.fmt import claim_label, clean, path_text, problem, retention, type_name
from ssiwallet.wallet.records import CredentialCard, HistoryEntry

__all__ = ["OUTCOME_STYLE", "PresentScreen", "outcome_text", "receipt_text"]

OUTCOME_STYLE = {"accepted": "bold green", "refused": "bold red", "declined": "bold yellow"}


def receipt_text(entry: HistoryEntry, cards: Sequence[CredentialCard] = ()) -> Text:
    """The verifier's receipt: jti, purpose, retention and what it says it received."""
    receipt = entry.receipt
    if receipt is None:
        if entry.receipt_note:  # the data left all the same
            return Text(entry.receipt_note[:1].upper() + entry.receipt_note[1:] + ".",
                        style="bold yellow")
        return Text("No receipt: nothing was shown to this verifier.", style="dim")
    text = Text.assemble(("Receipt signed by the verifier", "bold underline"))
    purpose = receipt.get("purpose") or {}
    text.append(f"\nresult     {clean(receipt.get('result', '?'))}")
    text.append(f"\npurpose    {clean(purpose.get('en', '?'))}")
    if purpose.get("nl"):
        text.append(f" / {clean(purpose['nl'])} (nl)", style="italic")
    text.append(f"\nretention  {retention(int(receipt.get('retention', 0)))}")
    received = receipt.get("received") or []
    text.append("\nreceived   ")
    if not received:
        text.append("nothing")
    for item in received:
        vct = str(item.get("vct", "?"))
        text.append(f"\n  {type_name(vct)}", style="bold")
        for path in item.get("claims", []):
            text.append(f"\n    {claim_label(vct, path, cards)} ")
            text.append(f"({path_text(path)})", style="dim")
    text.append(f"\nreceipt id {clean(receipt.get('jti', '?'))}", style="dim")
    return text


def outcome_text(entry: HistoryEntry, cards: Sequence[CredentialCard] = ()) -> Text:
    """The outcome of one answer, with the reasons of a refusal and the receipt."""
    text = Text.assemble(("Outcome: ", "bold"),
                         (entry.outcome.upper(), OUTCOME_STYLE.get(entry.outcome, "bold")),
                         f"  {clean(entry.name)}")
    if entry.outcome == "declined":
        text.append("\nYou declined; the verifier was told no and nothing left the wallet.")
    for reason in entry.reasons:
        text.append(f"\nreason: {clean(reason)}", style="red")
    text.append("\n")
    text.append_text(receipt_text(entry, cards))
    return text


class PresentScreen(WalletScreen):
    """Paste the verifier's openid4vp:// link; consent; see what happened."""

    BINDINGS = [Binding("escape", "app.pop_screen", "Back")]

    def __init__(self) -> None:
        super().__init__()
        self.entry: HistoryEntry | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(classes="form"):
            yield Static("Paste the link the verifier shows (its QR code holds the same).",
                         classes="title")
            yield from form_row("Request link", Input(id="request",
                                                      placeholder="openid4vp://"))
            yield Static("Nothing leaves your wallet before you agree on the next screen.",
                         classes="hint")
            yield LoadingIndicator(id="busy")
            yield Static("", id="error", classes="error", markup=False)
        with VerticalScroll(id="outcome-box"):
            yield Static("", id="outcome")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "present credentials"
        self.query_one("#busy").display = False
        self.query_one("#request", Input).focus()

    @on(Input.Submitted, "#request")
    def submit(self) -> None:
        """Start the presentation flow for the pasted link."""
        uri = self.query_one("#request", Input).value.strip()
        if not uri:
            self.query_one("#error", Static).update("Paste the verifier's link first.")
            return
        self._busy(True)
        self.query_one("#outcome", Static).update("")
        self._present(uri)

    @work(exclusive=True, group="present", description="present credentials")
    async def _present(self, uri: str) -> None:
        wallet = self.wallet
        try:
            plan = await wallet.prepare(uri)
            cards = {c.id: c for c in wallet.cards() if c.id in plan.leaving}
            self.query_one("#busy").display = False
            agreed = await self.app.push_screen_wait(ConsentDialog(plan, cards))
            self.query_one("#busy").display = True
            entry = await (wallet.present(plan) if agreed else wallet.decline(plan))
        except Exception as exc:  # shown as detail and code; never a traceback
            self._busy(False)
            self.query_one("#error", Static).update(problem(exc))
            return
        self._busy(False)
        self.entry = entry
        self.query_one("#request", Input).value = ""
        self.query_one("#outcome", Static).update(outcome_text(entry, list(cards.values())))
        self.query_one("#outcome-box").focus()

    def _busy(self, busy: bool) -> None:
        self.query_one("#busy").display = busy
        if busy:
            self.query_one("#error", Static).update("")
        self.query_one("#request", Input).disabled = busy
