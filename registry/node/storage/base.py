"""Durable storage of the registry log: blocks, their transactions and the latest checkpoint.

The node's pure core computes every hash and signature; storage only keeps bytes, durably and
atomically, and hands them back unchanged (the node re-hashes what it reads, so a tampered
file is caught there, not here). Every transaction is a leaf of one Merkle tree, so its
global index is part of what is stored: indexes and heights are contiguous from 0.

The one write that matters is :meth:`Storage.append_block`: the block, its transactions and
the checkpoint covering them go into a single SQLite transaction. A crash (or a full disk) at
any point therefore leaves either the old state or the new one, never a checkpoint naming a
leaf that is not stored, and the call returns only after the commit is on disk (WAL with
``synchronous=FULL`` fsyncs the log on every commit), so an acknowledged block survives.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from registry.errors import RegistryError

__all__ = ["SCHEMA_VERSION", "Storage", "StorageError", "StoredBlock", "StoredTx"]

SCHEMA_VERSION = 1
"""Kept in ``PRAGMA user_version``; a file with another version is refused, never migrated
implicitly, so an old binary cannot misread a newer layout."""

BATCH = 512
"""Rows fetched per query by the streaming iterators: bounded memory, and no cursor (hence
no read transaction pinning the WAL) is held open while the caller works between batches."""


class StorageError(RegistryError):
    """Storage failed or refused a write; the store is unchanged by the failed call.

    Raised with a more specific ``code`` where the caller can act on the reason:
    ``registry.storage_full`` (disk full or I/O error), ``registry.storage_conflict`` (the
    block does not extend the stored chain, or reuses a tx id / block hash),
    ``registry.storage_version`` (unknown schema) and ``registry.storage_corrupt`` (not a
    SQLite file, or the stored log is not a contiguous prefix).
    """

    code = "registry.storage_error"


@dataclass(frozen=True, slots=True)
class StoredBlock:
    """One block as stored: the caller's hash and header bytes, and where its txs sit."""

    height: int
    hash: str
    header: bytes
    first_index: int
    tx_count: int


@dataclass(frozen=True, slots=True)
class StoredTx:
    """One transaction as stored; ``index`` is its leaf index in the log's Merkle tree."""

    index: int
    id: str
    height: int
    data: bytes


class Storage(Protocol):
    """The narrow interface the node uses.

    ``append_block`` stores, atomically, the block, its transactions (ids and bytes, at global
    indexes ``first_index`` onwards) and the latest checkpoint note; the block must extend the
    chain exactly (next height, ``first_index == tx_count()``, ``tx_count == len(txs)``,
    fresh tx ids and block hash) or nothing is written and ``registry.storage_conflict`` is
    raised. It returns only once the write is durable. ``set_checkpoint`` replaces the note
    (witness cosignatures added, re-signed when idle). Readers return the stored bytes
    unchanged; the iterators stream in order, in batches, up to the end of the log as it is
    when each batch is read. Failures surface as :class:`StorageError`, never a driver error.
    """

    def height(self) -> int | None: ...
    def tx_count(self) -> int: ...
    def append_block(
        self, block: StoredBlock, txs: Sequence[tuple[str, bytes]], checkpoint: str
    ) -> None: ...
    def set_checkpoint(self, checkpoint: str) -> None: ...
    def checkpoint(self) -> str | None: ...
    def block(self, height: int) -> StoredBlock | None: ...
    def blocks(self, start: int, limit: int) -> list[StoredBlock]: ...
    def block_txs(self, height: int) -> list[StoredTx]: ...
    def tx(self, tx_id: str) -> StoredTx | None: ...
    def tx_at(self, index: int) -> StoredTx | None: ...
    def iter_txs(self, start: int = 0) -> Iterator[StoredTx]: ...
    def iter_blocks(self, start: int = 0) -> Iterator[StoredBlock]: ...
    def get_meta(self, key: str) -> str | None: ...
    def set_meta(self, key: str, value: str) -> None: ...
    def close(self) -> None: ...


def conflict(detail: str) -> StorageError:
    return StorageError(detail, code="registry.storage_conflict")


def check_extends(
    block: StoredBlock, txs: Sequence[tuple[str, bytes]], height: int | None, count: int
) -> None:
    """Refuse a block that does not extend the chain exactly: the same rule for every store."""
    expected = 0 if height is None else height + 1
    if block.height != expected:
        raise conflict(f"block height {block.height}, expected {expected}")
    if block.first_index != count:
        raise conflict(f"block first_index {block.first_index}, expected {count}")
    if block.tx_count != len(txs):
        raise conflict(f"block tx_count {block.tx_count} but {len(txs)} transactions given")


def check_paging(start: int, limit: int) -> None:
    # SQLite reads a negative LIMIT as "no limit": refuse it rather than dump the whole log.
    if start < 0 or limit < 0:
        raise ValueError("start and limit must be non-negative")
