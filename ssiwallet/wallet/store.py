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

Rollback: every save raises the file's *generation* (in its authenticated header). The
highest generation seen for a wallet id is also kept outside the sealed file, in the user's
state directory (:func:`state_home`, one small 0600 file per wallet id, with the ids of the
copies already used), and in the running process. An older file put back is refused on
open (``wallet.rollback``) unless the citizen accepts it on purpose; a running wallet that
finds the file on disk went backwards neither reloads it nor saves over it.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import nacl.encoding
import nacl.hash
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

__all__ = ["SCHEMA_VERSION", "Store", "default_home", "state_home"]

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


def state_home() -> Path:
    """Where the rollback marks live: ``$SSIWALLET_STATE_HOME``, else the user's state
    directory (XDG) + ``keten``; apart from the wallet's own directory on purpose, so that
    putting an old wallet directory back does not put the old mark back with it."""
    if home := os.environ.get("SSIWALLET_STATE_HOME"):
        return Path(home)
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "keten"


_SEEN: dict[str, int] = {}
"""The highest generation this process saw, per mark (the mark in memory)."""


class Mark:
    """The highest generation known for one wallet file, and the copies known to be used.

    Keyed by the wallet id *and* the wallet's directory: a backup restored into a second
    directory is the same wallet id living on as another file, with its own generations.
    """

    def __init__(self, wallet_id: str, home: Path) -> None:
        self.wallet_id, self.home = wallet_id, str(home.resolve())
        self.key = nacl.hash.sha256(f"{wallet_id}\n{self.home}".encode(),
                                    encoder=nacl.encoding.HexEncoder).decode()[:32]
        self.path = state_home() / "wallets" / f"{self.key}.json"
        self.generation, self.used = 0, set[str]()
        self._load()

    def _load(self) -> None:
        """Take in the mark on disk and in this process (only ever upwards)."""
        self.generation = max(self.generation, _SEEN.get(self.key, 0))
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8"))
            self.generation = max(self.generation, int(doc["generation"]))
            self.used |= {str(u) for u in doc.get("used", [])}
        except (OSError, ValueError, KeyError, TypeError):
            pass  # none yet, or damaged: it protects nothing; the next save writes a good one

    def raise_to(self, generation: int, used: set[str]) -> None:
        """Record ``generation`` (never lower) and ``used`` (never fewer), best effort on disk.

        Called after the wallet file is in place, so a crash in between leaves the mark
        lower than the file, never higher.
        """
        _SEEN[self.key] = max(_SEEN.get(self.key, 0), generation)
        if generation <= self.generation and used <= self.used:
            return
        self._load()  # another process may have raised it since
        self.generation, self.used = max(self.generation, generation), self.used | used
        doc = {"wallet_id": self.wallet_id, "home": self.home,
               "generation": self.generation, "used": sorted(self.used)}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            write_atomic(self.path, json.dumps(doc), secret=True)
        except OSError:
            pass  # the save itself is done; the mark in this process still holds


def rollback_words(found: int, expected: int) -> str:
    return (f"This wallet file is older than the last one this computer saw (generation "
            f"{found}, expected at least {expected}): an older copy was put back, so "
            f"credentials received and answers given since may be missing. Put the newer "
            f"file back, or, if you restored this one on purpose, accept it once with "
            f"`ssiwallet --accept-older list` (copies already shown stay used)")


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
        self._mark: Mark | None = None

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
    def unlock(cls, home: Path, passphrase: str, *, accept_rollback: bool = False) -> Store:
        """Open the wallet in ``home``.

        A file older than the highest generation this computer saw for the wallet is
        refused, unless ``accept_rollback``: then it is taken on purpose, the copies known
        to be used are marked used again, the acceptance is noted in the settings
        (``rollback_accepted``) and the file is saved above the mark.

        Raises:
            WalletError: ``wallet.not_found``; ``wallet.rollback`` for an older file.
            UnlockError: wrong passphrase or damaged file (one message for both).
        """
        path = home / WALLET_FILE
        try:
            blob = path.read_bytes()
        except FileNotFoundError:
            raise WalletError(f"no wallet in {home}; create one with `ssiwallet init`",
                              code="wallet.not_found") from None
        header, keys, image = open_sealed(blob, WALLET_MAGIC, passphrase)
        store = cls(home, keys, _connect(image), header.generation)
        mark = store._marked()
        if header.generation < mark.generation:
            if not accept_rollback:
                store.close()
                raise WalletError(rollback_words(header.generation, mark.generation),
                                  code="wallet.rollback")
            store._accept(mark)
        else:
            mark.raise_to(header.generation, set())
        return store

    def _accept(self, mark: Mark) -> None:
        """Take an older file on purpose: never offer a copy known to be used as fresh.

        Saved at once, above the mark, so that the next open (and any running wallet)
        takes it as the newest file.
        """
        now = system_clock()
        with self._locked():
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany(
                    "UPDATE copies SET used_at = ? WHERE id = ? AND used_at IS NULL",
                    [(now, u) for u in sorted(mark.used)])
                self._db.execute(
                    "INSERT OR REPLACE INTO settings VALUES ('rollback_accepted', ?)",
                    (json.dumps({"at": now, "generation": self.generation,
                                 "expected": mark.generation}),))
            except BaseException:
                self._db.execute("ROLLBACK")
                self.close()
                raise
            self._db.execute("COMMIT")
            try:
                self._write()
            except BaseException:
                self.close()
                raise

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

    def _marked(self) -> Mark:
        """The rollback mark of the wallet id the database holds now (it changes when a
        backup is restored into an empty wallet)."""
        row = self._db.execute("SELECT value FROM meta WHERE key = 'wallet_id'").fetchone()
        wallet_id = "" if row is None else str(row[0])
        if self._mark is None or self._mark.wallet_id != wallet_id:
            self._mark = Mark(wallet_id, self.home)
        return self._mark

    def _write(self) -> None:
        image = self._db.serialize()
        mark = self._marked()
        generation = max(self.generation, mark.generation) + 1  # always above the mark
        write_atomic(self.path, seal(WALLET_MAGIC, self._keys, generation, image), secret=True)
        self.generation = generation
        used = {str(r[0]) for r in self._db.execute(
            "SELECT id FROM copies WHERE used_at IS NOT NULL")}
        mark.raise_to(generation, used)  # after the file: a crash leaves the mark lower

    def _refresh(self) -> None:
        try:
            with open(self.path, "rb") as handle:
                head = handle.read(HEADER_SIZE + 128)
        except FileNotFoundError:
            raise WalletError("the wallet was deleted", code="wallet.not_found") from None
        header = read_header(head, WALLET_MAGIC)
        if header.generation == self.generation:
            return
        if header.generation < self.generation and header.salt == self._keys.salt:
            # the same wallet, gone backwards under us: never load it, never save over it
            raise WalletError(rollback_words(header.generation, self.generation),
                              code="wallet.rollback")
        self._reload()

    def _reload(self) -> None:
        header, self._keys, image = open_sealed(self.path.read_bytes(), WALLET_MAGIC,
                                                keys=self._keys)
        self._db.close()
        self._db = _connect(image)
        self.generation = header.generation
        self._marked().raise_to(header.generation, set())

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
