"""RFC 6962 / RFC 9162 Merkle hashing, proofs and verifiers (registry/merkle.py).

The transparency-dev testdata (tests/vectors/merkle/) is the independent reference: every
file is one named case, accepted or rejected as its ``wantErr`` says. Our own provers are
then checked against our verifiers exhaustively for small trees, and Hypothesis tampers
with proofs to show that any change is caught.
"""

from __future__ import annotations

import base64
import contextlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from registry.errors import ProofError, RegistryError
from registry.tlog.merkle import (
    EMPTY_ROOT,
    CompactRange,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root,
    verify_consistency,
    verify_inclusion,
)
from ssiwallet.errors import SsiError
from tests.support.paths import VECTORS

REPO = Path(__file__).resolve().parents[3]
MERKLE = VECTORS / "merkle"

# The eight leaves of the RFC 6962 reference tests (certificate-transparency), from which
# the transparency-dev testdata is built, and the roots MTH(D[0:n]) for n = 1..8.
RFC_LEAVES = [bytes.fromhex(h) for h in (
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
)]  # fmt: skip
RFC_ROOTS = [bytes.fromhex(h) for h in (
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
)]  # fmt: skip
RFC_HASHES = [leaf_hash(d) for d in RFC_LEAVES]


def _files(kind: str) -> list[Path]:
    return sorted((MERKLE / kind).rglob("*.json"))


def _id(path: Path) -> str:
    return str(path.relative_to(MERKLE))


INCLUSION = _files("inclusion")
CONSISTENCY = _files("consistency")


def _load(path: Path) -> dict[str, Any]:
    case: dict[str, Any] = json.loads(path.read_text())
    for key in ("root", "leafHash", "root1", "root2"):
        if key in case:
            case[key] = base64.b64decode(case[key])
    case["proof"] = [base64.b64decode(p) for p in case["proof"] or []]  # null = empty proof
    return case


def test_vector_files_present() -> None:
    assert len(INCLUSION) >= 90 and len(CONSISTENCY) >= 80, f"vectors missing under {MERKLE}"


@pytest.mark.parametrize("path", INCLUSION, ids=_id)
def test_inclusion_vector(path: Path) -> None:
    c = _load(path)
    args = (c["leafHash"], c["leafIdx"], c["treeSize"], c["proof"], c["root"])
    if c["wantErr"]:
        with pytest.raises(ProofError):
            verify_inclusion(*args)
    else:
        verify_inclusion(*args)


@pytest.mark.parametrize("path", CONSISTENCY, ids=_id)
def test_consistency_vector(path: Path) -> None:
    c = _load(path)
    args = (c["size1"], c["size2"], c["root1"], c["root2"], c["proof"])
    if c["wantErr"]:
        with pytest.raises(ProofError):
            verify_consistency(*args)
    else:
        verify_consistency(*args)


def test_rfc_roots() -> None:
    assert (
        root([])
        == EMPTY_ROOT
        == bytes.fromhex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    )
    assert [root(RFC_HASHES[:n]) for n in range(1, 9)] == RFC_ROOTS


def _happy(paths: list[Path]) -> list[Path]:
    return [p for p in paths if p.name == "happy-path.json"]


@pytest.mark.parametrize("path", _happy(INCLUSION) + _happy(CONSISTENCY), ids=_id)
def test_happy_vectors_match_our_prover(path: Path) -> None:
    """The vectors' roots and proofs are exactly what our prover makes for the RFC leaves."""
    c = _load(path)
    if "leafIdx" in c:
        assert c["leafHash"] == RFC_HASHES[c["leafIdx"]]
        assert c["root"] == root(RFC_HASHES[: c["treeSize"]])
        assert c["proof"] == inclusion_proof(RFC_HASHES, c["leafIdx"], c["treeSize"])
    else:
        assert c["root1"] == root(RFC_HASHES[: c["size1"]])
        assert c["root2"] == root(RFC_HASHES[: c["size2"]])
        assert c["proof"] == consistency_proof(RFC_HASHES, c["size1"], c["size2"])


LEAVES = [leaf_hash(i.to_bytes(4, "big")) for i in range(64)]
ROOTS = [root(LEAVES[:n]) for n in range(65)]


@pytest.mark.parametrize("size", range(1, 65))
def test_own_inclusion_proofs(size: int) -> None:
    for index in range(size):
        proof = inclusion_proof(LEAVES, index, size)
        verify_inclusion(LEAVES[index], index, size, proof, ROOTS[size])
        if size > 1:  # the same proof must not vouch for a neighbouring leaf
            other = (index + 1) % size
            with pytest.raises(ProofError):
                verify_inclusion(LEAVES[other], index, size, proof, ROOTS[size])


@pytest.mark.parametrize("new", range(65))
def test_own_consistency_proofs(new: int) -> None:
    for old in range(new + 1):
        proof = consistency_proof(LEAVES, old, new)
        verify_consistency(old, new, ROOTS[old], ROOTS[new], proof)
        if 0 < old < new:
            with pytest.raises(ProofError):
                verify_consistency(old, new, ROOTS[old - 1], ROOTS[new], proof)


def test_prover_rejects_bad_ranges() -> None:
    for call in (
        lambda: inclusion_proof(LEAVES, 3, 3),
        lambda: inclusion_proof(LEAVES, -1, 3),
        lambda: inclusion_proof(LEAVES, 0, 65),
        lambda: consistency_proof(LEAVES, 5, 4),
        lambda: consistency_proof(LEAVES, 1, 65),
    ):
        with pytest.raises(ProofError):
            call()


def _code(call: Any) -> str:
    with pytest.raises(ProofError) as info:
        call()
    return info.value.code


def test_error_codes() -> None:
    p = inclusion_proof(LEAVES, 5, 8)
    assert _code(lambda: verify_inclusion(LEAVES[5], 8, 8, p, ROOTS[8])) == (
        "registry.proof_bad_index"
    )
    assert _code(lambda: verify_inclusion(LEAVES[5], -1, 8, p, ROOTS[8])) == (
        "registry.proof_bad_index"
    )
    assert _code(lambda: verify_inclusion(LEAVES[5], 5, 8, p[:2], ROOTS[8])) == (
        "registry.proof_wrong_length"
    )
    assert _code(lambda: verify_inclusion(LEAVES[4], 5, 8, p, ROOTS[8])) == (
        "registry.proof_root_mismatch"
    )
    assert _code(lambda: verify_inclusion(b"short", 5, 8, p, ROOTS[8])) == (
        "registry.proof_bad_hash_length"
    )
    assert _code(lambda: verify_consistency(5, 4, ROOTS[5], ROOTS[4], [])) == (
        "registry.proof_bad_size"
    )
    assert _code(lambda: verify_consistency(4, 4, ROOTS[4], ROOTS[4], [ROOTS[4]])) == (
        "registry.proof_wrong_length"
    )
    assert _code(lambda: verify_consistency(4, 4, ROOTS[4], ROOTS[5], [])) == (
        "registry.proof_root_mismatch"
    )
    assert _code(lambda: verify_consistency(0, 4, ROOTS[1], ROOTS[4], [])) == (
        "registry.proof_root_mismatch"
    )
    assert _code(lambda: verify_consistency(0, 4, EMPTY_ROOT, ROOTS[4], [ROOTS[4]])) == (
        "registry.proof_wrong_length"
    )
    verify_consistency(0, 4, EMPTY_ROOT, ROOTS[4], [])
    assert issubclass(ProofError, RegistryError) and issubclass(RegistryError, SsiError)
    assert ProofError("x").code == "registry.invalid_proof"
    assert RegistryError("x").code == "registry.error"


def test_compact_range_matches_root() -> None:
    hashes = [leaf_hash(i.to_bytes(2, "big")) for i in range(300)]
    cr = CompactRange()
    assert cr.root() == EMPTY_ROOT
    for n, h in enumerate(hashes, start=1):
        cr.append(h)
        assert cr.size == n
        assert len(cr.frontier) == n.bit_count()
        assert cr.root() == root(hashes[:n]), n
        restored = CompactRange.from_frontier(cr.size, cr.frontier)
        assert restored.root() == cr.root()


def test_compact_range_rejects_bad_input() -> None:
    with pytest.raises(RegistryError):
        CompactRange.from_frontier(3, [LEAVES[0]])
    with pytest.raises(RegistryError):
        CompactRange.from_frontier(1, [b"short"])
    with pytest.raises(RegistryError):
        CompactRange().append(b"short")


def test_node_hash_domain_separation() -> None:
    a, b = LEAVES[0], LEAVES[1]
    assert node_hash(a, b) == root([a, b]) != leaf_hash(a + b)


@st.composite
def _inclusion_case(draw: st.DrawFn) -> tuple[int, int, list[bytes]]:
    size = draw(st.integers(2, 64))
    index = draw(st.integers(0, size - 1))
    return index, size, inclusion_proof(LEAVES, index, size)


@st.composite
def _consistency_case(draw: st.DrawFn) -> tuple[int, int, list[bytes]]:
    new = draw(st.integers(3, 64))
    old = draw(st.integers(1, new - 1))
    return old, new, consistency_proof(LEAVES, old, new)


def _tamper(draw: Callable[[st.SearchStrategy[Any]], Any], proof: list[bytes]) -> list[bytes]:
    how = draw(st.sampled_from(["flip", "drop", "add"]))
    proof = list(proof)
    if how == "flip":
        i = draw(st.integers(0, len(proof) - 1))
        bit = draw(st.integers(0, 8 * 32 - 1))
        item = bytearray(proof[i])
        item[bit // 8] ^= 1 << (bit % 8)
        proof[i] = bytes(item)
    elif how == "drop":
        del proof[draw(st.integers(0, len(proof) - 1))]
    else:
        extra = draw(st.sampled_from(LEAVES + ROOTS + [bytes(32)]))
        proof.insert(draw(st.integers(0, len(proof))), extra)
    return proof


@given(st.data(), _inclusion_case())
def test_tampered_inclusion_fails(data: st.DataObject, case: tuple[int, int, list[bytes]]) -> None:
    index, size, proof = case
    bad = _tamper(data.draw, proof)
    with pytest.raises(ProofError):
        verify_inclusion(LEAVES[index], index, size, bad, ROOTS[size])


@given(st.data(), _consistency_case())
def test_tampered_consistency_fails(
    data: st.DataObject, case: tuple[int, int, list[bytes]]
) -> None:
    old, new, proof = case
    bad = _tamper(data.draw, proof)
    with pytest.raises(ProofError):
        verify_consistency(old, new, ROOTS[old], ROOTS[new], bad)


_junk_hash = st.one_of(st.binary(max_size=40), st.sampled_from(LEAVES), st.integers(), st.none())
_junk_int = st.one_of(st.integers(-5, 70), st.none(), st.text(max_size=2))


@given(_junk_hash, _junk_int, _junk_int, st.lists(_junk_hash, max_size=8), _junk_hash)
def test_verifiers_raise_only_proof_error(h: Any, a: Any, b: Any, proof: Any, r: Any) -> None:
    """Whatever comes off the wire, the verifiers answer with ProofError, never a crash."""
    no_proof: Any = None
    for call in (
        lambda: verify_inclusion(h, a, b, proof, r),
        lambda: verify_consistency(a, b, h, r, proof),
        lambda: verify_inclusion(h, a, b, no_proof, r),
    ):
        with contextlib.suppress(ProofError):  # only ProofError may come out
            call()
