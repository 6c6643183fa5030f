"""The registry log in one SQLite file (WAL, ``synchronous=FULL``): acknowledged means on disk."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from registry.node.storage.base import (
    BATCH,
    SCHEMA_VERSION,
    StorageError,
    StoredBlock,
    StoredTx,
    check_extends,
    check_paging,
    conflict,
)
from ssiwallet.infra.sqlite import connect, make_durable, write_transaction

__all__ = ["SqliteStorage"]


_SCHEMA = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE checkpoint (id INTEGER PRIMARY KEY CHECK (id = 0), note TEXT NOT NULL)",
    "CREATE TABLE blocks (height INTEGER PRIMARY KEY CHECK (height >= 0),"
    " hash TEXT UNIQUE NOT NULL, header BLOB NOT NULL CHECK (typeof(header) = 'blob'),"
    " first_index INTEGER NOT NULL CHECK (first_index >= 0),"
    " tx_count INTEGER NOT NULL CHECK (tx_count >= 0))",
    "CREATE TABLE txs (idx INTEGER PRIMARY KEY CHECK (idx >= 0), id TEXT UNIQUE NOT NULL,"
    " height INTEGER NOT NULL REFERENCES blocks (height),"
    " data BLOB NOT NULL CHECK (typeof(data) = 'blob'))",
)
_BLOCK_COLS = "height, hash, header, first_index, tx_count"
_TX_COLS = "t.idx, t.id, t.height, t.data"


def _translate(exc: sqlite3.Error) -> StorageError:
    """Map a SQLite error to the StorageError code a caller can act on."""
    primary = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF  # extended → primary code
    if primary in (sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR):
        return StorageError(f"storage full or unwritable: {exc}", code="registry.storage_full")
    if primary in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
        return StorageError(f"not a valid registry database: {exc}",
                            code="registry.storage_corrupt")
    if isinstance(exc, sqlite3.IntegrityError):
        return conflict(f"duplicate or invalid row: {exc}")
    return StorageError(f"storage failure: {exc}")


class SqliteStorage:
    """:class:`Storage` in one SQLite file: the embedded default.

    WAL with ``synchronous=FULL`` makes every commit durable before it returns; each write is
    one ``BEGIN IMMEDIATE`` … ``COMMIT``, so other processes on the same file are serialised
    by SQLite's own locks (waiting up to ``busy_timeout`` seconds) and the chain checks run
    against what is actually on disk. One connection, used across threads under a lock.

    Args:
        path: the database file (created when missing); ``:memory:`` is refused, as it has no
            WAL and would silently drop the durability this class exists for.
        max_pages: sets ``PRAGMA max_page_count`` on this connection only, so tests can
            simulate a full disk (``SQLITE_FULL``) without filling one.
        busy_timeout: seconds to wait for another connection's write lock.
    """

    def __init__(
        self, path: str | Path, *, max_pages: int | None = None, busy_timeout: float = 5.0
    ) -> None:
        if max_pages is not None and max_pages < 1:
            raise ValueError("max_pages must be positive")  # SQLite silently ignores 0
        self._lock = threading.Lock()
        self._closed = True
        try:
            self._conn = connect(path, busy_timeout=busy_timeout)
        except sqlite3.Error as exc:
            raise _translate(exc) from exc
        try:
            self._setup(max_pages)
        except BaseException as exc:
            self._conn.close()
            if isinstance(exc, sqlite3.Error):
                raise _translate(exc) from exc
            raise
        self._closed = False

    def _setup(self, max_pages: int | None) -> None:
        c = self._conn
        self._check_version()  # before any write: a file we do not understand stays untouched
        refused = make_durable(c)
        if refused is not None:
            raise StorageError(f"cannot use WAL journal (got {refused!r}); need a file path")
        c.execute("PRAGMA foreign_keys = ON")
        if max_pages is not None:
            c.execute(f"PRAGMA max_page_count = {int(max_pages)}")
        with self._write():
            if self._check_version() == 0:  # re-read under the lock: another process may race
                for statement in _SCHEMA:
                    c.execute(statement)
                c.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        self._check_prefix()

    def _check_version(self) -> int:
        """The schema version; 0 for a new, empty file. Anything else is refused."""
        version: int = self._conn.execute("PRAGMA user_version").fetchone()[0]
        foreign = version == 0 and self._conn.execute(
            "SELECT count(*) FROM sqlite_master").fetchone()[0]
        if version not in (0, SCHEMA_VERSION) or foreign:
            raise StorageError(f"not a registry database of schema {SCHEMA_VERSION}"
                               f" (user_version {version})", code="registry.storage_version")
        return version

    def _check_prefix(self) -> None:
        """Refuse a file whose log is not a contiguous prefix (rows deleted or edited by hand)."""
        c = self._conn
        c.execute("BEGIN")  # one snapshot for the three reads
        try:
            n_blocks, top = c.execute("SELECT count(*), max(height) FROM blocks").fetchone()
            n_txs, last = c.execute("SELECT count(*), max(idx) FROM txs").fetchone()
            end = c.execute("SELECT first_index + tx_count FROM blocks WHERE height = ?",
                            (top,)).fetchone()
        finally:
            c.execute("COMMIT")
        blocks_ok = n_blocks == (0 if top is None else top + 1)
        txs_ok = n_txs == (0 if last is None else last + 1) == (end[0] if end else 0)
        if not (blocks_ok and txs_ok):
            raise StorageError("stored log is not a contiguous prefix",
                               code="registry.storage_corrupt")

    @contextmanager
    def _op(self) -> Iterator[sqlite3.Connection]:
        """Serialise access and keep raw ``sqlite3`` errors out of the public API."""
        with self._lock:
            if self._closed:
                raise StorageError("storage is closed")
            try:
                yield self._conn
            except sqlite3.Error as exc:
                raise _translate(exc) from exc

    def _write(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        return write_transaction(self._conn)

    def _one(self, sql: str, *args: object) -> Any:
        with self._op() as c:
            return c.execute(sql, args).fetchone()

    def _all(self, sql: str, *args: object) -> list[Any]:
        with self._op() as c:
            return c.execute(sql, args).fetchall()

    def height(self) -> int | None:
        top: int | None = self._one("SELECT max(height) FROM blocks")[0]
        return top

    def tx_count(self) -> int:
        last: int | None = self._one("SELECT max(idx) FROM txs")[0]
        return 0 if last is None else last + 1

    def append_block(
        self, block: StoredBlock, txs: Sequence[tuple[str, bytes]], checkpoint: str
    ) -> None:
        with self._op(), self._write() as c:
            top = c.execute("SELECT max(height) FROM blocks").fetchone()[0]
            last = c.execute("SELECT max(idx) FROM txs").fetchone()[0]
            check_extends(block, txs, top, 0 if last is None else last + 1)
            c.execute(f"INSERT INTO blocks ({_BLOCK_COLS}) VALUES (?, ?, ?, ?, ?)",
                      (block.height, block.hash, bytes(block.header), block.first_index,
                       block.tx_count))
            c.executemany("INSERT INTO txs (idx, id, height, data) VALUES (?, ?, ?, ?)",
                          ((index, tx_id, block.height, bytes(data))
                           for index, (tx_id, data) in enumerate(txs, start=block.first_index)))
            self._put_checkpoint(c, checkpoint)

    @staticmethod
    def _put_checkpoint(c: sqlite3.Connection, checkpoint: str) -> None:
        c.execute("INSERT INTO checkpoint (id, note) VALUES (0, ?)"
                  " ON CONFLICT (id) DO UPDATE SET note = excluded.note", (checkpoint,))

    def set_checkpoint(self, checkpoint: str) -> None:
        with self._op(), self._write() as c:
            self._put_checkpoint(c, checkpoint)

    def checkpoint(self) -> str | None:
        row = self._one("SELECT note FROM checkpoint WHERE id = 0")
        return None if row is None else str(row[0])

    def block(self, height: int) -> StoredBlock | None:
        row = self._one(f"SELECT {_BLOCK_COLS} FROM blocks WHERE height = ?", height)
        return None if row is None else StoredBlock(*row)

    def blocks(self, start: int, limit: int) -> list[StoredBlock]:
        check_paging(start, limit)
        return [StoredBlock(*r) for r in self._all(
            f"SELECT {_BLOCK_COLS} FROM blocks WHERE height >= ? ORDER BY height LIMIT ?",
            start, limit)]

    def block_txs(self, height: int) -> list[StoredTx]:
        # By the block's index range: uses the primary key, no extra index on txs.height.
        return [StoredTx(*r) for r in self._all(
            f"SELECT {_TX_COLS} FROM blocks b JOIN txs t ON t.idx >= b.first_index"
            " AND t.idx < b.first_index + b.tx_count WHERE b.height = ? ORDER BY t.idx", height)]

    def tx(self, tx_id: str) -> StoredTx | None:
        row = self._one(f"SELECT {_TX_COLS} FROM txs t WHERE id = ?", tx_id)
        return None if row is None else StoredTx(*row)

    def tx_at(self, index: int) -> StoredTx | None:
        row = self._one(f"SELECT {_TX_COLS} FROM txs t WHERE idx = ?", index)
        return None if row is None else StoredTx(*row)

    def iter_txs(self, start: int = 0) -> Iterator[StoredTx]:
        i = max(start, 0)
        while rows := self._all(f"SELECT {_TX_COLS} FROM txs t WHERE idx >= ?"
                                " ORDER BY idx LIMIT ?", i, BATCH):
            yield from (StoredTx(*r) for r in rows)  # to an empty batch: streams later appends
            i = rows[-1][0] + 1

    def iter_blocks(self, start: int = 0) -> Iterator[StoredBlock]:
        h = max(start, 0)
        while batch := self.blocks(h, BATCH):
            yield from batch
            h = batch[-1].height + 1

    def get_meta(self, key: str) -> str | None:
        row = self._one("SELECT value FROM meta WHERE key = ?", key)
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        with self._op(), self._write() as c:
            c.execute("INSERT INTO meta (key, value) VALUES (?, ?)"
                      " ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, value))

    def close(self) -> None:
        """Close the connection; idempotent. Later calls raise ``StorageError``."""
        with self._lock:
            if not self._closed:
                self._closed = True
                try:
                    self._conn.close()
                except sqlite3.Error as exc:
                    raise _translate(exc) from exc

    def __enter__(self) -> SqliteStorage:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
