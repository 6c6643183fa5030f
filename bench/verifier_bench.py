"""Verification: OpenID4VP responses verified per second over HTTP.

A registry node, a municipality issuer and a verifier run in this process on loopback (as
``ssi-registry serve``, ``ssi-issuer serve`` and ``ssi-verifier serve`` would). A wallet
receives identity credentials once. Before any timing, sessions are opened ("age 18+") and,
for each, a real presentation is made: the request object fetched and parsed, one
disclosure selected, a KB-JWT for that session's nonce and the verifier's ``client_id``.
A second process then posts those ``direct_post`` forms with several concurrent clients;
the verifier runs the whole pipeline for each (signature, disclosures, key binding, issuer
key and accreditation on the registry, status list, schema, DCQL, nonce) and signs a receipt.

Two bounds are measured in the same run: the same forms handed to the verifier's own
``answer`` in-process, as many at a time as there are HTTP clients (no HTTP), and a
trivial aiohttp endpoint taking the same form bodies and answering a small JSON object,
loaded by the same client process. The goal is at least 60 % of the lower bound.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import socket
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

import aiohttp
from aiohttp import web

from bench.harness import Row
from bench.issuer_bench import Registry, Server, start_registry
from issuer.app import create_app as create_issuer_app
from issuer.config import load_config as load_issuer_config
from issuer.config import render_config as render_issuer_config
from issuer.context import ISSUER
from registry.author import Controller, save_controller
from ssiwallet.core.oid4vp import parse_request_object, parse_request_uri
from ssiwallet.core.receipt import build_response
from ssiwallet.core.sdjwt import parse
from ssiwallet.core.sdjwt.holder import present
from ssiwallet.holder.receive import ReceivedCredential, fetch_offer, receive
from verifier.app import create_app as create_verifier_app
from verifier.config import load_config, render_config
from verifier.context import VERIFIER
from verifier.service import VerifierContext

__all__ = ["run"]

CLIENTS = 8
IDENTITY = {"given_name": "Bench", "family_name": "Holder", "birthdate": "1990-01-01",
            "address": {"street_address": "Veldstraat 1", "postal_code": "9000",
                        "locality": "Gent", "country": "BE"}}


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --------------------------------------------------------------------------- the load


def _post_all(url: str, bodies: list[bytes], seconds: float) -> tuple[int, float]:
    return asyncio.run(_post_async(url, bodies, seconds))


async def _post_async(url: str, bodies: list[bytes], seconds: float) -> tuple[int, float]:
    queue = list(reversed(bodies))
    done = 0
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=CLIENTS)) as http:
        start = time.perf_counter()
        deadline = start + seconds

        async def client() -> None:
            nonlocal done
            while queue and time.perf_counter() < deadline:
                body = queue.pop()
                async with http.post(url, data=body, headers=headers) as resp:
                    answer = await resp.json()
                    if resp.status != 200 or answer.get("keten_reasons"):
                        raise RuntimeError(f"verification failed: {resp.status} {answer}")
                done += 1

        await asyncio.gather(*(client() for _ in range(CLIENTS)))
        return done, time.perf_counter() - start


# --------------------------------------------------------------------------- the services


async def _issue(workdir: Path, registry: Registry, now: int
                 ) -> tuple[ReceivedCredential, Server]:
    town = await registry.accredited_did("Gemeente Gent", "urn:keten:vct:identity:1", now)
    port = _port()
    text, token = render_issuer_config(profile="municipality",
                                       public_url=f"http://127.0.0.1:{port}", port=port,
                                       registry_url=registry.url, genesis_hash=registry.genesis)
    folder = workdir / "issuer"
    folder.mkdir()
    (folder / "issuer.toml").write_text(text)
    (folder / "admin-token").write_text(token)
    config = load_issuer_config(folder / "issuer.toml")
    save_controller(town, config.key_file)
    app = create_issuer_app(config)
    server = Server(app)
    await server.start(port)
    ctx = app[ISSUER]
    created = await ctx.create_offer("identity_dc_sd_jwt", IDENTITY)
    async with aiohttp.ClientSession() as http, registry.client() as client:
        got = await receive(await fetch_offer(created.uri, http), tx_code=created.pin,
                            session=http, registry=client, copies=10)
    return got, server


async def _verifier(workdir: Path, registry: Registry) -> tuple[VerifierContext, Server]:
    port = _port()
    folder = workdir / "verifier"
    folder.mkdir()
    (folder / "verifier.toml").write_text(render_config(
        public_url=f"http://127.0.0.1:{port}", port=port, registry_url=registry.url,
        genesis_hash=registry.genesis, presets=["age18"]))
    config = load_config(folder / "verifier.toml")
    library = Controller.new("Bibliotheek Gent")
    async with registry.client() as client:
        await client.submit(library.create_tx(registry.chain, int(time.time()),
                                              registry.steward))
        await client.submit_signed(registry.steward, "verifier.register", {
            "verifier": str(library.did), "purpose": {"nl": "Toegang", "en": "Access"},
            "credentials": [{"vct": "urn:keten:vct:identity:1", "claims": [["age_over_18"]]}],
            "valid_until": None})
    save_controller(library, config.key_file)
    app = create_verifier_app(config)
    server = Server(app)
    await server.start(port)
    return app[VERIFIER], server


def _forms(ctx: VerifierContext, got: ReceivedCredential, n: int) -> list[bytes]:
    """``n`` sessions, each answered by a real presentation (made before timing)."""
    out = []
    for i in range(n):
        session, uri = ctx.start("age18")
        _, request_uri = parse_request_uri(uri)
        request = parse_request_object(ctx.request_object(request_uri.rsplit("/", 1)[1]))
        copy = got.copies[i % len(got.copies)]
        shown = present(parse(copy.credential), [["age_over_18"]], holder_key=copy.holder_key,
                        nonce=request.nonce, aud=request.client_id, iat=int(time.time()))
        form = build_response({"identity": [shown.compact()]}, request.state)
        out.append(urlencode(form).encode())
    return out


async def _bound(ctx: VerifierContext, bodies: list[bytes], seconds: float
                 ) -> tuple[int, float]:
    """The same forms through ``VerifierContext.answer``, ``CLIENTS`` at a time, no HTTP."""
    queue = [dict(parse_qsl(b.decode())) for b in reversed(bodies)]
    done = 0
    start = time.perf_counter()
    deadline = start + seconds

    async def client() -> None:
        nonlocal done
        while queue and time.perf_counter() < deadline:
            answer = await ctx.answer(queue.pop())
            if answer.get("keten_reasons"):
                raise RuntimeError(f"verification failed: {answer}")
            done += 1

    await asyncio.gather(*(client() for _ in range(CLIENTS)))
    return done, time.perf_counter() - start


async def _trivial() -> Server:
    async def echo(request: web.Request) -> web.Response:
        await request.post()
        return web.json_response({"keten_receipt": "x" * 600})

    app = web.Application()
    app.router.add_post("/response", echo)
    server = Server(app)
    await server.start()
    return server


async def _measure(quick: bool) -> list[Row]:
    rounds, seconds = (2, 1.0) if quick else (3, 2.0)
    now = int(time.time())
    with tempfile.TemporaryDirectory(prefix="keten-bench-verifier-") as tmp:
        workdir = Path(tmp)
        registry = await start_registry(workdir, now)
        got, issuer = await _issue(workdir, registry, now)
        ctx, verifier = await _verifier(workdir, registry)
        trivial = await _trivial()
        per_round = 1500 if quick else 3000
        best = {"http": 0.0, "bound": 0.0, "trivial": 0.0}
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(1, mp_context=context) as pool:
            loop = asyncio.get_running_loop()
            for _ in range(rounds):
                bodies = _forms(ctx, got, per_round)
                done, elapsed = await loop.run_in_executor(
                    pool, _post_all, f"{ctx.config.public_url}/response", bodies, seconds)
                best["http"] = max(best["http"], done / elapsed)
                done, elapsed = await _bound(ctx, _forms(ctx, got, per_round // 2),
                                             seconds / 2)
                best["bound"] = max(best["bound"], done / elapsed)
                done, elapsed = await loop.run_in_executor(
                    pool, _post_all, f"http://127.0.0.1:{trivial.port}/response", bodies,
                    seconds)
                best["trivial"] = max(best["trivial"], done / elapsed)
        for server in (trivial, verifier, issuer, registry.server):
            await server.stop()
    lower = min(best["bound"], best["trivial"])
    lower_name = ("in-process pipeline" if lower == best["bound"]
                  else "trivial aiohttp endpoint, same bodies")
    return [
        Row(f"presentations verified over HTTP ({CLIENTS} clients)", best["http"],
            f"lower bound: {lower_name}", lower, unit="verif/s", goal=0.6),
        Row("in-process verification pipeline (the same forms, no HTTP)", best["bound"],
            "trivial aiohttp endpoint, same bodies", best["trivial"], unit="verif/s"),
    ]


def run(quick: bool = False) -> list[Row]:
    return asyncio.run(_measure(quick))
