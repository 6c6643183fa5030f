"""Proof bundles: one registry record proven, offline, against a witness-cosigned checkpoint.

A bundle carries a record (or its absence), the record's proof to a state root, the block
header that holds that root, the header's RFC 6962 inclusion proof as the last leaf of the
log, and the log's checkpoint with the witnesses' cosignatures. Whoever holds the log's
public key, the witness keys and a quorum can check it with no network, whichever node,
mirror, wallet or kiosk handed it over. Pure: no I/O; ``now`` is a parameter.

**Format** (version 1; JSON, hashes base64url without padding)::

    {"v": 1,
     "key": {"kind": "status_chunk", "parts": ["<list id>", 3]},      a typed state key
     "record": {…} | null,                        the record as committed; null = absent
     "state_proof": {"bitmap", "siblings", "leaf"?},      StateProof.to_json()
     "header": {…, "state_root": "<64 hex>", …},  the block header, a JSON object
     "header_proof": {"index": n - 1, "size": n, "hashes": ["<32 bytes>", …]},
     "checkpoint": "<C2SP signed note: checkpoint, log signature, cosignatures>"}

**The header leaf.** The header is hashed as its RFC 8785 (JCS) bytes; in the log it is the
entry ``keten/header/v1\\n ‖ JCS(header)``, an RFC 6962 leaf like any other
(``SHA-256(0x00 ‖ entry)``, :func:`header_leaf_hash`). Transaction entries are JCS objects
and start with ``{``, so no transaction can stand for a header, nor a header for a
transaction, and the state map's 0x02/0x03 prefixes keep its nodes apart from both. The
header is opaque here except for ``state_root`` (64 lowercase hex digits), which it must
hold: the node is to append such a header as the last leaf of every block, so the
checkpoint of a block (size n) has the header at index n - 1.

**Checks** (:func:`verify_bundle`): the checkpoint is signed by the log key, cosigned by at
least ``quorum`` of the trusted witnesses and fresh (``quorum`` cosignatures no older than
``max_age`` at ``now``), by :func:`registry.tlog.checkpoint.verify_checkpoint`, the same
function the registry client uses; optionally its size is at least ``min_size`` (a bundle
older than a checkpoint the verifier holds is refused); the header is leaf ``size - 1`` of
the checkpoint's tree; the record (or its absence) is proven under the header's
``state_root`` by :func:`registry.ledger.commitment.verify_record`.

Codes: ``registry.malformed_bundle`` (parsing), the checkpoint's (``registry.bad_note``,
``registry.bad_signature``, ``registry.unknown_key``, ``registry.bad_checkpoint``,
``registry.witness_quorum``, ``registry.checkpoint_stale``), ``registry.bundle_too_old``,
``registry.bundle_wrong_key``, ``registry.header_not_in_log``, and the record's
(``registry.malformed_record``, ``registry.record_key_mismatch``,
``registry.proof_root_mismatch``, ``registry.proof_wrong_leaf``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import rfc8785

from registry.errors import ProofError, RegistryError
from registry.ledger.commitment import verify_record
from registry.tlog.checkpoint import (
    MAX_TREE_SIZE,
    Checkpoint,
    CosignatureVerifier,
    verify_checkpoint,
)
from registry.tlog.merkle import leaf_hash, verify_inclusion
from registry.tlog.note import Verifier, parse_note
from registry.tlog.statemap import KINDS, StateKey, StateProof
from ssiwallet.core import strictjson
from ssiwallet.core.b64 import b64u_decode, b64u_encode
from ssiwallet.errors import SsiError

__all__ = [
    "BUNDLE_VERSION",
    "HEADER_LEAF_DOMAIN",
    "MAX_BUNDLE_BYTES",
    "MAX_CHECKPOINT_BYTES",
    "MAX_HEADER_BYTES",
    "Bundle",
    "BundleError",
    "VerifiedRecord",
    "header_bytes",
    "header_leaf_hash",
    "parse_bundle",
    "verify_bundle",
]

BUNDLE_VERSION = 1
HEADER_LEAF_DOMAIN = b"keten/header/v1\n"
"""What a header's log entry starts with, before the header's JCS bytes."""
MAX_BUNDLE_BYTES = 4 << 20
"""A bundle's JSON text is at most this long (a schema record with many versions is the
largest record; every other bundle is a few KiB)."""
MAX_HEADER_BYTES = 16 << 10
MAX_CHECKPOINT_BYTES = 64 << 10
MAX_HEADER_PROOF = 64
_MEMBERS = frozenset({"v", "key", "record", "state_proof", "header", "header_proof",
                      "checkpoint"})
_HEX_ROOT = re.compile(r"[0-9a-f]{64}")


class BundleError(RegistryError):
    """A bundle that is not exactly of the documented shape."""

    code = "registry.malformed_bundle"


def header_bytes(header: Mapping[str, Any]) -> bytes:
    """A header's canonical (RFC 8785) bytes: what its leaf hashes and its size counts."""
    try:
        return bytes(rfc8785.dumps(header))
    except (rfc8785.CanonicalizationError, TypeError, ValueError, UnicodeEncodeError,
            RecursionError) as exc:
        raise BundleError(f"the header has no canonical (JCS) form: {exc}") from None


def header_leaf_hash(data: bytes) -> bytes:
    """The log leaf hash of a header: ``SHA-256(0x00 ‖ "keten/header/v1\\n" ‖ data)``."""
    return leaf_hash(HEADER_LEAF_DOMAIN + data)


@dataclass(frozen=True, slots=True)
class Bundle:
    """A parsed bundle (see the module docstring); build one to serve with :meth:`to_json`."""

    key: StateKey
    record: Mapping[str, Any] | None
    state_proof: StateProof
    header: Mapping[str, Any]
    header_proof: tuple[bytes, ...]
    size: int
    checkpoint: str

    @property
    def header_data(self) -> bytes:
        return header_bytes(self.header)

    @property
    def state_root(self) -> bytes:
        return bytes.fromhex(self.header["state_root"])

    def to_json(self) -> dict[str, Any]:
        return {"v": BUNDLE_VERSION,
                "key": {"kind": self.key.kind, "parts": list(self.key.parts)},
                "record": None if self.record is None else dict(self.record),
                "state_proof": self.state_proof.to_json(), "header": dict(self.header),
                "header_proof": {"index": self.size - 1, "size": self.size,
                                 "hashes": [b64u_encode(h) for h in self.header_proof]},
                "checkpoint": self.checkpoint}

    def dumps(self) -> bytes:
        """The bundle as compact JSON text (UTF-8)."""
        return strictjson.dumps(self.to_json()).encode("utf-8")


def _bad(detail: str) -> BundleError:
    return BundleError(detail)


def _is_int(value: object) -> bool:
    return type(value) is int


def _key(obj: object) -> StateKey:
    if not isinstance(obj, dict) or set(obj) != {"kind", "parts"}:
        raise _bad("a bundle's key has exactly kind and parts")
    kind, parts = obj["kind"], obj["parts"]
    if not isinstance(kind, str) or kind not in KINDS:
        raise _bad("a bundle's key has a known kind")
    if not isinstance(parts, list) or len(parts) != len(KINDS[kind]):
        raise _bad(f"a {kind} key has {len(KINDS[kind])} part(s)")
    try:
        return StateKey(kind, tuple(parts))
    except RegistryError as exc:
        raise _bad(f"a bundle's key: {exc.detail}") from None


def _header(obj: object) -> Mapping[str, Any]:
    if not isinstance(obj, dict):
        raise _bad("a bundle's header is a JSON object")
    root = obj.get("state_root")
    if not isinstance(root, str) or not _HEX_ROOT.fullmatch(root):
        raise _bad("a bundle's header has a state_root of 64 lowercase hex digits")
    if len(header_bytes(obj)) > MAX_HEADER_BYTES:
        raise _bad(f"a bundle's header is at most {MAX_HEADER_BYTES} bytes")
    return obj


def _header_proof(obj: object) -> tuple[int, tuple[bytes, ...]]:
    if not isinstance(obj, dict) or set(obj) != {"index", "size", "hashes"}:
        raise _bad("a header proof has exactly index, size and hashes")
    index, size, hashes = obj["index"], obj["size"], obj["hashes"]
    if not _is_int(size) or not 1 <= size <= MAX_TREE_SIZE:
        raise _bad("a header proof's size is an integer in [1, 2^64)")
    if not _is_int(index) or index != size - 1:
        raise _bad("a header proof's index is its size - 1: the header is the last leaf")
    if not isinstance(hashes, list) or len(hashes) > MAX_HEADER_PROOF:
        raise _bad(f"a header proof's hashes are a list of at most {MAX_HEADER_PROOF}")
    decoded = tuple(b64u_decode(h, what="header proof hash") for h in hashes)
    if any(len(h) != 32 for h in decoded):
        raise _bad("a header proof's hashes are 32 bytes each")
    return size, decoded


def _checkpoint(obj: object) -> str:
    if not isinstance(obj, str):
        raise _bad("a bundle's checkpoint is the note text")
    if len(obj) > MAX_CHECKPOINT_BYTES or len(obj.encode("utf-8", "surrogatepass")
                                              ) > MAX_CHECKPOINT_BYTES:
        raise _bad(f"a bundle's checkpoint is at most {MAX_CHECKPOINT_BYTES} bytes")
    try:
        text, _ = parse_note(obj)
        Checkpoint.parse(text)
    except RegistryError as exc:
        raise _bad(f"a bundle's checkpoint: {exc.detail}") from None
    return obj


def parse_bundle(data: bytes | str | Mapping[str, Any]) -> Bundle:
    """Parse a bundle strictly: JSON text (at most :data:`MAX_BUNDLE_BYTES`) or a parsed
    object. Exact members, version 1, a known key, a state proof in canonical form, a header
    with a hex ``state_root``, a header proof for the last leaf, a note holding a
    checkpoint; anything else is ``registry.malformed_bundle``. Nothing is verified."""
    try:
        if isinstance(data, str | bytes):
            obj: Any = strictjson.loads_object(data, what="proof bundle",
                                               max_bytes=MAX_BUNDLE_BYTES)
        elif isinstance(data, Mapping):
            obj = dict(data)
            if len(strictjson.dumps(obj).encode("utf-8")) > MAX_BUNDLE_BYTES:
                raise _bad(f"a bundle is at most {MAX_BUNDLE_BYTES} bytes")
        else:
            raise _bad("a bundle is JSON text or a JSON object")
        if set(obj) != _MEMBERS:
            raise _bad("a bundle has exactly v, key, record, state_proof, header, "
                       "header_proof and checkpoint")
        if not _is_int(obj["v"]) or obj["v"] != BUNDLE_VERSION:
            raise _bad(f"a bundle has \"v\": {BUNDLE_VERSION}")
        key = _key(obj["key"])
        record = obj["record"]
        if record is not None and not isinstance(record, dict):
            raise _bad("a bundle's record is a JSON object or null")
        proof = StateProof.from_json(obj["state_proof"])
        header = _header(obj["header"])
        size, hashes = _header_proof(obj["header_proof"])
        checkpoint = _checkpoint(obj["checkpoint"])
    except BundleError:
        raise
    except (SsiError, TypeError, ValueError, RecursionError) as exc:
        detail = exc.detail if isinstance(exc, SsiError) else str(exc)
        raise _bad(f"malformed proof bundle: {detail}") from None
    return Bundle(key, record, proof, header, hashes, size, checkpoint)


@dataclass(frozen=True, slots=True)
class VerifiedRecord:
    """What a bundle proved.

    Attributes:
        key: the state key.
        record: the record under it as of the checkpoint, or None: no such record then.
        state_root: the state root the record was proven under.
        header: the block header that carries the root (leaf ``checkpoint.size - 1``).
        checkpoint: the checkpoint (origin, tree size, root) the header is proven in.
        cosigned: each trusted witness that cosigned it and its newest timestamp.
        fresh_at: the quorum-th newest cosignature time (the newest one with quorum 0):
            the verifier knows the record was current at least until then.
    """

    key: StateKey
    record: Mapping[str, Any] | None
    state_root: bytes
    header: Mapping[str, Any]
    checkpoint: Checkpoint
    cosigned: Mapping[str, int]
    fresh_at: int

    @property
    def present(self) -> bool:
        return self.record is not None


def verify_bundle(bundle: Bundle | bytes | str | Mapping[str, Any], *, log_verifier: Verifier,
                  witnesses: Sequence[CosignatureVerifier], quorum: int, now: int,
                  max_age: int, min_size: int | None = None, origin: str | None = None,
                  key: StateKey | None = None) -> VerifiedRecord:
    """Verify a bundle against a trust policy and return what it proves (pure).

    Args:
        bundle: a parsed :class:`Bundle`, or its JSON (parsed with :func:`parse_bundle`).
        log_verifier: the log's note key (the sequencer's, named by the chain id).
        witnesses, quorum: the trusted witness keys and how many must have cosigned.
        now, max_age: the current time and how old the quorum-th newest cosignature may be.
        min_size: refuse a checkpoint smaller than this (the newest one the verifier holds).
        origin: the chain id the checkpoint must name.
        key: the key the verifier asked about; a bundle for another is refused.

    Raises:
        RegistryError: with one of the codes in the module docstring.
    """
    b = bundle if isinstance(bundle, Bundle) else parse_bundle(bundle)
    if key is not None and b.key != key:
        raise RegistryError("the bundle proves another key", code="registry.bundle_wrong_key")
    checkpoint, cosigned = verify_checkpoint(b.checkpoint, log_verifier, witnesses, quorum,
                                             now, max_age, origin=origin)
    if min_size is not None and checkpoint.size < min_size:
        raise RegistryError(f"the bundle's checkpoint (size {checkpoint.size}) is older than "
                            f"the one held (size {min_size})", code="registry.bundle_too_old")
    if b.size != checkpoint.size:
        raise ProofError(f"the header proof is for a tree of {b.size}, the checkpoint's has "
                         f"{checkpoint.size} leaves", code="registry.header_not_in_log")
    try:
        verify_inclusion(header_leaf_hash(b.header_data), b.size - 1, b.size,
                         b.header_proof, checkpoint.root_hash)
    except ProofError as exc:
        raise ProofError(f"the header is not the checkpoint's last leaf: {exc.detail}",
                         code="registry.header_not_in_log") from None
    verify_record(b.state_root, b.key, b.record, b.state_proof)
    # verify_checkpoint has checked that this cosignature exists and is fresh
    fresh_at = sorted(cosigned.values(), reverse=True)[max(quorum, 1) - 1]
    return VerifiedRecord(b.key, b.record, b.state_root, b.header, checkpoint, cosigned,
                          fresh_at)
