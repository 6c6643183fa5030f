"""Service starters: a did:keten registry node (with witnesses and mirrors), an OpenID4VCI
issuer and an OpenID4VP verifier, each served on loopback in the test's event loop.

Registered as part of the suite's plugin (``tests/conftest.py``), so every test directory
gets the ``registry_node``, ``registry_mirror``, ``issuer_service`` and ``verifier_service``
factories without importing them. Each keeps to its own delimited section below.
"""

from __future__ import annotations

# =============================================================================================
# registry section: a did:keten registry node (and its witnesses and mirrors) on loopback
# =============================================================================================
#
# ``registry_node(...)`` writes a genesis block into a fresh SQLite file under ``tmp_path``,
# opens the node with a controllable clock, serves ``registry.node.app.build_app`` with
# pytest-aiohttp's ``aiohttp_server`` and returns a :class:`RegistryNode` handle. With
# ``witnesses=N`` it also creates N witness keys (named in genesis) and, unless
# ``serve_witnesses=False``, serves a C2SP witness for each and has the node collect their
# cosignatures. ``registry_mirror(node)`` bootstraps a validating mirror that follows it.
import hashlib
import io
import itertools
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest_asyncio
from pytest_aiohttp import AiohttpServer

from registry.author import Controller, genesis_block
from registry.node.app import ServiceOptions, build_app
from registry.node.http import NodeSettings
from registry.node.node import Node
from registry.node.storage import SqliteStorage, StoredBlock
from registry.node.sync import bootstrap_mirror
from registry.tlog.checkpoint import CosignatureSigner
from registry.tlog.note import NoteVerifier
from registry.witness.decide import WitnessConfig
from registry.witness.http import create_witness_app
from registry.witness.store import load_or_create_witness_key
from ssiwallet.core.claimpath import ClaimPath
from ssiwallet.core.keys import Ed25519PrivateKey
from ssiwallet.infra.clock import FakeClock

REGISTRY_CHAIN = "registry.keten.example/it"
_JSON_TYPES = ("application/json", "application/ld+json", "application/did-resolution",
               "application/did+ld+json", "application/did+json")


@dataclass
class RegistryNode:
    """A served registry node and what a test needs to talk to it and check its answers."""

    url: str
    node: Node
    session: aiohttp.ClientSession
    chain: str
    genesis_hash: str
    stewards: list[Controller]
    sequencer: Ed25519PrivateKey
    clock: FakeClock
    db_path: Path
    quorum: int = 0
    witnesses: list[CosignatureSigner] = field(default_factory=list)
    witness_urls: list[str] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)

    @property
    def steward(self) -> Controller:
        return self.stewards[0]

    @property
    def log_verifier(self) -> NoteVerifier:
        """The key the node signs checkpoints with (origin = chain id, sequencer key)."""
        return NoteVerifier(self.chain, self.sequencer.public_key)

    async def request(self, method: str, path: str, data: bytes | None = None,
                      headers: dict[str, str] | None = None) -> tuple[int, Any, str]:
        """(status, parsed JSON body or text, content type); a 500 fails the test at once."""
        # aiohttp warns (ResourceWarning) about large raw bytes bodies: stream those
        payload = io.BytesIO(data) if data is not None and len(data) > 1 << 20 else data
        async with self.session.request(method, self.url + path, data=payload,
                                        headers=headers, allow_redirects=False) as resp:
            raw = await resp.read()
            status, ctype = resp.status, resp.content_type
        self.statuses.append(status)
        assert status != 500, f"{method} {path} answered 500: {raw[:300]!r}"
        text = raw.decode("utf-8")
        return status, json.loads(text) if ctype in _JSON_TYPES else text, ctype

    async def get(self, path: str) -> tuple[int, Any]:
        status, body, _ = await self.request("GET", path)
        return status, body

    async def post(self, tx: bytes) -> tuple[int, Any]:
        """POST one transaction's bytes to /txs."""
        status, body, _ = await self.request("POST", "/txs", tx)
        return status, body

    async def health(self) -> dict[str, Any]:
        status, body = await self.get("/health")
        assert status == 200, body
        return dict(body)

    def sign(self, who: Controller, tx_type: str, body: dict[str, Any]) -> bytes:
        """``who`` signs a transaction for this chain at the clock's time."""
        return who.sign(self.chain, tx_type, body, self.clock())

    async def submit(self, who: Controller, tx_type: str, body: dict[str, Any]) -> dict[str, Any]:
        """Sign, post and require 201; the receipt."""
        status, receipt = await self.post(self.sign(who, tx_type, body))
        assert status == 201, receipt
        return dict(receipt)

    async def new_did(self, name: str, endorser: Controller | None = None) -> Controller:
        """A new DID created on the chain, endorsed by ``endorser`` (default: first steward)."""
        controller = Controller.new(name)
        tx = controller.create_tx(self.chain, self.clock(), endorser or self.steward)
        status, receipt = await self.post(tx)
        assert status == 201, receipt
        return controller


RegistryFactory = Callable[..., Awaitable[RegistryNode]]
MirrorFactory = Callable[..., Awaitable[RegistryNode]]


def _write_genesis(db: Path, chain: str, stewards: list[Controller],
                   sequencer: Ed25519PrivateKey, witnesses: list[tuple[str, str]], quorum: int,
                   at: int) -> str:
    header, txs = genesis_block(chain, "Keten integration test", stewards, sequencer, witnesses,
                                quorum, at)
    with SqliteStorage(db) as storage:
        storage.append_block(StoredBlock(0, header.hash, header.data, 0, len(txs)),
                             [(hashlib.sha256(t).hexdigest(), t) for t in txs], "")
    return header.hash


@pytest_asyncio.fixture
async def registry_node(aiohttp_server: AiohttpServer, tmp_path: Path
                        ) -> AsyncIterator[RegistryFactory]:
    """Factory: ``await registry_node(stewards=1, witnesses=0, quorum=0, chain=..., ...)``."""
    session = aiohttp.ClientSession()
    counter = itertools.count()

    async def make(*, stewards: int = 1, witnesses: int = 0, quorum: int = 0,
                   chain: str = REGISTRY_CHAIN, serve_witnesses: bool = True,
                   cosign_interval: float = 0.2, clock: FakeClock | None = None,
                   settings: NodeSettings | None = None) -> RegistryNode:
        root = tmp_path / f"registry-{next(counter)}"
        root.mkdir()
        clock = clock or FakeClock()
        sequencer = Ed25519PrivateKey.generate()
        owners = [Controller.new(f"Steward {i + 1}") for i in range(stewards)]
        signers = [load_or_create_witness_key(root / f"witness-{i + 1}.key",
                                              f"witness.keten.example/w{i + 1}")
                   for i in range(witnesses)]
        db = root / "registry.db"
        genesis_hash = _write_genesis(db, chain, owners, sequencer,
                                      [(s.name, s.verifier.vkey()) for s in signers], quorum,
                                      clock())
        log_vkey = NoteVerifier(chain, sequencer.public_key).vkey()
        witness_urls: list[str] = []
        if serve_witnesses:
            for i, signer in enumerate(signers):
                config = WitnessConfig(signer, {chain: [log_vkey]}, root / f"witness-{i + 1}.db")
                server = await aiohttp_server(create_witness_app(config, clock=clock))
                witness_urls.append(f"http://{server.host}:{server.port}")
        storage = SqliteStorage(db)
        try:
            node = Node.open(storage, sequencer, clock=clock)
        except BaseException:
            storage.close()
            raise
        options = ServiceOptions(
            witnesses={s.name: u for s, u in zip(signers, witness_urls, strict=False)},
            cosign_interval=cosign_interval, settings=settings or NodeSettings())
        server = await aiohttp_server(build_app(node, options))
        return RegistryNode(f"http://{server.host}:{server.port}", node, session, chain,
                            genesis_hash, owners, sequencer, clock, db, quorum, signers,
                            witness_urls)

    try:
        yield make
    finally:
        await session.close()


@pytest_asyncio.fixture
async def registry_mirror(aiohttp_server: AiohttpServer, tmp_path: Path
                          ) -> AsyncIterator[MirrorFactory]:
    """Factory: ``await registry_mirror(upstream_handle, follow_interval=0.05)``."""
    session = aiohttp.ClientSession()
    counter = itertools.count()

    async def make(upstream: RegistryNode, *, follow_interval: float = 0.05) -> RegistryNode:
        db = tmp_path / f"mirror-{next(counter)}.db"
        storage = SqliteStorage(db)
        try:
            node = await bootstrap_mirror(storage, upstream.url, upstream.genesis_hash, session)
        except BaseException:
            storage.close()
            raise
        node.clock = upstream.clock  # the same 'now' as the sequencer, for equal answers
        app = build_app(node, ServiceOptions(upstream=upstream.url,
                                             follow_interval=follow_interval))
        server = await aiohttp_server(app)
        return RegistryNode(f"http://{server.host}:{server.port}", node, session,
                            upstream.chain, upstream.genesis_hash, upstream.stewards,
                            upstream.sequencer, upstream.clock, db, upstream.quorum,
                            upstream.witnesses)

    try:
        yield make
    finally:
        await session.close()


# =============================================================================================
# end of registry section
# =============================================================================================


# =============================================================================================
# issuer section: an OpenID4VCI issuer (municipality, VDAB or school) on a registry node
# =============================================================================================
#
# ``issuer_service(reg, profile="school")`` creates the issuer's DID on ``reg`` (endorsed by
# its first steward), accredits it for the profile's types, writes a configuration file and
# key file like ``ssi-issuer init`` does, and serves the issuer on loopback with the
# registry's clock. The handle creates offers through the admin API and builds a registry
# client that trusts the node the way a wallet or verifier would.
import socket  # noqa: E402

from issuer.app import create_app as create_issuer_app  # noqa: E402
from issuer.config import load_config, render_config  # noqa: E402
from issuer.context import ISSUER, IssuerContext  # noqa: E402
from registry.author import save_controller  # noqa: E402
from registry.client.client import RegistryClient, TrustPolicy  # noqa: E402


@dataclass
class IssuerService:
    """A served issuer and what a test needs to drive it."""

    url: str
    ctx: IssuerContext
    controller: Controller
    registry: RegistryNode
    admin_token: str
    accreditation: str
    config_path: Path

    @property
    def did(self) -> str:
        return str(self.controller.did)

    def client(self) -> RegistryClient:
        """A registry client pinned to the node's genesis, on the registry's clock."""
        return RegistryClient(self.registry.url, policy=TrustPolicy(
            genesis_hash=self.registry.genesis_hash), clock=self.registry.clock)

    async def admin(self, method: str, path: str, body: object = None,
                    token: str | None = None) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token or self.admin_token}"}
        async with self.registry.session.request(method, self.url + path, json=body,
                                                 headers=headers) as resp:
            raw = await resp.read()
            assert resp.status != 500, raw[:300]
            return resp.status, json.loads(raw)

    async def offer(self, claims: dict[str, Any], config_id: str | None = None
                    ) -> dict[str, Any]:
        """Create an offer through the admin API; the created offer (with its PIN)."""
        chosen = config_id or next(iter(self.ctx.config.credentials))
        status, body = await self.admin("POST", "/admin/offers", {
            "credential_configuration_id": chosen, "claims": claims})
        assert status == 201, body
        return dict(body)


IssuerFactory = Callable[..., Awaitable[IssuerService]]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest_asyncio.fixture
async def issuer_service(aiohttp_server: AiohttpServer, tmp_path: Path
                         ) -> AsyncIterator[IssuerFactory]:
    """Factory: ``await issuer_service(reg, profile="school", batch_size=10, accredit=True)``."""
    counter = itertools.count()

    async def make(reg: RegistryNode, *, profile: str = "school", batch_size: int = 10,
                   accredit: bool = True, status_list_size: int = 1 << 12) -> IssuerService:
        root = tmp_path / f"issuer-{profile}-{next(counter)}"
        root.mkdir()
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        text, token = render_config(profile=profile, public_url=url, port=port,
                                    registry_url=reg.url, genesis_hash=reg.genesis_hash,
                                    batch_size=batch_size, status_list_size=status_list_size)
        config_path = root / "issuer.toml"
        config_path.write_text(text)
        (root / "admin-token").write_text(token)
        config = load_config(config_path)
        controller = await reg.new_did(config.display["en"])
        save_controller(controller, config.key_file)
        accreditation = ""
        if accredit:
            receipt = await reg.submit(reg.steward, "accreditation.grant", {
                "issuer": str(controller.did),
                "vcts": [c.vct for c in config.profile.credentials],
                "valid_from": reg.clock(), "valid_until": None})
            accreditation = str(receipt["id"])
        app = create_issuer_app(config, clock=reg.clock)
        server = await aiohttp_server(app, port=port)
        assert f"http://{server.host}:{server.port}" == url
        return IssuerService(url, app[ISSUER], controller, reg, token, accreditation,
                             config_path)

    yield make


# =============================================================================================
# end of issuer section
# =============================================================================================


# =============================================================================================
# verifier section: an OpenID4VP verifier registered on a registry node
# =============================================================================================
#
# ``verifier_service(reg, presets=["age18"])`` creates the verifier's DID on ``reg``, has the
# steward register it for exactly the claims its presets ask (or for ``claims`` when given,
# to test over-asking), writes its key and configuration, checks the presets against the
# registration (``prepare``) and serves it on loopback with the registry's clock.
from verifier.app import create_app as create_verifier_app  # noqa: E402
from verifier.config import load_config as load_verifier_config  # noqa: E402
from verifier.config import render_config as render_verifier_config  # noqa: E402
from verifier.context import VERIFIER  # noqa: E402
from verifier.presets import BUILTIN  # noqa: E402
from verifier.service import VerifierContext  # noqa: E402


@dataclass
class VerifierService:
    """A served verifier and what a test needs to drive it."""

    url: str
    ctx: VerifierContext
    controller: Controller
    registry: RegistryNode

    @property
    def did(self) -> str:
        return str(self.controller.did)

    async def start(self, preset: str) -> dict[str, Any]:
        """A new session (as the desk makes it): its id and openid4vp:// link."""
        async with self.registry.session.post(self.url + "/sessions",
                                              json={"preset": preset}) as resp:
            body = await resp.json()
            assert resp.status == 201, body
            return dict(body)

    async def result(self, session_id: str) -> dict[str, Any]:
        async with self.registry.session.get(f"{self.url}/sessions/{session_id}") as resp:
            body = await resp.json()
            assert resp.status == 200, body
            return dict(body)


VerifierFactory = Callable[..., Awaitable[VerifierService]]


def registration_body(did: str, presets: list[str]) -> dict[str, Any]:
    """A ``verifier.register`` body allowing exactly what ``presets`` ask."""
    wanted: dict[str, set[ClaimPath]] = {}
    for name in presets:
        for vct, paths in BUILTIN[name].requested().items():
            wanted.setdefault(vct, set()).update(paths)
    return {"verifier": did, "purpose": {"nl": "Toegang tot de bibliotheek",
                                         "en": "Access to the library"},
            "credentials": [{"vct": v, "claims": [list(p) for p in sorted(ps)]}
                            for v, ps in sorted(wanted.items())],
            "valid_until": None}


@pytest_asyncio.fixture
async def verifier_service(aiohttp_server: AiohttpServer, tmp_path: Path
                           ) -> AsyncIterator[VerifierFactory]:
    """Factory: ``await verifier_service(reg, presets=["age18"], register_for=None)``."""
    counter = itertools.count()

    async def make(reg: RegistryNode, *, presets: list[str] | None = None,
                   register_for: list[str] | None = None, name: str = "Bibliotheek Gent",
                   retention: int = 600) -> VerifierService:
        chosen = presets or list(BUILTIN)
        root = tmp_path / f"verifier-{next(counter)}"
        root.mkdir()
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        text = render_verifier_config(public_url=url, port=port, registry_url=reg.url,
                                      genesis_hash=reg.genesis_hash, presets=chosen)
        (root / "verifier.toml").write_text(text.replace("retention = 600",
                                                         f"retention = {retention}"))
        config = load_verifier_config(root / "verifier.toml")
        controller = await reg.new_did(name)
        save_controller(controller, config.key_file)
        await reg.submit(reg.steward, "verifier.register",
                         registration_body(str(controller.did), register_for or chosen))
        app = create_verifier_app(config, clock=reg.clock)
        server = await aiohttp_server(app, port=port)
        assert f"http://{server.host}:{server.port}" == url
        return VerifierService(url, app[VERIFIER], controller, reg)

    yield make


# =============================================================================================
# end of verifier section
# =============================================================================================
