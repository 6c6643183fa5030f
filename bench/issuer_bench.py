"""Issuance: offers redeemed per second over HTTP, each into a batch of 10 bound copies.

A registry node and a school issuer run in this process on loopback (SQLite in a temporary
folder, WAL + ``synchronous=FULL``, as ``ssi-registry serve`` and ``ssi-issuer serve``).
Offers are made before any timing. A second process plays the wallets: several concurrent
clients each redeem offers the way :func:`ssiwallet.holder.receive.receive` does (token
with PIN, ``c_nonce``, ten ``openid4vci-proof+jwt`` proofs made with ten fresh keys, the
credential request), so the server has a core of its own on a two-core machine.

The bound is the same issuer work in-process, without HTTP: ``OfferDesk.token`` and
``Issuance.credential`` on requests whose proofs were made before timing (the wallet's
signing is the client's work, not the issuer's). Both sides write the same database rows
with the same durability, so the ratio is what HTTP and the protocol's extra round trips
cost.
"""

from __future__ import annotations

import asyncio
import hashlib
import multiprocessing
import socket
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from aiohttp import web

from bench.harness import Row
from issuer.app import create_app
from issuer.config import IssuerConfig, load_config, render_config
from issuer.context import ISSUER, IssuerContext
from registry.author import Controller, genesis_block, save_controller
from registry.client.client import RegistryClient, TrustPolicy
from registry.node.app import ServiceOptions, build_app
from registry.node.node import Node
from registry.node.storage import SqliteStorage, StoredBlock
from ssiwallet.core.keys import Ed25519PrivateKey
from ssiwallet.core.oid4vci import PRE_AUTH_GRANT, make_proof, parse_offer_uri

__all__ = ["Registry", "Server", "run", "start_registry"]

CHAIN = "registry.keten.example/bench-issuer"
COPIES = 10
CLIENTS = 8
DIPLOMA = {"holder_name": "Bench Holder", "title": "Bachelor in de informatica",
           "eqf_level": 6, "field_of_study": "Informatica", "awarded_on": "2024-06-28",
           "institution": "Hogeschool Gent"}


class Server:
    """An aiohttp application on 127.0.0.1 (port given or chosen by the OS)."""

    def __init__(self, app: web.Application) -> None:
        self.runner = web.AppRunner(app, access_log=None)
        self.port = 0

    async def start(self, port: int = 0) -> int:
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", port).start()
        self.port = self.runner.addresses[0][1]
        return self.port

    async def stop(self) -> None:
        await self.runner.cleanup()


# --------------------------------------------------------------------------- the wallets


def _redeem_all(url: str, offers: list[tuple[str, str]], seconds: float) -> tuple[int, float]:
    return asyncio.run(_redeem_async(url, offers, seconds))


async def _redeem_async(url: str, offers: list[tuple[str, str]], seconds: float
                        ) -> tuple[int, float]:
    queue = list(reversed(offers))
    done = 0
    connector = aiohttp.TCPConnector(limit=CLIENTS)
    async with aiohttp.ClientSession(connector=connector) as http:
        start = time.perf_counter()
        deadline = start + seconds

        async def wallet() -> None:
            nonlocal done
            while queue and time.perf_counter() < deadline:
                code, pin = queue.pop()
                async with http.post(f"{url}/token", data={
                        "grant_type": PRE_AUTH_GRANT, "pre-authorized_code": code,
                        "tx_code": pin}) as resp:
                    token = (await resp.json())["access_token"]
                async with http.post(f"{url}/nonce") as resp:
                    nonce = (await resp.json())["c_nonce"]
                now = int(time.time())
                proofs = [make_proof(Ed25519PrivateKey.generate(), aud=url, nonce=nonce,
                                     iat=now) for _ in range(COPIES)]
                async with http.post(f"{url}/credential", json={
                        "credential_configuration_id": "diploma_dc_sd_jwt",
                        "proofs": {"jwt": proofs}},
                        headers={"Authorization": f"Bearer {token}"}) as resp:
                    body = await resp.json()
                    if resp.status != 200 or len(body["credentials"]) != COPIES:
                        raise RuntimeError(f"issuance failed: {body}")
                done += 1

        await asyncio.gather(*(wallet() for _ in range(CLIENTS)))
        return done, time.perf_counter() - start


# --------------------------------------------------------------------------- the services


@dataclass
class Registry:
    """A served registry node and its steward (for the benchmarks' governance steps)."""

    server: Server
    url: str
    genesis: str
    chain: str
    steward: Controller

    def client(self) -> RegistryClient:
        return RegistryClient(self.url, policy=TrustPolicy(genesis_hash=self.genesis))

    async def accredited_did(self, name: str, vct: str, now: int) -> Controller:
        """A new DID, endorsed by the steward and accredited for ``vct``."""
        did = Controller.new(name)
        async with self.client() as client:
            await client.submit(did.create_tx(self.chain, now, self.steward))
            await client.submit_signed(self.steward, "accreditation.grant", {
                "issuer": str(did.did), "vcts": [vct], "valid_from": now,
                "valid_until": None})
        return did


async def start_registry(workdir: Path, now: int) -> Registry:
    """A sequencer node on loopback over SQLite in ``workdir`` (as ``ssi-registry serve``)."""
    steward, sequencer = Controller.new("Steward"), Ed25519PrivateKey.generate()
    header, txs = genesis_block(CHAIN, "Bench", [steward], sequencer, [], 0, now)
    storage = SqliteStorage(workdir / "registry.db")
    storage.append_block(StoredBlock(0, header.hash, header.data, 0, len(txs)),
                         [(hashlib.sha256(t).hexdigest(), t) for t in txs], "")
    node = Node.open(storage, sequencer, clock=lambda: int(time.time()))
    server = Server(build_app(node, ServiceOptions()))
    url = f"http://127.0.0.1:{await server.start()}"
    return Registry(server, url, header.hash, CHAIN, steward)


async def _issuer(workdir: Path, registry: str, genesis: str, school: Controller,
                  port: int) -> IssuerConfig:
    text, token = render_config(profile="school", public_url=f"http://127.0.0.1:{port}",
                                port=port, registry_url=registry, genesis_hash=genesis,
                                batch_size=COPIES, status_list_size=1 << 20)
    (workdir / "issuer.toml").write_text(text)
    (workdir / "admin-token").write_text(token)
    config = load_config(workdir / "issuer.toml")
    save_controller(school, config.key_file)
    return config


def _offers(ctx: IssuerContext, n: int) -> list[tuple[str, str]]:
    out = []
    for _ in range(n):
        created = ctx.desk.create("diploma_dc_sd_jwt", DIPLOMA, now=ctx.clock())
        offer = parse_offer_uri(created.uri)
        assert not isinstance(offer, str)
        out.append((offer.pre_authorized_code, created.pin))
    return out


async def _bound_round(ctx: IssuerContext, offers: list[tuple[str, str]], seconds: float
                       ) -> tuple[int, float]:
    """The issuer's own work per redemption, in-process; proofs made before timing."""
    url = ctx.config.public_url
    prepared = []
    for code, pin in offers:
        nonce = ctx.issuance.nonces.issue(ctx.clock())
        proofs = [make_proof(Ed25519PrivateKey.generate(), aud=url, nonce=nonce,
                             iat=ctx.clock()) for _ in range(COPIES)]
        prepared.append((code, pin, {"credential_configuration_id": "diploma_dc_sd_jwt",
                                     "proofs": {"jwt": proofs}}))
    done = 0
    start = time.perf_counter()
    for code, pin, request in prepared:
        now = ctx.clock()
        token = ctx.desk.token({"grant_type": PRE_AUTH_GRANT, "pre-authorized_code": code,
                                "tx_code": pin}, now=now)
        answer = await ctx.issuance.credential(f"Bearer {token['access_token']}", request,
                                               now=now)
        assert len(answer["credentials"]) == COPIES
        done += 1
        if time.perf_counter() - start >= seconds:
            break
    return done, time.perf_counter() - start


async def _measure(quick: bool) -> list[Row]:
    rounds, seconds = (2, 1.0) if quick else (3, 2.0)
    now = int(time.time())
    with tempfile.TemporaryDirectory(prefix="keten-bench-issuer-") as tmp:
        workdir = Path(tmp)
        registry = await start_registry(workdir, now)
        url, genesis = registry.url, registry.genesis
        school = await registry.accredited_did("Hogeschool Gent", "urn:keten:vct:diploma:1",
                                               now)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        app = create_app(await _issuer(workdir, url, genesis, school, port))
        issuer = Server(app)
        await issuer.start(port)
        ctx = app[ISSUER]
        issuer_url = ctx.config.public_url
        await ctx.issuance.current_list(COPIES, now)  # the status list exists before timing
        per_round = 400 if quick else 900
        http_best = bound_best = 0.0
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(1, mp_context=context) as pool:
            loop = asyncio.get_running_loop()
            for _ in range(rounds):
                offers = _offers(ctx, per_round)
                done, elapsed = await loop.run_in_executor(pool, _redeem_all, issuer_url,
                                                           offers, seconds)
                http_best = max(http_best, done / elapsed)
                offers = _offers(ctx, per_round // 2)
                done, elapsed = await _bound_round(ctx, offers, seconds / 2)
                bound_best = max(bound_best, done / elapsed)
        await issuer.stop()
        await registry.server.stop()
    return [Row(f"offers redeemed over HTTP ({COPIES} copies each, {CLIENTS} wallets)",
                http_best, "in-process issuer work (token + credential, no HTTP)",
                bound_best, unit="offers/s")]


def run(quick: bool = False) -> list[Row]:
    return asyncio.run(_measure(quick))

