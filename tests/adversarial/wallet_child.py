"""A wallet writer in a child process, for the crash and concurrency tests of
test_wallet_attacks (never collected; imported by the parent only for the row functions).

Run as ``python wallet_child.py MODE HOME [WORKER K]`` with the passphrase in the
environment variable ``KETEN_CHILD_PASSPHRASE``:

``append``
    Open the wallet, then commit transactions forever; each adds credential ``n`` (and one
    copy of it), where ``n`` is the number of credentials already stored. After each
    transaction *returns* it prints ``confirmed n`` (flushed): that line is the
    acknowledgement the parent holds the wallet to.

``count WORKER K``
    Open the wallet, print ``ready``, wait for one line on stdin, then run ``K``
    read-modify-write transactions: read the counter in ``settings``, add one, and insert
    a row ``w<WORKER>:<i>`` holding the value it wrote. Prints ``confirmed <value>`` after
    each and ``done`` at the end.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from ssiwallet.wallet.store import Store

CANARY = "KETEN-PLAINTEXT-CANARY-5813"
"""A claim value in every credential this child writes: it must never be readable on disk."""


def credential_row(n: int) -> tuple[Any, ...]:
    """Credential ``n`` as the child inserts it (deterministic; sizes vary across pages)."""
    claims = json.dumps({"n": n, "secret": CANARY, "pad": "p" * (n * 397 % 3000)})
    return (f"c{n:06d}", 1_700_000_000 + n, "urn:keten:test:kill9", "did:keten:issuer",
            "https://issuer.example", "test", claims, "{}", "Issuer", 1, 1_700_000_000,
            None, "valid", None)


def copy_row(n: int) -> tuple[Any, ...]:
    return (f"k{n:06d}", f"c{n:06d}", f"token-{n}", hashlib.sha256(b"seed %d" % n).digest())


def append(home: Path, passphrase: str) -> None:
    store = Store.unlock(home, passphrase)
    while True:
        with store.transaction() as db:
            n = db.execute("SELECT count(*) FROM credentials").fetchone()[0]
            db.execute("INSERT INTO credentials VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                       credential_row(n))
            db.execute("INSERT INTO copies VALUES (?,?,?,?,NULL,NULL)", copy_row(n))
        print(f"confirmed {n}", flush=True)


def count(home: Path, passphrase: str, worker: int, k: int) -> None:
    store = Store.unlock(home, passphrase)
    print("ready", flush=True)
    sys.stdin.readline()
    for i in range(k):
        with store.transaction() as db:
            row = db.execute("SELECT value FROM settings WHERE key = 'counter'").fetchone()
            value = 1 if row is None else int(row[0]) + 1
            time.sleep(0.002)  # widen the read-modify-write window
            db.execute("INSERT OR REPLACE INTO settings VALUES ('counter', ?)", (str(value),))
            db.execute("INSERT INTO settings VALUES (?, ?)", (f"w{worker}:{i:04d}", str(value)))
        print(f"confirmed {value}", flush=True)
        time.sleep(0.003)  # outside the lock: give the other writers their turn
    print("done", flush=True)


if __name__ == "__main__":
    mode, home_arg = sys.argv[1], Path(sys.argv[2])
    secret = os.environ["KETEN_CHILD_PASSPHRASE"]
    if mode == "append":
        append(home_arg, secret)
    elif mode == "count":
        count(home_arg, secret, int(sys.argv[3]), int(sys.argv[4]))
    else:
        raise SystemExit(f"unknown mode {mode!r}")
