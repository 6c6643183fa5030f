"""The registry's storage layer (registry/storage.py).

Every behaviour is checked on both implementations, so the pure tests of the node that run
on :class:`MemoryStorage` say something about :class:`SqliteStorage` too. SQLite-only tests
cover what only a file has: durability settings, reopening, a full disk, foreign or
tampered files, and a second connection on the same file.
"""

from __future__ import annotations

import contextlib
import hashlib
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from registry.errors import RegistryError
from registry.node.http import STATUSES
from registry.node.storage import (
    SCHEMA_VERSION,
    MemoryStorage,
    SqliteStorage,
    Storage,
    StorageError,
    StoredBlock,
    StoredTx,
)
from ssiwallet.infra.web import status_for


def tx_data(index: int, size: int = 0) -> bytes:
    return b'{"i":%d,"pad":"%s"}' % (index, b"x" * size)


def tx_id(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def next_block(
    store: Storage, n_txs: int, *, size: int = 0
) -> tuple[StoredBlock, list[tuple[str, bytes]], str]:
    """The block that extends ``store`` with ``n_txs`` fresh transactions, and its checkpoint."""
    top = store.height()
    height = 0 if top is None else top + 1
    first = store.tx_count()
    txs = [(tx_id(d), d) for d in (tx_data(first + i, size) for i in range(n_txs))]
    header = b'{"height":%d,"n":%d}' % (height, n_txs)
    block = StoredBlock(height, tx_id(header), header, first, n_txs)
    return block, txs, f"test\n{first + n_txs}\n{block.hash}\n"


def grow(store: Storage, *sizes: int, pad: int = 0) -> None:
    for n in sizes:
        store.append_block(*next_block(store, n, size=pad))


def snapshot(store: Storage) -> tuple[object, ...]:
    return (store.height(), store.tx_count(), store.checkpoint(), list(store.iter_blocks()),
            list(store.iter_txs()), store.get_meta("genesis_hash"))


def open_raw(path: Path) -> contextlib.closing[sqlite3.Connection]:
    return contextlib.closing(sqlite3.connect(path, isolation_level=None))


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Storage]:
    s: Storage = MemoryStorage() if request.param == "memory" else SqliteStorage(
        tmp_path / "log.db")
    yield s
    s.close()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "log.db"


# --- both implementations ---------------------------------------------------------------


def test_empty(store: Storage) -> None:
    assert store.height() is None and store.tx_count() == 0 and store.checkpoint() is None
    assert store.block(0) is None and store.tx_at(0) is None and store.tx("00") is None
    assert store.blocks(0, 10) == [] and store.block_txs(0) == []
    assert list(store.iter_txs()) == [] and list(store.iter_blocks()) == []


def test_round_trip(store: Storage) -> None:
    appended = []
    for n in (2, 0, 3):
        block, txs, cp = next_block(store, n)
        store.append_block(block, txs, cp)
        appended.append((block, txs))
        assert store.checkpoint() == cp
    assert store.height() == 2 and store.tx_count() == 5
    index = 0
    for block, txs in appended:
        stored = store.block(block.height)
        assert stored == block and stored is not None and type(stored.header) is bytes
        got = store.block_txs(block.height)
        assert [(t.id, t.data) for t in got] == txs
        for t, (i, d) in zip(got, txs, strict=True):
            assert t == StoredTx(index, i, block.height, d)
            assert type(t.data) is bytes
            assert store.tx(i) == t and store.tx_at(index) == t
            index += 1
    assert [t.index for t in store.iter_txs()] == [0, 1, 2, 3, 4]
    assert [b.height for b in store.iter_blocks(1)] == [1, 2]
    assert store.block(3) is None and store.block(-1) is None and store.tx_at(5) is None
    assert store.tx_at(-1) is None and store.block_txs(1) == [] and store.block_txs(9) == []


def test_exact_bytes_kept(store: Storage) -> None:
    data = b'{"a":"\xc3\xa9\\u0000"}\x00\xff'  # storage is byte-opaque, NUL and non-UTF-8 too
    header = b"\x00header\xff"
    store.append_block(StoredBlock(0, "ab" * 32, header, 0, 1), [("cd" * 32, data)], "c\n")
    assert store.block(0) == StoredBlock(0, "ab" * 32, header, 0, 1)
    assert store.tx("cd" * 32) == StoredTx(0, "cd" * 32, 0, data)


def _wrong_height(b: StoredBlock) -> StoredBlock:
    return StoredBlock(b.height + 1, b.hash, b.header, b.first_index, b.tx_count)


def _repeat_height(b: StoredBlock) -> StoredBlock:
    return StoredBlock(b.height - 1, b.hash, b.header, b.first_index, b.tx_count)


def _wrong_first(b: StoredBlock) -> StoredBlock:
    return StoredBlock(b.height, b.hash, b.header, b.first_index + 1, b.tx_count)


def _gap_first(b: StoredBlock) -> StoredBlock:
    return StoredBlock(b.height, b.hash, b.header, b.first_index - 1, b.tx_count)


def _wrong_count(b: StoredBlock) -> StoredBlock:
    return StoredBlock(b.height, b.hash, b.header, b.first_index, b.tx_count + 1)


@pytest.mark.parametrize(
    "mutate", [_wrong_height, _repeat_height, _wrong_first, _gap_first, _wrong_count]
)
def test_chain_rules_enforced(store: Storage, mutate: object) -> None:
    grow(store, 2, 1)
    before = snapshot(store)
    block, txs, _ = next_block(store, 2)
    assert callable(mutate)
    with pytest.raises(StorageError) as err:
        store.append_block(mutate(block), txs, "bad\n")
    assert err.value.code == "registry.storage_conflict"
    assert isinstance(err.value, RegistryError) and status_for(err.value, STATUSES) == 503
    assert snapshot(store) == before
    store.append_block(block, txs, "good\n")  # the correct block still goes in
    assert store.height() == 2 and store.tx_count() == 5


def test_first_block_must_be_height_zero(store: Storage) -> None:
    with pytest.raises(StorageError, match="height"):
        store.append_block(StoredBlock(1, "h", b"x", 0, 0), [], "c")
    assert store.height() is None and store.checkpoint() is None


@pytest.mark.parametrize("where", ["stored", "same_block"])
def test_tx_ids_unique(store: Storage, where: str) -> None:
    grow(store, 2)
    before = snapshot(store)
    block, txs, _ = next_block(store, 2)
    dup = store.tx_at(1)
    assert dup is not None
    txs[1] = (dup.id if where == "stored" else txs[0][0], txs[1][1])
    with pytest.raises(StorageError) as err:
        store.append_block(block, txs, "bad\n")
    assert err.value.code == "registry.storage_conflict"
    assert snapshot(store) == before


def test_block_hash_unique(store: Storage) -> None:
    grow(store, 1)
    before = snapshot(store)
    block, txs, _ = next_block(store, 1)
    first = store.block(0)
    assert first is not None
    with pytest.raises(StorageError) as err:
        store.append_block(StoredBlock(1, first.hash, block.header, 1, 1), txs, "bad\n")
    assert err.value.code == "registry.storage_conflict"
    assert snapshot(store) == before


def test_blocks_paging(store: Storage) -> None:
    grow(store, *([1] * 10))
    assert [b.height for b in store.blocks(0, 3)] == [0, 1, 2]
    assert [b.height for b in store.blocks(8, 5)] == [8, 9]
    assert store.blocks(10, 5) == [] and store.blocks(3, 0) == []
    assert store.blocks(0, 100) == list(store.iter_blocks())
    for start, limit in ((-1, 2), (0, -1)):
        with pytest.raises(ValueError):
            store.blocks(start, limit)


def test_iter_txs_streams_in_index_order(store: Storage) -> None:
    grow(store, *([97] * 12))  # 1164 txs: several internal batches of the SQLite iterator
    it = store.iter_txs()
    assert next(it).index == 0  # lazy: a generator, not a materialised list
    rest = list(it)
    assert [t.index for t in rest] == list(range(1, 1164))
    assert [t.data for t in rest[:3]] == [tx_data(1), tx_data(2), tx_data(3)]
    assert [t.index for t in store.iter_txs(1000)] == list(range(1000, 1164))
    assert list(store.iter_txs(5000)) == [] and next(store.iter_txs(-3)).index == 0
    assert [b.height for b in store.iter_blocks(10)] == [10, 11]


def test_iterator_sees_appends_made_while_iterating(store: Storage) -> None:
    grow(store, 2)
    it = store.iter_txs()
    assert next(it).index == 0
    grow(store, 1)  # the node may append while a follower streams the log
    assert [t.index for t in it] == [1, 2]


def test_meta(store: Storage) -> None:
    assert store.get_meta("genesis_hash") is None
    store.set_meta("genesis_hash", "ab" * 32)
    store.set_meta("other", "")
    store.set_meta("genesis_hash", "cd" * 32)
    assert store.get_meta("genesis_hash") == "cd" * 32 and store.get_meta("other") == ""


def test_checkpoint_replace(store: Storage) -> None:
    store.set_checkpoint("empty\n0\n")
    assert store.checkpoint() == "empty\n0\n"
    grow(store, 2)
    signed = store.checkpoint()
    assert signed is not None and signed.startswith("test\n2\n")
    cosigned = signed + "\n— witness AAAA\n"
    store.set_checkpoint(cosigned)
    assert store.checkpoint() == cosigned and store.tx_count() == 2


def test_closed(store: Storage) -> None:
    grow(store, 1)
    store.close()
    store.close()  # idempotent
    for call in (store.height, store.tx_count, store.checkpoint, lambda: store.block(0),
                 lambda: store.set_meta("a", "b"), lambda: list(store.iter_txs())):
        with pytest.raises(StorageError):
            call()


# --- SQLite only --------------------------------------------------------------------------


def test_reopen_same_content(db: Path) -> None:
    with SqliteStorage(db) as s:
        grow(s, 3, 0, 600)
        s.set_meta("genesis_hash", "ab" * 32)
        s.set_checkpoint("cosigned\n")
        before = snapshot(s)
    with SqliteStorage(db) as s:
        assert snapshot(s) == before
        grow(s, 1)
        assert s.height() == 3 and s.tx_count() == 604


def test_durability_pragmas(db: Path) -> None:
    with SqliteStorage(db) as s:
        c = s._conn
        assert c.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert c.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert c.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert c.execute("PRAGMA busy_timeout").fetchone()[0] >= 1000
        assert c.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    with open_raw(db) as raw:  # WAL is a property of the file, seen by any other connection
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_memory_path_refused() -> None:
    with pytest.raises(StorageError, match="WAL"):
        SqliteStorage(":memory:")


def test_full_disk(db: Path) -> None:
    with SqliteStorage(db) as s:
        grow(s, 2, 1)
        s.set_meta("genesis_hash", "ab" * 32)
        pages = s._conn.execute("PRAGMA page_count").fetchone()[0]
    with SqliteStorage(db, max_pages=pages + 4) as s:
        with pytest.raises(StorageError) as err:
            for _ in range(50):
                before = snapshot(s)
                grow(s, 3, pad=2000)
        assert err.value.code == "registry.storage_full"
        assert snapshot(s) == before  # the failed append left no trace
        failed = next_block(s, 3, size=2000)
        with pytest.raises(StorageError) as again:
            s.append_block(*failed)
        assert again.value.code == "registry.storage_full" and snapshot(s) == before
    with SqliteStorage(db) as s:  # "disk freed": reopen without the limit
        assert snapshot(s) == before
        s.append_block(*failed)
        assert s.block(failed[0].height) == failed[0] and s.checkpoint() == failed[2]
        assert [(t.id, t.data) for t in s.block_txs(failed[0].height)] == failed[1]


def test_unknown_schema_version_refused(db: Path) -> None:
    SqliteStorage(db).close()
    with open_raw(db) as raw:
        raw.execute("PRAGMA user_version = 99")
    with pytest.raises(StorageError) as err:
        SqliteStorage(db)
    assert err.value.code == "registry.storage_version"


def test_foreign_sqlite_file_refused(db: Path) -> None:
    with open_raw(db) as raw:
        raw.execute("CREATE TABLE something (x)")
    with pytest.raises(StorageError) as err:
        SqliteStorage(db)
    assert err.value.code == "registry.storage_version"
    with open_raw(db) as raw:  # refused before any write: not even switched to WAL
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "delete"


def test_garbage_file_refused(db: Path) -> None:
    garbage = b"this is not a SQLite database\n" * 300
    db.write_bytes(garbage)
    with pytest.raises(StorageError) as err:
        SqliteStorage(db)
    assert err.value.code == "registry.storage_corrupt"
    assert db.read_bytes() == garbage  # nothing written to a file we do not understand


def test_unopenable_path(tmp_path: Path) -> None:
    with pytest.raises(StorageError) as err:
        SqliteStorage(tmp_path / "missing-dir" / "log.db")
    assert err.value.code == "registry.storage_error"


@pytest.mark.parametrize("tamper", [
    "DELETE FROM txs WHERE idx = 1",
    "DELETE FROM blocks WHERE height = 1",
    "UPDATE blocks SET tx_count = 9 WHERE height = 2",
])
def test_non_prefix_file_refused(db: Path, tamper: str) -> None:
    with SqliteStorage(db) as s:
        grow(s, 2, 0, 2)
    with open_raw(db) as raw:
        raw.execute("PRAGMA foreign_keys = OFF")
        raw.execute(tamper)
    with pytest.raises(StorageError) as err:
        SqliteStorage(db)
    assert err.value.code == "registry.storage_corrupt"


def test_two_connections_on_one_file(db: Path) -> None:
    with SqliteStorage(db) as a, SqliteStorage(db) as b:
        grow(a, 2)
        assert b.height() == 0 and b.tx_count() == 2
        stale = next_block(a, 1)
        grow(b, 1)  # b extends the chain first: a's block no longer fits
        with pytest.raises(StorageError) as err:
            a.append_block(*stale)
        assert err.value.code == "registry.storage_conflict"
        grow(a, 1)
        assert snapshot(a) == snapshot(b) and a.height() == 2


def test_threads_share_one_store(db: Path) -> None:
    errors: list[BaseException] = []

    def reader(s: SqliteStorage) -> None:
        try:
            for _ in range(200):
                n = s.tx_count()
                assert n == 0 or s.tx_at(n - 1) is not None
                assert len(list(s.iter_txs())) >= n
        except BaseException as exc:  # noqa: BLE001 - reported to the main thread
            errors.append(exc)

    with SqliteStorage(db) as s:
        threads = [threading.Thread(target=reader, args=(s,)) for _ in range(3)]
        for t in threads:
            t.start()
        grow(s, *([3] * 40))
        for t in threads:
            t.join()
        assert errors == [] and s.tx_count() == 120
