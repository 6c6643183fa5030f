"""What the node's store and the witness's store share: durable SQLite settings and writes.

Both keep state that must survive a crash once acknowledged: WAL with ``synchronous=FULL``
makes every commit durable before it returns, and ``BEGIN IMMEDIATE`` takes the write lock
up front so checks made inside a write see the state it applies to, even with another
process on the same file.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator

__all__ = ["make_durable", "write_transaction"]


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
