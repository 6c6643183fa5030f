"""SECURITY-TESTS 26-30: attacks on the holder's sealed wallet file and its backups.

* 26: ``kill -9`` at random moments while a child process saves (wallet_child.py), and
  EIO/ENOSPC injected at every step of a save: the wallet always opens, holding every
  confirmed credential, and no temporary file is left behind by a failed save.
* 27: one flipped bit at every header byte and at sampled body bytes: the unlock fails with
  UnlockError, the file is untouched and nothing readable lands in the wallet directory.
* 28: a wrong passphrase and tampering are one error; absurd Argon2id parameters in a file
  are refused before any derivation.
* 29: backup then restore is an exact round trip (Hypothesis); an older backup merges
  without dropping anything or un-using a copy; unknown formats and damaged or foreign
  files are refused.
* 30: concurrent writers in separate processes lose no update.

Plus: no passphrase, data key, holder key seed or claim value in logs, error messages,
tracebacks or the ``repr`` of the wallet's objects.
"""

from __future__ import annotations

import base64
import errno
import json
import logging
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

import nacl.pwhash
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ssiwallet.errors import KdfParamsError, UnlockError, WalletFormatError
from ssiwallet.infra.files import write_atomic
from ssiwallet.wallet.backup import BACKUP_FORMAT, TABLES, export_tables, read_backup
from ssiwallet.wallet.sealed import (
    BACKUP_MAGIC,
    FAST_KDF,
    HEADER_SIZE,
    WALLET_MAGIC,
    Header,
    KdfParams,
    Keys,
    open_sealed,
    read_header,
    seal,
)
from ssiwallet.wallet.store import LOCK_FILE, WALLET_FILE, Store
from ssiwallet.wallet.wallet import Wallet
from tests.adversarial.wallet_child import CANARY, copy_row, credential_row
from tests.unit.wallet.faults import half_writing_fdopen

REPO = Path(__file__).resolve().parents[2]
CHILD = Path(__file__).with_name("wallet_child.py")
PASS = "Tulpen & 🚲 langs de Leie"
BACKUP_PASS = "een andere zin voor de back-up"
WRONG_PASS = "Tulpen & 🚲 langs de Leie."
OTHER_PASS = "de passphrase van de tweede portemonnee"
SEED = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
GIB = 1 << 30


# ---------------------------------------------------------------------------- helpers
def add_credential(store: Store, cid: str, claims: dict[str, Any], seeds: list[bytes],
                   token: str = "eyJ.token~") -> None:
    with store.transaction() as db:
        db.execute("INSERT INTO credentials VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", (
            cid, 1_700_000_000, "urn:eudi:pid:1", "did:keten:town", "https://town.example",
            "pid", json.dumps(claims), json.dumps({"claims": []}), "Town", 1, 1_700_000_000,
            1_900_000_000, "valid", None))
        db.executemany("INSERT INTO copies VALUES (?,?,?,?,NULL,NULL)", [
            (f"{cid}-{i}", cid, token, seed) for i, seed in enumerate(seeds)])


def mark_used(store: Store, copy_id: str, verifier: str = "https://bib.example") -> None:
    with store.transaction() as db:
        db.execute("UPDATE copies SET used_at = 1700000100, used_for = ? WHERE id = ?",
                   (verifier, copy_id))


def populated(home: Path) -> Store:
    store = Store.create(home, PASS, FAST_KDF)
    add_credential(store, "cred-1", {"given_name": CANARY, "age_over_18": True}, [SEED])
    with store.transaction() as db:
        db.execute("INSERT INTO settings VALUES ('registry', 'https://registry.example')")
    return store


def only_wallet_files(home: Path) -> None:
    """Nothing but the wallet and its lock in ``home``, and no claim value readable in any."""
    assert sorted(p.name for p in home.iterdir()) == sorted([LOCK_FILE, WALLET_FILE])
    no_plaintext(home)


def no_plaintext(home: Path) -> None:
    for path in home.iterdir():
        data = path.read_bytes()
        assert CANARY.encode() not in data, path
        assert CANARY.encode("utf-16-le") not in data, path


def expected_error(pos: int) -> tuple[type[UnlockError], ...]:
    """What a flipped bit at ``pos`` may give: UnlockError, or a subclass for the fields
    read before anything is authenticated (the version and the KDF parameters)."""
    if 8 <= pos < 10:
        return (WalletFormatError,)
    if 10 <= pos < 22:
        return (KdfParamsError, UnlockError)
    return (UnlockError,)


# ---------------------------------------------------------------------------- 27: bit flips
@pytest.mark.slow
def test_27_bit_flip_anywhere_fails_unlock_and_writes_nothing(tmp_path: Path) -> None:
    """Passphrase path, a fresh Store.unlock per flip (Argon2id runs each time)."""
    home = tmp_path / "w"
    store = populated(home)
    good = store.path.read_bytes()
    only_wallet_files(home)
    seed = random.randrange(1 << 32)
    rng = random.Random(seed)
    body = range(HEADER_SIZE, len(good) - 1)
    positions = [*range(HEADER_SIZE),  # every header byte
                 # first byte of the body's nonce, MAC, header digest and payload
                 HEADER_SIZE, HEADER_SIZE + 24, HEADER_SIZE + 40, HEADER_SIZE + 72,
                 *rng.sample(body, 12), len(good) - 1]
    reference = None
    for pos in positions:
        tampered = bytearray(good)
        tampered[pos] ^= 1 << (pos % 8)  # keeps every allowed memlimit small (<= 64.5 MiB)
        store.path.write_bytes(bytes(tampered))
        with pytest.raises(UnlockError) as err:
            Store.unlock(home, PASS)
        kinds = expected_error(pos)
        assert type(err.value) in kinds, (seed, pos, err.value)
        if type(err.value) is UnlockError:
            reference = reference or err.value
            assert (err.value.code, err.value.detail) == (reference.code, reference.detail)
        assert store.path.read_bytes() == tampered, (seed, pos)
        only_wallet_files(home)
    store.path.write_bytes(good)
    assert Store.unlock(home, PASS).wallet_id() == store.wallet_id()


def test_27_bit_flip_at_every_position_with_unlocked_keys(tmp_path: Path) -> None:
    """Every byte of the file, on the path a running store reloads by (no Argon2id)."""
    store = populated(tmp_path / "w")
    good = store.path.read_bytes()
    keys = store._keys
    assert open_sealed(good, WALLET_MAGIC, keys=keys)[2] == store.read().serialize()
    for pos in range(len(good)):
        tampered = bytearray(good)
        tampered[pos] ^= 1 << (pos % 8)
        with pytest.raises(UnlockError):
            open_sealed(bytes(tampered), WALLET_MAGIC, keys=keys)


def test_27_a_running_store_never_saves_over_a_tampered_file(tmp_path: Path) -> None:
    store = populated(tmp_path / "w")
    other = Store.unlock(store.home, PASS)
    with other.transaction() as db:  # another process saves: store must reload...
        db.execute("INSERT INTO settings VALUES ('other', 'x')")
    tampered = bytearray(store.path.read_bytes())
    tampered[-5] ^= 0x40  # ...but the saved file was damaged meanwhile
    store.path.write_bytes(bytes(tampered))
    with pytest.raises(UnlockError):
        with store.transaction() as db:
            db.execute("INSERT INTO settings VALUES ('mine', 'y')")
    assert store.path.read_bytes() == tampered


# ---------------------------------------------------------------------------- 28
def test_28_wrong_passphrase_and_tampering_are_one_error(tmp_path: Path) -> None:
    store = populated(tmp_path / "w")
    good = store.path.read_bytes()
    with pytest.raises(UnlockError) as wrong:
        Store.unlock(store.home, WRONG_PASS)
    tampered = bytearray(good)
    tampered[HEADER_SIZE + 100] ^= 0x01
    store.path.write_bytes(bytes(tampered))
    with pytest.raises(UnlockError) as damaged:
        Store.unlock(store.home, PASS)
    for a in (wrong.value, damaged.value):
        assert type(a) is UnlockError
        assert a.to_json() == {"error": "wallet.unlock_failed", "detail": wrong.value.detail}
        assert str(a) == str(wrong.value) and repr(a) == repr(wrong.value)
        assert a.__cause__ is None


@pytest.mark.parametrize(("ops", "mem"), [(2, 64 * GIB), (2, 2**64 - 1), (2**32 - 1, 64 << 20),
                                          (1, 64 << 20), (2, 1 << 20)])
def test_28_absurd_kdf_parameters_refused_before_derivation(
        ops: int, mem: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = populated(tmp_path / "w")
    wallet = Wallet(store)
    wallet.backup(tmp_path / "b.keten", BACKUP_PASS, kdf=FAST_KDF)
    derived: list[object] = []
    monkeypatch.setattr(nacl.pwhash.argon2id, "kdf", lambda *a, **k: derived.append(k))
    with pytest.raises(KdfParamsError):  # asked of a new backup
        wallet.backup(tmp_path / "c.keten", BACKUP_PASS, kdf=KdfParams(ops, mem))
    assert not (tmp_path / "c.keten").exists()
    for path, magic in ((store.path, WALLET_MAGIC), (tmp_path / "b.keten", BACKUP_MAGIC)):
        blob = path.read_bytes()
        h = read_header(blob, magic)
        forged = Header(magic, h.version, KdfParams(ops, mem), h.salt, h.generation,
                        h.wrapped).pack() + blob[HEADER_SIZE:]
        path.write_bytes(forged)
    with pytest.raises(KdfParamsError):
        Store.unlock(store.home, PASS)
    with pytest.raises(KdfParamsError):
        wallet.restore(tmp_path / "b.keten", BACKUP_PASS)
    assert derived == []


# ---------------------------------------------------------------------------- 26: crashes
def child_env() -> dict[str, str]:
    return {**os.environ, "KETEN_CHILD_PASSPHRASE": PASS}


def run_append_round(home: Path, rng: random.Random) -> list[int]:
    """Start an appending child, kill -9 it at a random moment; the numbers it confirmed."""
    with subprocess.Popen([sys.executable, str(CHILD), "append", str(home)], cwd=REPO,
                          env=child_env(), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        lines: list[bytes] = []
        if rng.random() < 0.2:  # sometimes during start-up (imports, Argon2id, first load)
            time.sleep(rng.uniform(0, 0.4))
        else:  # mostly mid-stream, after some confirmed saves
            for _ in range(rng.randint(1, 15)):
                line = proc.stdout.readline()
                if not line:
                    break
                lines.append(line)
            time.sleep(rng.uniform(0, 0.005))
        proc.send_signal(signal.SIGKILL)
        lines += proc.stdout.read().splitlines(keepends=True)
        err = proc.stderr.read().decode(errors="replace")
        assert proc.wait() == -signal.SIGKILL, f"child died on its own:\n{err}"
    # a cut-off line was never a confirmation
    return [int(x.split()[1]) for x in lines if x.startswith(b"confirmed ") and x.endswith(b"\n")]


def verify_appended(home: Path, confirmed: list[int]) -> int:
    """The wallet opens and holds credentials 0..n-1 exactly, n > every confirmed number."""
    store = Store.unlock(home, PASS)
    db = store.read()
    creds = db.execute("SELECT * FROM credentials ORDER BY id").fetchall()
    count = len(creds)
    assert creds == [credential_row(n) for n in range(count)]
    copies = db.execute("SELECT id, credential_id, token, holder_key FROM copies "
                        "WHERE used_at IS NULL ORDER BY id").fetchall()
    assert copies == [copy_row(n) for n in range(count)]
    assert not confirmed or max(confirmed) < count, f"confirmed {max(confirmed)}, have {count}"
    store.close()
    return count


@pytest.mark.slow
def test_26_kill_9_during_saves_loses_nothing_confirmed(tmp_path: Path) -> None:
    home = tmp_path / "w"
    Store.create(home, PASS, FAST_KDF)
    seed = random.randrange(1 << 32)
    rng = random.Random(seed)
    count, total = 0, 0
    for round_no in range(10):
        confirmed = run_append_round(home, rng)
        if confirmed:  # the child went on exactly where the stored wallet ended
            assert confirmed == list(range(count, count + len(confirmed))), (seed, round_no)
        new_count = verify_appended(home, confirmed)
        assert new_count >= count, (seed, round_no)
        count, total = new_count, total + len(confirmed)
    assert total > 10, f"seed {seed}: too few confirmed saves to mean anything"
    # A kill between writing and renaming may leave a sealed temporary file; never anything
    # in clear, and never under another name.
    for path in home.iterdir():
        assert path.name in (WALLET_FILE, LOCK_FILE) or (
            path.name.startswith(f".{WALLET_FILE}.") and path.name.endswith(".tmp")), path
    no_plaintext(home)


def crash_at(monkeypatch: pytest.MonkeyPatch, step: str, code: int) -> None:
    """Make one step of the next save (write_atomic) fail with ``OSError(code)``."""

    def fail(*args: object, **kw: object) -> Any:
        raise OSError(code, os.strerror(code))

    real_open, real_fsync = os.open, os.fsync
    fsyncs: list[int] = []

    def fsync(fd: int) -> None:  # the first fsync is the file's, the second the directory's
        fsyncs.append(fd)
        if len(fsyncs) == {"fsync-file": 1, "fsync-dir": 2}[step]:
            fail()
        real_fsync(fd)

    if step == "open-temp":
        monkeypatch.setattr(os, "open", lambda p, *a, **k: fail() if str(p).endswith(".tmp")
                            else real_open(p, *a, **k))
    elif step == "write":
        monkeypatch.setattr(os, "fdopen", half_writing_fdopen(fail))  # disk full
    elif step == "rename":  # between the write and the rename
        monkeypatch.setattr(os, "replace", fail)
    else:
        monkeypatch.setattr(os, "fsync", fsync)


@pytest.mark.parametrize("code", [errno.EIO, errno.ENOSPC])
@pytest.mark.parametrize("step", ["open-temp", "write", "fsync-file", "rename", "fsync-dir"])
def test_26_io_error_at_every_step_of_a_save(step: str, code: int, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "w"
    store = populated(home)
    old = export_tables(store.read())
    old_file = store.path.read_bytes()
    crash_at(monkeypatch, step, code)
    with pytest.raises(OSError) as err:
        add_credential(store, "cred-2", {"given_name": CANARY}, [bytes(32)])
    assert err.value.errno == code
    monkeypatch.undo()
    on_disk = export_tables(Store.unlock(home, PASS).read())
    if step == "fsync-dir":  # the rename happened: the new state, whole, on disk and in memory
        assert [c["id"] for c in on_disk["credentials"]] == ["cred-1", "cred-2"]
    else:
        assert store.path.read_bytes() == old_file and on_disk == old
    assert export_tables(store._db) == on_disk  # memory follows the disk
    only_wallet_files(home)  # no temporary file left
    add_credential(store, "cred-3", {"given_name": "next"}, [bytes(32)])
    after = export_tables(Store.unlock(home, PASS).read())
    assert after["credentials"][-1]["id"] == "cred-3"
    assert len(after["credentials"]) == len(on_disk["credentials"]) + 1


# ---------------------------------------------------------------------------- 30: concurrency
def test_30_concurrent_writers_lose_no_update(tmp_path: Path) -> None:
    workers, k = 3, 20
    home = tmp_path / "w"
    Store.create(home, PASS, FAST_KDF)
    procs = [subprocess.Popen([sys.executable, str(CHILD), "count", str(home), str(w), str(k)],
                              cwd=REPO, env=child_env(), stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for w in range(workers)]
    try:
        for proc in procs:  # everyone unlocked before anyone writes
            assert proc.stdout is not None and proc.stdout.readline() == b"ready\n"
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write(b"go\n")
            proc.stdin.flush()
        outputs = [proc.communicate(timeout=60) for proc in procs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    seen: list[list[int]] = []
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err.decode(errors="replace")
        lines = out.decode().splitlines()
        assert lines[-1] == "done"
        seen.append([int(x.split()[1]) for x in lines[:-1]])
    total = workers * k
    # every read-modify-write saw the previous one: the counter took each value once
    assert sorted(v for vs in seen for v in vs) == list(range(1, total + 1))
    db = Store.unlock(home, PASS).read()
    stored = dict(db.execute("SELECT key, value FROM settings").fetchall())
    assert stored.pop("counter") == str(total)
    assert stored == {f"w{w}:{i:04d}": str(seen[w][i]) for w in range(workers) for i in range(k)}
    # the writers really overlapped (otherwise the lock was never tested)
    interleaved = sum(1 for vs in seen if vs[-1] - vs[0] >= k)
    assert interleaved >= 2, seen


# ---------------------------------------------------------------------------- 29: backups
TEXT = st.text(st.characters(codec="utf-8"), max_size=12)
INT64 = st.integers(-(2**63), 2**63 - 1)
MAYBE_INT = st.none() | INT64
JSON = st.recursive(
    st.none() | st.booleans() | INT64 | st.floats(allow_nan=False, allow_infinity=False) | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8)


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


@st.composite
def wallet_contents(draw: st.DrawFn) -> dict[str, list[tuple[Any, ...]]]:
    """Rows for every table, as Store.transaction() would be given them."""
    cred_ids = draw(st.lists(TEXT, max_size=4, unique=True))
    credentials = [(cid, draw(INT64), draw(TEXT), draw(TEXT), draw(TEXT), draw(TEXT),
                    dumps(draw(JSON)), dumps(draw(JSON)), draw(TEXT), draw(st.integers(0, 1)),
                    draw(INT64), draw(MAYBE_INT), draw(st.sampled_from(
                        ["valid", "suspended", "revoked", "unknown"])), draw(MAYBE_INT))
                   for cid in cred_ids]
    copies: list[tuple[Any, ...]] = []
    if cred_ids:
        copies = draw(st.lists(st.tuples(
            TEXT, st.sampled_from(cred_ids), TEXT, st.binary(min_size=32, max_size=32),
            MAYBE_INT, st.none() | TEXT), max_size=6, unique_by=lambda r: r[0]))
    history = draw(st.lists(st.tuples(
        TEXT, INT64, TEXT, TEXT, JSON.map(dumps), st.sampled_from(
            ["accepted", "refused", "declined"]), JSON.map(dumps), JSON.map(dumps),
        JSON.map(dumps), st.none() | JSON.map(dumps), st.none() | TEXT),
        max_size=3, unique_by=lambda r: r[0]))
    setting_rows = list(draw(st.dictionaries(TEXT, TEXT, max_size=4)).items())
    return {"credentials": credentials, "copies": copies, "history": history,
            "settings": setting_rows}


def fill(store: Store, contents: dict[str, list[tuple[Any, ...]]]) -> None:
    with store.transaction() as db:
        for table, rows in contents.items():
            for row in rows:
                db.execute(f"INSERT INTO {table} VALUES ({', '.join('?' * len(row))})", row)


@pytest.mark.slow
@settings(max_examples=25, deadline=None)
@given(wallet_contents())
def test_29_backup_then_restore_is_an_exact_round_trip(
        contents: dict[str, list[tuple[Any, ...]]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        old = Wallet.create(root / "old", PASS, kdf=FAST_KDF)
        fill(old.store, contents)
        generation = old.backup(root / "backup.keten", BACKUP_PASS, kdf=FAST_KDF)
        assert generation == old.store.generation
        new = Wallet.create(root / "new", "another passphrase", kdf=FAST_KDF)
        report = new.restore(root / "backup.keten", BACKUP_PASS)
        want = export_tables(old.store.read())
        assert export_tables(new.store.read()) == want
        assert report.exact and not report.older
        assert report.added == {t: len(want[t]) for t in TABLES}
        # and on disk (opened with the unlocked keys: one Argon2id run fewer per example)
        image = open_sealed((root / "new" / WALLET_FILE).read_bytes(), WALLET_MAGIC,
                            keys=new.store._keys)[2]
        reopened = sqlite3.connect(":memory:")
        reopened.deserialize(image)
        assert export_tables(reopened) == want
        reopened.close()
        assert len(new.cards()) == len(contents["credentials"])


def test_29_older_backup_never_replaces_newer_data(tmp_path: Path) -> None:
    wallet = Wallet(populated(tmp_path / "w"))
    add_credential(wallet.store, "cred-a", {"x": 1}, [b"\x01" * 32, b"\x02" * 32])
    old_generation = wallet.backup(tmp_path / "old.keten", BACKUP_PASS, kdf=FAST_KDF)
    add_credential(wallet.store, "cred-b", {"x": 2}, [b"\x03" * 32])
    mark_used(wallet.store, "cred-a-0")
    assert wallet.store.generation > old_generation
    before = export_tables(wallet.store.read())

    report = wallet.restore(tmp_path / "old.keten", BACKUP_PASS)
    assert report.older and not report.exact
    assert report.added == dict.fromkeys(TABLES, 0) and report.marked_used == 0
    assert export_tables(wallet.store.read()) == before
    assert export_tables(Store.unlock(wallet.store.home, PASS).read()) == before
    used = {c.id: c.used_for for c in wallet.copies("cred-a")}
    assert used == {"cred-a-0": "https://bib.example", "cred-a-1": None}
    assert {c.id for c in wallet.cards()} == {"cred-1", "cred-a", "cred-b"}


def test_29_copy_used_in_the_backup_stays_used(tmp_path: Path) -> None:
    wallet = Wallet(populated(tmp_path / "w"))
    add_credential(wallet.store, "cred-a", {"x": 1}, [b"\x01" * 32, b"\x02" * 32])
    mark_used(wallet.store, "cred-a-1", "https://shop.example")
    wallet.backup(tmp_path / "b.keten", BACKUP_PASS, kdf=FAST_KDF)
    with wallet.store.transaction() as db:  # a wallet that lost that fact (older device)
        db.execute("UPDATE copies SET used_at = NULL, used_for = NULL")
    report = wallet.restore(tmp_path / "b.keten", BACKUP_PASS)
    assert report.marked_used == 1
    assert {c.id: c.used_for for c in wallet.copies("cred-a")} == {
        "cred-a-0": None, "cred-a-1": "https://shop.example"}


def test_29_backup_of_another_wallet_is_merged(tmp_path: Path) -> None:
    first = Wallet(populated(tmp_path / "first"))
    first.backup(tmp_path / "b.keten", BACKUP_PASS, kdf=FAST_KDF)
    second = Wallet.create(tmp_path / "second", PASS, kdf=FAST_KDF)
    add_credential(second.store, "cred-2", {"x": 2}, [b"\x05" * 32])
    wallet_id = second.store.wallet_id()
    report = second.restore(tmp_path / "b.keten", BACKUP_PASS)
    assert not report.exact and not report.older
    assert report.added["credentials"] == 1 and report.added["copies"] == 1
    assert second.store.wallet_id() == wallet_id
    assert {c.id for c in second.cards()} == {"cred-1", "cred-2"}


def sealed_backup(path: Path, obj: Any) -> None:
    payload = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
    write_atomic(path, seal(BACKUP_MAGIC, Keys.new(BACKUP_PASS, FAST_KDF), 1, payload), secret=True)


def empty_tables() -> dict[str, list[Any]]:
    return {t: [] for t in TABLES}


@pytest.mark.slow
def test_29_unknown_backup_format_refused(tmp_path: Path) -> None:
    wallet = Wallet(populated(tmp_path / "w"))
    before = wallet.store.path.read_bytes()
    path = tmp_path / "b.keten"
    sealed_backup(path, {"format": "keten-wallet-backup/9", "wallet_id": "x",
                         "tables": empty_tables()})
    with pytest.raises(WalletFormatError) as err:
        wallet.restore(path, BACKUP_PASS)
    assert err.value.code == "wallet.unsupported_version"
    assert "keten-wallet-backup/9" in err.value.detail
    payloads: list[Any] = [
        [], "keten-wallet-backup/1", 1, None, {"tables": empty_tables()},
        {"format": BACKUP_FORMAT, "tables": {"meta": []}},
        {"format": BACKUP_FORMAT, "tables": {**empty_tables(), "copies": [1]}}]
    for payload in payloads:
        sealed_backup(path, payload)
        with pytest.raises(WalletFormatError):
            wallet.restore(path, BACKUP_PASS)
    sealed_backup(path, b"\xff not json")
    with pytest.raises(UnlockError):
        wallet.restore(path, BACKUP_PASS)
    assert wallet.store.path.read_bytes() == before


@pytest.mark.parametrize("row", [
    {"id": "k", "nope": 1},
    {"key": "a", "value) SELECT ?, ? --": "b"},
    {"id": "cred-1-0", "credential_id": "cred-1", "token": "t", "holder_key) SELECT ?, ?, ?, "
     "? ON CONFLICT(id) DO UPDATE SET used_at = NULL, used_for = NULL --": "x"},
], ids=["unknown-column", "spliced-select", "spliced-upsert"])
def test_29_backup_rows_that_do_not_fit_are_refused(tmp_path: Path, row: dict[str, Any]) -> None:
    """Row keys come from the backup file: they must be columns, never pieces of SQL."""
    wallet = Wallet(populated(tmp_path / "w"))
    mark_used(wallet.store, "cred-1-0")
    before, before_file = export_tables(wallet.store.read()), wallet.store.path.read_bytes()
    tables = empty_tables()
    tables["copies" if "id" in row else "settings"] = [row]
    sealed_backup(tmp_path / "b.keten", {"format": BACKUP_FORMAT, "wallet_id": "x",
                                         "tables": tables})
    with pytest.raises(WalletFormatError):
        wallet.restore(tmp_path / "b.keten", BACKUP_PASS)
    assert export_tables(wallet.store.read()) == before
    assert wallet.store.path.read_bytes() == before_file


def test_29_damaged_or_foreign_backup_refused(tmp_path: Path) -> None:
    wallet = Wallet(populated(tmp_path / "w"))
    before = wallet.store.path.read_bytes()
    path = tmp_path / "b.keten"
    wallet.backup(path, BACKUP_PASS, kdf=FAST_KDF)
    good = path.read_bytes()
    errors = []
    for pos in (0, 30, 45, HEADER_SIZE - 1, HEADER_SIZE + 5, len(good) // 2, len(good) - 1):
        flipped = bytearray(good)
        flipped[pos] ^= 0x10
        path.write_bytes(bytes(flipped))
        with pytest.raises(UnlockError) as err:
            wallet.restore(path, BACKUP_PASS)
        errors.append(err.value)
    path.write_bytes(good)
    with pytest.raises(UnlockError) as err:
        wallet.restore(path, WRONG_PASS)
    errors.append(err.value)
    with pytest.raises(UnlockError) as err:  # the wallet file itself, offered as a backup
        wallet.restore(wallet.store.path, PASS)
    errors.append(err.value)
    assert read_backup(path, BACKUP_PASS).wallet_id == wallet.store.wallet_id()
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / WALLET_FILE).write_bytes(good)
    with pytest.raises(UnlockError) as err:  # and a backup put where the wallet should be
        Store.unlock(tmp_path / "x", BACKUP_PASS)
    errors.append(err.value)
    assert {(type(e), e.code, e.detail) for e in errors} == {
        (UnlockError, "wallet.unlock_failed", UnlockError().detail)}
    assert wallet.store.path.read_bytes() == before


# ---------------------------------------------------------------------------- secrets
def encodings(secret: bytes) -> list[str]:
    return [repr(secret), secret.hex(), secret.hex().upper(), base64.b64encode(secret).decode(),
            base64.urlsafe_b64encode(secret).decode().rstrip("=")]


@pytest.mark.slow
def test_nothing_secret_in_logs_errors_or_reprs(tmp_path: Path,
                                                caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    claim = "Korenmarkt 3, 9000 Gent"
    token = "eyJhbGciOiJFZERTQSJ9.e30.sig~" + claim
    store = Store.create(tmp_path / "w", PASS, FAST_KDF)
    add_credential(store, "cred-1", {"address": claim, "name": CANARY}, [SEED], token=token)
    wallet = Wallet.unlock(tmp_path / "w", PASS)
    raised: list[BaseException] = []
    for attempt in (lambda: Wallet.unlock(tmp_path / "w", WRONG_PASS),
                    lambda: Store.create(tmp_path / "w", PASS, FAST_KDF)):
        try:
            attempt()
        except Exception as exc:  # noqa: BLE001 - every error is inspected below
            raised.append(exc)
    path = tmp_path / "b.keten"
    wallet.backup(path, BACKUP_PASS, kdf=FAST_KDF)
    restored = Wallet.create(tmp_path / "r", OTHER_PASS, kdf=FAST_KDF)
    report = restored.restore(path, BACKUP_PASS)
    flipped = bytearray(path.read_bytes())
    flipped[-1] ^= 1
    (tmp_path / "bad.keten").write_bytes(bytes(flipped))
    for restore in (lambda: restored.restore(path, WRONG_PASS),
                    lambda: restored.restore(tmp_path / "bad.keten", BACKUP_PASS)):
        try:
            restore()
        except Exception as exc:  # noqa: BLE001
            raised.append(exc)
    assert len(raised) == 4
    backup_keys = open_sealed(path.read_bytes(), BACKUP_MAGIC, BACKUP_PASS)[1]
    [card] = wallet.cards()
    [copy] = wallet.copies("cred-1")
    assert card.claims["address"] == claim and copy.holder_key.seed == SEED  # the real things

    shown = [caplog.text, repr(wallet), repr(wallet.store), repr(restored.store),
             repr(wallet.store._keys), str(wallet.store._keys), repr(backup_keys),
             repr(card), str(card), repr(copy), repr(copy.holder_key), repr(report),
             repr(read_backup(path, BACKUP_PASS))]
    for error in raised:
        shown += [str(error), repr(error), "".join(traceback.format_exception(error))]
        if isinstance(error, UnlockError):
            shown.append(json.dumps(error.to_json(), ensure_ascii=False))
    secrets = [PASS, WRONG_PASS, BACKUP_PASS, OTHER_PASS, claim, CANARY, token,
               *encodings(wallet.store._keys.data_key), *encodings(backup_keys.data_key),
               *encodings(restored.store._keys.data_key), *encodings(SEED)]
    for text in shown:
        for secret in secrets:
            assert secret not in text, f"{secret!r} shown in {text[:200]!r}"
    no_plaintext(tmp_path / "w")
    no_plaintext(tmp_path / "r")
    assert CANARY.encode() not in path.read_bytes()

