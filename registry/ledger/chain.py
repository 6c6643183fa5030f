"""A chain validated from genesis: state, Merkle tree and head, grown block by block.

The same code serves the sequencer (:meth:`Chain.prepare` turns accepted transactions into
a signed block), a mirror or witness following a node and ``ssi-registry verify`` replaying
a database (:meth:`Chain.check_block`): every block is checked in full against the rules,
so nothing a node serves is trusted because the node said so. A prepared or checked block
is a :class:`Pending` until :meth:`Chain.commit`; :meth:`Chain.abort` forgets it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from registry.ledger.block import (
    ZERO_HASH,
    BlockError,
    BlockHeader,
    make_header,
    parse_header,
    tx_root,
)
from registry.ledger.didketen import public_key_from_multikey
from registry.ledger.rules import MAX_CLOCK_SKEW, apply_tx
from registry.ledger.state import State
from registry.ledger.tx import Tx, parse_tx
from registry.tlog.checkpoint import CosignatureVerifier
from registry.tlog.merkle import leaf_hash
from registry.tlog.tree import MerkleTree
from ssiwallet.core.keys import Ed25519PrivateKey
from ssiwallet.errors import SsiError

__all__ = ["Chain", "Pending", "Rejected"]


@dataclass(frozen=True, slots=True)
class Rejected:
    """A transaction the sequencer left out of a block, with the reason."""

    tx: Tx
    error: SsiError


@dataclass
class Pending:
    """A block applied to a fork of the state and to the tree, not yet committed."""

    header: BlockHeader
    txs: list[Tx]
    state: State
    rejected: list[Rejected] = field(default_factory=list)


def _genesis_state(tx: Tx) -> State:
    body = tx.body
    return State(chain=tx.chain, name=body["name"], stewards=frozenset(body["stewards"]),
                 sequencer=public_key_from_multikey(body["sequencer"]),
                 witnesses=tuple((w["name"], w["vkey"]) for w in body["witnesses"]),
                 quorum=body["quorum"])


class Chain:
    """The validated chain; build one with :meth:`from_genesis`."""

    def __init__(self, state: State, tree: MerkleTree, head: BlockHeader,
                 genesis: BlockHeader) -> None:
        self.state = state
        self.tree = tree
        self.head = head
        self.genesis = genesis
        self.hashes: list[str] = [head.hash]
        self.tx_index: dict[str, int] = {}
        self.block_of: list[int] = []
        """Height of the block holding each leaf index."""

    @classmethod
    def from_genesis(cls, header: bytes | BlockHeader, tx_data: Sequence[bytes]) -> Chain:
        """Validate block 0: the genesis transaction, then the stewards' ``did.create``."""
        head = header if isinstance(header, BlockHeader) else parse_header(header, position=0)
        if head.height != 0 or head.prev != ZERO_HASH:
            raise BlockError("the first block must have height 0 and a zero prev", height=0,
                             code="registry.bad_genesis")
        if not tx_data:
            raise BlockError("the genesis block is empty", height=0, code="registry.bad_genesis")
        try:
            genesis_tx = parse_tx(tx_data[0], require_canonical=True)
        except SsiError as exc:
            raise BlockError(f"genesis transaction: {exc.detail}", height=0,
                             code="registry.bad_genesis") from None
        if genesis_tx.type != "genesis" or genesis_tx.chain != head.chain:
            raise BlockError("block 0 must start with this chain's genesis transaction",
                             height=0, code="registry.bad_genesis")
        if abs(genesis_tx.time - head.time) > MAX_CLOCK_SKEW:
            raise BlockError("genesis time and block time disagree", height=0,
                             code="registry.bad_genesis")
        try:
            state = _genesis_state(genesis_tx)
        except SsiError as exc:  # a sequencer Multikey of the right shape but no Ed25519 key
            raise BlockError(f"genesis transaction: {exc.detail}", height=0,
                             code="registry.bad_genesis") from None
        names = set()
        for name, vkey in state.witnesses:
            try:
                verifier = CosignatureVerifier.from_vkey(vkey)
            except SsiError as exc:
                raise BlockError(f"witness {name!r}: {exc.detail}", height=0,
                                 code="registry.bad_genesis") from None
            if verifier.name != name or name in names:
                raise BlockError(f"witness {name!r} is repeated or its vkey names another",
                                 height=0, code="registry.bad_genesis")
            names.add(name)
        if state.quorum > len(state.witnesses):
            raise BlockError(f"a quorum of {state.quorum} cannot be met by "
                             f"{len(state.witnesses)} witnesses", height=0,
                             code="registry.bad_genesis")
        head.verify(state.sequencer)
        chain = cls(state, MerkleTree(), head, head)
        chain.hashes = []
        pending = chain._apply(head, genesis_tx, tx_data[1:], genesis=True)
        missing = state.stewards - pending.state.dids.keys()
        if missing:
            raise BlockError(f"steward {sorted(missing)[0]} is not created in block 0",
                             height=0, code="registry.bad_genesis")
        chain.commit(pending)
        return chain

    @staticmethod
    def genesis_block(genesis_tx: bytes, steward_txs: Sequence[bytes], time: int,
                      key: Ed25519PrivateKey) -> tuple[BlockHeader, list[bytes]]:
        """Sign block 0 over the genesis transaction and the stewards' self-signed creates."""
        data = [genesis_tx, *steward_txs]
        tree = MerkleTree([leaf_hash(d) for d in data])
        chain_id = parse_tx(genesis_tx).chain
        header = make_header(chain_id, 0, ZERO_HASH, time, data, tree.size, tree.root(), key)
        return header, data

    @property
    def size(self) -> int:
        """Number of transactions in committed blocks."""
        return self.head.size

    def _apply(self, header: BlockHeader, first: Tx | None, rest: Iterable[bytes | Tx], *,
               genesis: bool = False) -> Pending:
        fork = self.state.fork()
        txs: list[Tx] = [first] if first is not None else []
        for offset, item in enumerate(rest, start=len(txs)):
            try:
                tx = item if isinstance(item, Tx) else parse_tx(
                    item, require_canonical=True, defer_costly=True)  # after signatures
                apply_tx(fork, tx, header.time, genesis_block=genesis)
            except SsiError as exc:
                raise BlockError(f"transaction {offset}: {exc.code}: {exc.detail}",
                                 height=header.height, code="registry.block_tx_invalid") from None
            txs.append(tx)
        if first is not None:
            fork.size += 1
        base = self.tree.size
        for tx in txs:
            self.tree.append(leaf_hash(tx.data))
        if self.tree.size != header.size or self.tree.root().hex() != header.root:
            self.tree.truncate(base)
            raise BlockError("the header's tree size or root does not match its transactions",
                             height=header.height, code="registry.root_mismatch")
        fork.height, fork.time = header.height, header.time
        return Pending(header, txs, fork)

    def check_block(self, header: bytes | BlockHeader, tx_data: Sequence[bytes],
                    *, now: int | None = None) -> Pending:
        """Validate a block that claims to extend this chain (a follower's or a replay's view).

        Raises:
            BlockError: naming the height and the first reason it does not extend the chain.
        """
        expected = self.head.height + 1  # errors name the position, not a claimed height
        head = (header if isinstance(header, BlockHeader)
                else parse_header(header, position=expected))
        if head.chain != self.state.chain:
            raise BlockError("block of another chain", height=expected,
                             code="registry.wrong_chain")
        if head.height != expected or head.prev != self.head.hash:
            raise BlockError(f"does not follow block {self.head.height} ({self.head.hash[:16]})",
                             height=expected, code="registry.chain_broken")
        if head.time < self.head.time or (now is not None and head.time > now + MAX_CLOCK_SKEW):
            raise BlockError("block time goes backwards or lies in the future",
                             height=head.height, code="registry.bad_block_time")
        head.verify(self.state.sequencer)
        if head.txs != len(tx_data) or head.tx_root != tx_root(list(tx_data)):
            raise BlockError("transactions do not match the header's tx_root",
                             height=head.height, code="registry.tx_root_mismatch")
        return self._apply(head, None, tx_data)

    def prepare(self, txs: Sequence[Tx], time: int, key: Ed25519PrivateKey
                ) -> tuple[Pending | None, list[Rejected]]:
        """Apply what passes of ``txs`` (in order) and sign a block of it (the sequencer).

        Returns the pending block (``None`` when nothing passed) and the refused transactions.
        """
        time = max(time, self.head.time)
        fork = self.state.fork()
        accepted: list[Tx] = []
        rejected: list[Rejected] = []
        for tx in txs:
            try:
                apply_tx(fork, tx, time)
            except SsiError as exc:
                rejected.append(Rejected(tx, exc))
                continue
            accepted.append(tx)
        if not accepted:
            return None, rejected
        data = [tx.data for tx in accepted]
        base = self.tree.size
        try:
            for d in data:
                self.tree.append(leaf_hash(d))
            header = make_header(self.state.chain, self.head.height + 1, self.head.hash, time,
                                 data, self.tree.size, self.tree.root(), key)
        except BaseException:  # e.g. more transactions than a header may name
            self.tree.truncate(base)
            raise
        fork.height, fork.time = header.height, header.time
        return Pending(header, accepted, fork, rejected), rejected

    def commit(self, pending: Pending) -> None:
        """Make a prepared or checked block part of the chain (after it was stored)."""
        first = len(self.block_of)
        self.state.absorb(pending.state)
        self.head = pending.header
        self.hashes.append(pending.header.hash)
        for offset, tx in enumerate(pending.txs):
            self.tx_index[tx.id] = first + offset
        self.block_of.extend([pending.header.height] * len(pending.txs))

    def abort(self, pending: Pending) -> None:
        """Forget a block that could not be stored."""
        self.tree.truncate(self.head.size)
        del pending
