"""The node's incremental Merkle tree (registry/tree.py) against the reference prover.

:mod:`registry.tlog.merkle` recomputes every subtree from the list of leaves and is itself
checked against the transparency-dev vectors (test_merkle.py); :class:`MerkleTree` answers
from cached perfect subtrees. Both must give byte-identical roots and proofs, for every
size and index up to 70 leaves and for random larger trees, and the proofs must verify.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry.errors import ProofError
from registry.tlog.merkle import (
    EMPTY_ROOT,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root,
    verify_consistency,
    verify_inclusion,
)
from registry.tlog.tree import MerkleTree

N = 70


def leaves(n: int, salt: bytes = b"") -> list[bytes]:
    return [leaf_hash(salt + i.to_bytes(4, "big")) for i in range(n)]


def rows(tree: MerkleTree) -> list[list[bytes]]:
    """The cached subtree roots, level by level (empty top levels left by truncate ignored)."""
    levels = [list(row) for row in tree._levels]
    while len(levels) > 1 and not levels[-1]:
        levels.pop()
    return levels


LEAVES = leaves(N)
TREE = MerkleTree(LEAVES)


def test_empty_tree() -> None:
    tree = MerkleTree()
    assert tree.size == 0
    assert tree.root() == EMPTY_ROOT == hashlib.sha256(b"").digest()
    assert tree.consistency_proof(0, 0) == []


def test_roots_match_reference_for_every_size() -> None:
    for size in range(N + 1):
        assert TREE.root(size) == root(LEAVES[:size]), size


def test_appending_one_by_one_gives_the_same_roots() -> None:
    tree = MerkleTree()
    for i, leaf in enumerate(LEAVES):
        tree.append(leaf)
        assert tree.size == i + 1
        assert tree.root() == root(LEAVES[: i + 1])
        assert tree.leaf(i) == leaf


def test_inclusion_proofs_match_reference_and_verify() -> None:
    for size in range(1, N + 1):
        top = TREE.root(size)
        for index in range(size):
            proof = TREE.inclusion_proof(index, size)
            assert proof == inclusion_proof(LEAVES, index, size), (index, size)
            verify_inclusion(LEAVES[index], index, size, proof, top)


def test_consistency_proofs_match_reference_and_verify() -> None:
    for new in range(N + 1):
        new_root = TREE.root(new)
        for old in range(new + 1):
            proof = TREE.consistency_proof(old, new)
            assert proof == consistency_proof(LEAVES, old, new), (old, new)
            verify_consistency(old, new, TREE.root(old), new_root, proof)


def test_a_proof_for_another_leaf_does_not_verify() -> None:
    proof = TREE.inclusion_proof(5, 40)
    with pytest.raises(ProofError) as exc:
        verify_inclusion(LEAVES[6], 5, 40, proof, TREE.root(40))
    assert exc.value.code == "registry.proof_root_mismatch"


@settings(max_examples=25, deadline=None)
@given(size=st.integers(min_value=71, max_value=3000), data=st.data())
def test_random_large_trees_match_reference(size: int, data: st.DataObject) -> None:
    hashes = leaves(size, b"big")
    tree = MerkleTree(hashes)
    assert tree.root() == root(hashes)
    new = data.draw(st.integers(min_value=1, max_value=size), label="new")
    old = data.draw(st.integers(min_value=0, max_value=new), label="old")
    index = data.draw(st.integers(min_value=0, max_value=new - 1), label="index")
    new_root = tree.root(new)
    assert new_root == root(hashes[:new])
    proof = tree.inclusion_proof(index, new)
    assert proof == inclusion_proof(hashes, index, new)
    verify_inclusion(hashes[index], index, new, proof, new_root)
    cproof = tree.consistency_proof(old, new)
    assert cproof == consistency_proof(hashes, old, new)
    verify_consistency(old, new, tree.root(old), new_root, cproof)


def test_truncate_then_reappend_equals_the_straight_tree() -> None:
    other = leaves(N, b"other")
    for cut in range(N + 1):
        tree = MerkleTree(LEAVES)
        tree.append(other[0])  # something that will be dropped
        tree.truncate(cut)
        assert tree.size == cut
        assert tree.root() == root(LEAVES[:cut])
        for leaf in other[: N - cut]:
            tree.append(leaf)
        straight = MerkleTree(LEAVES[:cut] + other[: N - cut])
        assert tree.root() == straight.root()
        assert rows(tree) == rows(straight)  # no stale cached subtree survives
        for size in (1, cut or 1, N):
            assert tree.inclusion_proof(size - 1, size) == straight.inclusion_proof(size - 1,
                                                                                 size)
            assert tree.consistency_proof(cut, size if size >= cut else cut) == \
                straight.consistency_proof(cut, size if size >= cut else cut)


@settings(max_examples=50, deadline=None)
@given(first=st.integers(0, 300), cut=st.data(), extra=st.integers(0, 300))
def test_truncate_random(first: int, cut: st.DataObject, extra: int) -> None:
    base = leaves(first, b"a")
    at = cut.draw(st.integers(0, first), label="cut")
    tail = leaves(extra, b"b")
    tree = MerkleTree(base)
    tree.truncate(at)
    for leaf in tail:
        tree.append(leaf)
    assert rows(tree) == rows(MerkleTree(base[:at] + tail))
    assert tree.root() == root(base[:at] + tail)


def test_bad_arguments_are_refused() -> None:
    tree = MerkleTree(LEAVES[:10])
    with pytest.raises(ProofError) as exc:
        tree.append(b"short")
    assert exc.value.code == "registry.proof_bad_hash_length"
    cases: list[tuple[Callable[[], object], str]] = [
        (lambda: tree.root(11), "registry.proof_bad_size"),
        (lambda: tree.root(-1), "registry.proof_bad_size"),
        (lambda: tree.inclusion_proof(10, 10), "registry.proof_bad_index"),
        (lambda: tree.inclusion_proof(-1, 10), "registry.proof_bad_index"),
        (lambda: tree.inclusion_proof(0, 11), "registry.proof_bad_size"),
        (lambda: tree.consistency_proof(5, 11), "registry.proof_bad_size"),
        (lambda: tree.consistency_proof(6, 5), "registry.proof_bad_size"),
        (lambda: tree.consistency_proof(-1, 5), "registry.proof_bad_size"),
        (lambda: tree.truncate(11), "registry.proof_bad_size"),
    ]
    for call, code in cases:
        with pytest.raises(ProofError) as exc:
            call()
        assert exc.value.code == code
    assert tree.size == 10 and tree.root() == root(LEAVES[:10])
