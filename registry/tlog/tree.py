"""An append-only RFC 9162 Merkle tree that answers proofs in O(log² n).

:mod:`registry.tlog.merkle` computes proofs from a plain list of leaf hashes, rehashing every
subtree it needs: O(n) per proof, too slow for a node with 10⁵ transactions. The RFC's
recursion only ever splits a range into a *perfect, aligned* left subtree and the rest, so
keeping every perfect subtree's root (levels of a binary heap, 2n hashes in all) turns each
``MTH(D[lo:hi])`` into at most log n lookups. Proofs are the same bytes either way; the
tests compare the two.
"""

from __future__ import annotations

from collections.abc import Sequence

from registry.errors import ProofError
from registry.tlog.merkle import EMPTY_ROOT, HASH_SIZE, node_hash

__all__ = ["MerkleTree"]


def _split(n: int) -> int:
    return 1 << ((n - 1).bit_length() - 1)


class MerkleTree:
    """Leaf hashes plus the roots of all perfect aligned subtrees, growing by appends."""

    __slots__ = ("_levels",)

    def __init__(self, leaf_hashes: Sequence[bytes] = ()) -> None:
        self._levels: list[list[bytes]] = [[]]
        for leaf in leaf_hashes:
            self.append(leaf)

    @property
    def size(self) -> int:
        return len(self._levels[0])

    def leaf(self, index: int) -> bytes:
        return self._levels[0][index]

    def append(self, leaf_hash: bytes) -> None:
        """Add a leaf hash; complete every perfect subtree it closes."""
        if len(leaf_hash) != HASH_SIZE:
            raise ProofError("leaf hash must be 32 bytes", code="registry.proof_bad_hash_length")
        levels = self._levels
        levels[0].append(leaf_hash)
        level = 0
        while len(levels[level]) % 2 == 0:
            row = levels[level]
            parent = node_hash(row[-2], row[-1])
            if level + 1 == len(levels):
                levels.append([])
            levels[level + 1].append(parent)
            level += 1

    def _mth(self, lo: int, hi: int) -> bytes:
        n = hi - lo
        if n & (n - 1) == 0 and lo % n == 0:  # perfect and aligned: stored
            return self._levels[n.bit_length() - 1][lo // n]
        k = _split(n)
        return node_hash(self._mth(lo, lo + k), self._mth(lo + k, hi))

    def _check(self, size: int) -> None:
        if not 0 <= size <= self.size:
            raise ProofError(f"tree size {size} outside the {self.size} known leaves",
                             code="registry.proof_bad_size")

    def root(self, size: int | None = None) -> bytes:
        """MTH of the first ``size`` leaves (all of them by default)."""
        size = self.size if size is None else size
        self._check(size)
        return EMPTY_ROOT if size == 0 else self._mth(0, size)

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        """PATH(index, D[0:size]) of RFC 9162 §2.1.3.1."""
        self._check(size)
        if not 0 <= index < size:
            raise ProofError(f"leaf index {index} not in a tree of size {size}",
                             code="registry.proof_bad_index")
        path: list[bytes] = []
        lo, hi = 0, size
        while hi - lo > 1:
            k = _split(hi - lo)
            if index < lo + k:
                path.append(self._mth(lo + k, hi))
                hi = lo + k
            else:
                path.append(self._mth(lo, lo + k))
                lo += k
        path.reverse()
        return path

    def consistency_proof(self, old_size: int, new_size: int) -> list[bytes]:
        """PROOF(old_size, D[0:new_size]) of RFC 9162 §2.1.4.1 (empty for 0 or equal sizes)."""
        self._check(new_size)
        if not 0 <= old_size <= new_size:
            raise ProofError(f"old size {old_size} not in [0, {new_size}]",
                             code="registry.proof_bad_size")
        if old_size in (0, new_size):
            return []
        proof: list[bytes] = []
        m, lo, hi = old_size, 0, new_size
        whole_old_tree = True
        while m != hi - lo:
            k = _split(hi - lo)
            if m <= k:
                proof.append(self._mth(lo + k, hi))
                hi = lo + k
            else:
                proof.append(self._mth(lo, lo + k))
                lo, m, whole_old_tree = lo + k, m - k, False
        if not whole_old_tree:
            proof.append(self._mth(lo, hi))
        proof.reverse()
        return proof

    def truncate(self, size: int) -> None:
        """Forget every leaf from ``size`` on (an append that was not stored)."""
        self._check(size)
        for level, row in enumerate(self._levels):
            del row[size >> level:]
