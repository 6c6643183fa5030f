"""The sealed file format (ssiwallet/wallet/sealed.py).

Round trips with the passphrase and with unlocked keys, a fresh nonce on every seal, the
Argon2id floor and ceiling enforced *before* any derivation (wherever the parameters come
from: the caller or a file's header), unknown versions, foreign and truncated files, and
the atomic replacement of a file.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import nacl.pwhash
import nacl.secret
import pytest

from ssiwallet.errors import KdfParamsError, UnlockError, WalletFormatError
from ssiwallet.infra.files import write_atomic
from ssiwallet.wallet.sealed import (
    BACKUP_MAGIC,
    FAST_KDF,
    HEADER_SIZE,
    VERSION,
    WALLET_MAGIC,
    Header,
    KdfParams,
    Keys,
    open_sealed,
    read_header,
    seal,
)
from ssiwallet.wallet.store import Store
from tests.unit.wallet.faults import half_writing_fdopen

PASS = "correct horse battery staple"
NONCE = nacl.secret.SecretBox.NONCE_SIZE
GIB = 1 << 30

OUT_OF_BOUNDS = [
    pytest.param(KdfParams.FLOOR_OPS - 1, KdfParams.FLOOR_MEM, id="ops-below-floor"),
    pytest.param(KdfParams.CEIL_OPS + 1, KdfParams.FLOOR_MEM, id="ops-above-ceiling"),
    pytest.param(KdfParams.FLOOR_OPS, KdfParams.FLOOR_MEM - 1, id="mem-below-floor"),
    pytest.param(KdfParams.FLOOR_OPS, KdfParams.CEIL_MEM + 1, id="mem-above-ceiling"),
    pytest.param(KdfParams.FLOOR_OPS, 64 * GIB, id="mem-64GiB"),
    pytest.param(0, 0, id="zero"),
    pytest.param(2**32 - 1, 2**64 - 1, id="max-fields"),
]


@pytest.fixture
def no_derivation(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[int, int]]]:
    """Argon2id must not run: any call is recorded and fails the test."""
    calls: list[tuple[int, int]] = []

    def forbidden(*args: object, opslimit: int, memlimit: int, **kw: object) -> bytes:
        calls.append((opslimit, memlimit))
        pytest.fail(f"Argon2id ran with opslimit {opslimit}, memlimit {memlimit}")

    monkeypatch.setattr(nacl.pwhash.argon2id, "kdf", forbidden)
    yield calls
    assert calls == []


def sealed_blob(payload: bytes = b"payload", magic: bytes = WALLET_MAGIC,
                generation: int = 7) -> tuple[Keys, bytes]:
    keys = Keys.new(PASS, FAST_KDF)
    return keys, seal(magic, keys, generation, payload)


def with_header(blob: bytes, *, magic: bytes = WALLET_MAGIC, version: int = VERSION,
                kdf: KdfParams | None = None) -> bytes:
    """``blob`` with its clear header rewritten (the body is left as it was)."""
    head = read_header(blob, blob[:8])
    forged = Header(magic, version, kdf or head.kdf, head.salt, head.generation, head.wrapped)
    return forged.pack() + blob[HEADER_SIZE:]


# ---------------------------------------------------------------------------- round trips
@pytest.mark.parametrize("payload", [b"", b"x", bytes(range(256)) * 300])
def test_round_trip_with_passphrase_and_with_keys(payload: bytes) -> None:
    keys, blob = sealed_blob(payload, generation=42)
    header, opened, plain = open_sealed(blob, WALLET_MAGIC, PASS)
    assert plain == payload
    assert (header.magic, header.version, header.generation) == (WALLET_MAGIC, VERSION, 42)
    assert header.kdf == FAST_KDF and header.salt == keys.salt
    assert opened == keys  # the same data key came out of the wrapped one
    header2, again, plain2 = open_sealed(blob, WALLET_MAGIC, keys=keys)
    assert (header2, again, plain2) == (header, keys, payload)


def test_header_layout_is_as_documented() -> None:
    keys, blob = sealed_blob(b"abc", generation=3)
    assert HEADER_SIZE == 8 + 2 + 4 + 8 + 16 + 8 + NONCE + 32 + 16
    assert blob[:8] == WALLET_MAGIC
    assert int.from_bytes(blob[8:10], "big") == VERSION
    assert int.from_bytes(blob[10:14], "big") == FAST_KDF.opslimit
    assert int.from_bytes(blob[14:22], "big") == FAST_KDF.memlimit
    assert blob[22:38] == keys.salt
    assert int.from_bytes(blob[38:46], "big") == 3
    assert blob[46:HEADER_SIZE] == keys.wrapped
    # body: nonce + MAC + (sha256(header) + payload), nothing else
    assert len(blob) == HEADER_SIZE + NONCE + 16 + 32 + 3


def test_wrong_passphrase_and_keys_of_another_file() -> None:
    keys, blob = sealed_blob()
    with pytest.raises(UnlockError) as err:
        open_sealed(blob, WALLET_MAGIC, PASS + " ")
    assert type(err.value) is UnlockError
    other = Keys.new(PASS, FAST_KDF)
    with pytest.raises(UnlockError):  # keys that do not match and no passphrase to fall back on
        open_sealed(blob, WALLET_MAGIC, keys=other)
    with pytest.raises(UnlockError):
        open_sealed(blob, WALLET_MAGIC)


def test_magic_separates_wallets_from_backups() -> None:
    _, wallet = sealed_blob(magic=WALLET_MAGIC)
    _, backup = sealed_blob(magic=BACKUP_MAGIC)
    for blob, wrong in ((wallet, BACKUP_MAGIC), (backup, WALLET_MAGIC)):
        with pytest.raises(UnlockError) as err:
            open_sealed(blob, wrong, PASS)
        assert type(err.value) is UnlockError
    # a file claiming the other magic is not authenticated under it either
    forged = with_header(wallet, magic=BACKUP_MAGIC)
    with pytest.raises(UnlockError):
        open_sealed(forged, BACKUP_MAGIC, PASS)


# ---------------------------------------------------------------------------- nonces
def test_every_seal_draws_a_fresh_nonce() -> None:
    keys = Keys.new(PASS, FAST_KDF)
    blobs = [seal(WALLET_MAGIC, keys, 1, b"same payload") for _ in range(200)]
    nonces = {b[HEADER_SIZE:HEADER_SIZE + NONCE] for b in blobs}
    assert len(nonces) == len(blobs)
    assert len(set(blobs)) == len(blobs)


def test_every_save_of_a_store_draws_a_fresh_nonce(tmp_path: Path) -> None:
    store = Store.create(tmp_path / "w", PASS, FAST_KDF)
    seen: list[bytes] = [store.path.read_bytes()]
    for i in range(60):
        with store.transaction() as db:
            if i % 2:  # half the saves change nothing: the image is then byte-identical
                db.execute("INSERT INTO settings VALUES (?, ?)", (f"k{i}", "v"))
        seen.append(store.path.read_bytes())
    nonces = [b[HEADER_SIZE:HEADER_SIZE + NONCE] for b in seen]
    assert len(set(nonces)) == len(nonces)
    assert len(set(seen)) == len(seen)
    # the wrapped data key is sealed once, when the wallet is created, and kept
    assert {b[HEADER_SIZE - NONCE - 48:HEADER_SIZE] for b in seen} == {store._keys.wrapped}
    assert [read_header(b, WALLET_MAGIC).generation for b in seen] == list(range(1, 62))


def test_keys_new_draws_fresh_salt_and_data_key() -> None:
    many = [Keys.new(PASS, FAST_KDF) for _ in range(3)]
    assert len({k.salt for k in many}) == 3
    assert len({k.data_key for k in many}) == 3
    assert len({k.wrapped[:NONCE] for k in many}) == 3


# ---------------------------------------------------------------------------- KDF bounds
def test_bounds_themselves_are_accepted() -> None:
    floor = KdfParams(KdfParams.FLOOR_OPS, KdfParams.FLOOR_MEM)
    ceiling = KdfParams(KdfParams.CEIL_OPS, KdfParams.CEIL_MEM)
    assert floor.check() is floor and ceiling.check() is ceiling
    assert FAST_KDF == floor
    assert KdfParams.FLOOR_MEM >= 64 << 20 and KdfParams.CEIL_MEM <= GIB


@pytest.mark.parametrize(("ops", "mem"), OUT_OF_BOUNDS)
def test_out_of_bounds_refused_by_check_before_derivation(
        ops: int, mem: int, no_derivation: list[tuple[int, int]], tmp_path: Path) -> None:
    params = KdfParams(ops, mem)
    with pytest.raises(KdfParamsError) as err:
        params.check()
    assert err.value.code == "wallet.kdf_out_of_bounds"
    assert isinstance(err.value, UnlockError)
    with pytest.raises(KdfParamsError):
        params.derive(PASS, b"\x00" * 16)
    with pytest.raises(KdfParamsError):
        Keys.new(PASS, params)
    with pytest.raises(KdfParamsError):
        Store.create(tmp_path / "w", PASS, params)
    assert not Store.exists(tmp_path / "w")


@pytest.mark.parametrize(("ops", "mem"), OUT_OF_BOUNDS)
def test_out_of_bounds_in_a_file_header_refused_before_derivation(
        ops: int, mem: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store.create(tmp_path / "w", PASS, FAST_KDF)
    blob = store.path.read_bytes()
    forged = with_header(blob, kdf=KdfParams(ops, mem))
    assert int.from_bytes(forged[10:14], "big") == ops
    assert int.from_bytes(forged[14:22], "big") == mem
    store.path.write_bytes(forged)
    calls: list[object] = []
    monkeypatch.setattr(nacl.pwhash.argon2id, "kdf", lambda *a, **k: calls.append(k))
    with pytest.raises(KdfParamsError):
        read_header(forged, WALLET_MAGIC)
    with pytest.raises(KdfParamsError):
        open_sealed(forged, WALLET_MAGIC, PASS)
    with pytest.raises(KdfParamsError):
        open_sealed(forged, WALLET_MAGIC, keys=store._keys)
    with pytest.raises(KdfParamsError) as err:
        Store.unlock(store.home, PASS)
    assert err.value.code == "wallet.kdf_out_of_bounds"
    assert calls == []
    assert store.path.read_bytes() == forged


# ---------------------------------------------------------------------------- versions
@pytest.mark.parametrize("version", [0, VERSION + 1, 0xFFFF])
def test_unknown_version_refused(version: int, no_derivation: list[tuple[int, int]]) -> None:
    # Argon2id is already forbidden here, so the file is sealed under made-up keys.
    keys = Keys(FAST_KDF, b"\x01" * 16, b"\x02" * (NONCE + 48), b"\x03" * 32)
    blob = seal(WALLET_MAGIC, keys, 1, b"payload")
    forged = with_header(blob, version=version)
    with pytest.raises(WalletFormatError) as err:
        read_header(forged, WALLET_MAGIC)
    assert err.value.code == "wallet.unsupported_version"
    with pytest.raises(WalletFormatError):
        open_sealed(forged, WALLET_MAGIC, PASS)
    with pytest.raises(WalletFormatError):
        open_sealed(forged, WALLET_MAGIC, keys=keys)


def test_unknown_version_refused_by_store(tmp_path: Path) -> None:
    store = Store.create(tmp_path / "w", PASS, FAST_KDF)
    store.path.write_bytes(with_header(store.path.read_bytes(), version=VERSION + 1))
    with pytest.raises(WalletFormatError) as err:
        Store.unlock(store.home, PASS)
    assert "version 2" in err.value.detail


# ---------------------------------------------------------------------------- foreign files
def test_wrong_magic_truncated_and_empty_files(tmp_path: Path) -> None:
    store = Store.create(tmp_path / "w", PASS, FAST_KDF)
    good = store.path.read_bytes()
    cases = {
        "empty": b"",
        "one byte": good[:1],
        "magic only": good[:8],
        "header only": good[:HEADER_SIZE],
        "header + nonce + mac": good[:HEADER_SIZE + NONCE + 16],
        "one digest short": good[:HEADER_SIZE + NONCE + 16 + 31],
        "last byte cut": good[:-1],
        "half": good[:len(good) // 2],
        "wrong magic": b"SQLite f" + good[8:],
        "backup magic": BACKUP_MAGIC + good[8:],
        "sqlite file": b"SQLite format 3\x00" + bytes(4080),
        "zeros": bytes(len(good)),
        "trailing byte": good + b"\x00",
    }
    for name, blob in cases.items():
        store.path.write_bytes(blob)
        with pytest.raises(UnlockError) as err:
            Store.unlock(store.home, PASS)
        assert type(err.value) is UnlockError, name
        assert err.value.code == "wallet.unlock_failed", name
        with pytest.raises(UnlockError):
            open_sealed(blob, WALLET_MAGIC, keys=store._keys)
    store.path.write_bytes(good)
    assert Store.unlock(store.home, PASS).wallet_id() == store.wallet_id()


# ---------------------------------------------------------------------------- atomic write
def test_write_atomic_replaces_whole_file_with_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"old" * 1000)
    os.chmod(path, 0o644)
    write_atomic(path, b"new", secret=True)
    assert path.read_bytes() == b"new"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.bin"]


@pytest.mark.parametrize("step", ["open", "write", "fsync", "replace"])
def test_write_atomic_failure_leaves_old_file_and_no_temp(
        step: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"old")

    def boom(*args: object, **kw: object) -> None:
        raise OSError(28, "No space left on device")

    if step == "open":
        real_open = os.open
        monkeypatch.setattr(os, "open", lambda p, *a: boom() if str(p).endswith(".tmp")
                            else real_open(p, *a))
    elif step == "write":
        monkeypatch.setattr(os, "fdopen", half_writing_fdopen(boom))
    else:
        monkeypatch.setattr(os, step, boom)
    with pytest.raises(OSError) as err:
        write_atomic(path, b"new content", secret=True)
    assert err.value.errno == 28
    monkeypatch.undo()
    assert path.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.bin"]
