"""The node's background scrub finds a row altered in its SQLite file before anyone reads it."""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
import time
from pathlib import Path

import pytest

from registry.author import Controller, genesis_block
from registry.ledger.tx import parse_tx
from registry.node.node import Node, NodeHaltedError
from registry.node.storage import SqliteStorage, StoredBlock
from ssiwallet.core.keys import Ed25519PrivateKey

CHAIN = "registry.keten.example/scrub"


def _node(path: Path) -> tuple[Node, Controller]:
    now = int(time.time())
    steward, key = Controller.new("Steward"), Ed25519PrivateKey.generate()
    header, txs = genesis_block(CHAIN, "Scrub", [steward], key, [], 0, now)
    storage = SqliteStorage(path)
    storage.append_block(StoredBlock(0, header.hash, header.data, 0, len(txs)),
                         [(hashlib.sha256(t).hexdigest(), t) for t in txs], "")
    return Node.open(storage, key), steward


@pytest.mark.parametrize("table", ["txs", "blocks"])
def test_scrub_halts_on_a_row_nobody_read(tmp_path: Path, table: str) -> None:
    node, steward = _node(tmp_path / "r.db")
    try:
        async def grow() -> None:
            task = asyncio.create_task(node.run_sequencer())
            issuer = Controller.new("Gemeente Gent")
            await node.submit(parse_tx(issuer.create_tx(CHAIN, int(time.time()), steward)))
            task.cancel()
        asyncio.run(grow())
        node.scrub()  # intact: nothing happens
        assert node.halted is None
        with sqlite3.connect(tmp_path / "r.db") as db:
            column, key = ("data", "idx") if table == "txs" else ("header", "height")
            (blob,) = db.execute(f"SELECT {column} FROM {table} WHERE {key} = 1").fetchone()
            flipped = bytearray(blob)
            flipped[len(flipped) // 2] ^= 1
            db.execute(f"UPDATE {table} SET {column} = ? WHERE {key} = 1", (bytes(flipped),))
        db.close()
        with pytest.raises(NodeHaltedError):
            node.scrub()
        assert node.halted is not None
        with pytest.raises(NodeHaltedError):
            _ = node.checkpoint
    finally:
        node.storage.close()
