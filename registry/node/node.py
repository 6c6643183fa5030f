"""A registry node: the validated chain, its storage, and (on the sequencer) block production.

The sequencer turns submitted transactions into blocks by *group commit*: while one block is
being written (one SQLite transaction, fsynced), new submissions queue up and become the
next block together. A submitter is answered only after its block is durable, so an
acknowledged transaction is never lost; if the write fails the block is forgotten in memory
too (:meth:`Chain.abort`) and every submitter of it gets the storage error.

Everything read back from storage is checked against the hashes the node validated when it
replayed the chain; a mismatch means the file was altered underneath the node, which then
*halts*: it answers 503 and never signs anything again until an operator intervenes.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from registry.errors import RegistryError
from registry.ledger.block import BlockError, BlockHeader
from registry.ledger.chain import Chain, Pending
from registry.ledger.fields import SchemaTooComplexError
from registry.ledger.rules import authenticate
from registry.ledger.tx import Tx, check_costly, tx_id
from registry.node.storage import Storage, StoredBlock, StoredTx
from registry.tlog.checkpoint import Checkpoint
from registry.tlog.merkle import leaf_hash
from registry.tlog.note import NoteSigner, NoteVerifier, sign_note
from ssiwallet.core.keys import Ed25519PrivateKey
from ssiwallet.errors import SsiError
from ssiwallet.infra.clock import Clock, system_clock

__all__ = ["COSTLY_CPU_BUDGET", "Node", "NodeHaltedError", "Receipt", "replay", "store_block"]

COSTLY_CPU_BUDGET = 1.0
"""CPU seconds a transaction's costly check (a schema's metaschema validation) may take; the
bounds on a schema keep it near 0.15 s at worst, so only a pathological input reaches it."""

log = logging.getLogger(__name__)

Cosigner = Callable[[int, list[bytes], str], Awaitable[str]]
"""Submit (old size, consistency proof, signed checkpoint) to a witness; its cosignatures."""


class NodeHaltedError(RegistryError):
    """The node found its storage altered and refuses to serve or sign."""

    code = "registry.node_halted"


class NotSequencerError(RegistryError):
    """This node is a mirror: it has no sequencer key and accepts no transactions."""

    code = "registry.not_sequencer"


@dataclass(frozen=True, slots=True)
class Receipt:
    """Where an accepted transaction landed."""

    id: str
    index: int
    height: int


def store_block(storage: Storage, header: BlockHeader, tx_data: Sequence[bytes],
                checkpoint: str) -> None:
    """Append a validated block and its transactions to ``storage`` in one durable write."""
    first = header.size - len(tx_data)
    storage.append_block(StoredBlock(header.height, header.hash, header.data, first,
                                     len(tx_data)),
                         [(tx_id(d), d) for d in tx_data], checkpoint)


def replay(storage: Storage, *, stop_at: int | None = None) -> Chain:
    """Rebuild and fully re-validate the chain stored in ``storage``, from genesis.

    Raises:
        BlockError: naming the first block that does not validate (``.height``).
    """
    chain: Chain | None = None
    for stored in storage.iter_blocks(0):
        if stop_at is not None and stored.height > stop_at:
            break
        data = [t.data for t in storage.block_txs(stored.height)]
        if hashlib.sha256(stored.header).hexdigest() != stored.hash:
            raise BlockError("stored hash does not match the stored header",
                             height=stored.height, code="registry.block_hash_mismatch")
        if chain is None:
            chain = Chain.from_genesis(stored.header, data)
        else:
            chain.commit(chain.check_block(stored.header, data))
    if chain is None:
        raise BlockError("the store holds no genesis block", height=0,
                         code="registry.bad_genesis")
    return chain


class Node:
    """A validated chain over a storage; a sequencer when it holds the sequencer key."""

    def __init__(self, chain: Chain, storage: Storage, key: Ed25519PrivateKey | None = None,
                 *, clock: Clock | None = None, max_block_txs: int = 500) -> None:
        if key is not None and key.public_key != chain.state.sequencer:
            raise RegistryError("this key is not the chain's sequencer key",
                                code="registry.not_sequencer_key")
        self.chain = chain
        self.storage = storage
        self.key = key
        self.clock: Clock = clock or system_clock
        self.max_block_txs = max_block_txs
        self.halted: str | None = None
        self._queue: list[tuple[Tx, asyncio.Future[Receipt]]] = []
        self._inflight: dict[str, asyncio.Future[Receipt]] = {}
        self._wake = asyncio.Event()
        self._signer = NoteSigner(chain.state.chain, key) if key is not None else None
        self._base_note = ""
        self._cosignatures: dict[str, str] = {}
        self._restore_checkpoint(storage.checkpoint())
        self.new_block = asyncio.Condition()
        self.costly_budget = COSTLY_CPU_BUDGET
        self._costly_lock = asyncio.Lock()
        self._costly_tasks: set[asyncio.Task[Tx]] = set()

    @classmethod
    def open(cls, storage: Storage, key: Ed25519PrivateKey | None = None, **kwargs: object
             ) -> Node:
        """Replay ``storage`` from genesis (refusing a tampered one) and serve it."""
        return cls(replay(storage), storage, key, **kwargs)  # type: ignore[arg-type]

    # ----------------------------------------------------------------- checkpoints

    @property
    def log_verifier(self) -> NoteVerifier:
        """The note key the node signs checkpoints with: the sequencer key, named by origin."""
        return NoteVerifier(self.chain.state.chain, self.chain.state.sequencer)

    def _sign_checkpoint(self, head: BlockHeader) -> str:
        body = Checkpoint(head.chain, head.size, bytes.fromhex(head.root)).body()
        return sign_note(body, [self._signer]) if self._signer is not None else ""

    def _restore_checkpoint(self, stored: str | None) -> None:
        """Start from the stored checkpoint: re-sign the head, keep cosignatures still valid."""
        self._cosignatures = {}
        if self._signer is None:
            self._base_note = stored or ""
            return
        self._base_note = self._sign_checkpoint(self.chain.head)
        if stored and stored.startswith(self._base_note):
            for line in stored[len(self._base_note):].splitlines(keepends=True):
                self._cosignatures[line.split(" ", 2)[1]] = line

    @property
    def checkpoint(self) -> str:
        """The newest checkpoint with the witness cosignatures gathered for it."""
        self._check_live()
        return self._base_note + "".join(self._cosignatures.values())

    @property
    def signed_checkpoint(self) -> str:
        """The newest checkpoint with the node's signature only (what witnesses are sent)."""
        return self._base_note

    def add_cosignature(self, note: str, line: str) -> bool:
        """Attach a witness's cosignature line to ``note`` if that is still the newest one.

        A witness that cosigns again (when the node is idle) replaces its older line.
        """
        if note != self._base_note or not line.startswith("\u2014 "):
            return False
        self._cosignatures[line.split(" ", 2)[1]] = line if line.endswith("\n") else line + "\n"
        self.storage.set_checkpoint(self.checkpoint)
        return True

    def set_upstream_checkpoint(self, note: str) -> None:
        """A mirror serves the sequencer's checkpoint once it holds the same tree."""
        self._base_note = note
        self.storage.set_checkpoint(note)

    # ----------------------------------------------------------------- submitting

    def _check_live(self) -> None:
        """Refuse to serve or sign once storage was found altered."""
        if self.halted is not None:
            raise NodeHaltedError(f"node halted: {self.halted}")

    async def submit(self, tx: Tx) -> Receipt:
        """Queue ``tx`` for the next block; return once that block is durably stored.

        A transaction already on the chain is answered with its receipt (idempotent retry).

        A transaction parsed with ``defer_costly`` has its author and signature checked here
        first, then its costly body check run in a worker thread (:meth:`_check_costly`).

        Raises:
            NotSequencerError, NodeHaltedError; any chain-rule error for ``tx``;
            TxMalformedError from a deferred body check (``registry.schema_too_complex`` past
            the CPU budget);
            StorageError when its block could not be written (nothing was acknowledged).
        """
        self._check_live()
        if self.key is None:
            raise NotSequencerError("this node is a mirror; submit to the sequencer")
        known = self.chain.tx_index.get(tx.id)
        if known is not None:
            return Receipt(tx.id, known, self.chain.block_of[known])
        if tx.deferred:
            # Author and signature first (cheap, on the loop), then the costly body check in
            # a worker thread, one at a time; the sequencer's apply_tx does not repeat it.
            authenticate(self.chain.state, tx, self.clock())
            tx = await self._check_costly(tx)
            self._check_live()
            known = self.chain.tx_index.get(tx.id)
            if known is not None:
                return Receipt(tx.id, known, self.chain.block_of[known])
        future = self._inflight.get(tx.id)
        if future is None:  # the same bytes sent again while queued share one outcome
            future = asyncio.get_running_loop().create_future()
            self._inflight[tx.id] = future
            future.add_done_callback(lambda _: self._inflight.pop(tx.id, None))
            self._queue.append((tx, future))
            self._wake.set()
        return await asyncio.shield(future)

    async def _check_costly(self, tx: Tx) -> Tx:
        """:func:`check_costly` in a worker thread, one transaction at a time, within
        :attr:`costly_budget` CPU seconds; carried to its end even if the submitter leaves
        (so that abandoned checks never pile up in threads)."""
        budget = self.costly_budget

        def timed() -> tuple[Tx, float]:
            start = time.thread_time()
            checked = check_costly(tx)
            return checked, time.thread_time() - start

        async def run() -> Tx:
            async with self._costly_lock:
                checked, spent = await asyncio.to_thread(timed)
            if spent > budget:
                raise SchemaTooComplexError(
                    f"checking this transaction's body took {spent:.2f} s of CPU, more than "
                    f"the {budget:g} s allowed")
            return checked

        def done(task: asyncio.Task[Tx]) -> None:
            self._costly_tasks.discard(task)
            if not task.cancelled():
                task.exception()  # retrieved: a submitter that left is not an error

        task = asyncio.ensure_future(run())
        self._costly_tasks.add(task)
        task.add_done_callback(done)
        return await asyncio.shield(task)

    async def run_sequencer(self) -> None:
        """Produce blocks from the queue until cancelled (one write in flight at a time)."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._queue:
                batch = self._queue[: self.max_block_txs]
                del self._queue[: len(batch)]
                await self._produce(batch)

    async def _produce(self, batch: list[tuple[Tx, asyncio.Future[Receipt]]]) -> None:
        assert self.key is not None
        futures = {id(tx): fut for tx, fut in batch}
        try:
            self._check_live()
            pending, rejected = self.chain.prepare([tx for tx, _ in batch], self.clock(),
                                                   self.key)
        except SsiError as exc:
            for _, fut in batch:
                _settle(fut, exc)
            return
        for item in rejected:
            _settle(futures[id(item.tx)], item.error)
        if pending is None:
            return
        try:
            await self._store(pending)
        except SsiError as exc:  # already forgotten by _persist
            for tx in pending.txs:
                _settle(futures[id(tx)], exc)
            return
        first = pending.header.size - len(pending.txs)
        for offset, tx in enumerate(pending.txs):
            _settle(futures[id(tx)], Receipt(tx.id, first + offset, pending.header.height))

    async def _persist(self, pending: Pending, checkpoint: str) -> None:
        """Store a block durably, then commit it in memory; forget it if storing failed."""
        try:
            await asyncio.to_thread(store_block, self.storage, pending.header,
                                    [tx.data for tx in pending.txs], checkpoint)
        except BaseException:
            self.chain.abort(pending)
            raise
        self.chain.commit(pending)
        async with self.new_block:
            self.new_block.notify_all()

    async def _store(self, pending: Pending) -> None:
        checkpoint = self._sign_checkpoint(pending.header)
        await self._persist(pending, checkpoint)
        self._base_note, self._cosignatures = checkpoint, {}

    async def append_checked(self, header: bytes, tx_data: Sequence[bytes]) -> None:
        """A mirror's append: validate a block fetched from elsewhere, store it, commit it."""
        self._check_live()
        await self._persist(self.chain.check_block(header, tx_data, now=self.clock()), "")

    # ----------------------------------------------------------------- reading

    def _tampered(self, what: str) -> NodeHaltedError:
        self.halted = f"stored {what} does not match the validated chain"
        log.error("registry node halted: %s", self.halted)
        return NodeHaltedError(f"node halted: {self.halted}")

    def _checked_tx(self, stored: StoredTx) -> StoredTx:
        if stored.index >= self.chain.size or leaf_hash(stored.data) != self.chain.tree.leaf(
                stored.index):
            raise self._tampered(f"transaction {stored.index}")
        return stored

    def block(self, height: int) -> tuple[StoredBlock, list[StoredTx]] | None:
        """A committed block and its transactions, as stored, after checking both."""
        self._check_live()
        if not 0 <= height <= self.chain.head.height:
            return None
        stored = self.storage.block(height)
        if stored is None or hashlib.sha256(stored.header).hexdigest() != self.chain.hashes[
                height]:
            raise self._tampered(f"block {height}")
        return stored, [self._checked_tx(t) for t in self.storage.block_txs(height)]

    def scrub(self) -> None:
        """Re-hash every committed block and transaction in storage (a background audit).

        Reads only catch an altered row when something asks for it; the scrub finds it
        within one interval even if nobody does, and halts the node the same way.
        """
        self._check_live()
        size, height = self.chain.size, self.chain.head.height
        for stored in self.storage.iter_blocks(0):
            if stored.height > height:
                break
            if hashlib.sha256(stored.header).hexdigest() != self.chain.hashes[stored.height]:
                raise self._tampered(f"block {stored.height}")
        for stored_tx in self.storage.iter_txs(0):
            if stored_tx.index >= size:
                break
            self._checked_tx(stored_tx)

    def tx(self, tx_id: str) -> StoredTx | None:
        """A committed transaction by id, checked against its leaf hash."""
        self._check_live()
        index = self.chain.tx_index.get(tx_id)
        if index is None:
            return None
        stored = self.storage.tx_at(index)
        if stored is None or stored.id != tx_id:
            raise self._tampered(f"transaction {index}")
        return self._checked_tx(stored)


def _settle(future: asyncio.Future[Receipt], outcome: Receipt | BaseException) -> None:
    if future.done():
        return
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)
