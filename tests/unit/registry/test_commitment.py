"""The state commitment's records (registry/ledger/commitment.py): what each key holds, the
root of a whole state, per-block updates, and record proofs that refuse one changed value.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
import rfc8785

from registry.errors import ProofError
from registry.ledger.chain import Pending
from registry.ledger.commitment import (
    CHUNK_BYTES,
    chunk_count,
    chunk_of,
    record_bytes,
    record_json,
    record_key,
    state_changes,
    state_entries,
    state_map,
    state_root,
    verify_record,
)
from registry.ledger.state import State
from registry.tlog.statemap import EMPTY, StateMap, state_key
from ssiwallet.core.b64 import b64u_decode
from ssiwallet.core.statuslist import StatusList
from tests.unit.registry.state_world import DIPLOMA, VCT, World, build_world, keys_of, tamper


@pytest.fixture(scope="module")
def world() -> World:
    return build_world()


def bit(record: dict[str, Any], index: int) -> int:
    """Entry ``index`` (within the chunk) of a status chunk record."""
    per_byte = 8 // record["bits"]
    data = b64u_decode(record["data"])
    return (data[index // per_byte] >> (index % per_byte * record["bits"])) & (
        (1 << record["bits"]) - 1)


# --- what is committed --------------------------------------------------------------------


def test_every_record_has_its_key(world: World) -> None:
    s = world.state
    entries = state_entries(s)
    chunks = sum(chunk_count(r) for r in s.status_lists.values())
    assert chunks == 4 + 2  # 8192 one-bit entries, 2048 two-bit entries, 256 bytes a chunk
    assert len(entries) == len(s.dids) + len(s.accreditations) + len(s.verifiers) + len(
        s.schemas) + chunks
    assert {k.kind for k in entries} == {"did", "accreditation", "verifier", "schema",
                                         "status_chunk"}
    for key, value in entries.items():
        record = record_json(s, key)
        assert record is not None and record["v"] == 1 and record["kind"] == key.kind
        assert record_key(record) == key
        assert value == hashlib.sha256(rfc8785.dumps(record)).digest()
        assert record_bytes(record) == rfc8785.dumps(record)


def test_records_carry_the_whole_history(world: World) -> None:
    s, k, g = world.state, keys_of(world), world
    did = record_json(s, k["did"])
    assert did is not None and [key["number"] for key in did["keys"]] == [1, 2]
    first = did["keys"][0]
    assert first["compromisedSince"] == 1_790_000_015 and first["validUntil"] is not None
    assert did["deactivated"] is None and did["seq"] == s.dids[did["did"]].seq
    gone = record_json(s, k["deactivated"])
    assert gone is not None and gone["deactivated"] is not None
    acc = record_json(s, k["accreditation"])
    assert acc is not None and acc["vcts"] == [VCT, DIPLOMA] and acc["revokedSince"] is None
    revoked = record_json(s, k["revoked"])
    assert revoked is not None and revoked["revokedSince"] is not None
    reg = record_json(s, k["verifier"])
    assert reg is not None and reg["credentials"][0]["claims"] == [["age_over_18"],
                                                                   ["address", "city"]]
    schema = record_json(s, k["schema"])
    assert schema is not None and [v["version"] for v in schema["versions"]] == [1, 2]
    assert schema["versions"][0]["schema"]["properties"]["score"]["maximum"] == 9.5
    assert g.chain.state.schema(VCT) is not None


def test_status_chunks_pack_entries_as_a_token_status_list(world: World) -> None:
    s, g = world.state, world
    lst: Any = s.status_lists[g.revocation]
    assert chunk_of(lst, 2047) == 0 and chunk_of(lst, 2048) == 1 and chunk_of(lst, 8191) == 3
    zero = record_json(s, state_key("status_chunk", lst.id, 0))
    assert zero is not None and len(b64u_decode(zero["data"])) == CHUNK_BYTES
    assert [bit(zero, i) for i in (0, 1, 2, 5, 2047)] == [0, 1, 0, 0, 1]
    packed = StatusList.new(lst.size, lst.bits)  # the wallet's Token Status List packing
    for index, value in lst.values.items():
        packed.set(index, value)
    assert b"".join(b64u_decode(record_json(s, state_key(  # type: ignore[index]
        "status_chunk", lst.id, c))["data"]) for c in range(4)) == packed.raw
    assert zero["list"] == lst.id and zero["issuer"] == lst.issuer
    assert (zero["bits"], zero["size"], zero["chunk"]) == (1, 8192, 0)
    one = record_json(s, state_key("status_chunk", lst.id, 1))
    assert one is not None and bit(one, 0) == 1 and bit(one, 3000 - 2048) == 1
    last = record_json(s, state_key("status_chunk", lst.id, 3))
    assert last is not None and bit(last, 8191 - 3 * 2048) == 1
    two: Any = s.status_lists[g.suspension]
    chunk = record_json(s, state_key("status_chunk", two.id, 0))
    assert chunk is not None and bit(chunk, 7) == 2 and bit(chunk, 6) == 0
    assert chunk_of(two, 1500) == 1
    assert record_json(s, state_key("status_chunk", lst.id, 4)) is None


def test_a_short_last_chunk() -> None:
    from registry.ledger.state import StatusListRecord
    record = StatusListRecord("x.y", "did:keten:x", 2, 1048, (), 0, 0, 0)
    assert chunk_count(record) == 2  # 262 bytes: 256 + 6
    state = State("c", "n", frozenset(), None, (), 0)  # type: ignore[arg-type]
    state.status_lists["x.y"] = record
    last = record_json(state, state_key("status_chunk", "x.y", 1))
    assert last is not None and len(b64u_decode(last["data"])) == 6


def test_absent_and_reserved_keys_hold_nothing(world: World) -> None:
    s = world.state
    for key in (state_key("did", "did:keten:nobody"), state_key("schema", "urn:none"),
                state_key("accreditation", "00" * 32), state_key("verifier", "did:keten:x"),
                state_key("status_chunk", "nolist.x", 0), state_key("governance", "genesis"),
                state_key("commitment", "x")):
        assert record_json(s, key) is None
        root = state_root(s)
        verify_record(root, key, None, state_map(s).prove(key))


def test_the_root_is_the_map_of_the_entries(world: World) -> None:
    s = world.state
    assert state_root(s) == StateMap(state_entries(s)).root() != EMPTY
    empty = State(s.chain, s.name, s.stewards, s.sequencer, s.witnesses, s.quorum)
    assert state_root(empty) == EMPTY


# --- per block ----------------------------------------------------------------------------


def test_each_blocks_changes_give_the_full_root() -> None:
    maps: list[StateMap] = []
    roots: list[bytes] = []

    def on_block(before: State, pending: Pending) -> None:
        if not maps:
            maps.append(state_map(before))
        changes = state_changes(before, pending.state)
        assert changes, "every block changes some record"
        maps[0].apply(changes)
        roots.append(state_root(pending.state))
        assert maps[0].root() == roots[-1]
        # the general (record by record) comparison finds the same changes
        detached = pending.state.fork()
        for name in State._MAPS:
            setattr(detached, name, type(getattr(detached, name))(
                dict(getattr(pending.state, name))))
        assert state_changes(before, detached) == changes

    w = build_world(on_block)
    assert len(roots) == len(w.chain.hashes) - 1 and len(set(roots)) == len(roots)


def test_status_changes_touch_only_their_chunks_even_after_folding() -> None:
    w = build_world()
    g: Any = w
    seen: list[set[int]] = []

    def on_block(old: State, pending: Pending) -> None:
        changes = state_changes(old, pending.state)
        seen.append({k.parts[1] for k in changes if k.kind == "status_chunk"})  # type: ignore[misc]
        mirror.apply(changes)
        assert mirror.root() == state_root(pending.state)

    mirror = state_map(w.state)
    w.on_block = on_block
    for n in range(40):  # more updates than a list keeps layers: they get folded
        w.update(g.gent, g.revocation, [4096 + n], 1 if n % 3 else 0)
    folds = [chunks for chunks in seen if chunks != {2}]
    assert len(folds) == 1 and folds[0] >= {0, 1, 2, 3}  # the fold compares what either holds
    assert len(seen) == 40


# --- record proofs ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["did", "deactivated", "accreditation", "revoked",
                                  "verifier", "schema", "chunk", "chunk2"])
def test_a_record_proves_and_one_changed_value_does_not(world: World, kind: str) -> None:
    s = world.state
    key = keys_of(world)[kind]
    m = state_map(s)
    root, proof = m.root(), m.prove(key)
    record = record_json(s, key)
    assert record is not None
    verify_record(root, key, record, proof)
    for bad in tamper(kind, record):
        with pytest.raises(ProofError) as exc:
            verify_record(root, key, bad, proof)
        assert exc.value.code == "registry.proof_root_mismatch"
    with pytest.raises(ProofError) as exc:  # claiming the key holds nothing
        verify_record(root, key, None, proof)
    assert exc.value.code == "registry.proof_root_mismatch"


def test_a_record_under_another_key_or_not_a_record(world: World) -> None:
    s, k = world.state, keys_of(world)
    m = state_map(s)
    root = m.root()
    record = record_json(s, k["accreditation"])
    assert record is not None
    with pytest.raises(ProofError) as exc:
        verify_record(root, k["revoked"], record, m.prove(k["revoked"]))
    assert exc.value.code == "registry.record_key_mismatch"
    bads: list[Any] = [
        {}, {"v": 2, "kind": "did", "did": "x"}, {"v": True, "kind": "did"},
        {"v": 1, "kind": "nothing"}, {"v": 1, "kind": "status_chunk", "list": "a", "chunk": "0"},
        {"v": 1, "kind": "did", "did": ""}, [], "record"]
    for bad in bads:
        with pytest.raises(ProofError) as exc:
            verify_record(root, k["did"], bad, m.prove(k["did"]))
        assert exc.value.code == "registry.malformed_record"
    huge = {**record, "grantedAt": 2**60}
    with pytest.raises(ProofError) as exc:
        verify_record(root, k["accreditation"], huge, m.prove(k["accreditation"]))
    assert exc.value.code == "registry.malformed_record"


def test_records_are_fresh_objects(world: World) -> None:
    s, k = world.state, keys_of(world)
    r = record_json(s, k["verifier"])
    assert r is not None
    r["purpose"]["en"] = "changed"
    assert record_json(s, k["verifier"]) != r
