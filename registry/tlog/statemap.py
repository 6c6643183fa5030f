"""The state commitment: an authenticated map from typed registry keys to record hashes.

After each block the node commits to the whole registry state (DID records, accreditations,
verifier registrations, schemas, status-list chunks, governance records, issuance
commitments) with one 32-byte root, and answers "what is the record under this key?" with a
proof against that root: an inclusion proof for a record that exists, a non-inclusion proof
for one that does not. This module is the pure core of that: no I/O, no clock.

**The tree.** A binary sparse Merkle tree over the 2²⁵⁶ positions of SHA-256 key paths, in
its compressed form (as in Diem's Jellyfish tree): a subtree holding no key is the constant
:data:`EMPTY`, a subtree holding exactly one key is that key's leaf hash, whatever its
height, and any other subtree is the node hash of its two halves::

    T(S, d) = EMPTY                                   if S is empty
            = leaf_hash(path, value_hash)             if S = {(path, value_hash)}
            = node_hash(T(S₀, d+1), T(S₁, d+1))       otherwise, split on bit d of the path

The root is ``T(all entries, 0)``: a function of the set of entries alone (not of the order
of updates), and the empty map's root is :data:`EMPTY`. A leaf commits to its whole path, so
a leaf may stand at any depth without a chain of 256 single-child levels above it: with n
keys a path is about log₂ n levels deep, and an update costs that many hashes.

**Hashes.** ``leaf_hash = SHA-256(0x02 ‖ path ‖ value_hash)`` and ``node_hash =
SHA-256(0x03 ‖ left ‖ right)``: prefixes distinct from RFC 6962's 0x00 (leaf) and 0x01
(node), so no state node can be read as a log entry or log node, or the other way round.
``EMPTY`` is 32 zero bytes, which no SHA-256 output is known to be.

**Keys.** :func:`state_key` hashes a typed key, ``SHA-256(kind ‖ 0x00 ‖ part ‖ 0x00 ‖ …)``,
with a fixed set of kinds, each with a fixed arity (see :data:`KINDS`); text parts are UTF-8
without NUL, integer parts decimal, so the encoding is injective.

**Proofs.** :class:`StateProof` lists the siblings met on the way from the root down the
key's path to where the path ends: the key's own leaf (inclusion), an empty subtree, or
another key's leaf whose path shares that prefix (non-inclusion). Empty siblings are left
out and marked by a 256-bit bitmap (bit i set: the sibling at depth i is present), so a proof
holds about log₂ n hashes. The deepest sibling is never empty in the canonical tree (else
the subtree would have collapsed), so the bitmap also fixes the proof's depth.
JSON form (base64url without padding, every member required except ``leaf``)::

    {"bitmap": "<32 bytes>", "siblings": ["<32 bytes>", …],          root to leaf
     "leaf": {"path": "<32 bytes>", "value": "<32 bytes>"}}          non-inclusion only,
                                                                     when a leaf ends the path
"""

from __future__ import annotations

import hashlib
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from registry.errors import ProofError, RegistryError
from ssiwallet.core import strictjson
from ssiwallet.core.b64 import b64u_decode, b64u_encode
from ssiwallet.errors import InputError

__all__ = [
    "EMPTY",
    "HASH_SIZE",
    "KINDS",
    "MAX_PROOF_BYTES",
    "Changes",
    "StateKey",
    "StateMap",
    "StateProof",
    "leaf_hash",
    "node_hash",
    "state_key",
    "value_hash",
    "verify_state_proof",
]

HASH_SIZE = 32
DEPTH = 256
EMPTY = bytes(HASH_SIZE)
"""The hash of an empty subtree at any height, and so the root of the empty map."""

LEAF_PREFIX = b"\x02"
NODE_PREFIX = b"\x03"
MAX_PROOF_BYTES = 1 << 15
"""A JSON proof longer than this is refused unread (a maximal one is about 12 KiB)."""

KINDS: Mapping[str, tuple[type, ...]] = MappingProxyType({
    "did": (str,),  # a DID record with its key history: the DID
    "accreditation": (str,),  # the accreditation id (the granting tx id)
    "verifier": (str,),  # a verifier registration: the verifier's DID
    "schema": (str,),  # the published versions of a credential type: the vct
    "status_chunk": (str, int),  # a status list's fixed-size chunk: list id, chunk index
    "governance": (str,),  # a governance record: its id
    "commitment": (str,),  # an issuance commitment: its id
})
"""The kinds of state key and the types of their parts, in order."""

MAX_CHUNK_INDEX = (1 << 32) - 1

_sha256 = hashlib.sha256


def leaf_hash(path: bytes, value: bytes) -> bytes:
    """The hash of one entry: ``SHA-256(0x02 ‖ path ‖ value_hash)``."""
    return _sha256(LEAF_PREFIX + path + value).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The hash of an interior node: ``SHA-256(0x03 ‖ left ‖ right)``."""
    return _sha256(NODE_PREFIX + left + right).digest()


def value_hash(record: bytes) -> bytes:
    """The value stored for a record: SHA-256 of its canonical bytes."""
    return _sha256(record).digest()


# --- keys ---------------------------------------------------------------------------------


def _bad_key(detail: str) -> RegistryError:
    return RegistryError(detail, code="registry.bad_state_key")


@dataclass(frozen=True, slots=True)
class StateKey:
    """A typed registry key and its 32-byte path in the tree."""

    kind: str
    parts: tuple[str | int, ...]
    path: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", _sha256(self.preimage).digest())

    @property
    def preimage(self) -> bytes:
        """``kind ‖ 0x00 ‖ part ‖ 0x00 ‖ …``: what the path is the SHA-256 of."""
        types = KINDS.get(self.kind) if isinstance(self.kind, str) else None
        if types is None:
            raise _bad_key(f"unknown state key kind {self.kind!r}")
        if not isinstance(self.parts, tuple) or len(self.parts) != len(types):
            raise _bad_key(f"a {self.kind} key has {len(types)} part(s)")
        encoded = [self.kind.encode("ascii")]
        for part, kind in zip(self.parts, types, strict=True):
            if kind is int:
                if type(part) is not int or not 0 <= part <= MAX_CHUNK_INDEX:
                    raise _bad_key(f"a {self.kind} key needs an index in [0, 2³²)")
                encoded.append(str(part).encode("ascii"))
            else:
                if type(part) is not str or not part or "\x00" in part:
                    raise _bad_key(f"a {self.kind} key needs non-empty text without NUL")
                try:
                    encoded.append(part.encode("utf-8"))
                except UnicodeEncodeError:
                    raise _bad_key(f"a {self.kind} key part is not valid Unicode") from None
        return b"\x00".join(encoded)


def state_key(kind: str, *parts: str | int) -> StateKey:
    """The key of a record, e.g. ``state_key("did", did)`` or
    ``state_key("status_chunk", list_id, 3)``; raises ``registry.bad_state_key``."""
    return StateKey(kind, parts)


Changes = (Mapping[StateKey, bytes | None] | Mapping[bytes, bytes | None]
           | Mapping[StateKey | bytes, bytes | None]
           | Iterable[tuple[StateKey | bytes, bytes | None]])
"""What :meth:`StateMap.apply` takes: key → value hash, or None to delete."""


def _path(key: StateKey | bytes) -> bytes:
    if isinstance(key, StateKey):
        return key.path
    if type(key) is not bytes or len(key) != HASH_SIZE:
        raise _bad_key("a state key path is 32 bytes")
    return key


def _check_value(value: bytes) -> bytes:
    if type(value) is not bytes or len(value) != HASH_SIZE:
        raise RegistryError("a state value hash is 32 bytes", code="registry.bad_state_value")
    return value


# --- the tree -----------------------------------------------------------------------------
# Nodes are immutable once built (an interior node's hash is computed on first use and then
# cached), so a map is copied by sharing its root and an update copies only its path.


class _Leaf:
    __slots__ = ("k", "path", "value", "h")

    def __init__(self, k: int, path: bytes, value: bytes) -> None:
        self.k = k  # the path as an integer: bit d of the path is bit 255 - d of k
        self.path = path
        self.value = value
        self.h: bytes | None = _sha256(LEAF_PREFIX + path + value).digest()


class _Node:
    __slots__ = ("left", "right", "h")

    def __init__(self, left: _Tree, right: _Tree) -> None:
        self.left = left
        self.right = right
        self.h: bytes | None = None


_Tree = _Leaf | _Node | None


def _hash(n: _Tree) -> bytes:
    if n is None:
        return EMPTY
    h = n.h
    if h is None:  # an interior node built since the last root: hash its new children first
        assert isinstance(n, _Node)
        left, right = n.left, n.right
        h = n.h = _sha256(
            NODE_PREFIX + (EMPTY if left is None else left.h or _hash(left))
            + (EMPTY if right is None else right.h or _hash(right))).digest()
    return h


def _make(left: _Tree, right: _Tree) -> _Tree:
    """The subtree with these halves, collapsed when it holds at most one key."""
    if left is None and (right is None or isinstance(right, _Leaf)):
        return right
    if right is None and isinstance(left, _Leaf):
        return left
    return _Node(left, right)


def _join(a: _Leaf, b: _Leaf, depth: int) -> _Node:
    """The subtree at ``depth`` holding two leaves whose paths agree above ``depth``."""
    first = DEPTH - (a.k ^ b.k).bit_length()  # the first bit where the paths differ
    node = _Node(b, a) if (a.k >> (255 - first)) & 1 else _Node(a, b)
    for d in range(first - 1, depth - 1, -1):
        node = _Node(None, node) if (a.k >> (255 - d)) & 1 else _Node(node, None)
    return node


def _update(node: _Tree, depth: int, k: int, path: bytes, value: bytes | None,
            count: list[int]) -> _Tree:
    """``node`` (at ``depth``) with one key set to ``value`` or removed (None)."""
    stack: list[_Node] = []
    n = node
    d = depth
    while isinstance(n, _Node):
        stack.append(n)
        n = n.right if (k >> (255 - d)) & 1 else n.left
        d += 1
    new: _Tree
    if n is None:
        if value is None:
            return node
        new = _Leaf(k, path, value)
        count[0] += 1
    elif n.k == k:
        if value is None:
            new = None
            count[0] -= 1
        elif n.value == value:
            return node
        else:
            new = _Leaf(k, path, value)
    else:
        if value is None:
            return node
        new = _join(n, _Leaf(k, path, value), d)
        count[0] += 1
    for i in range(len(stack) - 1, -1, -1):
        parent = stack[i]
        if (k >> (255 - depth - i)) & 1:
            new = _make(parent.left, new)
        else:
            new = _make(new, parent.right)
    return new


def _apply(node: _Tree, depth: int, ks: list[int], entries: list[tuple[bytes, bytes | None]],
           lo: int, hi: int, count: list[int]) -> _Tree:
    """``node`` with the sorted changes ``[lo, hi)``, all below it, applied at once: every
    node above the changed leaves is rebuilt (and later hashed) once per batch."""
    if hi - lo == 1:
        return _update(node, depth, ks[lo], entries[lo][0], entries[lo][1], count)
    left: _Tree
    right: _Tree
    if isinstance(node, _Node):
        left, right = node.left, node.right
    elif node is None:
        left = right = None
    elif (node.k >> (255 - depth)) & 1:  # a leaf: push it one level down
        left, right = None, node
    else:
        left, right = node, None
    shift = 255 - depth
    mid = bisect_left(ks, ((ks[lo] >> shift) | 1) << shift, lo, hi)  # first with bit 1
    new_left = _apply(left, depth + 1, ks, entries, lo, mid, count) if mid > lo else left
    new_right = _apply(right, depth + 1, ks, entries, mid, hi, count) if hi > mid else right
    if isinstance(node, _Node) and new_left is left and new_right is right:
        return node
    return _make(new_left, new_right)


def _leaves(n: _Tree) -> Iterator[_Leaf]:
    stack = [n]
    while stack:
        top = stack.pop()
        if isinstance(top, _Node):
            stack.append(top.right)
            stack.append(top.left)
        elif top is not None:
            yield top


class StateMap:
    """The registry state as an authenticated map: key path → value hash.

    Updates are O(log n) hashes (computed when :meth:`root` or :meth:`prove` asks);
    :meth:`copy` is O(1), so a node can keep the last block's map while it builds the next.
    """

    __slots__ = ("_root", "_count")

    def __init__(self, entries: Changes = ()) -> None:
        self._root: _Tree = None
        self._count = [0]
        if entries:
            self.apply(entries)

    def __len__(self) -> int:
        return self._count[0]

    def __contains__(self, key: StateKey | bytes) -> bool:
        return self.get(key) is not None

    def get(self, key: StateKey | bytes) -> bytes | None:
        """The value hash under ``key``, or None."""
        path = _path(key)
        k = int.from_bytes(path, "big")
        n = self._root
        d = 0
        while isinstance(n, _Node):
            n = n.right if (k >> (255 - d)) & 1 else n.left
            d += 1
        return n.value if n is not None and n.k == k else None

    def items(self) -> Iterator[tuple[bytes, bytes]]:
        """Every (path, value hash), in path order."""
        return ((leaf.path, leaf.value) for leaf in _leaves(self._root))

    def set(self, key: StateKey | bytes, value: bytes) -> None:
        """Store ``value`` (a 32-byte hash) under ``key``."""
        path = _path(key)
        self._root = _update(self._root, 0, int.from_bytes(path, "big"), path,
                             _check_value(value), self._count)

    def delete(self, key: StateKey | bytes) -> None:
        """Remove ``key``; removing an absent key changes nothing."""
        path = _path(key)
        self._root = _update(self._root, 0, int.from_bytes(path, "big"), path, None,
                             self._count)

    def apply(self, changes: Changes) -> None:
        """Set (a value hash) or delete (None) many keys at once, e.g. one block's changes.

        The result does not depend on the order of ``changes``; naming a key twice is an
        error (``registry.bad_state_key``), since its outcome would.
        """
        pairs: Iterable[tuple[StateKey | bytes, bytes | None]] = (
            changes.items() if isinstance(changes, Mapping) else changes)
        merged: dict[int, tuple[bytes, bytes | None]] = {}
        for key, value in pairs:
            path = _path(key)
            k = int.from_bytes(path, "big")
            if k in merged:
                raise _bad_key("a batch of state changes names a key twice")
            merged[k] = (path, None if value is None else _check_value(value))
        if not merged:
            return
        ks = sorted(merged)
        entries = [merged[k] for k in ks]
        self._root = _apply(self._root, 0, ks, entries, 0, len(ks), self._count)

    def root(self) -> bytes:
        """The 32-byte root (:data:`EMPTY` for the empty map)."""
        return _hash(self._root)

    def copy(self) -> StateMap:
        """An independent map with the same entries, in O(1) (the nodes are shared)."""
        other = StateMap.__new__(StateMap)
        other._root = self._root
        other._count = [self._count[0]]
        return other

    def prove(self, key: StateKey | bytes) -> StateProof:
        """A proof of the value under ``key`` against :meth:`root`, or of its absence."""
        path = _path(key)
        k = int.from_bytes(path, "big")
        n = self._root
        d = 0
        bitmap = 0
        siblings: list[bytes] = []
        while isinstance(n, _Node):
            if (k >> (255 - d)) & 1:
                sibling, n = n.left, n.right
            else:
                sibling, n = n.right, n.left
            if sibling is not None:
                bitmap |= 1 << (255 - d)
                siblings.append(_hash(sibling))
            d += 1
        leaf = (n.path, n.value) if n is not None and n.k != k else None
        return StateProof(bitmap.to_bytes(HASH_SIZE, "big"), tuple(siblings), leaf)


# --- proofs -------------------------------------------------------------------------------


def _malformed(detail: str) -> ProofError:
    return ProofError(detail, code="registry.malformed_proof")


def _is_hash(value: object) -> bool:
    return type(value) is bytes and len(value) == HASH_SIZE


@dataclass(frozen=True, slots=True)
class StateProof:
    """A path from the root to where a key's path ends (see the module docstring).

    Attributes:
        bitmap: 32 bytes; bit i (most significant bit of byte 0 is bit 0) is set when the
            sibling at depth i is not empty.
        siblings: the non-empty siblings, from the root down, one per set bit.
        leaf: for non-inclusion only, the (path, value hash) of another key's leaf that ends
            the key's path; None when the path ends at the key's own leaf or at nothing.

    Built only in canonical form: a wrong length, a sibling count that is not the number of
    set bits, or an empty sibling given explicitly is ``registry.malformed_proof``.
    """

    bitmap: bytes
    siblings: tuple[bytes, ...]
    leaf: tuple[bytes, bytes] | None = None

    def __post_init__(self) -> None:
        if not _is_hash(self.bitmap):
            raise _malformed("a state proof's bitmap is 32 bytes")
        if not isinstance(self.siblings, tuple):
            raise _malformed("a state proof's siblings are a tuple")
        if len(self.siblings) != int.from_bytes(self.bitmap, "big").bit_count():
            raise _malformed("a state proof has one sibling per set bit of its bitmap")
        for sibling in self.siblings:
            if not _is_hash(sibling):
                raise _malformed("a state proof's siblings are 32 bytes each")
            if sibling == EMPTY:
                raise _malformed("an empty sibling is marked by the bitmap, not listed")
        if self.leaf is not None and not (
                isinstance(self.leaf, tuple) and len(self.leaf) == 2
                and _is_hash(self.leaf[0]) and _is_hash(self.leaf[1])):
            raise _malformed("a state proof's leaf is a 32-byte path and value hash")

    @property
    def depth(self) -> int:
        """How many levels the key's path descends: one past the deepest set bit."""
        bits = int.from_bytes(self.bitmap, "big")
        return 0 if bits == 0 else DEPTH + 1 - (bits & -bits).bit_length()

    def to_json(self) -> dict[str, Any]:
        obj: dict[str, Any] = {"bitmap": b64u_encode(self.bitmap),
                               "siblings": [b64u_encode(s) for s in self.siblings]}
        if self.leaf is not None:
            obj["leaf"] = {"path": b64u_encode(self.leaf[0]),
                           "value": b64u_encode(self.leaf[1])}
        return obj

    @classmethod
    def from_json(cls, data: object) -> StateProof:
        """Parse a proof strictly: JSON text or an already parsed object. Anything but the
        exact shape above is ``registry.malformed_proof``."""
        try:
            if isinstance(data, str | bytes):
                data = strictjson.loads_object(data, what="state proof",
                                               max_bytes=MAX_PROOF_BYTES)
            if not isinstance(data, dict):
                raise _malformed("a state proof is a JSON object")
            names = set(data)
            if not {"bitmap", "siblings"} <= names <= {"bitmap", "siblings", "leaf"}:
                raise _malformed("a state proof has bitmap, siblings and maybe leaf")
            bitmap = b64u_decode(data["bitmap"], what="bitmap")
            siblings = data["siblings"]
            if not isinstance(siblings, list) or len(siblings) > DEPTH:
                raise _malformed("a state proof's siblings are a list of at most 256")
            decoded = tuple(b64u_decode(s, what="sibling") for s in siblings)
            leaf = None
            if "leaf" in data:
                obj = data["leaf"]
                if not isinstance(obj, dict) or set(obj) != {"path", "value"}:
                    raise _malformed("a state proof's leaf has a path and a value")
                leaf = (b64u_decode(obj["path"], what="leaf path"),
                        b64u_decode(obj["value"], what="leaf value"))
        except InputError as exc:
            raise _malformed(f"malformed state proof: {exc.detail}") from None
        return cls(bitmap, decoded, leaf)


def verify_state_proof(root: bytes, key: StateKey | bytes, value: bytes | None,
                       proof: StateProof) -> None:
    """Check that under ``root`` the map holds ``value`` at ``key`` (None: holds nothing).

    Pure; returns nothing and raises ``ProofError`` with a code:
    ``registry.proof_bad_hash_length`` (root, value or path not 32 bytes),
    ``registry.proof_wrong_leaf`` (an inclusion proof naming another leaf, or a
    non-inclusion proof whose leaf is the key itself or is off the key's path) and
    ``registry.proof_root_mismatch``.
    """
    if not _is_hash(root) or (value is not None and not _is_hash(value)):
        raise ProofError("roots and value hashes are 32 bytes",
                         code="registry.proof_bad_hash_length")
    if not isinstance(key, StateKey) and not _is_hash(key):
        raise ProofError("a state key path is 32 bytes", code="registry.proof_bad_hash_length")
    if not isinstance(proof, StateProof):
        raise _malformed("not a state proof")
    path = _path(key)
    k = int.from_bytes(path, "big")
    depth = proof.depth
    if value is not None:
        if proof.leaf is not None:
            raise ProofError("an inclusion proof ends at the key's own leaf",
                             code="registry.proof_wrong_leaf")
        h = leaf_hash(path, value)
    elif proof.leaf is None:
        h = EMPTY
    else:
        other_path, other_value = proof.leaf
        other = int.from_bytes(other_path, "big")
        if other == k:
            raise ProofError("the proof shows the key present",
                             code="registry.proof_wrong_leaf")
        if depth and (other ^ k) >> (DEPTH - depth):
            raise ProofError("the proof's leaf is not on the key's path",
                             code="registry.proof_wrong_leaf")
        h = leaf_hash(other_path, other_value)
    bits = int.from_bytes(proof.bitmap, "big")
    siblings = proof.siblings
    j = len(siblings)
    for d in range(depth - 1, -1, -1):
        shift = 255 - d
        if (bits >> shift) & 1:
            j -= 1
            sibling = siblings[j]
        else:
            sibling = EMPTY
        if (k >> shift) & 1:
            h = _sha256(NODE_PREFIX + sibling + h).digest()
        else:
            h = _sha256(NODE_PREFIX + h + sibling).digest()
    if h != root:
        raise ProofError("the state proof does not lead to the root",
                         code="registry.proof_root_mismatch")
