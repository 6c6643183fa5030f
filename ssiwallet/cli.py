"""``ssiwallet``: the terminal wallet. No arguments opens the TUI; subcommands script it.

Output is text for people, or one JSON document with ``--json``. Exit status: 0 done
(for ``present``: the verifier accepted, or took the presentation without a Keten receipt,
``"outcome": "sent"``, ``"receipt_status": "none"``), 1 error (``{"error": CODE, "detail":
...}`` with ``--json``; ``wallet.unregistered_verifier`` for ``--yes`` to a verifier the
registry does not list, without ``--allow-unregistered``; an answer that failed after the
claims left is an error too, and the history keeps the disclosure), 2 the verifier refused
the presentation, or a command line that cannot be acted on (argparse's usage error on
stderr; a malformed value names its code, e.g. ``input.bad_url``), 3 the person declined it,
130 interrupted. The passphrase comes from
``SSIWALLET_PASSPHRASE`` or a prompt; it is never an argument (arguments show in ``ps``).
In text mode everything printed passes :func:`~ssiwallet.wallet.records.terminal_text`
(an issuer's or a verifier's words never reach the terminal with escape sequences or
control characters); the JSON documents keep the data, escaped by JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from ssiwallet import cli_text as text
from ssiwallet.core.values import HttpOrigin
from ssiwallet.errors import WalletError
from ssiwallet.infra.cli import Outcome, run_command, value_arg
from ssiwallet.infra.clock import system_clock
from ssiwallet.wallet.records import terminal_text
from ssiwallet.wallet.store import Store, default_home
from ssiwallet.wallet.wallet import Wallet

__all__ = ["main"]

Result = Outcome


def _passphrase(confirm: bool = False, env: str = "SSIWALLET_PASSPHRASE",
                prompt: str = "Wallet passphrase: ") -> str:
    if (value := os.environ.get(env)) is not None:
        return value
    if not sys.stdin.isatty():
        raise WalletError(f"no passphrase: set {env} or run in a terminal",
                          code="wallet.no_passphrase")
    first = getpass.getpass(prompt)
    if confirm and getpass.getpass("Again: ") != first:
        raise WalletError("the two passphrases differ", code="wallet.bad_passphrase")
    return first


def _open(args: argparse.Namespace) -> Wallet:
    return Wallet.unlock(args.home, _passphrase(), accept_rollback=args.accept_older)


def _now() -> int:
    return system_clock()


def cmd_init(args: argparse.Namespace) -> Result:
    if Store.exists(args.home):
        raise WalletError(f"a wallet already exists in {args.home}", code="wallet.exists")
    wallet = Wallet.create(args.home, _passphrase(confirm=True), registry_url=args.registry,
                           genesis_hash=args.genesis)
    doc = {"home": str(args.home), "registry": wallet.registry_url,
           "genesis": wallet.setting("genesis")}
    return Outcome(0, doc, f"Created a wallet in {args.home}" + (
        f", trusting the registry at {args.registry}" if args.registry else
        "; set a registry with `ssiwallet registry URL`"))


def cmd_registry(args: argparse.Namespace) -> Result:
    wallet = _open(args)
    wallet.set_registry(args.url, args.genesis)
    return Outcome(0, {"registry": wallet.registry_url, "genesis": wallet.setting("genesis")},
                   f"Registry set to {wallet.registry_url}")


def cmd_list(args: argparse.Namespace) -> Result:
    cards, now = _open(args).cards(), _now()
    return Outcome(0, {"credentials": [c.to_json(now) for c in cards]}, text.card_table(cards, now))


def cmd_show(args: argparse.Namespace) -> Result:
    card, now = _open(args).card(args.id), _now()
    return Outcome(0, card.to_json(now, claims=True), text.card_detail(card, now))


def cmd_receive(args: argparse.Namespace) -> Result:
    wallet = _open(args)
    pin = args.pin
    if pin is None and sys.stdin.isatty():
        pin = getpass.getpass("PIN from the issuer (empty if none): ") or None
    card = asyncio.run(wallet.receive(args.uri, pin=pin, copies=args.copies))
    return Outcome(0, card.to_json(_now()), "Received:\n" + text.card_detail(card, _now()))


def cmd_present(args: argparse.Namespace) -> Result:
    wallet = _open(args)
    plan = asyncio.run(wallet.prepare(args.uri))
    consent = text.consent_text(plan, wallet.cards())
    doc: dict[str, Any] = {"verifier": plan.verifier, "name": plan.name,
                           "purpose": plan.purpose, "registered": plan.registered,
                           "leaving": {k: [list(p) for p in v] for k, v in plan.leaving.items()},
                           "over_asked": plan.over_asked, "satisfiable": plan.satisfiable}
    if not plan.satisfiable:
        raise WalletError("the wallet holds nothing that answers this request: "
                          + "; ".join(plan.reasons), code="wallet.unsatisfiable")
    if not plan.registered and args.yes and not args.allow_unregistered:
        raise WalletError(f"{plan.verifier} is not registered as a verifier on the registry: "
                          "nothing was sent; answer the consent question yourself, or add "
                          "--allow-unregistered to --yes", code="wallet.unregistered_verifier")
    agree = args.yes
    if not agree and not args.decline:
        if not sys.stdin.isatty():
            raise WalletError("consent needed: pass --yes to share or --decline",
                              code="wallet.consent_required")
        print(consent)
        agree = input("\nShare these claims? [y/N] ").strip().lower() in ("y", "yes", "j", "ja")
    if not agree:
        entry = asyncio.run(wallet.decline(plan))
        return Outcome(3, {**doc, "outcome": entry.outcome}, "Declined: nothing was shown.")
    entry = asyncio.run(wallet.present(plan))
    doc.update(outcome=entry.outcome, reasons=entry.reasons, receipt=entry.receipt,
               receipt_status=entry.receipt_status, redirect_uri=entry.redirect_uri)
    if entry.receipt_note:
        doc["receipt_note"] = entry.receipt_note
    status = 2 if entry.outcome == "refused" else 0
    if status == 2:
        words = "The verifier refused: " + ", ".join(entry.reasons)
    elif entry.receipt is None:
        words = f"Shared; {entry.receipt_note}."
    else:
        words = "Shared and accepted."
    if entry.redirect_uri:
        words += f"\nThe verifier asks you to continue at {entry.redirect_uri}"
    return Outcome(status, doc, (consent + "\n\n" if args.yes else "") + words + "\n"
                   + text.history_text([entry]))


def cmd_history(args: argparse.Namespace) -> Result:
    entries = _open(args).history()
    return Outcome(0, {"history": [h.to_json() for h in entries]}, text.history_text(entries))


def cmd_refresh(args: argparse.Namespace) -> Result:
    cards, now = asyncio.run(_open(args).refresh()), _now()
    return Outcome(0, {"credentials": [c.to_json(now) for c in cards]}, text.card_table(cards, now))


def cmd_backup(args: argparse.Namespace) -> Result:
    wallet = _open(args)
    secret = _passphrase(env="SSIWALLET_BACKUP_PASSPHRASE", prompt="Backup passphrase: ",
                         confirm=True) if "SSIWALLET_BACKUP_PASSPHRASE" in os.environ or \
        sys.stdin.isatty() else _passphrase()
    generation = wallet.backup(args.file, secret)
    return Outcome(0, {"file": str(args.file), "generation": generation},
                   f"Backed up to {args.file} (generation {generation})")


def cmd_restore(args: argparse.Namespace) -> Result:
    wallet = _open(args)
    secret = _passphrase(env="SSIWALLET_BACKUP_PASSPHRASE", prompt="Backup passphrase: ") \
        if "SSIWALLET_BACKUP_PASSPHRASE" in os.environ or sys.stdin.isatty() else \
        _passphrase()
    report = wallet.restore(args.file, secret)
    added = ", ".join(f"{n} {t}" for t, n in report.added.items() if n and t != "meta")
    words = ("Restored exactly." if report.exact else
             f"Merged: added {added or 'nothing'}; kept everything here"
             + (" (the backup was older)" if report.older else "") + ".")
    return Outcome(0, report.to_json(), words)


def cmd_delete(args: argparse.Namespace) -> Result:
    wallet = _open(args)
    if args.all:
        if not args.yes:
            raise WalletError("deleting everything needs --yes", code="wallet.consent_required")
        wallet.delete_all()
        return Outcome(0, {"deleted": "all"}, f"Deleted the wallet in {args.home}")
    if args.id is None:
        raise WalletError("name a credential id, or --all", code="wallet.unknown_credential")
    card = wallet.delete(args.id)
    return Outcome(0, {"deleted": card.id}, f"Deleted {card.type_name()} ({card.id[:8]})")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ssiwallet", description="Keten terminal wallet "
                                "(no command: open the full-screen wallet)")
    p.add_argument("--home", type=Path, default=None, help="wallet directory "
                   "(default $SSIWALLET_HOME or ~/.local/share/keten)")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.add_argument("--accept-older", action="store_true",
                   help="open a wallet file older than the last one this computer saw "
                   "(restored on purpose); copies already shown stay used")
    sub = p.add_subparsers(dest="command")
    commands: dict[str, tuple[Callable[[argparse.Namespace], Result], str]] = {
        "init": (cmd_init, "create a wallet"), "list": (cmd_list, "list credentials"),
        "show": (cmd_show, "show one credential with all its claims"),
        "receive": (cmd_receive, "receive a credential from an offer link"),
        "present": (cmd_present, "answer a verifier's request link"),
        "history": (cmd_history, "what was shown to whom, with receipts"),
        "refresh": (cmd_refresh, "check status and accreditation on the registry"),
        "backup": (cmd_backup, "write an encrypted backup"),
        "restore": (cmd_restore, "bring a backup in (never drops newer data)"),
        "delete": (cmd_delete, "delete a credential, or --all"),
        "registry": (cmd_registry, "set the registry the wallet trusts")}
    subs = {name: sub.add_parser(name, help=help_) for name, (_, help_) in commands.items()}
    for name, (func, _) in commands.items():
        subs[name].set_defaults(func=func)
    for name in ("init", "registry"):
        if name == "init":
            subs[name].add_argument("--registry", type=value_arg(HttpOrigin),
                                    help="the registry's URL, https://host[:port]")
        else:
            subs[name].add_argument("url", type=value_arg(HttpOrigin),
                                    help="the registry's URL, https://host[:port]")
        subs[name].add_argument("--genesis", help="pin the registry's genesis hash")
    subs["show"].add_argument("id")
    subs["receive"].add_argument("uri")
    subs["receive"].add_argument("--pin", help="the PIN the issuer gave you")
    subs["receive"].add_argument("--copies", type=int, default=10)
    subs["present"].add_argument("uri")
    subs["present"].add_argument("--yes", action="store_true", help="share without asking")
    subs["present"].add_argument("--decline", action="store_true", help="say no")
    subs["present"].add_argument("--allow-unregistered", action="store_true",
                                 help="with --yes: share even with a verifier the registry "
                                 "does not list (the consent screen warns otherwise)")
    for name in ("backup", "restore"):
        subs[name].add_argument("file", type=Path)
    subs["delete"].add_argument("id", nargs="?")
    subs["delete"].add_argument("--all", action="store_true")
    subs["delete"].add_argument("--yes", action="store_true")
    return p


class _TerminalStream:
    """A text stream that writes only what :func:`terminal_text` leaves (newlines kept)."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(terminal_text(text, lines=True))
        return len(text)

    def flush(self) -> None:
        self._stream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    args.home = args.home or default_home()
    if args.command is None:
        from ssiwallet.tui.app import create_app  # Textual loads only for the TUI

        create_app(args.home).run()
        return 0
    if args.json:
        return run_command(args.func, args)
    with contextlib.redirect_stdout(_TerminalStream(sys.stdout)), \
            contextlib.redirect_stderr(_TerminalStream(sys.stderr)):
        return run_command(args.func, args, text=True)


if __name__ == "__main__":
    sys.exit(main())
