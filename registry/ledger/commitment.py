"""What the state commitment commits to: one canonical record per state key.

:mod:`registry.tlog.statemap` is an authenticated map from typed keys to 32-byte value
hashes and knows nothing of records. This module says, for the registry's :class:`State`,
which keys exist and what bytes each one's value hash is the SHA-256 of, so that the node,
a mirror and ``ssi-registry verify`` compute the same root, and a client holding a record
and its proof can recompute the value hash and check it. Pure: no I/O, no clock.

**Records** (version 1). Every record is a JSON object with ``"v": 1`` and ``"kind"`` (the
state key's kind); its canonical bytes are RFC 8785 (JCS), and its value hash is SHA-256 of
those bytes. Times are the block times the chain recorded (integer seconds), ``null`` where
the state holds none::

    did            {"v", "kind": "did", "did", "name",
                    "keys": [{"number", "multikey", "validFrom", "validUntil",
                              "compromisedSince"}, …],               oldest first, all of them
                    "next": <commitment to the next key>, "seq": <next sequence number>,
                    "created", "updated", "deactivated", "versions": [[time, tx id], …]}
    accreditation  {"v", "kind", "id", "issuer", "vcts": […], "validFrom", "validUntil",
                    "grantedBy", "grantedAt", "revokedSince"}
    verifier       {"v", "kind", "verifier", "purpose": {lang: text},
                    "credentials": [{"vct", "claims": [[claim path], …]}, …],
                    "validUntil", "registeredAt", "registeredBy", "tx", "revokedAt"}
    schema         {"v", "kind", "vct", "versions": [{"version", "schema", "display",
                                                      "publishedAt", "tx"}, …]}
    status_chunk   {"v", "kind", "list", "issuer", "bits", "size", "chunk",
                    "data": <base64url of the chunk's bytes>}

**Status lists in chunks.** A list's entries are packed as in a Token Status List
(``bits`` per entry, least significant bits first: entry i is in byte ``i·bits // 8``), and
the packed bytes are cut into chunks of :data:`CHUNK_BYTES` (256 bytes: 2,048 one-bit
entries, 256 eight-bit ones); the last chunk holds what is left (a list's size is a multiple
of 8, so it is never empty). Every chunk is committed, zeros included: the proof that a
credential is *not* revoked is its chunk with a zero entry. A status update changes only
the chunks it touches, so its cost is independent of the list's length, and a chunk shows
its holder the statuses of 2,048/bits credentials of the same issuer (herd privacy).

Not committed: ``by_issuer`` (an index derived from the accreditations) and the chain's
genesis parameters (pinned by the genesis hash). The kinds ``governance`` and ``commitment``
are reserved: no record has them yet, so their keys prove absent.
"""

from __future__ import annotations

import hashlib
import json
from collections import ChainMap
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import rfc8785

from registry.errors import ProofError, RegistryError
from registry.ledger.state import (
    Accreditation,
    DidRecord,
    SchemaRecord,
    State,
    StatusListRecord,
    VerifierRegistration,
)
from registry.tlog.statemap import StateKey, StateMap, StateProof, verify_state_proof
from ssiwallet.core.b64 import b64u_encode

__all__ = [
    "CHUNK_BYTES",
    "RECORD_VERSION",
    "chunk_count",
    "chunk_of",
    "record_bytes",
    "record_json",
    "record_key",
    "state_changes",
    "state_entries",
    "state_map",
    "state_root",
    "verify_record",
]

RECORD_VERSION = 1
CHUNK_BYTES = 256
"""Bytes of packed status entries per chunk (the last chunk of a list may hold fewer)."""

_sha256 = hashlib.sha256


# --- records ------------------------------------------------------------------------------


def _did_json(record: DidRecord) -> dict[str, Any]:
    return {
        "v": RECORD_VERSION, "kind": "did", "did": str(record.did), "name": record.name,
        "keys": [{"number": k.number, "multikey": k.multikey, "validFrom": k.valid_from,
                  "validUntil": k.valid_until, "compromisedSince": k.compromised_since}
                 for k in record.keys],
        "next": record.next_commitment, "seq": record.seq, "created": record.created,
        "updated": record.updated, "deactivated": record.deactivated,
        "versions": [[time, tx] for time, tx in record.versions],
    }


def _accreditation_json(acc: Accreditation) -> dict[str, Any]:
    return {"v": RECORD_VERSION, "kind": "accreditation", "id": acc.id, "issuer": acc.issuer,
            "vcts": list(acc.vcts), "validFrom": acc.valid_from, "validUntil": acc.valid_until,
            "grantedBy": acc.granted_by, "grantedAt": acc.granted_at,
            "revokedSince": acc.revoked_since}


def _verifier_json(reg: VerifierRegistration) -> dict[str, Any]:
    return {"v": RECORD_VERSION, "kind": "verifier", "verifier": reg.verifier,
            "purpose": dict(reg.purpose),
            "credentials": [{"vct": vct, "claims": [list(path) for path in claims]}
                            for vct, claims in reg.credentials],
            "validUntil": reg.valid_until, "registeredAt": reg.registered_at,
            "registeredBy": reg.registered_by, "tx": reg.tx, "revokedAt": reg.revoked_at}


def _schema_json(vct: str, versions: tuple[SchemaRecord, ...]) -> dict[str, Any]:
    return {"v": RECORD_VERSION, "kind": "schema", "vct": vct,
            "versions": [{"version": s.version, "schema": s.schema, "display": s.display,
                          "publishedAt": s.published_at, "tx": s.tx} for s in versions]}


def _chunk_json(record: StatusListRecord, index: int, data: bytes) -> dict[str, Any]:
    return {"v": RECORD_VERSION, "kind": "status_chunk", "list": record.id,
            "issuer": record.issuer, "bits": record.bits, "size": record.size, "chunk": index,
            "data": b64u_encode(data)}


def chunk_count(record: StatusListRecord) -> int:
    """How many chunks the list's packed bytes make."""
    return -(-(record.size * record.bits // 8) // CHUNK_BYTES)


def chunk_of(record: StatusListRecord, index: int) -> int:
    """The chunk holding entry ``index`` of the list."""
    return index * record.bits // 8 // CHUNK_BYTES


def _chunks(record: StatusListRecord, values: Mapping[int, int],
            only: Iterable[int] | None = None) -> Iterator[tuple[int, bytes]]:
    """(chunk index, packed bytes) of every chunk, or of the chunks in ``only``."""
    total = record.size * record.bits // 8
    per_byte = 8 // record.bits
    buffers: dict[int, bytearray] = {}
    wanted = range(chunk_count(record)) if only is None else sorted(set(only))
    for c in wanted:
        buffers[c] = bytearray(min(CHUNK_BYTES, total - c * CHUNK_BYTES))
    for i, value in values.items():
        byte = i // per_byte
        buffer = buffers.get(byte // CHUNK_BYTES)
        if buffer is not None and value:
            buffer[byte % CHUNK_BYTES] |= value << ((i % per_byte) * record.bits)
    for c in wanted:
        yield c, bytes(buffers[c])


def _dumps(record: Mapping[str, Any]) -> bytes:
    # Records other than schemas hold only ASCII member names, integers, strings and null,
    # for which sorted compact json.dumps is JCS (as registry.ledger.tx.canonical relies on).
    if record.get("kind") == "schema":
        return bytes(rfc8785.dumps(record))
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def _malformed(detail: str) -> ProofError:
    return ProofError(detail, code="registry.malformed_record")


def record_bytes(record: Mapping[str, Any]) -> bytes:
    """The canonical (RFC 8785) bytes of a record, whose SHA-256 the map holds.

    Works on any JSON value a client received; one that has no JCS form (an integer beyond
    2⁵³, a lone surrogate, a non-JSON type) is ``registry.malformed_record``.
    """
    try:
        return bytes(rfc8785.dumps(record))
    except (rfc8785.CanonicalizationError, TypeError, ValueError, UnicodeEncodeError,
            RecursionError) as exc:
        raise _malformed(f"the record has no canonical (JCS) form: {exc}") from None


def _hash(record: Mapping[str, Any]) -> bytes:
    return _sha256(_dumps(record)).digest()


# --- the whole state ----------------------------------------------------------------------


def _list_entries(record: StatusListRecord, only: Iterable[int] | None = None
                  ) -> Iterator[tuple[StateKey, bytes]]:
    for c, data in _chunks(record, record.values, only):
        yield StateKey("status_chunk", (str(record.id), c)), _hash(_chunk_json(record, c, data))


def state_entries(state: State) -> dict[StateKey, bytes]:
    """Every key of ``state`` and its value hash (SHA-256 of the record's canonical bytes)."""
    entries: dict[StateKey, bytes] = {}
    for did, rec in state.dids.items():
        entries[StateKey("did", (str(did),))] = _hash(_did_json(rec))
    for acc_id, acc in state.accreditations.items():
        entries[StateKey("accreditation", (str(acc_id),))] = _hash(_accreditation_json(acc))
    for verifier, reg in state.verifiers.items():
        entries[StateKey("verifier", (str(verifier),))] = _hash(_verifier_json(reg))
    for vct, versions in state.schemas.items():
        entries[StateKey("schema", (str(vct),))] = _hash(_schema_json(vct, versions))
    for record in state.status_lists.values():
        entries.update(_list_entries(record))
    return entries


def state_map(state: State) -> StateMap:
    """The authenticated map of the whole state (to prove from, or to update per block)."""
    return StateMap(state_entries(state))


def state_root(state: State) -> bytes:
    """The 32-byte state root of ``state``: the root of :func:`state_map`."""
    return state_map(state).root()


def _forked(after: ChainMap[str, Any], before: ChainMap[str, Any]) -> bool:
    """Whether ``after`` is ``before.new_child()`` (its first layer holds all its writes)."""
    return len(after.maps) == len(before.maps) + 1 and all(
        a is b for a, b in zip(after.maps[1:], before.maps, strict=True))


def _written(after: ChainMap[str, Any], before: ChainMap[str, Any]) -> Iterable[str]:
    if _forked(after, before):
        return after.maps[0].keys()
    return {k for k in (*before.keys(), *after.keys()) if before.get(k) is not after.get(k)}


def _touched_chunks(before: StatusListRecord | None, after: StatusListRecord) -> set[int]:
    """The chunks of ``after`` that may differ from ``before``'s."""
    if before is None:
        return set(range(chunk_count(after)))
    layers = after.layers
    if before.layers:
        newest = before.layers[0]
        count = next((i for i, layer in enumerate(layers) if layer is newest), None)
        if count is None:  # the layers were folded: compare everything either one holds
            indices = {*before.values, *after.values}
            return {chunk_of(after, i) for i in indices}
        layers = layers[:count]
    return {chunk_of(after, i) for layer in layers for i in layer}


def state_changes(before: State, after: State) -> dict[StateKey, bytes | None]:
    """The keys whose records differ between two states, with their new value hashes
    (None for a key that is gone), ready for :meth:`StateMap.apply`.

    Cheap when ``after`` is ``before.fork()`` with one block applied (the node's
    :class:`Pending` state, before it is absorbed): only the block's writes are looked at,
    and for a status list only the chunks its updates touched. Any other pair of states is
    compared record by record (by identity: records are immutable and replaced on change).
    A key may be listed with an unchanged value (a record rewritten identically); setting a
    map entry to the value it holds changes nothing.
    """
    changes: dict[StateKey, bytes | None] = {}
    for did in _written(after.dids, before.dids):
        rec = after.dids.get(did)
        changes[StateKey("did", (str(did),))] = None if rec is None else _hash(_did_json(rec))
    for acc_id in _written(after.accreditations, before.accreditations):
        acc = after.accreditations.get(acc_id)
        changes[StateKey("accreditation", (str(acc_id),))] = (
            None if acc is None else _hash(_accreditation_json(acc)))
    for verifier in _written(after.verifiers, before.verifiers):
        reg = after.verifiers.get(verifier)
        changes[StateKey("verifier", (str(verifier),))] = (
            None if reg is None else _hash(_verifier_json(reg)))
    for vct in _written(after.schemas, before.schemas):
        versions = after.schemas.get(vct)
        changes[StateKey("schema", (str(vct),))] = (
            None if versions is None else _hash(_schema_json(vct, versions)))
    for list_id in _written(after.status_lists, before.status_lists):
        old, new = before.status_lists.get(list_id), after.status_lists.get(list_id)
        if new is None:
            if old is not None:
                for c in range(chunk_count(old)):
                    changes[StateKey("status_chunk", (str(list_id), c))] = None
            continue
        if new is old:
            continue
        changes.update(_list_entries(new, _touched_chunks(old, new)))
    return changes


# --- one record ---------------------------------------------------------------------------


def record_json(state: State, key: StateKey) -> dict[str, Any] | None:
    """The record under ``key`` as committed (a fresh object), or None when there is none."""
    part = key.parts[0]
    if key.kind == "did":
        rec = state.dids.get(str(part))
        return None if rec is None else _did_json(rec)
    if key.kind == "accreditation":
        acc = state.accreditations.get(str(part))
        return None if acc is None else _accreditation_json(acc)
    if key.kind == "verifier":
        reg = state.verifiers.get(str(part))
        return None if reg is None else _verifier_json(reg)
    if key.kind == "schema":
        versions = state.schemas.get(str(part))
        return None if versions is None else _schema_json(str(part), versions)
    if key.kind == "status_chunk":
        record = state.status_lists.get(str(part))
        index = key.parts[1]
        if record is None or type(index) is not int or not 0 <= index < chunk_count(record):
            return None
        ((_, data),) = _chunks(record, record.values, (index,))
        return _chunk_json(record, index, data)
    return None  # governance, commitment: reserved


_IDENTITY: Mapping[str, tuple[str, ...]] = {
    "did": ("did",), "accreditation": ("id",), "verifier": ("verifier",), "schema": ("vct",),
    "status_chunk": ("list", "chunk"),
}


def record_key(record: Mapping[str, Any]) -> StateKey:
    """The key a record belongs under, read from its own members (``kind`` and its id).

    Raises ``registry.malformed_record`` for anything that is not a version 1 record.
    """
    if not isinstance(record, Mapping):
        raise _malformed("a record is a JSON object")
    version, kind = record.get("v"), record.get("kind")
    if type(version) is not int or version != RECORD_VERSION:
        raise _malformed(f"a record has \"v\": {RECORD_VERSION}")
    names = _IDENTITY.get(kind) if isinstance(kind, str) else None
    if names is None or not isinstance(kind, str):
        raise _malformed(f"no record kind {kind!r}")
    parts: tuple[Any, ...] = tuple(record.get(n) for n in names)
    try:
        return StateKey(kind, parts)
    except RegistryError as exc:  # registry.bad_state_key: a part of the wrong type or shape
        raise _malformed(f"the record names no valid key: {exc.detail}") from None


def verify_record(state_root: bytes, key: StateKey, record: Mapping[str, Any] | None,
                  proof: StateProof) -> None:
    """Check that under ``state_root`` the map holds ``record`` at ``key`` (None: nothing).

    Recomputes the record's canonical bytes and value hash and checks the proof. Pure;
    raises ``ProofError``: ``registry.malformed_record`` (not a version 1 record, no JCS
    form), ``registry.record_key_mismatch`` (the record names another key) or the codes of
    :func:`registry.tlog.statemap.verify_state_proof` (``registry.proof_root_mismatch``, …).
    """
    if record is None:
        verify_state_proof(state_root, key, None, proof)
        return
    if record_key(record) != key:
        raise ProofError("the record belongs under another key",
                         code="registry.record_key_mismatch")
    verify_state_proof(state_root, key, _sha256(record_bytes(record)).digest(), proof)
