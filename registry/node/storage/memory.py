"""The registry log in memory: tests, benchmarks and throwaway nodes."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from registry.node.storage.base import (
    StorageError,
    StoredBlock,
    StoredTx,
    check_extends,
    check_paging,
    conflict,
)

__all__ = ["MemoryStorage"]


class MemoryStorage:
    """In-memory :class:`Storage` for pure tests, with the same checks as the SQLite one."""

    def __init__(self) -> None:
        self._blocks: list[StoredBlock] = []
        self._txs: list[StoredTx] = []
        self._by_id: dict[str, int] = {}
        self._hashes: set[str] = set()
        self._meta: dict[str, str] = {}
        self._checkpoint: str | None = None
        self._closed = False

    def _live(self) -> MemoryStorage:
        if self._closed:  # use after close is a bug in the caller, as with the SQLite store
            raise StorageError("storage is closed")
        return self

    def height(self) -> int | None:
        return len(self._live()._blocks) - 1 if self._blocks else None

    def tx_count(self) -> int:
        return len(self._live()._txs)

    def append_block(
        self, block: StoredBlock, txs: Sequence[tuple[str, bytes]], checkpoint: str
    ) -> None:
        check_extends(block, txs, self.height(), len(self._txs))
        ids = [tx_id for tx_id, _ in txs]
        if len(set(ids)) != len(ids) or any(i in self._by_id for i in ids):
            raise conflict("duplicate transaction id")
        if block.hash in self._hashes:
            raise conflict("duplicate block hash")
        self._blocks.append(StoredBlock(block.height, block.hash, bytes(block.header),
                                        block.first_index, block.tx_count))
        self._hashes.add(block.hash)
        for index, (tx_id, data) in enumerate(txs, start=block.first_index):
            self._txs.append(StoredTx(index, tx_id, block.height, bytes(data)))
            self._by_id[tx_id] = index
        self._checkpoint = checkpoint

    def set_checkpoint(self, checkpoint: str) -> None:
        self._live()._checkpoint = checkpoint

    def checkpoint(self) -> str | None:
        return self._live()._checkpoint

    def block(self, height: int) -> StoredBlock | None:
        return self._live()._blocks[height] if 0 <= height < len(self._blocks) else None

    def blocks(self, start: int, limit: int) -> list[StoredBlock]:
        check_paging(start, limit)
        return self._live()._blocks[start : start + limit]

    def block_txs(self, height: int) -> list[StoredTx]:
        b = self.block(height)
        return [] if b is None else self._txs[b.first_index : b.first_index + b.tx_count]

    def tx(self, tx_id: str) -> StoredTx | None:
        index = self._live()._by_id.get(tx_id)
        return None if index is None else self._txs[index]

    def tx_at(self, index: int) -> StoredTx | None:
        return self._live()._txs[index] if 0 <= index < len(self._txs) else None

    def iter_txs(self, start: int = 0) -> Iterator[StoredTx]:
        i = max(start, 0)
        while (tx := self.tx_at(i)) is not None:
            yield tx
            i += 1

    def iter_blocks(self, start: int = 0) -> Iterator[StoredBlock]:
        h = max(start, 0)
        while (b := self.block(h)) is not None:
            yield b
            h += 1

    def get_meta(self, key: str) -> str | None:
        return self._live()._meta.get(key)

    def set_meta(self, key: str, value: str) -> None:
        self._live()._meta[key] = value

    def close(self) -> None:
        self._closed = True
