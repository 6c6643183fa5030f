"""Plain-text views of the wallet for the terminal (the CLI's default output).

Kept apart from :mod:`ssiwallet.cli` so that the command logic stays short; the same
words appear in the TUI, which builds them from the same records. Every text that comes
from an issuer or a verifier goes through :func:`terminal_text` (no escape sequence, no
control character, no line break of its own).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from ssiwallet.holder.present import Plan
from ssiwallet.wallet.records import CredentialCard, HistoryEntry, flatten
from ssiwallet.wallet.records import terminal_text as t

__all__ = ["card_detail", "card_table", "consent_text", "history_text", "when"]


def when(ts: int | None) -> str:
    return "-" if ts is None else time.strftime("%Y-%m-%d %H:%M", time.localtime(ts))


def card_table(cards: Sequence[CredentialCard], now: int) -> str:
    if not cards:
        return ("No credentials yet. Receive one with: ssiwallet receive "
                "'openid-credential-offer://...' --pin PIN")
    rows = [("ID", "TYPE", "ISSUER", "STATE", "COPIES")]
    for c in cards:
        issuer = t(c.issuer_name) + ("" if c.accredited else " (NOT accredited)")
        rows.append((c.id[:8], c.type_name(), issuer, c.state(now),
                     f"{c.copies_left}/{c.copies_total}"))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    return "\n".join("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip()
                     for r in rows)


def card_detail(card: CredentialCard, now: int) -> str:
    lines = [f"{card.type_name()}  [{card.state(now)}]",
             f"  id          {card.id}",
             f"  issuer      {t(card.issuer_name)}  "
             f"({'accredited' if card.accredited else 'NOT accredited'} for {t(card.vct)})",
             f"              {t(card.issuer)}",
             f"  issued      {when(card.iat)}    expires {when(card.exp)}",
             f"  checked     {when(card.checked_at)}",
             f"  copies      {card.copies_left} unused of {card.copies_total}", "", "Claims:"]
    flat = flatten(card.claims)
    width = max((len(card.claim_label(p)) for p, _ in flat), default=0)
    lines += [f"  {card.claim_label(p).ljust(width)}  {t(v)}" for p, v in flat]
    return "\n".join(lines)


def consent_text(plan: Plan, cards: Sequence[CredentialCard]) -> str:
    by_id = {c.id: c for c in cards}
    lines = [f"{t(plan.name)} asks for information from your wallet.",
             f"  who       {t(plan.verifier)}"
             + ("" if plan.registered else "  (NOT a registered verifier!)"),
             f"  purpose   {t(plan.purpose.get('en', '?'))} / {t(plan.purpose.get('nl', '?'))}"]
    if not plan.satisfiable:
        lines += ["", "Your wallet holds nothing that answers this request:"]
        lines += [f"  - {t(r)}" for r in plan.reasons]
        return "\n".join(lines)
    for cid, paths in plan.leaving.items():
        card = by_id.get(cid)
        name = card.type_name() if card else t(cid)
        lines += ["", f"From {name}" + (f" ({t(card.issuer_name)})" if card else "") + ":",
                  "  will be shown:"]
        lines += [f"    + {card.claim_label(p) if card else t('.'.join(map(str, p)))}"
                  for p in paths]
        stay = sorted(card.claim_label(p) if card else t(".".join(map(str, p)))
                      for p in plan.staying.get(cid, []))
        lines += ["  stays in your wallet:"] + [f"    - {name}" for name in stay]
    if not plan.registered:
        lines += ["", "WARNING: the registry does not list this verifier: nobody vouches for "
                  "who it is", "or for what it may ask. Share only if you know it."]
    if plan.over_asked:
        lines += ["", "WARNING: this verifier asks for more than it is registered for:"]
        lines += [f"  ! {t(item)}" for item in plan.over_asked]
    return "\n".join(lines)


def history_text(entries: Sequence[HistoryEntry]) -> str:
    if not entries:
        return "Nothing shown to anyone yet."
    lines = []
    for h in entries:
        shown = sum(len(p) for p in h.disclosed.values())
        lines.append(f"{when(h.at)}  {h.outcome:<8}  {t(h.name)}  ({shown} claim"
                     f"{'' if shown == 1 else 's'} shown)")
        if h.reasons:
            lines.append(f"    reasons: {', '.join(map(t, h.reasons))}")
        if h.receipt_note:
            lines.append(f"    {h.receipt_note}")
        if h.receipt:
            received = "; ".join(".".join(map(str, p)) for r in h.receipt["received"]
                                 for p in r["claims"])
            lines.append(f"    receipt {t(h.receipt['jti'])}: received "
                         f"{t(received) or 'nothing'}, kept {t(h.receipt['retention'])} s, for "
                         f"\"{t(h.receipt['purpose']['en'])}\"")
    return "\n".join(lines)
