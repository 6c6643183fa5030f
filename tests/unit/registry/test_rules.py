"""Chain rules (registry/rules.py) through the sequencer's path, :meth:`Chain.prepare`.

One test per rule and per refusal. A refusal is checked three ways: the error's stable
``code`` and HTTP ``status``, that ``prepare`` lists the transaction as rejected and puts no
block around it, and that the chain (head, tree, every state map) is exactly as before.
Covers SECURITY-TESTS 18 (replayed / cross-registry rotation), 19 (rotation by a superseded
key or a non-controller, accreditation by a non-steward) and the state half of 25.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from registry.author import Controller, genesis_block
from registry.ledger.chain import Chain, Pending, Rejected
from registry.ledger.didketen import KetenDid, commitment, did_from_inception, multikey
from registry.ledger.rules import MAX_CLOCK_SKEW
from registry.ledger.state import State
from registry.ledger.tx import parse_tx, sign_tx, unsigned_tx
from registry.node.http import STATUSES
from ssiwallet.core.keys import Ed25519PrivateKey
from ssiwallet.errors import SsiError
from ssiwallet.infra.web import status_for

T = 1_790_000_000
C = "registry.keten.example/test"
VCT = "urn:keten:vct:identity:1"
DIPLOMA = "https://vct.example/diploma"

FORBIDDEN, CONFLICT, UNKNOWN = 403, 409, 422


def clone(controller: Controller) -> Controller:
    return Controller.from_json(controller.to_json())


class World:
    """A chain with two stewards, a sequencer and a clock that moves 10 s per block."""

    def __init__(self, chain_id: str = C, stewards: Sequence[Controller] | None = None) -> None:
        self.chain_id = chain_id
        self.seq_key = Ed25519PrivateKey.generate()
        self.stewards = list(stewards) if stewards is not None else [
            Controller.new("Steward One"), Controller.new("Steward Two")]
        header, txs = genesis_block(chain_id, "Test registry", self.stewards, self.seq_key,
                                    [], 0, T)
        self.chain = Chain.from_genesis(header.data, txs)
        self.now = T

    @property
    def steward(self) -> Controller:
        return self.stewards[0]

    @property
    def state(self) -> State:
        return self.chain.state

    def prepare(self, items: Sequence[bytes]) -> tuple[Pending | None, list[Rejected]]:
        self.now += 10
        return self.chain.prepare([parse_tx(d) for d in items], self.now, self.seq_key)

    def ok(self, *items: bytes) -> Pending:
        pending, rejected = self.prepare(items)
        assert not rejected, [(r.error.code, r.error.detail) for r in rejected]
        assert pending is not None and [tx.data for tx in pending.txs] == list(items)
        self.chain.commit(pending)
        return pending

    def snapshot(self) -> tuple[Any, ...]:
        s, ch = self.state, self.chain
        return (ch.head.hash, ch.size, ch.tree.size, ch.tree.root(), s.size, s.height, s.time,
                {name: dict(getattr(s, name)) for name in State._MAPS})

    def refuse(self, data: bytes, code: str, status: int) -> SsiError:
        before = self.snapshot()
        pending, rejected = self.prepare([data])
        assert pending is None
        assert [r.tx.data for r in rejected] == [parse_tx(data).data]
        error = rejected[0].error
        assert (error.code, status_for(error, STATUSES)) == (code, status), error.detail
        assert self.snapshot() == before
        return error

    # --- building blocks -------------------------------------------------------------------

    def sign(self, author: Controller, tx_type: str, body: dict[str, Any]) -> bytes:
        """Sign as ``author`` with its next sequence number (counted as used)."""
        return author.sign(self.chain_id, tx_type, body, self.now)

    def new_did(self, name: str = "Gemeente Gent", endorser: Controller | None = None
                ) -> Controller:
        controller = Controller.new(name)
        self.ok(controller.create_tx(self.chain_id, self.now, endorser or self.steward))
        return controller

    def grant(self, issuer: Controller, vcts: Sequence[str] = (VCT,), valid_from: int = T,
              valid_until: int | None = None, by: Controller | None = None) -> str:
        data = self.sign(by or self.steward, "accreditation.grant", grant_body(
            issuer, vcts, valid_from, valid_until))
        self.ok(data)
        return parse_tx(data).id

    def issuer(self, name: str = "Gemeente Gent") -> Controller:
        issuer = self.new_did(name)
        self.grant(issuer)
        return issuer


def grant_body(issuer: Controller, vcts: Sequence[str] = (VCT,), valid_from: int = T,
               valid_until: int | None = None) -> dict[str, Any]:
    return {"issuer": issuer.did, "vcts": list(vcts), "valid_from": valid_from,
            "valid_until": valid_until}


def forged(author: Controller | str, tx_type: str, body: dict[str, Any], time: int, *,
           seq: int | None = None, signers: Sequence[tuple[str, Ed25519PrivateKey]] = (),
           chain: str = C) -> bytes:
    """A transaction built by hand (the author's controller is not advanced)."""
    did = author.did if isinstance(author, Controller) else author
    if seq is None:
        seq = author.seq if isinstance(author, Controller) else 0
    if not signers and isinstance(author, Controller):
        signers = [(author.kid, author.key)]
    return sign_tx(unsigned_tx(chain, tx_type, did, seq, time, body), list(signers))


def rotation_body(controller: Controller, following: Ed25519PrivateKey | None = None,
                  **extra: Any) -> dict[str, Any]:
    following = following or Ed25519PrivateKey.generate()
    return {"key": multikey(controller.next_key.public_key),
            "next": commitment(multikey(following.public_key)), **extra}


@pytest.fixture
def world() -> World:
    return World()


# --- genesis state ------------------------------------------------------------------------


def test_genesis_creates_the_stewards(world: World) -> None:
    state = world.state
    assert state.chain == C and state.name == "Test registry"
    assert state.stewards == {s.did for s in world.stewards}
    assert state.sequencer == world.seq_key.public_key
    assert state.height == 0 and state.size == 3 == world.chain.size
    for steward in world.stewards:
        record = state.dids[steward.did]
        assert record.name == steward.name and record.seq == 1 and record.created == T
        assert record.current.multikey == multikey(steward.key.public_key)


# --- did.create ---------------------------------------------------------------------------


def test_did_create_endorsed_by_a_steward(world: World) -> None:
    gent = Controller.new("Gemeente Gent")
    data = gent.create_tx(C, world.now, world.stewards[1])
    pending = world.ok(data)
    record = world.state.dids[gent.did]
    assert record.did == gent.did == did_from_inception(parse_tx(data).body)
    assert record.name == "Gemeente Gent" and record.seq == 1
    assert record.created == record.updated == pending.header.time
    assert record.next_commitment == commitment(multikey(gent.next_key.public_key))
    assert [(k.number, k.valid_from, k.valid_until) for k in record.keys] == [
        (1, pending.header.time, None)]
    assert record.versions == ((pending.header.time, parse_tx(data).id),)
    assert world.state.dids[world.stewards[1].did].seq == 1  # an endorsement is not authored
    assert world.chain.tx_index[parse_tx(data).id] == 3


def test_did_create_without_endorsement(world: World) -> None:
    gent = Controller.new("Gemeente Gent")
    world.refuse(gent.create_tx(C, world.now, None), "registry.not_endorsed", FORBIDDEN)
    assert gent.did not in world.state.dids


def test_did_create_endorsed_by_a_non_steward(world: World) -> None:
    other = world.new_did("VDAB")
    gent = Controller.new("Gemeente Gent")
    world.refuse(gent.create_tx(C, world.now, other), "registry.not_steward", FORBIDDEN)


def test_did_create_endorsed_by_an_unknown_did(world: World) -> None:
    stranger = Controller.new("Not on the chain")
    world.refuse(Controller.new("Gent").create_tx(C, world.now, stranger),
                 "registry.not_steward", FORBIDDEN)


def test_did_create_with_a_forged_endorsement(world: World) -> None:
    gent = Controller.new("Gemeente Gent")
    body = gent._inception(gent.name, gent.key, gent.next_key)
    data = forged(gent, "did.create", body, world.now, seq=0, signers=[
        (gent.kid, gent.key), (world.steward.kid, Ed25519PrivateKey.generate())])
    world.refuse(data, "registry.bad_tx_signature", FORBIDDEN)
    data = forged(gent, "did.create", body, world.now, seq=0, signers=[
        (gent.kid, gent.key), (world.steward.kid, world.steward.key),
        (world.stewards[1].kid, world.stewards[1].key)])
    world.refuse(data, "registry.not_endorsed", FORBIDDEN)


def test_did_create_must_be_signed_by_its_own_first_key(world: World) -> None:
    gent = Controller.new("Gemeente Gent")
    body = gent._inception(gent.name, gent.key, gent.next_key)
    steward = (world.steward.kid, world.steward.key)
    wrong_key = forged(gent, "did.create", body, world.now, seq=0,
                       signers=[(gent.kid, gent.next_key), steward])
    world.refuse(wrong_key, "registry.bad_tx_signature", FORBIDDEN)
    wrong_kid = forged(gent, "did.create", body, world.now, seq=0,
                       signers=[(f"{gent.did}#key-2", gent.key), steward])
    world.refuse(wrong_kid, "registry.bad_proofs", FORBIDDEN)
    steward_only = forged(gent, "did.create", body, world.now, seq=0, signers=[steward])
    world.refuse(steward_only, "registry.bad_proofs", FORBIDDEN)


def test_did_create_with_a_did_that_is_not_its_inception(world: World) -> None:
    gent, other = Controller.new("Gemeente Gent"), Controller.new("Someone else")
    body = gent._inception(gent.name, gent.key, gent.next_key)
    data = forged(other.did, "did.create", body, world.now, signers=[
        (f"{other.did}#key-1", gent.key), (world.steward.kid, world.steward.key)])
    world.refuse(data, "registry.did_mismatch", UNKNOWN)
    renamed = {**body, "name": "Gemeente Gent (renamed)"}
    data = forged(gent.did, "did.create", renamed, world.now, signers=[
        (gent.kid, gent.key), (world.steward.kid, world.steward.key)])
    world.refuse(data, "registry.did_mismatch", UNKNOWN)


def test_did_create_of_an_existing_did(world: World) -> None:
    gent = world.new_did()
    record = world.state.dids[gent.did]
    again = Controller.from_json({**gent.to_json(), "seq": 0})
    world.refuse(again.create_tx(C, world.now, world.steward), "registry.did_exists", CONFLICT)
    assert world.state.dids[gent.did] == record


def test_did_create_must_carry_sequence_number_0(world: World) -> None:
    gent = Controller.new("Gemeente Gent")
    body = gent._inception(gent.name, gent.key, gent.next_key)
    data = forged(gent, "did.create", body, world.now, seq=1, signers=[
        (gent.kid, gent.key), (world.steward.kid, world.steward.key)])
    world.refuse(data, "registry.seq_gap", CONFLICT)


def test_did_create_with_an_undecodable_multikey(world: World) -> None:
    """A Multikey of the right shape whose multicodec is not Ed25519."""
    signer = Ed25519PrivateKey.generate()
    body = {"key": "z6Mk" + "1" * 44, "next": commitment("x"), "name": "Odd"}
    did = did_from_inception(body)
    data = forged(did, "did.create", body, world.now, signers=[
        (f"{did}#key-1", signer), (world.steward.kid, world.steward.key)])
    world.refuse(data, "registry.invalid_did", 400)


def test_a_steward_created_later_is_not_a_steward(world: World) -> None:
    """The steward set is fixed by genesis; a DID's name does not make it one."""
    fake = world.new_did("Steward Three")
    world.refuse(forged(fake, "accreditation.grant", grant_body(fake), world.now),
                 "registry.not_steward", FORBIDDEN)


# --- did.rotate ---------------------------------------------------------------------------


def test_rotation_and_key_history(world: World) -> None:
    gent = world.new_did()
    created = world.state.dids[gent.did].created
    old_key, next_key = gent.key, gent.next_key
    data = gent.rotate_tx(C, world.now)
    pending = world.ok(data)
    at = pending.header.time
    record = world.state.dids[gent.did]
    first, second = record.keys
    assert (first.number, first.valid_from, first.valid_until) == (1, created, at)
    assert (second.number, second.valid_from, second.valid_until) == (2, at, None)
    assert first.key == old_key.public_key and second.key == next_key.public_key
    assert record.current is second and record.key(2) is second and record.key(3) is None
    assert record.next_commitment == commitment(multikey(gent.next_key.public_key))
    assert record.seq == 2 and record.updated == at
    assert record.versions[-1] == (at, parse_tx(data).id)
    assert first.compromised_since is None
    # which key was active when
    assert not first.active_at(created - 1)
    assert first.active_at(created) and first.active_at(at - 1)
    assert not first.active_at(at)
    assert not second.active_at(at - 1) and second.active_at(at) and second.active_at(at + 10**6)
    # and the new key works
    world.ok(world.sign(gent, "key.compromised", {"did": gent.did, "key": 1, "since": at}))


def test_rotation_revealing_a_key_that_does_not_match_the_commitment(world: World) -> None:
    """SECURITY 19: a thief of the current key cannot take the DID over."""
    gent = world.new_did()
    thief = Ed25519PrivateKey.generate()
    body = {"key": multikey(thief.public_key), "next": commitment("anything")}
    data = forged(gent, "did.rotate", body, world.now, signers=[(f"{gent.did}#key-2", thief)])
    world.refuse(data, "registry.commitment_mismatch", FORBIDDEN)
    data = forged(gent, "did.rotate", body, world.now, signers=[(gent.kid, gent.key)])
    world.refuse(data, "registry.commitment_mismatch", FORBIDDEN)


def test_rotation_signed_by_the_current_key(world: World) -> None:
    gent = world.new_did()
    data = forged(gent, "did.rotate", rotation_body(gent), world.now,
                  signers=[(gent.kid, gent.key)])
    world.refuse(data, "registry.not_next_key", FORBIDDEN)


def test_rotation_signed_by_a_superseded_key(world: World) -> None:
    """SECURITY 19: after a rotation, key-1 cannot sign the next rotation."""
    gent = world.new_did()
    old = gent.key
    world.ok(gent.rotate_tx(C, world.now))
    for kid, key in [(f"{gent.did}#key-1", old), (f"{gent.did}#key-2", gent.key)]:
        data = forged(gent, "did.rotate", rotation_body(gent), world.now, signers=[(kid, key)])
        world.refuse(data, "registry.not_next_key", FORBIDDEN)


def test_rotation_claiming_the_next_key_id_but_signed_by_another_key(world: World) -> None:
    gent = world.new_did()
    data = forged(gent, "did.rotate", rotation_body(gent), world.now,
                  signers=[(f"{gent.did}#key-2", gent.key)])
    world.refuse(data, "registry.bad_tx_signature", FORBIDDEN)


def test_rotation_with_two_proofs(world: World) -> None:
    gent = world.new_did()
    data = forged(gent, "did.rotate", rotation_body(gent), world.now, signers=[
        (f"{gent.did}#key-2", gent.next_key), (gent.kid, gent.key)])
    world.refuse(data, "registry.not_next_key", FORBIDDEN)


def test_rotation_by_a_non_controller(world: World) -> None:
    """SECURITY 19: a steward or another DID cannot rotate someone else's DID."""
    gent = world.new_did()
    steward = world.steward
    body = {"key": multikey(steward.key.public_key), "next": commitment("x")}
    data = forged(gent.did, "did.rotate", body, world.now, seq=1,
                  signers=[(steward.kid, steward.key)])
    world.refuse(data, "registry.commitment_mismatch", FORBIDDEN)
    data = forged(gent.did, "did.rotate", rotation_body(gent), world.now, seq=1,
                  signers=[(steward.kid, steward.key)])
    world.refuse(data, "registry.not_next_key", FORBIDDEN)


def test_rotation_must_commit_to_a_new_next_key(world: World) -> None:
    gent = world.new_did()
    body = {"key": multikey(gent.next_key.public_key),
            "next": world.state.dids[gent.did].next_commitment}
    data = forged(gent, "did.rotate", body, world.now,
                  signers=[(f"{gent.did}#key-2", gent.next_key)])
    world.refuse(data, "registry.commitment_reused", FORBIDDEN)


def test_replayed_rotation(world: World) -> None:
    """SECURITY 18: the sequence number is in the signed bytes."""
    gent = world.new_did()
    data = gent.rotate_tx(C, world.now)
    world.ok(data)
    world.refuse(data, "registry.replayed", CONFLICT)
    # replaying it inside the same batch as itself: the second copy is left out
    other = world.new_did("VDAB")
    rotation = other.rotate_tx(C, world.now)
    pending, rejected = world.prepare([rotation, rotation])
    assert pending is not None and [tx.data for tx in pending.txs] == [rotation]
    assert [r.error.code for r in rejected] == ["registry.replayed"]
    world.chain.commit(pending)


def test_rotation_carried_to_another_chain() -> None:
    """SECURITY 18: same stewards, same issuer keys, another chain id: the chain id is signed."""
    steward = Controller.new("Steward One")
    a = World(C, [steward])
    b = World("registry.keten.example/other", [clone(steward)])
    gent_a = Controller.new("Gemeente Gent")
    gent_b = clone(gent_a)
    a.ok(gent_a.create_tx(a.chain_id, a.now, a.steward))
    b.ok(gent_b.create_tx(b.chain_id, b.now, b.steward))
    assert a.state.dids[gent_a.did].next_commitment == b.state.dids[gent_b.did].next_commitment
    b.now = a.now
    rotation = gent_a.rotate_tx(a.chain_id, a.now)
    a.ok(rotation)
    b.refuse(rotation, "registry.wrong_chain", CONFLICT)
    # the same rotation signed for b is fine: only the chain id differed
    redo = sign_tx({**parse_tx(rotation).to_json(), "chain": b.chain_id, "proofs": []},
                   [(f"{gent_a.did}#key-2", gent_b.next_key)])
    b.ok(redo)


@pytest.mark.parametrize("offset", [-MAX_CLOCK_SKEW - 1, -MAX_CLOCK_SKEW, MAX_CLOCK_SKEW,
                                    MAX_CLOCK_SKEW + 1, -10**6, 10**6])
def test_stale_or_future_transaction_time(world: World, offset: int) -> None:
    gent = world.new_did()
    block_time = world.now + 10  # the time the next block will get
    data = forged(gent, "did.rotate", rotation_body(gent), block_time + offset,
                  signers=[(f"{gent.did}#key-2", gent.next_key)])
    if abs(offset) <= MAX_CLOCK_SKEW:
        world.ok(data)
    else:
        world.refuse(data, "registry.tx_stale", CONFLICT)


def test_sequence_gap(world: World) -> None:
    gent = world.new_did()
    data = forged(gent, "did.rotate", rotation_body(gent), world.now, seq=gent.seq + 1,
                  signers=[(f"{gent.did}#key-2", gent.next_key)])
    world.refuse(data, "registry.seq_gap", CONFLICT)
    body = {"did": gent.did, "key": 1, "since": T}
    world.refuse(forged(gent, "key.compromised", body, world.now, seq=gent.seq + 1),
                 "registry.seq_gap", CONFLICT)
    world.refuse(forged(gent, "key.compromised", body, world.now, seq=0),
                 "registry.replayed", CONFLICT)


def test_old_key_cannot_sign_after_rotation(world: World) -> None:
    gent = world.new_did()
    old = gent.key
    world.ok(gent.rotate_tx(C, world.now))
    data = forged(gent, "key.compromised", {"did": gent.did, "key": 1, "since": T},
                  world.now, signers=[(f"{gent.did}#key-1", old)])
    world.refuse(data, "registry.not_current_key", FORBIDDEN)
    data = forged(gent, "key.compromised", {"did": gent.did, "key": 1, "since": T},
                  world.now, signers=[(f"{gent.did}#key-2", old)])
    world.refuse(data, "registry.bad_tx_signature", FORBIDDEN)


def test_two_rotations_in_one_block(world: World) -> None:
    gent = world.new_did()
    first, second = gent.rotate_tx(C, world.now), gent.rotate_tx(C, world.now)
    world.ok(first, second)
    keys = world.state.dids[gent.did].keys
    assert [k.number for k in keys] == [1, 2, 3]
    assert keys[1].valid_from == keys[1].valid_until  # current for no time at all
    assert keys[2].key == gent.key.public_key


# --- compromise ---------------------------------------------------------------------------


def test_compromised_since_via_rotation(world: World) -> None:
    gent = world.new_did()
    created = world.state.dids[gent.did].created
    world.ok(gent.rotate_tx(C, world.now, compromised_since=created + 5))
    first = world.state.dids[gent.did].keys[0]
    assert first.compromised_since == created + 5
    assert first.active_at(created + 4) and not first.active_at(created + 5)
    assert world.state.dids[gent.did].current.compromised_since is None


def test_key_compromised_is_min_only(world: World) -> None:
    gent = world.new_did()
    created = world.state.dids[gent.did].created
    world.ok(gent.rotate_tx(C, world.now, compromised_since=created + 5))
    for since, expected in [(created + 7, created + 5), (created + 2, created + 2),
                            (created + 3, created + 2)]:
        world.ok(world.sign(gent, "key.compromised", {"did": gent.did, "key": 1,
                                                       "since": since}))
        assert world.state.dids[gent.did].keys[0].compromised_since == expected
    # a steward cannot un-compromise it either
    world.ok(world.sign(world.steward, "key.compromised",
                        {"did": gent.did, "key": 1, "since": created + 100}))
    assert world.state.dids[gent.did].keys[0].compromised_since == created + 2
    # nor can a later rotation claim a later time for the key it closes
    world.ok(world.sign(gent, "key.compromised", {"did": gent.did, "key": 2,
                                                   "since": world.now - 1}))
    marked = world.state.dids[gent.did].keys[1].compromised_since
    world.ok(gent.rotate_tx(C, world.now, compromised_since=world.now + 100))
    assert world.state.dids[gent.did].keys[1].compromised_since == marked


def test_key_compromised_by_a_steward(world: World) -> None:
    gent = world.new_did()
    steward_seq = world.state.dids[world.steward.did].seq
    data = world.sign(world.steward, "key.compromised", {"did": gent.did, "key": 1,
                                                          "since": T + 1})
    pending = world.ok(data)
    record = world.state.dids[gent.did]
    assert record.keys[0].compromised_since == T + 1
    assert record.seq == 1  # the target did not author anything
    assert record.versions[-1] == (pending.header.time, parse_tx(data).id)
    assert world.state.dids[world.steward.did].seq == steward_seq + 1


def test_key_compromised_by_a_non_controller_non_steward(world: World) -> None:
    gent, vdab = world.new_did(), world.new_did("VDAB")
    data = forged(vdab, "key.compromised", {"did": gent.did, "key": 1, "since": T}, world.now)
    world.refuse(data, "registry.not_controller", FORBIDDEN)


def test_key_compromised_of_an_unknown_key_or_in_the_future(world: World) -> None:
    gent = world.new_did()
    world.refuse(forged(gent, "key.compromised", {"did": gent.did, "key": 2, "since": T},
                        world.now), "registry.unknown_key", UNKNOWN)
    future = world.now + 10 + MAX_CLOCK_SKEW + 1
    world.refuse(forged(gent, "key.compromised", {"did": gent.did, "key": 1, "since": future},
                        world.now), "registry.bad_time", UNKNOWN)
    stranger = Controller.new("Not on the chain").did
    world.refuse(forged(world.steward, "key.compromised",
                        {"did": stranger, "key": 1, "since": T}, world.now),
                 "registry.unknown_did", UNKNOWN)


def test_a_compromised_current_key_signs_nothing_more(world: World) -> None:
    """Once its current key is marked, a DID acts only through a rotation (or a steward)."""
    gent = world.issuer()
    world.ok(world.sign(world.steward, "key.compromised",
                        {"did": gent.did, "key": 1, "since": world.now}))
    body = {"name": "revocation", "bits": 1, "size": 64}
    world.refuse(forged(gent, "status.list.create", body, world.now),
                 "registry.key_compromised", FORBIDDEN)
    stolen = forged(gent, "did.deactivate", {"did": gent.did}, world.now)
    world.refuse(stolen, "registry.key_compromised", FORBIDDEN)
    # an endorsement by a steward whose key is marked is refused the same way
    world.ok(world.sign(world.steward, "key.compromised",
                        {"did": world.stewards[1].did, "key": 1, "since": world.now}))
    world.refuse(Controller.new("X").create_tx(C, world.now, world.stewards[1]),
                 "registry.key_compromised", FORBIDDEN)
    # the rotation (signed by the committed next key) still works, then everything does
    world.ok(gent.rotate_tx(C, world.now))
    world.ok(world.sign(gent, "status.list.create", body))


# --- did.deactivate -----------------------------------------------------------------------


def test_deactivate_by_the_controller(world: World) -> None:
    gent = world.new_did()
    data = world.sign(gent, "did.deactivate", {"did": gent.did})
    pending = world.ok(data)
    record = world.state.dids[gent.did]
    assert record.deactivated == pending.header.time and record.seq == 2
    assert record.deactivated_at(pending.header.time)
    assert not record.deactivated_at(pending.header.time - 1)
    assert record.versions[-1] == (pending.header.time, parse_tx(data).id)


def test_deactivate_by_a_steward(world: World) -> None:
    gent = world.new_did()
    pending = world.ok(world.sign(world.stewards[1], "did.deactivate", {"did": gent.did}))
    record = world.state.dids[gent.did]
    assert record.deactivated == pending.header.time and record.seq == 1
    assert world.state.dids[world.stewards[1].did].seq == 2


def test_deactivate_by_someone_else(world: World) -> None:
    gent, vdab = world.new_did(), world.new_did("VDAB")
    world.refuse(forged(vdab, "did.deactivate", {"did": gent.did}, world.now),
                 "registry.not_controller", FORBIDDEN)
    world.refuse(forged(world.steward, "did.deactivate",
                        {"did": Controller.new("x").did}, world.now),
                 "registry.unknown_did", UNKNOWN)


def test_a_deactivated_did_can_do_nothing(world: World) -> None:
    gent = world.issuer()
    world.ok(world.sign(gent, "did.deactivate", {"did": gent.did}))
    attempts = [
        forged(gent, "did.rotate", rotation_body(gent), world.now,
               signers=[(f"{gent.did}#key-2", gent.next_key)]),
        forged(gent, "did.deactivate", {"did": gent.did}, world.now),
        forged(gent, "key.compromised", {"did": gent.did, "key": 1, "since": T}, world.now),
        forged(gent, "status.list.create", {"name": "l", "bits": 1, "size": 8}, world.now),
    ]
    for data in attempts:
        world.refuse(data, "registry.did_deactivated", FORBIDDEN)
    # nor can it be given anything
    world.refuse(forged(world.steward, "accreditation.grant", grant_body(gent), world.now),
                 "registry.did_deactivated", FORBIDDEN)
    world.refuse(forged(world.steward, "did.deactivate", {"did": gent.did}, world.now),
                 "registry.did_deactivated", FORBIDDEN)
    # a steward can still mark its keys compromised
    world.ok(world.sign(world.steward, "key.compromised", {"did": gent.did, "key": 1,
                                                            "since": T}))


def test_a_deactivated_steward_cannot_act(world: World) -> None:
    two = world.stewards[1]
    world.ok(world.sign(two, "did.deactivate", {"did": two.did}))
    gent = world.new_did()
    world.refuse(forged(two, "accreditation.grant", grant_body(gent), world.now),
                 "registry.did_deactivated", FORBIDDEN)
    world.refuse(Controller.new("X").create_tx(C, world.now, two),
                 "registry.did_deactivated", FORBIDDEN)


# --- accreditations -----------------------------------------------------------------------


def test_accreditation_grant(world: World) -> None:
    gent = world.new_did()
    data = world.sign(world.steward, "accreditation.grant",
                      grant_body(gent, (VCT, DIPLOMA), T + 100, T + 1000))
    pending = world.ok(data)
    acc = world.state.accreditations[parse_tx(data).id]
    assert (acc.issuer, acc.vcts, acc.valid_from, acc.valid_until) == (
        gent.did, (VCT, DIPLOMA), T + 100, T + 1000)
    assert acc.granted_by == world.steward.did and acc.granted_at == pending.header.time
    assert acc.revoked_since is None
    assert world.state.accreditations_of(gent.did) == [acc]
    assert world.state.accredited(gent.did, DIPLOMA, T + 100) == acc
    assert world.state.accredited(gent.did, DIPLOMA, T + 99) is None
    assert world.state.accredited(gent.did, "urn:keten:vct:other", T + 100) is None


def test_accreditation_covers_its_window_only(world: World) -> None:
    gent = world.new_did()
    acc_id = world.grant(gent, (VCT,), T + 100, T + 1000)
    acc = world.state.accreditations[acc_id]
    assert not acc.covers(VCT, T + 99)
    assert acc.covers(VCT, T + 100) and acc.covers(VCT, T + 999)
    assert not acc.covers(VCT, T + 1000)
    assert not acc.covers(DIPLOMA, T + 500)
    world.ok(world.sign(world.steward, "accreditation.revoke",
                        {"accreditation": acc_id, "since": T + 500}))
    revoked = world.state.accreditations[acc_id]
    assert revoked.revoked_since == T + 500
    assert revoked.covers(VCT, T + 499) and not revoked.covers(VCT, T + 500)
    assert world.state.accredited(gent.did, VCT, T + 600) is None
    assert world.state.accredited(gent.did, VCT, T + 400) == revoked


def test_accreditation_revoke_defaults_to_the_block_time(world: World) -> None:
    gent = world.new_did()
    acc_id = world.grant(gent)
    pending = world.ok(world.sign(world.stewards[1], "accreditation.revoke",
                                  {"accreditation": acc_id}))
    assert world.state.accreditations[acc_id].revoked_since == pending.header.time


def test_accreditation_by_a_non_steward(world: World) -> None:
    """SECURITY 19: only a steward may grant or revoke."""
    gent = world.issuer()
    world.refuse(forged(gent, "accreditation.grant", grant_body(gent, (DIPLOMA,)), world.now),
                 "registry.not_steward", FORBIDDEN)
    acc_id = world.state.by_issuer[gent.did][0]
    world.refuse(forged(gent, "accreditation.revoke", {"accreditation": acc_id}, world.now),
                 "registry.not_steward", FORBIDDEN)


def test_accreditation_signed_with_a_stewards_kid_by_another_key(world: World) -> None:
    gent = world.new_did()
    data = forged(world.steward, "accreditation.grant", grant_body(gent), world.now,
                  signers=[(world.steward.kid, gent.key)])
    world.refuse(data, "registry.bad_tx_signature", FORBIDDEN)
    data = forged(world.steward, "accreditation.grant", grant_body(gent), world.now,
                  signers=[(world.stewards[1].kid, world.stewards[1].key)])
    world.refuse(data, "registry.not_author", FORBIDDEN)


def test_accreditation_revoke_twice(world: World) -> None:
    gent = world.new_did()
    acc_id = world.grant(gent)
    world.ok(world.sign(world.steward, "accreditation.revoke", {"accreditation": acc_id}))
    world.refuse(forged(world.steward, "accreditation.revoke", {"accreditation": acc_id},
                        world.now), "registry.already_revoked", CONFLICT)


def test_accreditation_refusals(world: World) -> None:
    gent = world.new_did()
    world.refuse(forged(world.steward, "accreditation.revoke", {"accreditation": "ab" * 32},
                        world.now), "registry.unknown_accreditation", UNKNOWN)
    world.refuse(forged(world.steward, "accreditation.grant",
                        grant_body(gent, valid_from=T + 10, valid_until=T + 10), world.now),
                 "registry.bad_time", UNKNOWN)
    stranger = Controller.new("Not on the chain")
    world.refuse(forged(world.steward, "accreditation.grant", grant_body(stranger), world.now),
                 "registry.unknown_did", UNKNOWN)


# --- verifiers ----------------------------------------------------------------------------

REGISTRATION = {
    "purpose": {"nl": "Leeftijdscontrole", "en": "Age check"},
    "credentials": [{"vct": VCT, "claims": [["age_over_18"], ["address", "locality"]]}],
    "valid_until": None,
}


def test_verifier_register_and_revoke(world: World) -> None:
    bar = world.new_did("Café De Kroon")
    data = world.sign(world.steward, "verifier.register",
                      {"verifier": bar.did, **REGISTRATION, "valid_until": T + 10_000})
    pending = world.ok(data)
    at = pending.header.time
    reg = world.state.verifiers[bar.did]
    assert reg.purpose == {"nl": "Leeftijdscontrole", "en": "Age check"}
    assert (reg.registered_at, reg.registered_by, reg.tx) == (at, world.steward.did,
                                                             parse_tx(data).id)
    assert reg.allows(VCT, ("age_over_18",)) and reg.allows(VCT, ("address", "locality"))
    assert not reg.allows(VCT, ("address",)) and not reg.allows(VCT, ("birthdate",))
    assert not reg.allows(DIPLOMA, ("age_over_18",))
    assert not reg.active_at(at - 1) and reg.active_at(at) and not reg.active_at(T + 10_000)
    revoke = world.ok(world.sign(world.steward, "verifier.revoke", {"verifier": bar.did}))
    reg = world.state.verifiers[bar.did]
    assert reg.revoked_at == revoke.header.time
    assert reg.active_at(revoke.header.time - 1) and not reg.active_at(revoke.header.time)
    world.refuse(forged(world.steward, "verifier.revoke", {"verifier": bar.did}, world.now),
                 "registry.unknown_verifier", UNKNOWN)


def test_verifier_refusals(world: World) -> None:
    bar = world.new_did("Café De Kroon")
    world.refuse(forged(bar, "verifier.register", {"verifier": bar.did, **REGISTRATION},
                        world.now), "registry.not_steward", FORBIDDEN)
    world.ok(world.sign(world.steward, "verifier.register", {"verifier": bar.did,
                                                              **REGISTRATION}))
    world.refuse(forged(bar, "verifier.revoke", {"verifier": bar.did}, world.now),
                 "registry.not_steward", FORBIDDEN)
    stranger = Controller.new("x").did
    world.refuse(forged(world.steward, "verifier.register",
                        {"verifier": stranger, **REGISTRATION}, world.now),
                 "registry.unknown_did", UNKNOWN)
    world.refuse(forged(world.steward, "verifier.revoke", {"verifier": stranger}, world.now),
                 "registry.unknown_verifier", UNKNOWN)


# --- schemas ------------------------------------------------------------------------------

SCHEMA_V1 = {"type": "object", "properties": {"age_over_18": {"type": "boolean"}}}
SCHEMA_V2 = {"type": "object", "properties": {"age_over_18": {"type": "boolean"},
                                              "age_over_65": {"type": "boolean"}}}
DISPLAY = {"nl": "Identiteit", "en": "Identity"}


def test_schema_versions(world: World) -> None:
    one = world.ok(world.sign(world.steward, "schema.publish",
                              {"vct": VCT, "schema": SCHEMA_V1, "display": DISPLAY}))
    data = world.sign(world.stewards[1], "schema.publish",
                      {"vct": VCT, "schema": SCHEMA_V2, "display": DISPLAY})
    two = world.ok(data)
    t1, t2 = one.header.time, two.header.time
    newest = world.state.schema(VCT)
    assert newest is not None
    assert (newest.version, newest.schema, newest.published_at, newest.tx) == (
        2, SCHEMA_V2, t2, parse_tx(data).id)
    assert world.state.schema(VCT, t2) == newest
    first = world.state.schema(VCT, t2 - 1)
    assert first is not None and (first.version, first.schema) == (1, SCHEMA_V1)
    assert world.state.schema(VCT, t1) == first
    assert world.state.schema(VCT, t1 - 1) is None
    assert world.state.schema(DIPLOMA) is None
    assert [r.version for r in world.state.schemas[VCT]] == [1, 2]


def test_schema_publish_by_a_non_steward(world: World) -> None:
    gent = world.issuer()
    world.refuse(forged(gent, "schema.publish",
                        {"vct": VCT, "schema": SCHEMA_V1, "display": DISPLAY}, world.now),
                 "registry.not_steward", FORBIDDEN)


# --- status lists -------------------------------------------------------------------------

LIST = {"name": "revocation", "bits": 2, "size": 64}


def list_id(issuer: Controller, name: str = "revocation") -> str:
    return f"{KetenDid(issuer.did).method_id}.{name}"


def test_status_list_create_and_update(world: World) -> None:
    gent = world.issuer()
    created = world.ok(world.sign(gent, "status.list.create", LIST))
    record = world.state.status_lists[list_id(gent)]
    assert (record.issuer, record.bits, record.size, dict(record.values)) == (
        gent.did, 2, 64, {})
    assert record.created == created.header.time and record.updated_height == created.header.height
    update = world.ok(world.sign(gent, "status.update",
                                 {"list": list_id(gent), "indices": [0, 5, 63], "value": 3}))
    record = world.state.status_lists[list_id(gent)]
    assert dict(record.values) == {0: 3, 5: 3, 63: 3}
    assert record.updated == update.header.time
    assert record.updated_height == update.header.height
    world.ok(world.sign(gent, "status.update",
                        {"list": list_id(gent), "indices": [5], "value": 1}))
    world.ok(world.sign(gent, "status.update",
                        {"list": list_id(gent), "indices": [0, 7], "value": 0}))
    assert dict(world.state.status_lists[list_id(gent)].values) == {5: 1, 63: 3}


def test_status_list_create_by_a_non_accredited_did(world: World) -> None:
    vdab = world.new_did("VDAB")
    world.refuse(forged(vdab, "status.list.create", LIST, world.now),
                 "registry.not_accredited", FORBIDDEN)
    # not yet valid, then expired, then revoked: still not accredited
    acc_id = world.grant(vdab, valid_from=world.now + 1000)
    world.refuse(forged(vdab, "status.list.create", LIST, world.now),
                 "registry.not_accredited", FORBIDDEN)
    world.ok(world.sign(world.steward, "accreditation.revoke",
                        {"accreditation": acc_id, "since": T}))
    world.grant(vdab, valid_from=T, valid_until=T + 1)
    world.refuse(forged(vdab, "status.list.create", LIST, world.now),
                 "registry.not_accredited", FORBIDDEN)


def test_status_list_refusals(world: World) -> None:
    gent = world.issuer()
    world.ok(world.sign(gent, "status.list.create", LIST))
    world.refuse(forged(gent, "status.list.create", {**LIST, "bits": 1}, world.now),
                 "registry.list_exists", CONFLICT)
    world.refuse(forged(gent, "status.list.create", {**LIST, "name": "x", "size": 12},
                        world.now), "registry.bad_size", UNKNOWN)
    world.refuse(forged(gent, "status.list.create", {**LIST, "name": "x", "bits": 3},
                        world.now), "registry.bad_size", UNKNOWN)
    # updates
    vdab = world.issuer("VDAB")
    body = {"list": list_id(gent), "indices": [1], "value": 1}
    world.refuse(forged(vdab, "status.update", body, world.now),
                 "registry.not_list_owner", FORBIDDEN)
    world.refuse(forged(world.steward, "status.update", body, world.now),
                 "registry.not_list_owner", FORBIDDEN)
    world.refuse(forged(gent, "status.update", {**body, "indices": [1, 64]}, world.now),
                 "registry.bad_index", UNKNOWN)
    world.refuse(forged(gent, "status.update", {**body, "value": 4}, world.now),
                 "registry.bad_value", UNKNOWN)
    world.refuse(forged(gent, "status.update", {**body, "list": list_id(gent, "other")},
                        world.now), "registry.unknown_list", UNKNOWN)
    # the owner's list id with the owner's DID but another's signature
    world.refuse(forged(gent, "status.update", body, world.now,
                        signers=[(gent.kid, vdab.key)]), "registry.bad_tx_signature", FORBIDDEN)


def test_status_list_one_bit(world: World) -> None:
    gent = world.issuer()
    world.ok(world.sign(gent, "status.list.create", {"name": "one", "bits": 1, "size": 8}))
    world.refuse(forged(gent, "status.update", {"list": list_id(gent, "one"), "indices": [8],
                                                "value": 1}, world.now),
                 "registry.bad_index", UNKNOWN)
    world.refuse(forged(gent, "status.update", {"list": list_id(gent, "one"), "indices": [7],
                                                "value": 2}, world.now),
                 "registry.bad_value", UNKNOWN)
    world.ok(world.sign(gent, "status.update", {"list": list_id(gent, "one"), "indices": [7],
                                                "value": 1}))
    assert dict(world.state.status_lists[list_id(gent, "one")].values) == {7: 1}


# --- batches ------------------------------------------------------------------------------


def test_a_batch_keeps_what_passes_and_leaves_the_rest_out(world: World) -> None:
    gent = Controller.new("Gemeente Gent")
    good = [gent.create_tx(C, world.now, world.steward)]
    bad = forged(world.stewards[1], "accreditation.grant", grant_body(gent), world.now,
                 signers=[(world.stewards[1].kid, gent.key)])
    good.append(world.sign(world.steward, "accreditation.grant", grant_body(gent)))
    stranger = Controller.new("Stranger").create_tx(C, world.now, None)
    before = world.state.dids[world.stewards[1].did]
    pending, rejected = world.prepare([good[0], bad, stranger, good[1]])
    assert pending is not None
    assert [tx.data for tx in pending.txs] == good
    assert [(r.tx.data, r.error.code) for r in rejected] == [
        (bad, "registry.bad_tx_signature"), (stranger, "registry.not_endorsed")]
    assert pending.rejected == rejected
    assert pending.header.txs == 2 and pending.header.size == world.chain.size + 2
    world.chain.commit(pending)
    assert world.state.dids[world.stewards[1].did] == before  # its refused tx left no trace
    assert len(world.state.accreditations) == 1
    assert world.state.size == world.chain.size == world.chain.tree.size


def test_a_batch_with_nothing_valid_makes_no_block(world: World) -> None:
    before = world.snapshot()
    stranger = Controller.new("Stranger").create_tx(C, world.now, None)
    pending, rejected = world.prepare([stranger])
    assert pending is None and len(rejected) == 1
    assert world.snapshot() == before


def test_dependent_transactions_in_one_batch(world: World) -> None:
    """Later transactions see the effects of earlier ones in the same block."""
    gent = Controller.new("Gemeente Gent")
    world.ok(gent.create_tx(C, world.now, world.steward),
             world.sign(world.steward, "accreditation.grant", grant_body(gent)),
             world.sign(gent, "status.list.create", LIST),
             world.sign(gent, "status.update", {"list": list_id(gent), "indices": [3],
                                                "value": 2}))
    assert dict(world.state.status_lists[list_id(gent)].values) == {3: 2}


def test_a_genesis_transaction_after_block_0(world: World) -> None:
    body = {"name": "Other", "stewards": [world.steward.did],
            "sequencer": multikey(world.seq_key.public_key), "witnesses": [], "quorum": 0}
    data = parse_tx(unsigned_tx(C, "genesis", None, None, world.now, body)).data
    world.refuse(data, "registry.misplaced_genesis", UNKNOWN)


def test_errors_render_as_json(world: World) -> None:
    error = world.refuse(Controller.new("x").create_tx(C, world.now, None),
                         "registry.not_endorsed", FORBIDDEN)
    assert error.to_json() == {"error": "registry.not_endorsed", "detail": error.detail}


def test_a_steward_cannot_deactivate_another_steward(world: World) -> None:
    one, two = world.stewards
    world.refuse(forged(one, "did.deactivate", {"did": two.did}, world.now),
                 "registry.not_controller", FORBIDDEN)


def test_the_last_steward_cannot_leave(world: World) -> None:
    one, two = world.stewards
    world.ok(world.sign(two, "did.deactivate", {"did": two.did}))  # one steward remains
    world.refuse(forged(one, "did.deactivate", {"did": one.did}, world.now),
                 "registry.last_steward", CONFLICT)


def test_a_steward_keeps_a_deactivated_issuers_list_answerable(world: World) -> None:
    gent = world.issuer()
    world.ok(world.sign(gent, "status.list.create", LIST))
    list_id = f"{gent.did.method_id}.{LIST['name']}"
    update = {"list": list_id, "indices": [3], "value": 1}
    # while the issuer is live, a steward may not touch its list
    world.refuse(forged(world.steward, "status.update", update, world.now),
                 "registry.not_list_owner", FORBIDDEN)
    world.ok(world.sign(gent, "did.deactivate", {"did": gent.did}))
    world.ok(world.sign(world.steward, "status.update", update))
    assert world.state.status_lists[list_id].values == {3: 1}
