"""The wallet's store: an SQLite database that only ever exists in clear in memory.

On disk, ``$SSIWALLET_HOME/wallet.keten`` is the whole database image sealed as one box
(:mod:`ssiwallet.wallet.sealed`): every record is encrypted, and so are the table layout and
the number of rows; a flipped bit anywhere is detected. Each change runs in
:meth:`Store.transaction`, which takes the single-writer lock (``flock`` on
``wallet.lock``), reloads the file if another process saved since, applies the change,
and replaces the file atomically. Two processes saving at once are serialised and neither
update is lost; a crash at any point leaves the old or the new state whole. A change is
confirmed to the caller only after the new file is on disk (fsync of the file and the
directory).

The schema is versioned (``PRAGMA user_version``); older databases are migrated on open.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import nacl.utils

from ssiwallet.errors import UnlockError, WalletError, WalletFormatError
from ssiwallet.infra.clock import system_clock
from ssiwallet.infra.files import write_atomic
from ssiwallet.wallet.sealed import (
    HEADER_SIZE,
    WALLET_MAGIC,
    KdfParams,
    Keys,
    open_sealed,
    read_header,
    seal,
)

__all__ = ["SCHEMA_VERSION", "Store", "default_home"]

WALLET_FILE = "wallet.keten"
LOCK_FILE = "wallet.lock"
SCHEMA_VERSION = 1
LOCK_TIMEOUT = 30.0

_SCHEMA_V1 = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE settings(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE credentials(
    id TEXT PRIMARY KEY, received_at INTEGER NOT NULL, vct TEXT NOT NULL,
    issuer TEXT NOT NULL, issuer_url TEXT NOT NULL, configuration_id TEXT NOT NULL,
    claims TEXT NOT NULL, display TEXT NOT NULL, issuer_name TEXT NOT NULL,
    accredited INTEGER NOT NULL, iat INTEGER NOT NULL, exp INTEGER,
    status TEXT NOT NULL, checked_at INTEGER);
CREATE TABLE copies(
    id TEXT PRIMARY KEY,
    credential_id TEXT NOT NULL REFERENCES credentials(id) ON DELETE CASCADE,
    token TEXT NOT NULL, holder_key BLOB NOT NULL, used_at INTEGER, used_for TEXT);
CREATE INDEX copies_by_credential ON copies(credential_id);
CREATE TABLE history(
    id TEXT PRIMARY KEY, at INTEGER NOT NULL, verifier TEXT NOT NULL, name TEXT NOT NULL,
    purpose TEXT NOT NULL, outcome TEXT NOT NULL, credentials TEXT NOT NULL,
    disclosed TEXT NOT NULL, reasons TEXT NOT NULL, receipt TEXT, receipt_jwt TEXT);
"""
MIGRATIONS = {0: _SCHEMA_V1}
"""Script that brings a database from ``user_version`` N to N + 1."""


def default_home() -> Path:
    """``$SSIWALLET_HOME``, else the user's data directory (XDG) + ``keten``."""
    if home := os.environ.get("SSIWALLET_HOME"):
        return Path(home)
    data = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data) / "keten"


def _connect(image: bytes | None) -> sqlite3.Connection:
    db = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
    if image is not None:
        if not image:  # a sealed empty payload: no database at all
            db.close()
            raise UnlockError()
        try:
            db.deserialize(image)
            # deserialize() accepts any bytes; reading the schema is what finds a non-database
            db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.DatabaseError:
            db.close()
            raise UnlockError() from None
    db.execute("PRAGMA foreign_keys = ON")
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise WalletFormatError(f"the wallet's schema version {version} is newer than this "
                                f"Keten ({SCHEMA_VERSION}); update Keten")
    for step in range(version, SCHEMA_VERSION):
        db.executescript(f"BEGIN; {MIGRATIONS[step]}; PRAGMA user_version = {step + 1}; COMMIT;")
    return db


class Store:
    """One unlocked wallet file. Use :meth:`create` or :meth:`unlock`."""

    def __init__(self, home: Path, keys: Keys, db: sqlite3.Connection, generation: int):
        self.home = home
        self.path = home / WALLET_FILE
        self._keys = keys
        self._db = db
        self.generation = generation

    # ------------------------------------------------------------------ opening
    @classmethod
    def exists(cls, home: Path) -> bool:
        return (home / WALLET_FILE).exists()

    @classmethod
    def create(cls, home: Path, passphrase: str, kdf: KdfParams) -> Store:
        """A new, empty wallet. Refuses to replace an existing one (``wallet.exists``)."""
        if not passphrase:
            raise WalletError("the passphrase must not be empty", code="wallet.bad_passphrase")
        home.mkdir(parents=True, exist_ok=True, mode=0o700)
        store = cls(home, Keys.new(passphrase, kdf), _connect(None), 0)
        with store._locked():
            if store.path.exists():
                raise WalletError(f"a wallet already exists in {home}", code="wallet.exists")
            store._db.executemany("INSERT INTO meta VALUES (?, ?)", [
                ("wallet_id", nacl.utils.random(16).hex()),
                ("created_at", str(system_clock()))])
            store._write()
        return store

    @classmethod
    def unlock(cls, home: Path, passphrase: str) -> Store:
        """Open the wallet in ``home``.

        Raises:
            WalletError: ``wallet.not_found``.
            UnlockError: wrong passphrase or damaged file (one message for both).
        """
        path = home / WALLET_FILE
        try:
            blob = path.read_bytes()
        except FileNotFoundError:
            raise WalletError(f"no wallet in {home}; create one with `ssiwallet init`",
                              code="wallet.not_found") from None
        header, keys, image = open_sealed(blob, WALLET_MAGIC, passphrase)
        return cls(home, keys, _connect(image), header.generation)

    # ------------------------------------------------------------------ reading and writing
    def read(self) -> sqlite3.Connection:
        """The database, reloaded first if another process saved since (read only!)."""
        self._refresh()
        return self._db

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Apply a change under the lock; it is on disk when the block exits normally."""
        with self._locked():
            for stale in self.home.glob(f".{WALLET_FILE}.*.tmp"):  # a save killed mid-way
                stale.unlink(missing_ok=True)
            self._refresh()
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
            try:
                self._write()
            except BaseException:
                self._reload()  # the file still holds the last confirmed state
                raise

    def wallet_id(self) -> str:
        row = self.read().execute("SELECT value FROM meta WHERE key = 'wallet_id'").fetchone()
        return str(row[0])

    def destroy(self) -> None:
        """Delete the wallet file (everything). The lock file stays, empty."""
        with self._locked():
            self.path.unlink(missing_ok=True)
            self._db = _connect(None)

    def close(self) -> None:
        self._db.close()

    def _write(self) -> None:
        image = self._db.serialize()
        write_atomic(self.path, seal(WALLET_MAGIC, self._keys, self.generation + 1, image),
                     secret=True)
        self.generation += 1

    def _refresh(self) -> None:
        try:
            with open(self.path, "rb") as handle:
                head = handle.read(HEADER_SIZE + 128)
        except FileNotFoundError:
            raise WalletError("the wallet was deleted", code="wallet.not_found") from None
        if read_header(head, WALLET_MAGIC).generation != self.generation:
            self._reload()

    def _reload(self) -> None:
        header, self._keys, image = open_sealed(self.path.read_bytes(), WALLET_MAGIC,
                                                keys=self._keys)
        self._db.close()
        self._db = _connect(image)
        self.generation = header.generation

    @contextmanager
    def _locked(self) -> Iterator[None]:
        fd = os.open(self.home / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            deadline = time.monotonic() + LOCK_TIMEOUT
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise WalletError("another process keeps the wallet busy",
                                          code="wallet.busy") from None
                    time.sleep(0.01)
            yield
        finally:
            os.close(fd)
