"""SQLite, opened and written one way by every store: the registry node, the witness, the issuer.

Each keeps state that must survive a crash once acknowledged: WAL with ``synchronous=FULL``
makes every commit durable before it returns, and ``BEGIN IMMEDIATE`` takes the write lock
up front so checks made inside a write see the state it applies to, even with another
process on the same file.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

__all__ = ["connect", "make_durable", "write_transaction"]

MEMORY = ":memory:"


def connect(path: str | Path, *, busy_timeout: float = 5.0) -> sqlite3.Connection:
    """Open (creating it 0600 if new) a database for explicit transactions from any thread.

    Its WAL and shared-memory files get the database file's mode from SQLite itself, so a
    database holding keys, PIN hashes or index maps is never readable by others. Callers
    serialise access themselves (one event loop, or a lock) and translate
    :class:`sqlite3.Error` into their own errors.
    """
    name = str(path)
    if name != MEMORY and not name.startswith("file:"):
        with contextlib.suppress(OSError):  # exists already, or sqlite3 reports the problem
            os.close(os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    conn = sqlite3.connect(name, isolation_level=None, check_same_thread=False)
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
    except BaseException:
        conn.close()
        raise
    return conn


def make_durable(conn: sqlite3.Connection) -> str | None:
    """Switch to WAL with ``synchronous=FULL``; return the refused journal mode, if any."""
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        return str(mode)
    conn.execute("PRAGMA synchronous = FULL")
    return None


@contextlib.contextmanager
def write_transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction: committed (and fsynced) on success, rolled back otherwise."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
        conn.execute("COMMIT")
    except BaseException:
        # SQLITE_FULL / IOERR may already have rolled the transaction back on their own;
        # a failing ROLLBACK must not hide the original error, which is the one to report.
        if conn.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
        raise
