"""Right after a write: the node's newest checkpoint, its witnesses' cosignatures, and a client.

The sequencer serves a new checkpoint as soon as a block is durable; the witnesses cosign it
a round trip later. A client asking in between is refused (``registry.witness_quorum``, as
it must be), so clients that start right after a write wait, bounded, with
:func:`registry.client.wait.cosigned_checkpoint`; and the node's cosigning loop must send a
block that lands during a round at once, not an idle interval later. Witnesses here sit
behind a gate the test opens and closes, so the window is as wide as the test wants.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp import web
from pytest_aiohttp import AiohttpServer

from registry.author import Controller, genesis_block
from registry.client.client import RegistryClient, TrustPolicy
from registry.client.types import UntrustedResponseError
from registry.client.wait import cosigned_checkpoint, waiting_words
from registry.node.app import ServiceOptions, build_app
from registry.node.node import Node, store_block
from registry.node.storage import SqliteStorage
from registry.tlog.note import NoteVerifier
from registry.witness.decide import WitnessConfig
from registry.witness.http import create_witness_app
from registry.witness.store import load_or_create_witness_key
from ssiwallet.core.keys import Ed25519PrivateKey

CHAIN = "registry.keten.example/cosign-wait"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Consortium:
    url: str
    node: Node
    genesis: str
    steward: Controller
    gate: asyncio.Event
    """Set: the witnesses answer; cleared: every ``add-checkpoint`` waits for it."""

    def client(self, genesis: str | None = None) -> RegistryClient:
        return RegistryClient(self.url, policy=TrustPolicy(genesis_hash=genesis or self.genesis))

    async def write(self, client: RegistryClient) -> int:
        """A new DID endorsed by the steward; the tree size that holds it."""
        tx = Controller.new("Org").create_tx(CHAIN, int(time.time()), self.steward)
        receipt = await client.submit(tx)
        return int(receipt["index"]) + 1


def _gated(app: web.Application, gate: asyncio.Event, delay: float) -> web.Application:
    @web.middleware
    async def hold(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path == "/add-checkpoint":
            await gate.wait()
            await asyncio.sleep(delay)
        return await handler(request)

    app.middlewares.insert(0, hold)
    return app


async def _consortium(server: AiohttpServer, root: Path, *, delay: float = 0.0
                      ) -> Consortium:
    """A node with two witnesses, quorum 2, refreshing only every 30 s when idle."""
    sequencer, steward = Ed25519PrivateKey.generate(), Controller.new("Steward")
    signers = [load_or_create_witness_key(root / f"w{i}.key", f"witness.example/w{i}")
               for i in (1, 2)]
    header, txs = genesis_block(CHAIN, "Cosign wait", [steward], sequencer,
                                [(s.name, s.verifier.vkey()) for s in signers], 2,
                                int(time.time()))
    with SqliteStorage(root / "registry.db") as storage:
        store_block(storage, header, txs, "")
    log_vkey = NoteVerifier(CHAIN, sequencer.public_key).vkey()
    gate = asyncio.Event()
    gate.set()
    urls = {}
    for i, signer in enumerate(signers, 1):
        app = create_witness_app(WitnessConfig(signer, {CHAIN: [log_vkey]}, root / f"w{i}.db"))
        witness = await server(_gated(app, gate, delay))
        urls[signer.name] = f"http://{witness.host}:{witness.port}"
    node = Node.open(SqliteStorage(root / "registry.db"), sequencer)
    served = await server(build_app(node, ServiceOptions(witnesses=urls, cosign_interval=30)))
    return Consortium(f"http://{served.host}:{served.port}", node, header.hash, steward, gate)


@pytest.mark.asyncio
async def test_right_after_a_write_a_client_waits_for_the_quorum_and_says_so(
        aiohttp_server: AiohttpServer, tmp_path: Path) -> None:
    reg = await _consortium(aiohttp_server, tmp_path)
    async with reg.client() as client:
        await cosigned_checkpoint(client, timeout=5)  # genesis, cosigned at start
        reg.gate.clear()
        size = await reg.write(client)
        with pytest.raises(UntrustedResponseError) as refused:
            await client.checkpoint()  # what every flow used to do, and failed with
        assert refused.value.code == "registry.witness_quorum"
        assert "0 witness cosignatures, 2 required" in refused.value.detail

        said: list[str] = []
        waiting = asyncio.create_task(cosigned_checkpoint(client, timeout=10,
                                                          notice=said.append))
        await asyncio.sleep(0.5)
        assert not waiting.done()
        assert said == [waiting_words(2, 2)]
        assert "waiting for the registry's witnesses to cosign" in said[0]
        assert "(2 of 2 needed)" in said[0]
        reg.gate.set()
        checkpoint = await asyncio.wait_for(waiting, 5)
        assert checkpoint.size == size == reg.node.chain.size
        assert client.tracked == checkpoint


@pytest.mark.asyncio
async def test_an_already_cosigned_checkpoint_costs_no_wait_and_no_words(
        aiohttp_server: AiohttpServer, tmp_path: Path) -> None:
    reg = await _consortium(aiohttp_server, tmp_path)
    async with reg.client() as client:
        await cosigned_checkpoint(client, timeout=5)
        said: list[str] = []
        started = time.monotonic()
        await cosigned_checkpoint(client, notice=said.append)
        assert said == [] and time.monotonic() - started < 1


@pytest.mark.asyncio
async def test_the_wait_is_bounded_and_ends_with_the_quorum_error(
        aiohttp_server: AiohttpServer, tmp_path: Path) -> None:
    reg = await _consortium(aiohttp_server, tmp_path)
    async with reg.client() as client:
        await cosigned_checkpoint(client, timeout=5)
        reg.gate.clear()
        await reg.write(client)
        said: list[str] = []
        started = time.monotonic()
        with pytest.raises(UntrustedResponseError) as refused:
            await cosigned_checkpoint(client, timeout=0.6, notice=said.append)
        assert 0.6 <= time.monotonic() - started < 3
        assert refused.value.code == "registry.witness_quorum"
        assert len(said) == 1
        reg.gate.set()


@pytest.mark.asyncio
async def test_other_refusals_are_never_waited_out(aiohttp_server: AiohttpServer,
                                                   tmp_path: Path) -> None:
    reg = await _consortium(aiohttp_server, tmp_path)
    async with reg.client("0" * 64) as client:
        started = time.monotonic()
        with pytest.raises(UntrustedResponseError) as refused:
            await cosigned_checkpoint(client, timeout=10)
        assert refused.value.code == "registry.genesis_mismatch"
        assert time.monotonic() - started < 2


@pytest.mark.asyncio
async def test_a_block_landing_during_a_cosigning_round_is_cosigned_at_once(
        aiohttp_server: AiohttpServer, tmp_path: Path) -> None:
    """The loop used to wait for the next block's notification, which had come (and gone)
    while it was busy with the previous round: the block then went uncosigned for the whole
    idle interval (30 s here), and every client was refused in the meantime."""
    reg = await _consortium(aiohttp_server, tmp_path, delay=0.3)
    async with reg.client() as client:
        await cosigned_checkpoint(client, timeout=5)
        await reg.write(client)  # its round now takes 0.3 s at each witness
        await asyncio.sleep(0.1)
        size = await reg.write(client)  # lands while that round is in flight
        started = time.monotonic()
        checkpoint = await cosigned_checkpoint(client, timeout=5)
        assert checkpoint.size == size
        assert time.monotonic() - started < 3
