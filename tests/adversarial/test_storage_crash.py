"""SECURITY-TESTS 17 at the storage level: crashes and a full disk during appends.

A child process appends blocks to a :class:`SqliteStorage` in a loop and prints each height
once ``append_block`` has returned (that print is the acknowledgement). The parent kills it
with SIGKILL at a random moment, reopens the file and checks that the log is a contiguous
prefix holding every acknowledged block byte for byte, and that the stored checkpoint names
exactly the stored tree size: never a leaf that is missing. The same file is reused across
rounds, so each round also recovers from the previous crash and keeps appending.

A full disk is simulated with ``PRAGMA max_page_count`` at every page budget an append can
hit: the append either completes or fails with ``registry.storage_full`` leaving no trace.
"""

from __future__ import annotations

import hashlib
import inspect
import random
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from registry.node.storage import SqliteStorage, StorageError, StoredBlock

REPO = Path(__file__).resolve().parents[2]
ROUNDS = 25


def make_block(height: int, first: int) -> tuple[StoredBlock, list[tuple[str, bytes]], str]:
    """The block the child writes at ``height``: deterministic, so the parent can recompute it.

    Sizes vary (0–3 txs, up to ~3 KB each) so appends cross page and WAL-frame boundaries.
    """
    n = height % 4
    datas = [b'{"i":%d,"pad":"%s"}' % (first + k, b"x" * ((first + k) * 397 % 3000))
             for k in range(n)]
    txs = [(hashlib.sha256(d).hexdigest(), d) for d in datas]
    header = b'{"height":%d,"first":%d,"n":%d}' % (height, first, n)
    block = StoredBlock(height, hashlib.sha256(header).hexdigest(), header, first, n)
    return block, txs, f"test\n{first + n}\n{block.hash}\n"


CHILD = (
    "import hashlib, sys\n"
    "from registry.node.storage import SqliteStorage, StoredBlock\n"
    + textwrap.dedent(inspect.getsource(make_block))
    + textwrap.dedent("""
        store = SqliteStorage(sys.argv[1])
        while True:
            top = store.height()
            height = 0 if top is None else top + 1
            store.append_block(*make_block(height, store.tx_count()))
            sys.stdout.write(f"{height}\\n")
            sys.stdout.flush()
    """)
)


def verify(db: Path, acked: list[int]) -> int:
    """Check the stored log is the exact prefix the child would write; return its height."""
    with SqliteStorage(db) as s:
        top, count, cp = s.height(), s.tx_count(), s.checkpoint()
        first = 0
        for h, block in enumerate(s.iter_blocks()):
            want, txs, want_cp = make_block(h, first)
            assert block == want
            assert [(t.index, t.id, t.height, t.data) for t in s.block_txs(h)] == [
                (first + k, i, h, d) for k, (i, d) in enumerate(txs)]
            first += block.tx_count
        assert [t.index for t in s.iter_txs()] == list(range(count))
        assert first == count
        if top is None:
            assert count == 0 and cp is None
            return -1
        assert cp == want_cp  # the checkpoint of the last stored block, nothing else
        assert int(cp.split("\n")[1]) == count  # it never points past the stored leaves
    assert not acked or max(acked) <= top, f"acknowledged {max(acked)} but only {top} stored"
    return top


def run_round(db: Path, rng: random.Random) -> list[int]:
    """Start a child, kill -9 it at a random moment, return the heights it acknowledged."""
    with subprocess.Popen([sys.executable, "-c", CHILD, str(db)], cwd=REPO,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        lines: list[bytes] = []
        if rng.random() < 0.2:  # sometimes during start-up (open, WAL recovery, schema)
            time.sleep(rng.uniform(0, 0.08))
        else:  # mostly mid-stream, after some acknowledged appends
            for _ in range(rng.randint(1, 40)):
                line = proc.stdout.readline()
                if not line:
                    break
                lines.append(line)
            time.sleep(rng.uniform(0, 0.004))
        proc.send_signal(signal.SIGKILL)
        lines += proc.stdout.read().splitlines(keepends=True)
        err = proc.stderr.read().decode(errors="replace")
        assert proc.wait() == -signal.SIGKILL, f"child died on its own:\n{err}"
    return [int(x) for x in lines if x.endswith(b"\n")]  # a cut-off line was never an ack


@pytest.mark.slow
def test_kill_9_during_appends_leaves_acknowledged_prefix(tmp_path: Path) -> None:
    seed = random.randrange(1 << 32)
    rng = random.Random(seed)
    db = tmp_path / "log.db"
    top, total_acked = -1, 0
    for round_no in range(ROUNDS):
        acked = run_round(db, rng)
        if acked:  # the child resumed exactly where the stored log ended
            assert acked == list(range(top + 1, top + 1 + len(acked))), (seed, round_no)
        new_top = verify(db, acked)
        assert new_top >= top, (seed, round_no)
        top, total_acked = new_top, total_acked + len(acked)
    assert total_acked > ROUNDS, f"seed {seed}: too few appends to mean anything"


def test_full_disk_at_every_page_budget(tmp_path: Path) -> None:
    base = tmp_path / "base.db"
    with SqliteStorage(base) as s:
        for h in range(12):
            s.append_block(*make_block(h, s.tx_count()))
        pages = s._conn.execute("PRAGMA page_count").fetchone()[0]
        next_first = s.tx_count()
    big = (StoredBlock(12, "ff" * 32, b"{}", next_first, 6),
           [(f"{k:064x}", bytes([k]) * 2500) for k in range(6)], f"test\n{next_first + 6}\n")
    outcomes = []
    for extra in range(12):
        db = tmp_path / f"full{extra}.db"
        shutil.copyfile(base, db)  # closed cleanly: everything is in the main file
        with SqliteStorage(db, max_pages=pages + extra) as s:
            try:
                s.append_block(*big)
                outcomes.append("ok")
            except StorageError as exc:
                assert exc.code == "registry.storage_full"
                outcomes.append("full")
        if outcomes[-1] == "full":
            assert verify(db, []) == 11  # exactly the previous content, checkpoint included
            with SqliteStorage(db) as s:  # space again: the same append now succeeds
                s.append_block(*big)
        with SqliteStorage(db) as s:
            assert s.height() == 12 and s.checkpoint() == big[2]
            assert [t.data for t in s.block_txs(12)] == [d for _, d in big[1]]
    assert outcomes[0] == "full" and outcomes[-1] == "ok", outcomes


@pytest.mark.parametrize("budget", [1, 3, 6])
def test_full_disk_on_first_open(tmp_path: Path, budget: int) -> None:
    """A disk too full to even create the schema: refused cleanly, usable once space is back."""
    db = tmp_path / "new.db"
    with pytest.raises(StorageError) as err:
        SqliteStorage(db, max_pages=budget)
    assert err.value.code == "registry.storage_full"
    with SqliteStorage(db) as s:
        s.append_block(*make_block(0, 0))
    assert verify(db, [0]) == 0
