"""The state commitment (registry/tlog/statemap.py): a compressed sparse Merkle tree.

The reference is a naive implementation written here from the definition alone: recursion
over the key bits, splitting the entries on bit d at depth d until at most one is left,
with hashlib called directly. The optimised tree (persistent nodes, batches, lazy hashes)
must give the same root for any set of entries, however it got there; every key must prove
present, every other key absent, and any change to a proof, value, key or root is refused.
"""

from __future__ import annotations

import hashlib
import json
import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry.errors import ProofError, RegistryError
from registry.tlog import merkle
from registry.tlog.statemap import (
    EMPTY,
    KINDS,
    StateKey,
    StateMap,
    StateProof,
    leaf_hash,
    node_hash,
    state_key,
    value_hash,
    verify_state_proof,
)
from ssiwallet.core.b64 import b64u_encode

# --- the naive reference ------------------------------------------------------------------


def _bit(path: bytes, i: int) -> int:
    return (path[i // 8] >> (7 - i % 8)) & 1


def naive_root(entries: dict[bytes, bytes]) -> bytes:
    def subtree(items: list[tuple[bytes, bytes]], depth: int) -> bytes:
        if not items:
            return bytes(32)
        if len(items) == 1:
            path, value = items[0]
            return hashlib.sha256(b"\x02" + path + value).digest()
        assert depth < 256
        left = [(p, v) for p, v in items if _bit(p, depth) == 0]
        right = [(p, v) for p, v in items if _bit(p, depth) == 1]
        return hashlib.sha256(
            b"\x03" + subtree(left, depth + 1) + subtree(right, depth + 1)).digest()

    return subtree(sorted(entries.items()), 0)


def _path(bits: str) -> bytes:
    """A path whose first bits are ``bits`` and the rest zero."""
    return int(bits.ljust(256, "0"), 2).to_bytes(32, "big")


def _h(tag: str) -> bytes:
    return hashlib.sha256(tag.encode()).digest()


# --- known answers ------------------------------------------------------------------------


def test_the_empty_map_has_the_zero_root() -> None:
    assert StateMap().root() == EMPTY == bytes(32) == naive_root({})
    assert len(StateMap()) == 0


def test_one_key_is_its_leaf_hash() -> None:
    path, value = _h("k"), _h("v")
    m = StateMap({path: value})
    expected = hashlib.sha256(b"\x02" + path + value).digest()
    assert m.root() == expected == leaf_hash(path, value) == naive_root({path: value})


def test_two_keys_split_on_the_first_bit() -> None:
    a, b = _path("0"), _path("1")
    m = StateMap()
    m.set(b, _h("b"))
    m.set(a, _h("a"))
    expected = hashlib.sha256(b"\x03" + leaf_hash(a, _h("a")) + leaf_hash(b, _h("b"))).digest()
    assert m.root() == expected == naive_root({a: _h("a"), b: _h("b")})


def test_two_keys_sharing_a_prefix_hang_under_empty_siblings() -> None:
    a, b = _path("1010"), _path("1011")  # first differ at bit 3
    m = StateMap({a: _h("a"), b: _h("b")})
    h = node_hash(leaf_hash(a, _h("a")), leaf_hash(b, _h("b")))  # depth 3
    h = node_hash(EMPTY, h)  # bit 2 is 1
    h = node_hash(h, EMPTY)  # bit 1 is 0
    h = node_hash(EMPTY, h)  # bit 0 is 1
    assert m.root() == h == naive_root({a: _h("a"), b: _h("b")})
    proof = m.prove(a)
    assert proof.depth == 4 and proof.siblings == (leaf_hash(b, _h("b")),)
    assert proof.bitmap == _path("0001")


def test_keys_differing_only_in_the_last_bit() -> None:
    a = bytes(32)
    b = bytes(31) + b"\x01"
    m = StateMap({a: _h("a"), b: _h("b")})
    assert m.root() == naive_root({a: _h("a"), b: _h("b")})
    for key in (a, b):
        proof = m.prove(key)
        assert proof.depth == 256 and len(proof.siblings) == 1
        verify_state_proof(m.root(), key, m.get(key), proof)
    c = bytes(31) + b"\x02"
    verify_state_proof(m.root(), c, None, m.prove(c))


def test_hash_prefixes_differ_from_the_log() -> None:
    data = bytes(64)
    assert leaf_hash(data[:32], data[32:]) != merkle.leaf_hash(data)
    assert node_hash(data[:32], data[32:]) != merkle.node_hash(data[:32], data[32:])
    assert leaf_hash(data[:32], data[32:]) != node_hash(data[:32], data[32:])
    assert value_hash(b"record") == hashlib.sha256(b"record").digest()


# --- keys ---------------------------------------------------------------------------------


def test_state_keys_hash_their_typed_preimage() -> None:
    did = "did:keten:z6MkExample"
    assert state_key("did", did).path == hashlib.sha256(b"did\x00" + did.encode()).digest()
    chunk = state_key("status_chunk", "list-1", 12)
    assert chunk.preimage == b"status_chunk\x00list-1\x0012"
    assert state_key("accreditation", "x").path != state_key("verifier", "x").path
    assert state_key("did", "é").preimage == "did\x00é".encode()
    assert state_key("did", did) == StateKey("did", (did,))
    assert set(KINDS) == {"did", "accreditation", "verifier", "schema", "status_chunk",
                          "governance", "commitment"}


@pytest.mark.parametrize("kind, parts", [
    ("nope", ("x",)), ("did", ()), ("did", ("a", "b")), ("did", ("",)), ("did", ("a\x00b",)),
    ("did", (1,)), ("did", ("\ud800",)), ("status_chunk", ("l", "1")),
    ("status_chunk", ("l", -1)), ("status_chunk", ("l", 1 << 32)),
    ("status_chunk", ("l", True)), ("status_chunk", (1, 1)),
])
def test_bad_state_keys_are_refused(kind: str, parts: tuple[Any, ...]) -> None:
    with pytest.raises(RegistryError) as info:
        state_key(kind, *parts)
    assert info.value.code == "registry.bad_state_key"


def test_state_keys_work_as_keys_of_the_map() -> None:
    m = StateMap()
    key = state_key("schema", "urn:keten:vct:diploma:1")
    m.set(key, _h("schema"))
    assert m.get(key) == m.get(key.path) == _h("schema") and key in m
    verify_state_proof(m.root(), key, _h("schema"), m.prove(key))


@pytest.mark.parametrize("call", [
    lambda m: m.set(b"short", bytes(32)),
    lambda m: m.set(bytes(32), b"short"),
    lambda m: m.set(bytes(32), bytearray(32)),
    lambda m: m.get("text"),
    lambda m: m.apply([(bytes(32), bytes(32)), (bytes(32), None)]),
    lambda m: m.apply({bytes(32): 3}),
])
def test_bad_arguments_raise_registry_errors(call: Any) -> None:
    with pytest.raises(RegistryError) as info:
        call(StateMap())
    assert info.value.code in {"registry.bad_state_key", "registry.bad_state_value"}


# --- the tree against the reference -------------------------------------------------------

# Paths drawn at random collide on short prefixes only; half of these are random and half
# flip one bit of a few fixed paths, so subtrees with long shared prefixes (deep chains of
# empty siblings) come up too.
_BASES = [_h(f"base{i}") for i in range(3)]


def _flip(base: bytes, bit: int) -> bytes:
    n = int.from_bytes(base, "big") ^ (1 << (255 - bit))
    return n.to_bytes(32, "big")


paths = st.one_of(
    st.binary(min_size=32, max_size=32),
    st.builds(_flip, st.sampled_from(_BASES), st.integers(0, 255)),
    st.sampled_from(_BASES),
)
values = st.binary(min_size=32, max_size=32)
ops = st.lists(st.tuples(paths, st.one_of(st.none(), values)), max_size=40)


@given(ops)
def test_any_sequence_of_updates_matches_the_reference(steps: list[tuple[bytes, Any]]) -> None:
    m = StateMap()
    model: dict[bytes, bytes] = {}
    for path, value in steps:
        if value is None:
            m.delete(path)
            model.pop(path, None)
        else:
            m.set(path, value)
            model[path] = value
    assert m.root() == naive_root(model)
    assert len(m) == len(model)
    assert dict(m.items()) == model and [p for p, _ in m.items()] == sorted(model)


@given(ops, ops)
def test_a_batch_gives_the_same_root_as_single_updates(first: list[Any],
                                                       second: list[Any]) -> None:
    base = StateMap()
    for path, value in first:
        if value is not None:
            base.set(path, value)
    changes = dict(second)
    single, batch = base.copy(), base.copy()
    before = base.root()
    for path, value in changes.items():
        if value is None:
            single.delete(path)
        else:
            single.set(path, value)
    batch.apply(changes)
    assert batch.root() == single.root() and len(batch) == len(single)
    reordered = base.copy()
    items = list(changes.items())
    random.Random(len(items)).shuffle(items)
    reordered.apply(items)
    assert reordered.root() == batch.root()
    assert base.root() == before  # the copies took nothing from it


@given(st.dictionaries(paths, values, max_size=30), st.lists(paths, max_size=10))
def test_every_key_proves_present_and_others_absent(entries: dict[bytes, bytes],
                                                    probes: list[bytes]) -> None:
    m = StateMap(entries)
    root = m.root()
    assert root == naive_root(entries)
    for path, value in entries.items():
        proof = m.prove(path)
        verify_state_proof(root, path, value, proof)
        assert StateProof.from_json(json.dumps(proof.to_json())) == proof
        with pytest.raises(ProofError):
            verify_state_proof(root, path, None, proof)
        with pytest.raises(ProofError):
            verify_state_proof(root, path, _flip(value, 0), proof)
    for path in probes:
        if path in entries:
            continue
        proof = m.prove(path)
        verify_state_proof(root, path, None, proof)
        assert StateProof.from_json(proof.to_json()) == proof
        with pytest.raises(ProofError):
            verify_state_proof(root, path, _h("any"), proof)


def test_a_proof_is_about_log2_n_hashes() -> None:
    rng = random.Random(7)
    m = StateMap({rng.randbytes(32): rng.randbytes(32) for _ in range(2000)})
    depths = [m.prove(rng.randbytes(32)).depth for _ in range(200)]
    assert max(depths) <= 2 * 11 + 4 and sum(depths) / len(depths) < 14


def test_copies_are_independent_snapshots() -> None:
    m = StateMap({_h(str(i)): _h(f"v{i}") for i in range(100)})
    root = m.root()
    snapshot = m.copy()
    m.set(_h("new"), _h("value"))
    m.delete(_h("3"))
    assert snapshot.root() == root and len(snapshot) == 100 and len(m) == 100
    proof = snapshot.prove(_h("3"))
    verify_state_proof(root, _h("3"), _h("v3"), proof)
    with pytest.raises(ProofError):
        verify_state_proof(m.root(), _h("3"), _h("v3"), proof)


def test_deleting_everything_returns_to_the_empty_root() -> None:
    keys = [_h(str(i)) for i in range(50)]
    m = StateMap(dict.fromkeys(keys, _h("v")))
    m.apply(dict.fromkeys(keys[:25]))
    for key in keys[25:]:
        m.delete(key)
    m.delete(keys[0])  # absent: nothing happens
    assert m.root() == EMPTY and len(m) == 0 and list(m.items()) == []


# --- tampering ----------------------------------------------------------------------------


def _flip_bit(data: bytes, i: int) -> bytes:
    return data[:i // 8] + bytes([data[i // 8] ^ (0x80 >> (i % 8))]) + data[i // 8 + 1:]


def _tampered(proof: StateProof) -> list[StateProof]:
    """Every proof that differs from ``proof`` in one bit of one byte it carries."""
    out: list[StateProof] = []

    def keep(make: Any) -> None:
        try:
            out.append(make())
        except ProofError as exc:  # not even a well-formed proof any more
            assert exc.code == "registry.malformed_proof"

    for i in range(256):
        keep(lambda i=i: StateProof(_flip_bit(proof.bitmap, i), proof.siblings, proof.leaf))
    for j, sibling in enumerate(proof.siblings):
        for i in range(0, 256, 3):
            changed = (*proof.siblings[:j], _flip_bit(sibling, i), *proof.siblings[j + 1:])
            keep(lambda changed=changed: StateProof(proof.bitmap, changed, proof.leaf))
    if proof.leaf is not None:
        path, value = proof.leaf
        for i in range(256):
            keep(lambda i=i: StateProof(proof.bitmap, proof.siblings,
                                        (_flip_bit(path, i), value)))
            keep(lambda i=i: StateProof(proof.bitmap, proof.siblings,
                                        (path, _flip_bit(value, i))))
    return out


@pytest.mark.parametrize("present", [True, False])
def test_changing_any_byte_of_a_proof_value_key_or_root_is_refused(present: bool) -> None:
    rng = random.Random(3)
    entries = {rng.randbytes(32): rng.randbytes(32) for _ in range(300)}
    m = StateMap(entries)
    root = m.root()
    if present:
        key, value = next(iter(entries.items()))
        proofs_value: bytes | None = value
    else:
        key = next(k for k in (rng.randbytes(32) for _ in range(1000))
                   if m.prove(k).leaf is not None)  # absent, ending at another key's leaf
        proofs_value = None
    proof = m.prove(key)
    verify_state_proof(root, key, proofs_value, proof)
    candidates = _tampered(proof)
    assert len(candidates) > 100
    for bad in candidates:
        with pytest.raises(ProofError):
            verify_state_proof(root, key, proofs_value, bad)
    for i in range(256):
        with pytest.raises(ProofError):
            verify_state_proof(_flip_bit(root, i), key, proofs_value, proof)
        if present or i < proof.depth:  # past the depth, another absent key: still true
            with pytest.raises(ProofError):
                verify_state_proof(root, _flip_bit(key, i), proofs_value, proof)
        if proofs_value is not None:
            with pytest.raises(ProofError):
                verify_state_proof(root, key, _flip_bit(proofs_value, i), proof)


def test_a_non_inclusion_proof_cannot_name_the_key_itself() -> None:
    a, b = _path("0"), _path("1")
    m = StateMap({a: _h("a"), b: _h("b")})
    forged = StateProof(m.prove(a).bitmap, m.prove(a).siblings, (a, _h("a")))
    with pytest.raises(ProofError) as info:
        verify_state_proof(m.root(), a, None, forged)
    assert info.value.code == "registry.proof_wrong_leaf"
    with pytest.raises(ProofError) as info:
        verify_state_proof(m.root(), a, _h("a"), forged)
    assert info.value.code == "registry.proof_wrong_leaf"
    off_path = StateProof(m.prove(a).bitmap, m.prove(a).siblings, (_path("11"), _h("x")))
    with pytest.raises(ProofError) as info:
        verify_state_proof(m.root(), _path("01"), None, off_path)
    assert info.value.code == "registry.proof_wrong_leaf"


@pytest.mark.parametrize("root, key, value", [
    (b"short", bytes(32), None), (bytes(32), b"short", None), (bytes(32), bytes(32), b"x"),
])
def test_wrong_lengths_are_refused_before_hashing(root: bytes, key: bytes,
                                                  value: bytes | None) -> None:
    with pytest.raises(ProofError) as info:
        verify_state_proof(root, key, value, StateProof(bytes(32), ()))
    assert info.value.code == "registry.proof_bad_hash_length"


# --- strict parsing -----------------------------------------------------------------------

_GOOD = StateProof(_path("0101"), (_h("s1"), _h("s2")), (_h("p"), _h("v"))).to_json()


def _with(**changes: Any) -> dict[str, Any]:
    obj = json.loads(json.dumps(_GOOD))
    for name, value in changes.items():
        if value is ...:
            del obj[name]
        else:
            obj[name] = value
    return obj


@pytest.mark.parametrize("data", [
    _with(bitmap=...), _with(siblings=...), _with(extra=1), _with(leaf=None),
    _with(bitmap=b64u_encode(bytes(31))), _with(bitmap=b64u_encode(bytes(33))),
    _with(bitmap=b64u_encode(_path("0101")) + "="), _with(bitmap=1),
    _with(siblings=[b64u_encode(_h("s1"))]),  # fewer siblings than set bits
    _with(siblings=[b64u_encode(_h(s)) for s in ("a", "b", "c")]),  # more
    _with(siblings=[b64u_encode(_h("s1")), b64u_encode(EMPTY)]),  # an empty one listed
    _with(siblings=[b64u_encode(_h("s1")), b64u_encode(bytes(31))]),
    _with(siblings=[b64u_encode(_h("s1")), "not base64!"]),
    _with(siblings=[b64u_encode(_h("s1")), None]), _with(siblings="x"),
    _with(siblings=[b64u_encode(_h("s"))] * 257),
    _with(leaf={"path": b64u_encode(_h("p"))}),
    _with(leaf={"path": b64u_encode(_h("p")), "value": b64u_encode(_h("v")), "x": 1}),
    _with(leaf={"path": b64u_encode(_h("p")), "value": b64u_encode(bytes(16))}),
    _with(leaf=[b64u_encode(_h("p")), b64u_encode(_h("v"))]),
    [], "proof", 3, None,
    "{", '{"bitmap": "a", "bitmap": "b", "siblings": []}', b"\xff", "[]", "NaN",
    "x" * 40_000,
])
def test_malformed_proofs_raise_only_our_error(data: Any) -> None:
    with pytest.raises(ProofError) as info:
        StateProof.from_json(data)
    assert info.value.code == "registry.malformed_proof"


def test_a_good_proof_parses_from_text_bytes_and_objects() -> None:
    proof = StateProof.from_json(_GOOD)
    assert StateProof.from_json(json.dumps(_GOOD)) == proof
    assert StateProof.from_json(json.dumps(_GOOD).encode()) == proof
    assert proof.to_json() == _GOOD and proof.depth == 4


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=50),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.sampled_from(["bitmap", "siblings", "leaf", "path", "value", "x"]),
                      inner, max_size=4),
    max_leaves=12)


@settings(max_examples=300)
@given(json_values)
def test_arbitrary_json_gives_a_proof_or_our_error(data: Any) -> None:
    try:
        StateProof.from_json(data)
    except ProofError as exc:
        assert exc.code == "registry.malformed_proof"


@given(st.binary(max_size=200))
def test_arbitrary_bytes_give_a_proof_or_our_error(data: bytes) -> None:
    try:
        StateProof.from_json(data)
    except ProofError as exc:
        assert exc.code == "registry.malformed_proof"
