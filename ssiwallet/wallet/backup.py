"""Backups: the whole wallet in one sealed file, and a restore that never drops anything.

A backup is sealed like the wallet (:mod:`ssiwallet.wallet.sealed`, its own magic, a fresh
salt and data key) and carries the wallet's id and *generation* (the count of saves) in
its authenticated header. Its payload is JSON: every table, row by row, and a format
version; an unknown version is refused.

Restoring into an empty wallet is an exact copy. Restoring into a wallet that holds data
merges: rows the wallet lacks are added, rows it has are kept, and a copy used in either
stays used (so a restored backup cannot make the wallet show one copy to two verifiers).
An older backup therefore never replaces newer data; the report says what was added.
"""

from __future__ import annotations

import base64
import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ssiwallet.errors import UnlockError, WalletFormatError
from ssiwallet.infra.files import write_atomic
from ssiwallet.wallet.sealed import BACKUP_MAGIC, KdfParams, Keys, open_sealed, seal
from ssiwallet.wallet.store import Store

__all__ = ["BACKUP_FORMAT", "RestoreReport", "export_tables", "read_backup", "restore",
           "write_backup"]

BACKUP_FORMAT = "keten-wallet-backup/1"
TABLES = ("meta", "settings", "credentials", "copies", "history")
_BLOBS = {("copies", "holder_key")}


def export_tables(db: sqlite3.Connection) -> dict[str, list[dict[str, Any]]]:
    """Every table as a list of rows (dicts), in a stable order."""
    out: dict[str, list[dict[str, Any]]] = {}
    for table in TABLES:
        cursor = db.execute(f"SELECT * FROM {table} ORDER BY 1")  # noqa: S608 - fixed names
        names = [d[0] for d in cursor.description]
        out[table] = [{n: base64.b64encode(v).decode() if (table, n) in _BLOBS else v
                       for n, v in zip(names, row, strict=True)} for row in cursor]
    return out


@dataclass(frozen=True)
class Backup:
    wallet_id: str
    generation: int
    tables: dict[str, list[dict[str, Any]]] = field(repr=False)  # claims, holder keys


@dataclass(frozen=True)
class RestoreReport:
    """What a restore changed: rows added per table; ``older`` if the backup was older."""

    exact: bool
    older: bool
    added: dict[str, int]
    marked_used: int

    def to_json(self) -> dict[str, Any]:
        return {"exact": self.exact, "older": self.older, "added": self.added,
                "marked_used": self.marked_used}


def write_backup(store: Store, path: Path, passphrase: str, kdf: KdfParams) -> Backup:
    """Seal the whole wallet into ``path`` (replaced atomically) under ``passphrase``."""
    db = store.read()
    backup = Backup(store.wallet_id(), store.generation, export_tables(db))
    payload = json.dumps({"format": BACKUP_FORMAT, "wallet_id": backup.wallet_id,
                          "tables": backup.tables}, ensure_ascii=False).encode()
    write_atomic(path, seal(BACKUP_MAGIC, Keys.new(passphrase, kdf), backup.generation,
                            payload), secret=True)
    return backup


def read_backup(path: Path, passphrase: str) -> Backup:
    """Open and check a backup file.

    Raises:
        UnlockError: wrong passphrase or damaged file; ``WalletFormatError`` for an unknown
            file or payload format.
    """
    header, _, payload = open_sealed(path.read_bytes(), BACKUP_MAGIC, passphrase)
    try:
        obj = json.loads(payload)
    except ValueError:
        raise UnlockError() from None
    found = obj.get("format") if isinstance(obj, dict) else None
    if found != BACKUP_FORMAT:
        raise WalletFormatError(f"backup format {found!r} is not supported "
                                f"(this Keten reads {BACKUP_FORMAT})")
    tables = obj.get("tables")
    if not isinstance(tables, dict) or set(tables) != set(TABLES) or not all(
            isinstance(rows, list) and all(isinstance(r, dict) for r in rows)
            for rows in tables.values()):
        raise WalletFormatError("the backup's tables are not those of this format")
    return Backup(str(obj.get("wallet_id")), header.generation, tables)


def _insert(db: sqlite3.Connection, table: str, rows: list[dict[str, Any]]) -> int:
    columns = {c[1] for c in db.execute(f"PRAGMA table_info({table})")}
    added = 0
    for row in rows:
        names = list(row)
        if not columns.issuperset(names):  # names go into the SQL text: columns only
            raise ValueError(f"a row of {table} has fields that are not its columns")
        values = [base64.b64decode(row[n]) if (table, n) in _BLOBS else row[n] for n in names]
        cursor = db.execute(
            f"INSERT OR IGNORE INTO {table} ({', '.join(names)}) "  # noqa: S608
            f"VALUES ({', '.join('?' * len(names))})", values)
        added += cursor.rowcount
    return added


def restore(store: Store, backup: Backup) -> RestoreReport:
    """Bring the backup's content into the wallet (exact if empty, else merged)."""
    with store.transaction() as db:
        empty = not any(db.execute(f"SELECT 1 FROM {t} LIMIT 1").fetchone()  # noqa: S608
                        for t in ("credentials", "history"))
        same = store.wallet_id() == backup.wallet_id
        older = same and backup.generation < store.generation
        if empty:
            db.execute("DELETE FROM meta")
            db.execute("DELETE FROM settings")
        try:
            added = {t: _insert(db, t, backup.tables[t]) for t in TABLES}
            used = 0
            for row in backup.tables["copies"]:
                if row.get("used_at") is not None:
                    used += db.execute(
                        "UPDATE copies SET used_at = ?, used_for = ? WHERE id = ? AND "
                        "used_at IS NULL", (row["used_at"], row.get("used_for"),
                                            row["id"])).rowcount
        except (sqlite3.Error, KeyError, TypeError, ValueError) as exc:
            raise WalletFormatError(f"the backup's rows do not fit this wallet ({exc})") from None
    return RestoreReport(empty, older, added, used)
