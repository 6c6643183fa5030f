"""Blocks and the chain (registry/chain.py, registry/block.py): genesis, replay, tampering.

A follower or ``ssi-registry verify`` trusts nothing the node says: replaying the blocks a
sequencer produced must give the very same head, and any byte changed in a header or a
transaction (SECURITY 16), a block signed by another key, a broken link or a clock running
backwards must be refused with a :class:`BlockError` that names the block, leaving the
chain (tree and state) exactly as it was.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

import registry.ledger.chain as chain_module
from registry.author import Controller, genesis_block
from registry.ledger.block import ZERO_HASH, BlockError, BlockHeader, make_header, parse_header
from registry.ledger.chain import Chain
from registry.ledger.didketen import multikey
from registry.ledger.state import State
from registry.ledger.tx import canonical, parse_tx, unsigned_tx
from registry.tlog.checkpoint import CosignatureSigner
from registry.tlog.merkle import leaf_hash
from registry.tlog.note import NoteSigner
from registry.tlog.tree import MerkleTree
from ssiwallet.core.b64 import b64u_encode
from ssiwallet.core.keys import Ed25519PrivateKey

T = 1_790_000_000
C = "registry.keten.example/test"
VCT = "urn:keten:vct:identity:1"
SCHEMA = {"type": "object", "properties": {"age_over_18": {"type": "boolean"},
                                           "naam": {"type": "string", "title": "Naam — é"}}}


@dataclass
class History:
    """A chain built by a sequencer: its genesis and blocks as bytes, and the final chain."""

    seq_key: Ed25519PrivateKey
    steward: Controller
    genesis: tuple[bytes, list[bytes]]
    blocks: list[tuple[bytes, list[bytes]]]
    chain: Chain

    def fresh(self) -> Chain:
        return Chain.from_genesis(self.genesis[0], self.genesis[1])

    def replayed(self, upto: int) -> Chain:
        """A follower's chain holding the genesis and the first ``upto`` blocks."""
        chain = self.fresh()
        for header, txs in self.blocks[:upto]:
            chain.commit(chain.check_block(header, txs))
        return chain


def build_history() -> History:
    seq_key = Ed25519PrivateKey.generate()
    steward = Controller.new("Steward One")
    header, txs = genesis_block(C, "Test registry", [steward], seq_key, [], 0, T)
    chain = Chain.from_genesis(header.data, txs)
    blocks: list[tuple[bytes, list[bytes]]] = []
    now = T

    def block(*items: bytes) -> None:
        nonlocal now
        now += 10
        pending, rejected = chain.prepare([parse_tx(d) for d in items], now, seq_key)
        assert pending is not None and not rejected
        chain.commit(pending)
        blocks.append((pending.header.data, [tx.data for tx in pending.txs]))

    gent = Controller.new("Gemeente Gent")
    block(gent.create_tx(C, now, steward),
          steward.sign(C, "accreditation.grant", {"issuer": gent.did, "vcts": [VCT],
                                                  "valid_from": T, "valid_until": None}, now))
    block(gent.sign(C, "status.list.create", {"name": "revocation", "bits": 1, "size": 64},
                    now),
          steward.sign(C, "schema.publish", {"vct": VCT, "schema": SCHEMA,
                                             "display": {"nl": "Identiteit", "en": "Identity"}},
                       now))
    block(gent.rotate_tx(C, now, compromised_since=T + 5))
    list_id = f"{gent.did.method_id}.revocation"
    block(gent.sign(C, "status.update", {"list": list_id, "indices": [1, 2], "value": 1}, now),
          gent.sign(C, "status.update", {"list": list_id, "indices": [2], "value": 0}, now))
    return History(seq_key, steward, (header.data, txs), blocks, chain)


@pytest.fixture(scope="module")
def history() -> History:
    return build_history()


def snapshot(chain: Chain) -> tuple[Any, ...]:
    s = chain.state
    return (chain.head.hash, chain.size, chain.tree.size, chain.tree.root(), list(chain.hashes),
            dict(chain.tx_index), list(chain.block_of), s.size, s.height, s.time,
            {name: dict(getattr(s, name)) for name in State._MAPS})


def block_error(chain: Chain, header: bytes | BlockHeader, txs: list[bytes], *,
                now: int | None = None) -> BlockError:
    before = snapshot(chain)
    with pytest.raises(BlockError) as exc:
        chain.check_block(header, txs, now=now)
    assert snapshot(chain) == before
    return exc.value


def signed_block(chain: Chain, txs: list[bytes], key: Ed25519PrivateKey, *,
                 time: int | None = None, height: int | None = None, prev: str | None = None,
                 size: int | None = None, root: bytes | None = None,
                 chain_id: str | None = None) -> bytes:
    """A header over ``txs`` that is consistent with ``chain`` unless told otherwise."""
    tree = MerkleTree([chain.tree.leaf(i) for i in range(chain.tree.size)]
                      + [leaf_hash(d) for d in txs])
    header = make_header(chain_id or chain.state.chain,
                         chain.head.height + 1 if height is None else height,
                         chain.head.hash if prev is None else prev,
                         chain.head.time + 10 if time is None else time, txs,
                         tree.size if size is None else size,
                         tree.root() if root is None else root, key)
    return header.data


# --- genesis ------------------------------------------------------------------------------


def genesis_parts(*, quorum: int = 0, witnesses: list[dict[str, str]] | None = None,
                  time: int = T, chain_id: str = C, sequencer: str | None = None
                  ) -> tuple[Ed25519PrivateKey, Controller, bytes, list[bytes]]:
    seq_key, steward = Ed25519PrivateKey.generate(), Controller.new("Steward One")
    body = {"name": "Test registry", "stewards": [steward.did],
            "sequencer": sequencer or multikey(seq_key.public_key),
            "witnesses": witnesses or [], "quorum": quorum}
    genesis_tx = parse_tx(unsigned_tx(chain_id, "genesis", None, None, time, body)).data
    return seq_key, steward, genesis_tx, [steward.create_tx(chain_id, time, None)]


def genesis_header(key: Ed25519PrivateKey, data: list[bytes], *, height: int = 0,
                   prev: str = ZERO_HASH, time: int = T) -> bytes:
    tree = MerkleTree([leaf_hash(d) for d in data])
    return make_header(C, height, prev, time, data, tree.size, tree.root(), key).data


def genesis_error(header: bytes, data: list[bytes]) -> BlockError:
    with pytest.raises(BlockError) as exc:
        Chain.from_genesis(header, data)
    assert exc.value.height == 0
    return exc.value


def test_valid_genesis() -> None:
    witness = CosignatureSigner("witness.example/w1", Ed25519PrivateKey.generate())
    seq_key, steward, genesis_tx, creates = genesis_parts(
        quorum=1, witnesses=[{"name": witness.name, "vkey": witness.verifier.vkey()}])
    chain = Chain.from_genesis(genesis_header(seq_key, [genesis_tx, *creates]),
                               [genesis_tx, *creates])
    assert chain.head is chain.genesis and chain.head.height == 0
    assert chain.hashes == [chain.head.hash] and chain.size == 2 == chain.state.size
    assert chain.state.witnesses == ((witness.name, witness.verifier.vkey()),)
    assert chain.state.quorum == 1 and steward.did in chain.state.dids
    assert chain.block_of == [0, 0]
    assert chain.tx_index == {parse_tx(d).id: i for i, d in enumerate([genesis_tx, *creates])}


def test_genesis_with_the_wrong_height_or_prev() -> None:
    seq_key, _, genesis_tx, creates = genesis_parts()
    data = [genesis_tx, *creates]
    for header in (genesis_header(seq_key, data, height=1),
                   genesis_header(seq_key, data, prev="ab" * 32)):
        assert genesis_error(header, data).code == "registry.bad_genesis"


def test_genesis_without_its_genesis_transaction() -> None:
    seq_key, _, genesis_tx, creates = genesis_parts()
    assert genesis_error(genesis_header(seq_key, [genesis_tx]), []).code == \
        "registry.bad_genesis"
    assert genesis_error(genesis_header(seq_key, creates), creates).code == \
        "registry.bad_genesis"
    swapped = [*creates, genesis_tx]
    assert genesis_error(genesis_header(seq_key, swapped), swapped).code == \
        "registry.bad_genesis"
    garbage = [b"{}", *creates]
    assert genesis_error(genesis_header(seq_key, garbage), garbage).code == \
        "registry.bad_genesis"


def test_genesis_transaction_must_be_canonical() -> None:
    seq_key, _, genesis_tx, creates = genesis_parts()
    loose = json.dumps(json.loads(genesis_tx)).encode()
    data = [loose, *creates]
    assert genesis_error(genesis_header(seq_key, data), data).code == "registry.bad_genesis"


def test_genesis_of_another_chain_or_time() -> None:
    seq_key, _, genesis_tx, creates = genesis_parts(chain_id="registry.keten.example/other")
    data = [genesis_tx, *creates]
    assert genesis_error(genesis_header(seq_key, data), data).code == "registry.bad_genesis"
    seq_key, _, genesis_tx, creates = genesis_parts(time=T - 601)
    data = [genesis_tx, *creates]
    assert genesis_error(genesis_header(seq_key, data), data).code == "registry.bad_genesis"


def test_genesis_steward_not_created() -> None:
    seq_key, _, genesis_tx, _ = genesis_parts()
    data = [genesis_tx]
    error = genesis_error(genesis_header(seq_key, data), data)
    assert error.code == "registry.bad_genesis" and "steward" in error.detail
    other = Controller.new("Not a steward")
    data = [genesis_tx, other.create_tx(C, T, None)]
    assert genesis_error(genesis_header(seq_key, data), data).code == \
        "registry.block_tx_invalid"


def test_genesis_signed_by_another_key() -> None:
    _, _, genesis_tx, creates = genesis_parts()
    data = [genesis_tx, *creates]
    error = genesis_error(genesis_header(Ed25519PrivateKey.generate(), data), data)
    assert error.code == "registry.bad_block_signature"


def test_genesis_whose_header_does_not_match_its_transactions() -> None:
    seq_key, steward, genesis_tx, creates = genesis_parts()
    data = [genesis_tx, *creates]
    header = genesis_header(seq_key, data)
    extra = [*data, Controller.new("x").create_tx(C, T, steward)]
    assert genesis_error(header, extra).code == "registry.root_mismatch"


def test_genesis_quorum_must_be_reachable() -> None:
    seq_key, _, genesis_tx, creates = genesis_parts(quorum=1)
    data = [genesis_tx, *creates]
    error = genesis_error(genesis_header(seq_key, data), data)
    assert error.code == "registry.bad_genesis" and "quorum" in error.detail


def test_genesis_with_a_sequencer_key_that_is_not_ed25519() -> None:
    seq_key, _, genesis_tx, creates = genesis_parts(sequencer="z6Mk" + "1" * 44)
    data = [genesis_tx, *creates]
    assert genesis_error(genesis_header(seq_key, data), data).code == "registry.bad_genesis"


def test_garbled_genesis_header_names_block_0() -> None:
    seq_key, _, genesis_tx, creates = genesis_parts()
    data = [genesis_tx, *creates]
    header = genesis_header(seq_key, data)
    for bad in (b"", b"{", header[:-1], header.replace(b'"height":0', b'"height":"0"')):
        assert genesis_error(bad, data).code == "registry.block_malformed"


# --- replay -------------------------------------------------------------------------------


def test_replay_gives_identical_heads(history: History) -> None:
    follower = history.fresh()
    assert follower.head.hash == parse_header(history.genesis[0]).hash
    for header, txs in history.blocks:
        pending = follower.check_block(header, txs)
        assert pending.header.data == header
        follower.commit(pending)
    original = history.chain
    assert follower.head.hash == original.head.hash
    assert follower.hashes == original.hashes
    assert follower.tree.root() == original.tree.root()
    assert snapshot(follower) == snapshot(original)
    assert len(follower.hashes) == len(history.blocks) + 1


def test_replay_accepts_parsed_headers(history: History) -> None:
    follower = history.fresh()
    for header, txs in history.blocks:
        follower.commit(follower.check_block(parse_header(header), txs))
    assert follower.head.hash == history.chain.head.hash


def test_headers_are_canonical_and_hash_linked(history: History) -> None:
    prev = Chain.from_genesis(*history.genesis).head
    for header, _ in history.blocks:
        parsed = parse_header(header)
        assert header == canonical(parsed.to_json())
        assert parsed.prev == prev.hash and parsed.height == prev.height + 1
        assert parsed.time >= prev.time
        prev = parsed


# --- tampering ----------------------------------------------------------------------------

HEADER_CODES = {"registry.block_malformed", "registry.bad_block_signature",
                "registry.chain_broken", "registry.wrong_chain", "registry.bad_block_time"}


def test_any_byte_flipped_in_a_header_is_refused(history: History) -> None:
    """SECURITY 16: every single-byte change to every header, named by its position."""
    follower = history.fresh()
    seen: set[str] = set()
    for header, txs in history.blocks:
        height = follower.head.height + 1
        for position in range(len(header)):
            for mask in (0x01, 0x20, 0x80):
                tampered = bytearray(header)
                tampered[position] ^= mask
                error = block_error(follower, bytes(tampered), txs)
                assert error.height == height, (position, mask, error.code)
                assert error.code in HEADER_CODES, (position, mask, error.code)
                seen.add(error.code)
        follower.commit(follower.check_block(header, txs))
    assert {"registry.block_malformed", "registry.bad_block_signature",
            "registry.chain_broken", "registry.wrong_chain"} <= seen
    assert follower.head.hash == history.chain.head.hash


def test_any_byte_flipped_in_a_transaction_is_refused(history: History) -> None:
    follower = history.fresh()
    for header, txs in history.blocks:
        height = follower.head.height + 1
        for index, data in enumerate(txs):
            for position in range(len(data)):
                tampered = bytearray(data)
                tampered[position] ^= 0x01
                changed = [*txs[:index], bytes(tampered), *txs[index + 1:]]
                error = block_error(follower, header, changed)
                assert (error.height, error.code) == (height, "registry.tx_root_mismatch")
        follower.commit(follower.check_block(header, txs))
    assert follower.head.hash == history.chain.head.hash


def test_transactions_dropped_added_or_reordered_are_refused(history: History) -> None:
    follower = history.replayed(1)
    header, txs = history.blocks[1]
    assert len(txs) == 2
    for changed in ([txs[0]], [txs[1], txs[0]], [*txs, txs[1]], [*txs, b"{}"], []):
        error = block_error(follower, header, changed)
        assert (error.height, error.code) == (2, "registry.tx_root_mismatch")


def test_block_with_an_invalid_transaction_signed_by_the_sequencer(history: History) -> None:
    """A dishonest sequencer cannot slip a transaction past the rules."""
    follower = history.replayed(2)
    key = history.seq_key
    header, txs = history.blocks[2]
    replayed_tx = history.blocks[0][1][1]  # an accreditation.grant already on the chain
    forged_sig = json.loads(txs[0])
    forged_sig["proofs"][0]["sig"] = b64u_encode(Ed25519PrivateKey.generate().sign(b"x"))
    loose = json.dumps(json.loads(txs[0])).encode()
    for bad, reason in [
        ([replayed_tx], "registry.replayed"),
        ([canonical(forged_sig)], "registry.bad_tx_signature"),
        ([loose], "registry.tx_not_canonical"),
        ([b"not json"], "registry.tx_malformed"),
        ([txs[0], txs[0]], "registry.replayed"),
    ]:
        error = block_error(follower, signed_block(follower, bad, key), bad)
        assert (error.height, error.code) == (3, "registry.block_tx_invalid")
        assert reason in error.detail
        assert follower.tree.size == follower.head.size
    late = signed_block(follower, txs, key, time=follower.head.time + 10_000)
    error = block_error(follower, late, txs)
    assert error.code == "registry.block_tx_invalid" and "registry.tx_stale" in error.detail
    follower.commit(follower.check_block(header, txs))


def test_block_whose_tree_root_or_size_is_wrong(history: History) -> None:
    follower = history.replayed(1)
    header, txs = history.blocks[1]
    key = history.seq_key
    for kwargs in ({"root": b"\x00" * 32}, {"size": follower.size + 1},
                   {"size": follower.size + 3}, {"root": follower.tree.root()}):
        error = block_error(follower, signed_block(follower, txs, key, **kwargs), txs)
        assert (error.height, error.code) == (2, "registry.root_mismatch")
        assert follower.tree.size == follower.head.size
    follower.commit(follower.check_block(header, txs))
    assert follower.head.hash == history.chain.hashes[2]


def test_block_that_does_not_follow_the_head(history: History) -> None:
    follower = history.replayed(2)
    txs = history.blocks[2][1]
    key = history.seq_key
    cases = [
        signed_block(follower, txs, key, prev="ab" * 32),
        signed_block(follower, txs, key, prev=follower.hashes[-2]),
        signed_block(follower, txs, key, prev=ZERO_HASH),
        signed_block(follower, txs, key, height=follower.head.height + 2),
        signed_block(follower, txs, key, height=follower.head.height),
        history.blocks[1][0],  # the head itself, sent again
        history.blocks[3][0],  # a block from further on
    ]
    for header in cases:
        error = block_error(follower, header, txs)
        assert (error.height, error.code) == (3, "registry.chain_broken")


def test_block_of_another_chain(history: History) -> None:
    follower = history.replayed(2)
    txs = history.blocks[2][1]
    header = signed_block(follower, txs, history.seq_key, chain_id="registry.keten.example/x")
    assert block_error(follower, header, txs).code == "registry.wrong_chain"


def test_block_time_going_backwards_or_into_the_future(history: History) -> None:
    follower = history.replayed(2)
    txs = history.blocks[2][1]
    head_time = follower.head.time
    backwards = signed_block(follower, txs, history.seq_key, time=head_time - 1)
    error = block_error(follower, backwards, txs)
    assert (error.height, error.code) == (3, "registry.bad_block_time")
    future = signed_block(follower, txs, history.seq_key, time=head_time + 10)
    error = block_error(follower, future, txs, now=head_time + 10 - 601)
    assert error.code == "registry.bad_block_time"
    same_time = signed_block(follower, txs, history.seq_key, time=head_time)
    follower.commit(follower.check_block(same_time, txs, now=head_time - 600))
    assert follower.head.time == head_time


def test_forged_block_signed_by_another_key(history: History) -> None:
    follower = history.replayed(2)
    header, txs = history.blocks[2]
    for key in (Ed25519PrivateKey.generate(), history.steward.key):
        error = block_error(follower, signed_block(follower, txs, key), txs)
        assert (error.height, error.code) == (3, "registry.bad_block_signature")
    # a valid signature moved onto another header does not verify either
    theirs = parse_header(signed_block(follower, txs, history.seq_key, time=follower.head.time
                                       + 11)).to_json()
    moved = {**parse_header(header).to_json(), "sig": theirs["sig"]}
    error = block_error(follower, canonical(moved), txs)
    assert error.code == "registry.bad_block_signature"


def test_header_refuses_non_canonical_bytes(history: History) -> None:
    follower = history.replayed(1)
    header, txs = history.blocks[1]
    loose = json.dumps(json.loads(header)).encode()
    error = block_error(follower, loose, txs)
    assert (error.height, error.code) == (2, "registry.block_malformed")
    for extra in ({"note": "x"}, {"txs": 0}, {"v": 2}, {"height": -1}, {"sig": "A" * 85}):
        obj = {**json.loads(header), **extra}
        error = block_error(follower, canonical(obj), txs)
        assert (error.height, error.code) == (2, "registry.block_malformed")


# --- prepare, commit, abort ---------------------------------------------------------------


def test_abort_leaves_tree_and_state_as_before(history: History) -> None:
    follower = history.replayed(2)
    before = snapshot(follower)
    header, txs = history.blocks[2]
    pending = follower.check_block(header, txs)
    assert follower.tree.size > follower.head.size  # the pending block's leaves
    follower.abort(pending)
    assert snapshot(follower) == before
    follower.commit(follower.check_block(header, txs))
    assert follower.head.hash == parse_header(header).hash


def test_abort_a_prepared_block_then_prepare_it_again(history: History) -> None:
    follower = history.replayed(2)
    before = snapshot(follower)
    header, txs = history.blocks[2]
    time = parse_header(header).time
    pending, rejected = follower.prepare([parse_tx(d) for d in txs], time, history.seq_key)
    assert pending is not None and not rejected
    assert pending.header.data == header  # deterministic: same block as the sequencer's
    follower.abort(pending)
    assert snapshot(follower) == before
    again, _ = follower.prepare([parse_tx(d) for d in txs], time, history.seq_key)
    assert again is not None and again.header.data == header
    follower.commit(again)
    for header, txs in history.blocks[3:]:
        follower.commit(follower.check_block(header, txs))
    assert snapshot(follower) == snapshot(history.chain)


def test_prepare_never_moves_time_backwards(history: History) -> None:
    follower = history.replayed(4)
    gent = Controller.new("Late")
    data = gent.create_tx(C, follower.head.time, history.steward)
    pending, rejected = follower.prepare([parse_tx(data)], follower.head.time - 100,
                                         history.seq_key)
    assert not rejected and pending is not None
    assert pending.header.time == follower.head.time


def test_a_failed_header_leaves_the_tree_as_before(
    history: History, monkeypatch: pytest.MonkeyPatch
) -> None:
    follower = history.replayed(2)
    before = snapshot(follower)
    txs = history.blocks[2][1]

    def refuse(*args: object, **kwargs: object) -> BlockHeader:
        raise BlockError("too many transactions for one header", height=3,
                         code="registry.block_malformed")

    monkeypatch.setattr(chain_module, "make_header", refuse)
    with pytest.raises(BlockError):
        follower.prepare([parse_tx(d) for d in txs], follower.head.time + 10, history.seq_key)
    assert snapshot(follower) == before


def test_commit_indexes_transactions(history: History) -> None:
    chain = history.chain
    first = len(history.genesis[1])
    for height, (_, txs) in enumerate(history.blocks, start=1):
        for data in txs:
            index = chain.tx_index[parse_tx(data).id]
            assert chain.block_of[index] == height
            assert index >= first
    assert len(chain.block_of) == chain.size == chain.tree.size == chain.state.size


def test_genesis_witness_vkeys_are_parsed_and_named() -> None:
    witness = CosignatureSigner("witness.example/w1", Ed25519PrivateKey.generate())
    note_key = NoteSigner("witness.example/w1", Ed25519PrivateKey.generate())
    for entry in ({"name": "witness.example/w2", "vkey": witness.verifier.vkey()},  # misnamed
                  {"name": note_key.name, "vkey": note_key.verifier.vkey()}):  # not 0x04
        seq_key, _, genesis_tx, creates = genesis_parts(quorum=1, witnesses=[entry])
        with pytest.raises(BlockError) as exc:
            Chain.from_genesis(genesis_header(seq_key, [genesis_tx, *creates]),
                               [genesis_tx, *creates])
        assert exc.value.code == "registry.bad_genesis" and exc.value.height == 0
