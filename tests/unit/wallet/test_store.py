"""The wallet's store (ssiwallet/wallet/store.py): opening, transactions and their failures.

A change is on disk when its transaction returns; a change that fails (in the caller's
block, or while writing the file) leaves the disk *and* the memory at the last confirmed
state, and the store goes on working. The wrong passphrase and a tampered file are one
error. A schema newer than the code is refused rather than overwritten.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ssiwallet.errors import UnlockError, WalletError, WalletFormatError
from ssiwallet.infra.files import write_atomic
from ssiwallet.wallet.backup import export_tables
from ssiwallet.wallet.sealed import FAST_KDF, HEADER_SIZE, WALLET_MAGIC, Keys, seal
from ssiwallet.wallet.store import LOCK_FILE, SCHEMA_VERSION, WALLET_FILE, Store
from ssiwallet.wallet.wallet import Wallet

PASS = "correct horse battery staple"


def add_setting(store: Store, key: str, value: str = "v") -> None:
    with store.transaction() as db:
        db.execute("INSERT INTO settings VALUES (?, ?)", (key, value))


def settings(db: sqlite3.Connection) -> dict[str, str]:
    return dict(db.execute("SELECT key, value FROM settings").fetchall())


def in_memory(store: Store) -> dict[str, list[dict[str, Any]]]:
    """What the store holds in memory, without the reload ``read()`` would do."""
    return export_tables(store._db)


def on_disk(home: Path) -> dict[str, list[dict[str, Any]]]:
    return export_tables(Store.unlock(home, PASS).read())


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store.create(tmp_path / "w", PASS, FAST_KDF)
    add_setting(s, "first", "1")
    return s


@pytest.fixture
def umask0() -> Iterator[None]:
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


# ---------------------------------------------------------------------------- opening
def test_create_then_unlock(tmp_path: Path) -> None:
    home = tmp_path / "a" / "b"
    created = Store.create(home, PASS, FAST_KDF)
    assert Store.exists(home) and created.generation == 1
    opened = Store.unlock(home, PASS)
    assert opened.wallet_id() == created.wallet_id() and len(created.wallet_id()) == 32
    assert opened.generation == 1
    assert opened.read().execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert {r[0] for r in opened.read().execute("SELECT key FROM meta")} == {
        "wallet_id", "created_at"}
    assert sorted(p.name for p in home.iterdir()) == sorted([LOCK_FILE, WALLET_FILE])


def test_create_refuses_to_overwrite(store: Store) -> None:
    before = store.path.read_bytes()
    for passphrase in (PASS, "another passphrase"):
        with pytest.raises(WalletError) as err:
            Store.create(store.home, passphrase, FAST_KDF)
        assert err.value.code == "wallet.exists"
    with pytest.raises(WalletError) as err:
        Wallet.create(store.home, "another passphrase", kdf=FAST_KDF)
    assert err.value.code == "wallet.exists"
    assert store.path.read_bytes() == before
    assert settings(Store.unlock(store.home, PASS).read()) == {"first": "1"}


def test_unlock_missing_wallet(tmp_path: Path) -> None:
    for home in (tmp_path, tmp_path / "nowhere"):
        with pytest.raises(WalletError) as err:
            Store.unlock(home, PASS)
        assert err.value.code == "wallet.not_found"
        assert not isinstance(err.value, UnlockError)
    assert not (tmp_path / "nowhere").exists()


def test_empty_passphrase_refused(tmp_path: Path) -> None:
    with pytest.raises(WalletError) as err:
        Store.create(tmp_path / "w", "", FAST_KDF)
    assert err.value.code == "wallet.bad_passphrase"
    with pytest.raises(WalletError) as err:
        Wallet.create(tmp_path / "w", "", kdf=FAST_KDF)
    assert err.value.code == "wallet.bad_passphrase"
    assert not Store.exists(tmp_path / "w")


def test_wrong_passphrase_is_the_same_error_as_a_tampered_file(store: Store) -> None:
    good = store.path.read_bytes()
    errors: dict[str, UnlockError] = {}
    for name, passphrase in (("wrong", PASS + "!"), ("empty", ""), ("case", PASS.upper())):
        with pytest.raises(UnlockError) as err:
            Store.unlock(store.home, passphrase)
        errors[name] = err.value
    for name, pos in (("body", len(good) - 1), ("salt", 30), ("wrapped", HEADER_SIZE - 1),
                      ("generation", 45), ("nonce", HEADER_SIZE)):
        tampered = bytearray(good)
        tampered[pos] ^= 0x01
        store.path.write_bytes(bytes(tampered))
        with pytest.raises(UnlockError) as err:
            Store.unlock(store.home, PASS)
        errors[name] = err.value
    store.path.write_bytes(good)
    shapes = {(type(e), e.code, e.detail, str(e), repr(e)) for e in errors.values()}
    assert len(shapes) == 1, shapes
    [(kind, code, detail, _, _)] = shapes
    assert kind is UnlockError and code == "wallet.unlock_failed"
    assert "passphrase" in detail and "damaged" in detail
    assert all(e.__cause__ is None for e in errors.values())


# ---------------------------------------------------------------------------- transactions
def test_transaction_is_on_disk_when_it_returns(store: Store) -> None:
    generation = store.generation
    add_setting(store, "second", "2")
    assert store.generation == generation + 1
    assert settings(Store.unlock(store.home, PASS).read()) == {"first": "1", "second": "2"}


def test_failing_transaction_changes_neither_disk_nor_memory(store: Store) -> None:
    file_before, memory_before, generation = (store.path.read_bytes(), in_memory(store),
                                              store.generation)

    class Refused(Exception):
        """What the transaction's body raises."""

    with pytest.raises(Refused):
        with store.transaction() as db:
            db.execute("INSERT INTO settings VALUES ('half', 'done')")
            db.execute("UPDATE settings SET value = 'changed' WHERE key = 'first'")
            db.execute("DELETE FROM meta")
            raise Refused
    assert store.path.read_bytes() == file_before
    assert in_memory(store) == memory_before and store.generation == generation
    with pytest.raises(sqlite3.IntegrityError):  # a failing statement inside the block
        with store.transaction() as db:
            db.execute("INSERT INTO settings VALUES ('other', 'x')")
            db.execute("INSERT INTO settings VALUES ('first', 'duplicate')")
    assert store.path.read_bytes() == file_before
    assert in_memory(store) == memory_before
    add_setting(store, "after", "ok")
    assert settings(Store.unlock(store.home, PASS).read()) == {"first": "1", "after": "ok"}


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EIO])
def test_write_failure_keeps_old_state_on_disk_and_in_memory(
        code: int, store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    file_before, memory_before, generation = (store.path.read_bytes(), in_memory(store),
                                              store.generation)
    attempts: list[bytes] = []

    def failing_write(path: Path, data: bytes, *, secret: bool = False) -> None:
        attempts.append(data)
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr("ssiwallet.wallet.store.write_atomic", failing_write)
    with pytest.raises(OSError) as err:
        add_setting(store, "lost", "never confirmed")
    assert err.value.errno == code
    assert len(attempts) == 1  # the write was really attempted
    assert store.path.read_bytes() == file_before
    assert in_memory(store) == memory_before and store.generation == generation
    assert "lost" not in settings(store.read())
    monkeypatch.undo()
    add_setting(store, "next", "works")
    assert store.generation == generation + 1
    assert settings(store.read()) == {"first": "1", "next": "works"}
    assert on_disk(store.home) == in_memory(store)


def test_write_failure_of_a_real_write_atomic(store: Store,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The same with the real write_atomic failing at the rename (no temp file left)."""
    file_before = store.path.read_bytes()

    def no_rename(src: object, dst: object) -> None:
        raise OSError(errno.EIO, "I/O error")

    monkeypatch.setattr(os, "replace", no_rename)
    with pytest.raises(OSError):
        add_setting(store, "lost")
    monkeypatch.undo()
    assert store.path.read_bytes() == file_before
    assert sorted(p.name for p in store.home.iterdir()) == sorted([LOCK_FILE, WALLET_FILE])
    add_setting(store, "next")
    assert set(settings(Store.unlock(store.home, PASS).read())) == {"first", "next"}


def test_another_store_sees_saves_and_never_overwrites_them(store: Store) -> None:
    other = Store.unlock(store.home, PASS)
    add_setting(other, "from-other", "x")
    assert settings(store.read()) == {"first": "1", "from-other": "x"}
    add_setting(store, "from-first", "y")
    assert settings(other.read()) == {"first": "1", "from-other": "x", "from-first": "y"}
    assert store.generation == other.generation


def test_destroy(store: Store) -> None:
    store.destroy()
    assert not Store.exists(store.home)
    assert sorted(p.name for p in store.home.iterdir()) == [LOCK_FILE]
    with pytest.raises(WalletError) as err:
        store.read()
    assert err.value.code == "wallet.not_found"
    with pytest.raises(WalletError) as err:
        add_setting(store, "after")
    assert err.value.code == "wallet.not_found"
    assert not Store.exists(store.home)
    Store.create(store.home, "a new one", FAST_KDF)
    assert settings(Store.unlock(store.home, "a new one").read()) == {}


# ---------------------------------------------------------------------------- schema versions
def sealed_image(home: Path, user_version: int, keys: Keys, generation: int = 1) -> None:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    db.execute("INSERT INTO meta VALUES ('wallet_id', 'from-the-future')")
    db.execute(f"PRAGMA user_version = {user_version}")
    db.commit()
    image = db.serialize()
    db.close()
    write_atomic(home / WALLET_FILE, seal(WALLET_MAGIC, keys, generation, image), secret=True)


def test_newer_schema_refused_on_unlock(tmp_path: Path) -> None:
    home = tmp_path / "w"
    home.mkdir()
    sealed_image(home, SCHEMA_VERSION + 1, Keys.new(PASS, FAST_KDF))
    before = (home / WALLET_FILE).read_bytes()
    with pytest.raises(WalletFormatError) as err:
        Store.unlock(home, PASS)
    assert err.value.code == "wallet.unsupported_version"
    assert f"schema version {SCHEMA_VERSION + 1}" in err.value.detail
    assert (home / WALLET_FILE).read_bytes() == before


def test_newer_schema_saved_by_another_process_is_not_overwritten(store: Store) -> None:
    sealed_image(store.home, SCHEMA_VERSION + 1, store._keys, store.generation + 1)
    newer = store.path.read_bytes()
    with pytest.raises(WalletFormatError):
        add_setting(store, "old code")
    with pytest.raises(WalletFormatError):
        store.read()
    assert store.path.read_bytes() == newer


def test_schema_zero_is_migrated(tmp_path: Path) -> None:
    home = tmp_path / "w"
    home.mkdir()
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE legacy(x)")  # an image needs a page; user_version stays 0
    image = db.serialize()
    db.close()
    write_atomic(home / WALLET_FILE, seal(WALLET_MAGIC, Keys.new(PASS, FAST_KDF), 1, image),
                 secret=True)
    opened = Store.unlock(home, PASS)
    assert opened.read().execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert set(export_tables(opened.read())) == {"meta", "settings", "credentials", "copies",
                                                 "history"}


@pytest.mark.parametrize("image", [b"not a database" * 400, b"SQLite format 3\x00" * 64],
                         ids=["text", "sqlite-magic-only"])
def test_authentic_file_that_is_not_a_database(tmp_path: Path, image: bytes) -> None:
    """A sealed payload that is no SQLite image: UnlockError, not a raw sqlite3 error."""
    home = tmp_path / "w"
    home.mkdir()
    write_atomic(home / WALLET_FILE, seal(WALLET_MAGIC, Keys.new(PASS, FAST_KDF), 1, image),
                 secret=True)
    with pytest.raises(UnlockError) as err:
        Store.unlock(home, PASS)
    assert err.value.code == "wallet.unlock_failed"


# ---------------------------------------------------------------------------- permissions
def test_files_are_private(tmp_path: Path, umask0: None) -> None:
    home = tmp_path / "fresh"
    store = Store.create(home, PASS, FAST_KDF)
    add_setting(store, "k")
    wallet = Wallet(store)
    wallet.backup(tmp_path / "b.keten", "backup pass", kdf=FAST_KDF)
    for path in (store.path, home / LOCK_FILE, tmp_path / "b.keten"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
