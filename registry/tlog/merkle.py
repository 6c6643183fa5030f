"""RFC 6962 / RFC 9162 Merkle tree hashing, proofs and their verification.

Every signed registry transaction is a leaf of one append-only Merkle tree, so a client can
check that a transaction is in the log (inclusion) and that the log it saw before is a prefix
of the log it sees now (consistency) with O(log n) hashes. This module is the pure core of
that: no I/O, no clock, bytes in and bytes (or a ``ProofError``) out.

The verifiers follow RFC 9162 §2.1.3.2 and §2.1.4.2 step by step; they first check the
sizes, the hash lengths and the exact proof length the sizes require, so a bad proof fails
with a code that says why instead of a generic mismatch.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from registry.errors import ProofError, RegistryError

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "CompactRange",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "root",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
"""MTH({}): the root of the empty tree (RFC 9162 §2.1.1)."""


def leaf_hash(data: bytes) -> bytes:
    """Hash a log entry as a leaf: ``SHA-256(0x00 || data)``.

    The 0x00 prefix (0x01 for interior nodes) keeps a leaf from ever being confused with
    an interior node, which would otherwise allow second-preimage attacks on proofs.
    """
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Hash two child hashes into their parent: ``SHA-256(0x01 || left || right)``."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly below ``n`` (n >= 2): where RFC 9162 splits a tree."""
    return 1 << ((n - 1).bit_length() - 1)


def _mth(hashes: Sequence[bytes], lo: int, hi: int) -> bytes:
    """MTH(D[lo:hi]) for a non-empty range, without copying the sequence."""
    if hi - lo == 1:
        return hashes[lo]
    k = _split(hi - lo)
    return node_hash(_mth(hashes, lo, lo + k), _mth(hashes, lo + k, hi))


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """The Merkle Tree Hash (RFC 9162 §2.1.1) of a list of leaf hashes.

    Recomputes every node, O(n); the node keeps a `CompactRange` for the running root and
    uses this for proofs and for checking a chain from scratch.
    """
    if not leaf_hashes:
        return EMPTY_ROOT
    return _mth(leaf_hashes, 0, len(leaf_hashes))


def _check_prover_range(leaf_hashes: Sequence[bytes], size: int) -> None:
    if not 0 <= size <= len(leaf_hashes):
        raise ProofError(
            f"tree size {size} outside the {len(leaf_hashes)} known leaves",
            code="registry.proof_bad_size",
        )


def inclusion_proof(leaf_hashes: Sequence[bytes], index: int, size: int) -> list[bytes]:
    """The audit path PATH(index, D[0:size]) of RFC 9162 §2.1.3.1.

    Args:
        leaf_hashes: the log's leaf hashes; only the first ``size`` are used, so a proof
            against an older checkpoint can be made from the current log.
        index: zero-based index of the leaf to prove.
        size: tree size of the checkpoint the proof is for.

    Returns:
        The sibling hashes from the leaf up to the root.

    Raises:
        ProofError: ``size`` exceeds the known leaves or ``index`` is not below ``size``.
    """
    _check_prover_range(leaf_hashes, size)
    if not 0 <= index < size:
        raise ProofError(
            f"leaf index {index} not in a tree of size {size}", code="registry.proof_bad_index"
        )
    path: list[bytes] = []
    lo, hi = 0, size
    while hi - lo > 1:  # descend towards the leaf, collecting the other subtree's root
        k = _split(hi - lo)
        if index < lo + k:
            path.append(_mth(leaf_hashes, lo + k, hi))
            hi = lo + k
        else:
            path.append(_mth(leaf_hashes, lo, lo + k))
            lo += k
    path.reverse()
    return path


def consistency_proof(leaf_hashes: Sequence[bytes], old_size: int, new_size: int) -> list[bytes]:
    """The consistency proof PROOF(old_size, D[0:new_size]) of RFC 9162 §2.1.4.1.

    Empty when the sizes are equal or ``old_size`` is 0: every tree extends itself and the
    empty tree, so there is nothing to prove.

    Raises:
        ProofError: ``new_size`` exceeds the known leaves or ``old_size`` > ``new_size``.
    """
    _check_prover_range(leaf_hashes, new_size)
    if not 0 <= old_size <= new_size:
        raise ProofError(
            f"old size {old_size} not in [0, {new_size}]", code="registry.proof_bad_size"
        )
    if old_size in (0, new_size):
        return []
    proof: list[bytes] = []
    m, lo, hi = old_size, 0, new_size
    whole_old_tree = True  # the "b" flag of SUBPROOF: is D[lo:lo+m] the old tree itself?
    while m != hi - lo:
        k = _split(hi - lo)
        if m <= k:
            proof.append(_mth(leaf_hashes, lo + k, hi))
            hi = lo + k
        else:
            proof.append(_mth(leaf_hashes, lo, lo + k))
            lo, m, whole_old_tree = lo + k, m - k, False
    if not whole_old_tree:  # the verifier knows the old root, but not this subtree
        proof.append(_mth(leaf_hashes, lo, hi))
    proof.reverse()
    return proof


def _check_hash(value: object, what: str) -> bytes:
    if not isinstance(value, bytes) or len(value) != HASH_SIZE:
        got = len(value) if isinstance(value, bytes) else type(value).__name__
        raise ProofError(
            f"{what} must be {HASH_SIZE} bytes, got {got}", code="registry.proof_bad_hash_length"
        )
    return value


def _check_proof(proof: Sequence[bytes]) -> list[bytes]:
    try:
        items = list(proof)
    except TypeError as exc:
        raise ProofError(
            "proof is not a list of hashes", code="registry.proof_bad_hash_length"
        ) from exc
    return [_check_hash(p, f"proof[{i}]") for i, p in enumerate(items)]


def _check_size(value: object, what: str) -> int:
    if not isinstance(value, int) or value < 0:
        raise ProofError(
            f"{what} must be a non-negative integer, got {value!r}", code="registry.proof_bad_index"
        )
    return value


def _inclusion_length(index: int, size: int) -> int:
    """Proof length for leaf ``index`` of ``size``: one sibling per level below the point
    where the leaf's path leaves the right edge, plus one per left-hand border subtree."""
    inner = (index ^ (size - 1)).bit_length()
    return inner + (index >> inner).bit_count()


def _wrong_length(got: int, want: int) -> ProofError:
    return ProofError(
        f"proof has {got} hashes, the sizes require {want}", code="registry.proof_wrong_length"
    )


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``leaf_hash`` is leaf ``index`` of the tree of ``size`` with ``root``.

    Implements RFC 9162 §2.1.3.2. Returns nothing: a proof that does not verify raises, so
    a caller cannot forget to look at a boolean.

    Raises:
        ProofError: with code ``registry.proof_bad_hash_length``, ``registry.proof_bad_index``,
            ``registry.proof_wrong_length`` or ``registry.proof_root_mismatch``.
    """
    _check_hash(leaf_hash, "leaf hash")
    _check_hash(root, "root")
    path = _check_proof(proof)
    index, size = _check_size(index, "leaf index"), _check_size(size, "tree size")
    if index >= size:
        raise ProofError(
            f"leaf index {index} not in a tree of size {size}", code="registry.proof_bad_index"
        )
    if len(path) != (want := _inclusion_length(index, size)):
        raise _wrong_length(len(path), want)
    fn, sn, r = index, size - 1, leaf_hash
    for p in path:
        if sn == 0:
            raise _wrong_length(len(path), want)
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise _wrong_length(len(path), want)
    if r != root:
        raise ProofError(
            "inclusion proof does not lead to the root", code="registry.proof_root_mismatch"
        )


def _consistency_length(old_size: int, new_size: int) -> int:
    """Proof length for 0 < old_size < new_size: the audit path of the old tree's last leaf,
    minus the levels inside the old tree's rightmost perfect subtree, plus that subtree's
    hash unless it is the whole old tree (then the verifier already has it as the root)."""
    shift = (old_size & -old_size).bit_length() - 1
    seed = 0 if old_size == 1 << shift else 1
    return _inclusion_length(old_size - 1, new_size) - shift + seed


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Check that the tree (``new_size``, ``new_root``) extends (``old_size``, ``old_root``).

    Implements RFC 9162 §2.1.4.2, with the two cases it leaves to the caller: equal sizes
    need an empty proof and equal roots, and old size 0 needs an empty proof and the
    empty-tree root (anything extends the empty tree, but only one root describes it).

    Raises:
        ProofError: with code ``registry.proof_bad_hash_length``, ``registry.proof_bad_index``
            (negative size), ``registry.proof_bad_size``, ``registry.proof_wrong_length`` or
            ``registry.proof_root_mismatch``.
    """
    _check_hash(old_root, "old root")
    _check_hash(new_root, "new root")
    path = _check_proof(proof)
    old_size, new_size = _check_size(old_size, "old size"), _check_size(new_size, "new size")
    if old_size > new_size:
        raise ProofError(
            f"old size {old_size} larger than new size {new_size}", code="registry.proof_bad_size"
        )
    if old_size in (0, new_size):
        if path:
            raise _wrong_length(len(path), 0)
        expected = EMPTY_ROOT if old_size == 0 else new_root
        if old_root != expected:
            raise ProofError(
                "roots differ for trees that must be equal", code="registry.proof_root_mismatch"
            )
        return
    if len(path) != (want := _consistency_length(old_size, new_size)):
        raise _wrong_length(len(path), want)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise _wrong_length(len(path), want)
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise _wrong_length(len(path), want)
    if fr != old_root or sr != new_root:
        raise ProofError(
            "consistency proof does not lead to both roots", code="registry.proof_root_mismatch"
        )


class CompactRange:
    """The right edge of a growing tree: the roots of its perfect subtrees, largest first.

    A tree of n leaves is a row of perfect subtrees, one per set bit of n; keeping only
    their roots (at most log2(n) + 1 hashes) is enough to append a leaf and compute the new
    root in O(log n), so the node never rehashes the log on an append. The frontier is
    also small enough to persist next to each block and reload with `from_frontier`.
    """

    __slots__ = ("_frontier", "_size")

    def __init__(self) -> None:
        self._size = 0
        self._frontier: list[bytes] = []

    @classmethod
    def from_frontier(cls, size: int, frontier: Sequence[bytes]) -> CompactRange:
        """Restore a range saved from `size` and `frontier`.

        Raises:
            RegistryError: ``registry.bad_frontier`` if the hash count does not match the
                set bits of ``size`` or a hash is not 32 bytes.
        """
        hashes = list(frontier)
        if size < 0 or len(hashes) != size.bit_count():
            raise RegistryError(
                f"{len(hashes)} frontier hashes do not fit size {size}",
                code="registry.bad_frontier",
            )
        if any(not isinstance(h, bytes) or len(h) != HASH_SIZE for h in hashes):
            raise RegistryError("frontier hashes must be 32 bytes", code="registry.bad_frontier")
        new = cls()
        new._size, new._frontier = size, hashes
        return new

    @property
    def size(self) -> int:
        """Number of leaves appended so far."""
        return self._size

    @property
    def frontier(self) -> tuple[bytes, ...]:
        """Roots of the perfect subtrees, left (largest) to right, for persisting."""
        return tuple(self._frontier)

    def append(self, leaf_hash: bytes) -> None:
        """Add one leaf hash (see `leaf_hash`), merging equal-sized subtrees like a carry.

        Raises:
            RegistryError: ``registry.bad_frontier`` if ``leaf_hash`` is not 32 bytes.
        """
        if not isinstance(leaf_hash, bytes) or len(leaf_hash) != HASH_SIZE:
            raise RegistryError("leaf hash must be 32 bytes", code="registry.bad_frontier")
        h, n = leaf_hash, self._size
        while n & 1:
            h = node_hash(self._frontier.pop(), h)
            n >>= 1
        self._frontier.append(h)
        self._size += 1

    def root(self) -> bytes:
        """The Merkle Tree Hash of all leaves so far, folding the frontier right to left."""
        if not self._frontier:
            return EMPTY_ROOT
        r = self._frontier[-1]
        for h in reversed(self._frontier[:-1]):
            r = node_hash(h, r)
        return r
