"""Backup and restore: the whole wallet in one sealed file, and back.

A backup holds every key and credential, so the wallet's passphrase is asked again (and
checked against the wallet file) before one is written; the backup is sealed under that
passphrase. A restore brings a backup in: an exact copy into an empty wallet, else a merge
that never drops anything; the screen shows the report. Both derive keys with Argon2id,
so they run in a thread worker.
"""

from __future__ import annotations

from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Button, Footer, Header, Input, LoadingIndicator, Static

from ssiwallet.errors import UnlockError
from ssiwallet.tui.base import WalletScreen, form_row
from ssiwallet.tui.fmt import problem
from ssiwallet.wallet.backup import RestoreReport
from ssiwallet.wallet.store import Store

__all__ = ["BackupScreen", "report_text"]

_TABLES = (("credentials", "credential"), ("copies", "copy"), ("history", "history entry"),
           ("settings", "setting"))


def report_text(report: RestoreReport) -> str:
    """A restore report in words: exact copy or merge, and what was added."""
    if report.exact:
        head = "Restored: the wallet is now an exact copy of the backup."
    else:
        head = "Merged the backup into this wallet; nothing was dropped."
    added = [f"{n} {one if n == 1 else _plural(one)}"
             for table, one in _TABLES if (n := report.added.get(table, 0))]
    lines = [head, "Added: " + (", ".join(added) if added else "nothing new") + "."]
    if report.marked_used:
        lines.append(f"{report.marked_used} copies were marked used, as the backup had them.")
    if report.older:
        lines.append("The backup was older than this wallet: newer data was kept.")
    return "\n".join(lines)


def _plural(word: str) -> str:
    if word.endswith("y"):
        return word[:-1] + "ies"
    return "history entries" if word == "history entry" else word + "s"


class BackupScreen(WalletScreen):
    """Write a backup, or restore one."""

    BINDINGS = [Binding("escape", "app.pop_screen", "Back")]

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(classes="form"):
            yield Static("Back up everything to one sealed file", classes="title")
            yield from form_row("File", Input(id="backup-path",
                                              placeholder="/media/usb/keten-backup.keten"))
            yield from form_row("Passphrase", Input(id="backup-pass", password=True,
                                                    placeholder="the wallet's passphrase"),
                                Button("Back up", id="backup", variant="primary"))
            yield Static("Restore from a backup file", classes="title")
            yield from form_row("File", Input(id="restore-path"))
            yield from form_row("Passphrase", Input(id="restore-pass", password=True,
                                                    placeholder="the backup's passphrase"),
                                Button("Restore", id="restore", variant="warning"))
            yield LoadingIndicator(id="busy")
            yield Static("", id="error", classes="error", markup=False)
            yield Static("", id="report", classes="ok", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "backup and restore"
        self.query_one("#busy").display = False
        self.query_one("#backup-path", Input).focus()

    @on(Input.Submitted)
    def _next(self, event: Input.Submitted) -> None:
        if event.input.id == "backup-pass":
            self.start_backup()
        elif event.input.id == "restore-pass":
            self.start_restore()
        else:
            self.focus_next(Input)

    @on(Button.Pressed, "#backup")
    def start_backup(self) -> None:
        """Check the form and write the backup (after checking the passphrase)."""
        path = self.query_one("#backup-path", Input).value.strip()
        passphrase = self.query_one("#backup-pass", Input).value
        if not path or not passphrase:
            self._show(error="Give the file to write and the wallet's passphrase.")
            return
        self._busy(True)
        self._backup(Path(path).expanduser(), passphrase)

    @on(Button.Pressed, "#restore")
    def start_restore(self) -> None:
        """Check the form and restore the backup."""
        path = self.query_one("#restore-path", Input).value.strip()
        passphrase = self.query_one("#restore-pass", Input).value
        if not path or not passphrase:
            self._show(error="Give the backup file and its passphrase.")
            return
        self._busy(True)
        self._restore(Path(path).expanduser(), passphrase)

    @work(thread=True, exclusive=True, group="backup", description="write a backup")
    def _backup(self, path: Path, passphrase: str) -> None:
        app = self.keten
        try:
            try:  # the wallet's own passphrase, checked against the wallet file
                Store.unlock(app.home, passphrase).close()
            except UnlockError:
                raise UnlockError("that is not this wallet's passphrase; the backup is "
                                  "sealed with it", code="wallet.wrong_passphrase") from None
            generation = self.wallet.backup(path, passphrase, kdf=app.kdf)
        except Exception as exc:  # shown as detail and code; never a traceback
            app.call_from_thread(self._show, error=problem(exc))
        else:
            app.call_from_thread(self._show, report=f"Backup written to {path} (wallet "
                                 f"generation {generation}). Keep it apart from this device.")

    @work(thread=True, exclusive=True, group="backup", description="restore a backup")
    def _restore(self, path: Path, passphrase: str) -> None:
        app = self.keten
        try:
            report = self.wallet.restore(path, passphrase)
        except Exception as exc:  # shown as detail and code; never a traceback
            app.call_from_thread(self._show, error=problem(exc, what="backup"))
        else:
            app.call_from_thread(self._show, report=report_text(report))

    def _show(self, *, error: str = "", report: str = "") -> None:
        self._busy(False)
        for field in self.query(Input):
            if field.password:
                field.value = ""
        self.query_one("#error", Static).update(error)
        self.query_one("#report", Static).update(report)

    def _busy(self, busy: bool) -> None:
        self.query_one("#busy").display = busy
        for field in self.query(Input):
            field.disabled = busy
        for button in self.query(Button):
            button.disabled = busy
