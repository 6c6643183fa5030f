"""SECURITY-TESTS 39: an older copy of the wallet file put back (rollback).

The wallet keeps the highest generation it saw outside the sealed file (the user's state
directory, ``$SSIWALLET_STATE_HOME`` here) and in the running process. An older file is
refused on open with ``wallet.rollback`` and a sentence for people; a running wallet
never reloads it nor saves over it; the citizen can accept it on purpose, and then the
copies shown since stay used.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from ssiwallet.errors import WalletError
from ssiwallet.wallet.sealed import FAST_KDF, WALLET_MAGIC, read_header
from ssiwallet.wallet.store import Store
from ssiwallet.wallet.wallet import Wallet

REPO = Path(__file__).resolve().parents[2]
PASS = "Tulpen & 🚲 langs de Leie"
LIBRARY = "did:keten:6vBibGentReadingRm3"


@pytest.fixture(autouse=True)
def state_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    state = tmp_path / "state"
    monkeypatch.setenv("SSIWALLET_STATE_HOME", str(state))
    return state


def add_credential(wallet: Wallet, cid: str, copies: int = 3) -> None:
    with wallet.store.transaction() as db:
        db.execute("INSERT INTO credentials VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", (
            cid, 1_700_000_000, "urn:eudi:pid:1", "did:keten:town", "https://town.example",
            "pid", json.dumps({"age_over_18": True}), json.dumps({"claims": []}), "Town", 1,
            1_700_000_000, 1_900_000_000, "valid", None))
        db.executemany("INSERT INTO copies VALUES (?,?,?,?,NULL,NULL)", [
            (f"{cid}-{i}", cid, "eyJ.token~", bytes([i + 1]) * 32) for i in range(copies)])


def show_to(wallet: Wallet, copy_id: str, verifier: str = LIBRARY) -> None:
    """What a presentation leaves in the wallet: a used copy and a history entry."""
    with wallet.store.transaction() as db:
        db.execute("UPDATE copies SET used_at = 1700000100, used_for = ? WHERE id = ?",
                   (verifier, copy_id))
        db.execute("INSERT INTO history VALUES (?,?,?,?,?,?,?,?,?,?,?)", (
            f"h-{copy_id}", 1_700_000_100, verifier, "Bibliotheek Gent",
            json.dumps({"en": "Access"}), "accepted", json.dumps(["cred"]), json.dumps({}),
            json.dumps([]), None, None))


def generation(path: Path) -> int:
    return read_header(path.read_bytes(), WALLET_MAGIC).generation


def rolled_back(home: Path) -> tuple[Wallet, bytes, bytes]:
    """A wallet, its file before a presentation (put back) and after it."""
    wallet = Wallet.create(home, PASS, kdf=FAST_KDF)
    add_credential(wallet, "cred")
    old = wallet.store.path.read_bytes()
    show_to(wallet, "cred-0")
    wallet.set_setting("checkpoint", "newer")
    new = wallet.store.path.read_bytes()
    wallet.store.path.write_bytes(old)
    return wallet, old, new


def cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SSIWALLET_HOME": str(home), "SSIWALLET_PASSPHRASE": PASS}
    return subprocess.run([sys.executable, "-m", "ssiwallet.cli", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def test_39_older_file_put_back_is_refused_on_open(tmp_path: Path) -> None:
    home = tmp_path / "w"
    wallet, old, new = rolled_back(home)
    wallet.close()
    assert generation(home / "wallet.keten") < read_header(new, WALLET_MAGIC).generation
    with pytest.raises(WalletError) as err:
        Wallet.unlock(home, PASS)
    assert err.value.code == "wallet.rollback"
    assert "older than the last one this computer saw" in err.value.detail
    assert f"generation {generation(home / 'wallet.keten')}, expected at least " \
           f"{read_header(new, WALLET_MAGIC).generation}" in err.value.detail
    assert (home / "wallet.keten").read_bytes() == old  # nothing written


def test_39_another_process_refuses_it_too_text_and_json(tmp_path: Path) -> None:
    """The mark lives outside the process: a fresh ``ssiwallet`` refuses the old file."""
    home = tmp_path / "w"
    rolled_back(home)[0].close()
    words = cli(home, "list")
    assert words.returncode == 1
    assert "older than the last one this computer saw" in words.stderr
    assert "(wallet.rollback)" in words.stderr and "--accept-older" in words.stderr
    doc = cli(home, "--json", "history")
    assert doc.returncode == 1
    assert json.loads(doc.stdout)["error"] == "wallet.rollback"


def test_39_a_running_wallet_never_loads_nor_saves_over_an_older_file(tmp_path: Path) -> None:
    wallet, old, _ = rolled_back(tmp_path / "w")
    for action in (lambda: wallet.set_setting("x", "y"), wallet.history, wallet.cards):
        with pytest.raises(WalletError) as err:
            action()
        assert err.value.code == "wallet.rollback"
    assert wallet.store.path.read_bytes() == old


def test_39_accepting_the_older_file_on_purpose(tmp_path: Path, state_home: Path) -> None:
    home = tmp_path / "w"
    rolled_back(home)[0].close()
    accepted = Wallet.unlock(home, PASS, accept_rollback=True)
    assert accepted.history() == []  # the old file's content
    # the copy shown since the old file is never offered again as fresh
    copies = {c.id: c.used_at is not None for c in accepted.copies("cred")}
    assert copies == {"cred-0": True, "cred-1": False, "cred-2": False}
    note = json.loads(accepted.setting("rollback_accepted") or "{}")
    assert note["generation"] < note["expected"]
    accepted.close()
    again = Wallet.unlock(home, PASS)  # accepted once: opens normally afterwards
    again.set_setting("after", "1")
    assert cli(home, "list").returncode == 0
    marks = list(state_home.rglob("*.json"))
    assert marks and all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in marks)


def test_39_the_cli_accepts_it_with_accept_older(tmp_path: Path) -> None:
    home = tmp_path / "w"
    rolled_back(home)[0].close()
    done = cli(home, "--accept-older", "--json", "list")
    assert done.returncode == 0, done.stderr
    assert cli(home, "--json", "list").returncode == 0


def test_39_a_restored_backup_or_a_save_from_another_process_is_no_rollback(
        tmp_path: Path) -> None:
    home = tmp_path / "w"
    wallet = Wallet.create(home, PASS, kdf=FAST_KDF)
    add_credential(wallet, "cred")
    for n in range(5):
        wallet.set_setting("n", str(n))
    wallet.backup(tmp_path / "b.keten", PASS, kdf=FAST_KDF)
    other = Wallet.unlock(home, PASS)
    other.set_setting("from", "other")
    assert wallet.setting("from") == "other"  # a newer file is reloaded as before
    wallet.delete_all()
    fresh = Wallet.create(home, PASS, kdf=FAST_KDF)  # a new wallet, generation 1
    report = fresh.restore(tmp_path / "b.keten", PASS)  # takes the old wallet's id
    assert report.exact
    fresh.close()
    assert [c.id for c in Wallet.unlock(home, PASS).cards()] == ["cred"]


def test_39_a_wallet_replaced_under_a_running_one_is_still_refused(tmp_path: Path) -> None:
    """Another process's store sees the older file as well (not only the one that saved)."""
    home = tmp_path / "w"
    wallet = Wallet.create(home, PASS, kdf=FAST_KDF)
    add_credential(wallet, "cred")
    reader = Store.unlock(home, PASS)
    old = wallet.store.path.read_bytes()
    show_to(wallet, "cred-1")
    reader.read()
    wallet.store.path.write_bytes(old)
    with pytest.raises(WalletError) as err:
        reader.read()
    assert err.value.code == "wallet.rollback"


def test_39_the_same_wallet_restored_in_a_second_directory_is_its_own_file(
        tmp_path: Path) -> None:
    """A backup restored exactly into another directory keeps the wallet id; saving there
    many times never makes the first directory's file look older."""
    first = Wallet.create(tmp_path / "a", PASS, kdf=FAST_KDF)
    add_credential(first, "cred")
    first.backup(tmp_path / "b.keten", PASS, kdf=FAST_KDF)
    second = Wallet.create(tmp_path / "b", PASS, kdf=FAST_KDF)
    assert second.restore(tmp_path / "b.keten", PASS).exact
    for n in range(5):
        second.set_setting("n", str(n))
    assert second.store.wallet_id() == first.store.wallet_id()
    first.set_setting("still", "fine")
    first.close()
    assert Wallet.unlock(tmp_path / "a", PASS).setting("still") == "fine"
