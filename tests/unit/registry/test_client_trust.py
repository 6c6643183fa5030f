"""registry.client without a network: the client's trust decisions against a node simulated
in memory (a real genesis block, real signed and cosigned checkpoints, real Merkle proofs)
behind an ``infra.http.MockTransport``: genesis pinning, the witness quorum, freshness,
rollback and fork detection, a checkpoint kept across restarts, inclusion proofs."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from registry.author import Controller, genesis_block
from registry.client import (
    ClientError,
    FileCheckpointStore,
    RegistryClient,
    RegistryUnavailableError,
    RemoteError,
    TrustPolicy,
    UntrustedResponseError,
)
from registry.ledger.tx import canonical
from registry.tlog.checkpoint import Checkpoint, CosignatureSigner, cosign
from registry.tlog.merkle import consistency_proof, inclusion_proof, leaf_hash, root
from registry.tlog.note import NoteSigner, b64encode, sign_note
from ssiwallet.core.keys import Ed25519PrivateKey
from ssiwallet.infra.http import MockTransport, Request, Response, UnreachableError
from tests.support.clock import FakeClock

pytestmark = pytest.mark.asyncio

CHAIN = "registry.keten.example/unit"
URL = "https://registry.keten.example"
T0 = 1_790_000_000
WITNESSES = [CosignatureSigner(f"witness.example/w{i}", Ed25519PrivateKey(bytes([60 + i]) * 32))
             for i in (1, 2, 3)]


class SimulatedNode:
    """What a registry node answers, computed in memory; ``serve`` overrides the checkpoint."""

    def __init__(self, clock: FakeClock, *, witnesses: int = 0, quorum: int = 0) -> None:
        self.clock = clock
        self.sequencer = Ed25519PrivateKey.generate()
        self.witnesses = WITNESSES[:witnesses]
        header, txs = genesis_block(CHAIN, "unit test", [Controller.new("Steward")],
                                    self.sequencer,
                                    [(w.name, w.verifier.vkey()) for w in self.witnesses],
                                    quorum, clock())
        self.genesis: dict[str, Any] = {"hash": header.hash,
                                        "header": json.loads(header.data),
                                        "txs": [json.loads(t) for t in txs]}
        self.leaves: list[bytes] = list(txs)
        self.served: str | None = None
        self.proof_leaves: list[bytes] | None = None  # a forked tree's consistency proofs
        self.transport = MockTransport(self.handle)

    def grow(self, n: int = 1) -> None:
        for _ in range(n):
            self.leaves.append(canonical({"n": len(self.leaves), "pad": "x"}))

    def note(self, size: int | None = None, *, leaves: list[bytes] | None = None,
             cosigners: list[CosignatureSigner] | None = None, at: int | None = None) -> str:
        chosen = self.leaves if leaves is None else leaves
        size = len(chosen) if size is None else size
        checkpoint = Checkpoint(CHAIN, size, root([leaf_hash(x) for x in chosen[:size]]))
        note = sign_note(checkpoint.body(), [NoteSigner(CHAIN, self.sequencer)])
        for witness in self.witnesses if cosigners is None else cosigners:
            note += cosign(checkpoint, witness, self.clock() if at is None else at)
        return note

    def paths(self) -> list[str]:
        return [urlsplit(r.url).path for r in self.transport.requests]

    def handle(self, request: Request) -> Response:
        parts = urlsplit(request.url)
        assert f"{parts.scheme}://{parts.netloc}" == URL  # only the node is ever asked
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        hashes = [leaf_hash(x) for x in self.leaves]
        if parts.path == "/genesis":
            return answer(self.genesis)
        if parts.path == "/checkpoint":
            return Response(200, (self.served or self.note()).encode(),
                            {"content-type": "text/plain"})
        if parts.path == "/proofs/consistency":
            old, new = int(query["from"]), int(query["to"])
            tree = [leaf_hash(x) for x in self.proof_leaves or self.leaves]
            return answer({"from": old, "to": new, "proof": [
                b64encode(h) for h in consistency_proof(tree, old, new)]})
        if parts.path.startswith("/txs/"):
            tx_id = parts.path.removeprefix("/txs/")
            for index, data in enumerate(self.leaves):
                if hashlib.sha256(data).hexdigest() == tx_id:
                    return answer({"tx": json.loads(data), "index": index})
        if parts.path == "/proofs/inclusion":
            size = int(query["size"])
            index = [hashlib.sha256(x).hexdigest() for x in self.leaves].index(query["tx"])
            return answer({"index": index, "size": size, "proof": [
                b64encode(h) for h in inclusion_proof(hashes, index, size)]})
        return answer({"error": "registry.not_found", "detail": parts.path}, 404)


def answer(obj: object, status: int = 200) -> Response:
    return Response(status, json.dumps(obj).encode(), {"content-type": "application/json"})


def client_for(node: SimulatedNode, **policy: Any) -> RegistryClient:
    store = policy.pop("store", None)
    return RegistryClient(URL, transport=node.transport, policy=TrustPolicy(**policy),
                          clock=node.clock, checkpoint_store=store)


async def untrusted(call: Any, code: str | None = None) -> UntrustedResponseError:
    with pytest.raises(UntrustedResponseError) as err:
        await call
    if code is not None:
        assert err.value.code == code, err.value
    return err.value


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


# --- the base URL and genesis ------------------------------------------------------------


@pytest.mark.parametrize("url", ["ftp://registry.example", "https://", "registry.example",
                                 "https://user@registry.example", "https://r.example/?q=1",
                                 "https://r.example/#top"])
async def test_only_a_plain_http_origin_is_a_registry(url: str) -> None:
    with pytest.raises(ValueError):
        RegistryClient(url)


async def test_trust_on_first_use_takes_the_genesis_served(clock: FakeClock) -> None:
    node = SimulatedNode(clock, witnesses=2, quorum=1)
    async with client_for(node) as client:
        genesis = await client.genesis()
        assert (genesis.hash, genesis.chain_id, genesis.quorum) == (
            node.genesis["hash"], CHAIN, 1)
        assert {w.name for w in genesis.witnesses} == {w.name for w in WITNESSES[:2]}
        assert await client.genesis() is genesis  # fetched once
    assert node.paths() == ["/genesis"]


async def test_a_pinned_genesis_must_match(clock: FakeClock) -> None:
    node = SimulatedNode(clock)
    async with client_for(node, genesis_hash=node.genesis["hash"].upper()) as client:
        assert (await client.genesis()).hash == node.genesis["hash"]
    async with client_for(node, genesis_hash="0" * 64) as client:
        await untrusted(client.genesis(), "registry.genesis_mismatch")


async def test_a_tampered_or_shapeless_genesis_is_refused(clock: FakeClock) -> None:
    node = SimulatedNode(clock)
    good = dict(node.genesis)
    for bad in ({**good, "hash": "1" * 64}, {"hash": good["hash"]},
                {**good, "txs": "none"},
                {**good, "header": {**good["header"], "time": good["header"]["time"] + 1}}):
        node.genesis = bad
        async with client_for(node) as client:
            await untrusted(client.genesis())


@pytest.mark.parametrize(("witnesses", "policy"), [
    (1, {"quorum": 2}), (0, {"max_age": 60}), (1, {"quorum": -1}),
    (1, {"witnesses": ["not a vkey"]}),
])
async def test_a_policy_that_cannot_be_met_is_a_client_error(
        clock: FakeClock, witnesses: int, policy: dict[str, Any]) -> None:
    node = SimulatedNode(clock, witnesses=witnesses)
    async with client_for(node, **policy) as client:
        with pytest.raises(ClientError) as err:
            await client.genesis()
        assert err.value.code == "registry.bad_policy"


# --- checkpoints: quorum, growth, rollback, fork --------------------------------------------


async def test_a_growing_log_is_proven_consistent(clock: FakeClock) -> None:
    node = SimulatedNode(clock, witnesses=2, quorum=2)
    async with client_for(node) as client:
        first = await client.checkpoint()
        assert first.size == len(node.leaves) and client.tracked == first
        assert "/proofs/consistency" not in node.paths()
        node.grow(5)
        second = await client.checkpoint()
        assert second.size == first.size + 5 and client.tracked == second
        assert node.paths().count("/proofs/consistency") == 1
        assert client.tracked_note == node.note()


async def test_too_few_cosignatures_are_refused(clock: FakeClock) -> None:
    node = SimulatedNode(clock, witnesses=3, quorum=2)
    node.served = node.note(cosigners=WITNESSES[:1])
    async with client_for(node) as client:
        await untrusted(client.checkpoint(), "registry.witness_quorum")
        assert client.tracked is None
    # one witness signing twice does not make two: such a note is refused outright
    node.served = node.note(cosigners=[WITNESSES[0], WITNESSES[0]])
    async with client_for(node) as client:
        await untrusted(client.checkpoint())


async def test_a_checkpoint_signed_by_another_key_is_refused(clock: FakeClock) -> None:
    node = SimulatedNode(clock)
    impostor = SimulatedNode(clock)  # same chain id, another sequencer key
    node.served = impostor.note()
    async with client_for(node) as client:
        await untrusted(client.checkpoint())


async def test_rollback_and_fork_leave_the_tracked_checkpoint(clock: FakeClock) -> None:
    node = SimulatedNode(clock)
    node.grow(4)
    async with client_for(node) as client:
        held = await client.checkpoint()
        node.served = node.note(held.size - 2)
        await untrusted(client.checkpoint(), "registry.rollback")
        forked = node.leaves[:-1] + [canonical({"n": "another"})]
        node.served = node.note(leaves=forked)
        await untrusted(client.checkpoint(), "registry.fork_detected")
        assert client.tracked == held
        # a bigger tree that does not extend the verified one
        node.proof_leaves = forked + [canonical({"n": "more"})]
        node.served = node.note(leaves=node.proof_leaves)
        await untrusted(client.checkpoint(), "registry.fork_detected")
        assert client.tracked == held
        node.served = node.proof_leaves = None
        assert await client.checkpoint() == held  # the honest answer is still accepted


async def test_freshness_under_max_age(clock: FakeClock) -> None:
    node = SimulatedNode(clock, witnesses=2, quorum=1)
    async with client_for(node, max_age=60) as client:
        held = await client.ensure_fresh()
        asked = len(node.paths())
        clock.advance(60)
        assert await client.ensure_fresh() == held and len(node.paths()) == asked
        clock.advance(1)  # the cosignature is now too old: ask again
        await client.ensure_fresh()
        assert node.paths()[asked:] == ["/checkpoint"]
        # a node that withholds new cosignatures is stale, not trusted
        node.served = node.note(at=clock() - 61)
        clock.advance(61)
        await untrusted(client.ensure_fresh(), "registry.checkpoint_stale")


async def test_the_checkpoint_kept_in_a_file_survives_a_restart(clock: FakeClock,
                                                                 tmp_path: Path) -> None:
    node = SimulatedNode(clock)
    node.grow(3)
    store = FileCheckpointStore(tmp_path / "checkpoint.note")
    async with client_for(node, store=store) as client:
        held = await client.checkpoint()
    assert store.load() == node.note()
    node.served = node.note(held.size - 1)  # the node rolls back while the client is off
    async with client_for(node, store=store) as client:
        await client.genesis()
        assert client.tracked == held
        await untrusted(client.checkpoint(), "registry.rollback")
    (tmp_path / "checkpoint.note").write_text("not a note")
    async with client_for(node, store=store) as client:
        with pytest.raises(ClientError) as err:
            await client.genesis()
        assert err.value.code == "registry.bad_checkpoint_store"


# --- inclusion, and a node that fails -------------------------------------------------------


async def test_inclusion_of_a_transaction(clock: FakeClock) -> None:
    node = SimulatedNode(clock)
    node.grow(6)
    async with client_for(node) as client:
        for index in (0, 3, len(node.leaves) - 1):
            tx_id = hashlib.sha256(node.leaves[index]).hexdigest()
            assert await client.verify_inclusion(tx_id) == index
        for bad in ("nothex", "A" * 64, "0" * 63):
            with pytest.raises(ClientError) as err:
                await client.verify_inclusion(bad)
            assert err.value.code == "registry.bad_parameter"
        with pytest.raises(RemoteError) as missing:
            await client.verify_inclusion("0" * 64)
        assert (missing.value.code, missing.value.http_status) == ("registry.not_found", 404)


async def test_a_transaction_served_under_another_id_is_refused(clock: FakeClock) -> None:
    node = SimulatedNode(clock)
    node.grow(2)
    tx_id = hashlib.sha256(node.leaves[-1]).hexdigest()
    honest = node.handle

    def lying(request: Request) -> Response:
        if urlsplit(request.url).path == f"/txs/{tx_id}":
            return answer({"tx": {"n": "swapped"}, "index": len(node.leaves) - 1})
        return honest(request)

    node.transport.handler = lying
    async with client_for(node) as client:
        await untrusted(client.verify_inclusion(tx_id))


async def test_an_unreachable_or_failing_node(clock: FakeClock) -> None:
    node = SimulatedNode(clock)

    def down(request: Request) -> Response:
        raise UnreachableError("connection refused")

    node.transport.handler = down
    async with client_for(node) as client:
        with pytest.raises(RegistryUnavailableError):
            await client.genesis()

    node.transport.handler = lambda request: answer(
        {"error": "registry.node_halted", "detail": "halted"}, 503)
    async with client_for(node) as client:
        with pytest.raises(RemoteError) as err:
            await client.checkpoint()
        assert (err.value.code, err.value.http_status) == ("registry.node_halted", 503)

    node.transport.handler = lambda request: Response(200, b"{not json")
    async with client_for(node) as client:
        await untrusted(client.genesis())
