"""The demo's world: a registry consortium, three issuers and two verifiers, set up with
the same commands an operator types (see docs/operator-guide.md).

* registry: two witnesses (``witness-key``, ``witness``), a genesis naming them with a
  quorum of two (``init``), the sequencer node (``serve``) and one mirror (``follow``);
* issuers (``ssi-issuer init`` → steward ``endorse`` → ``accredit`` → ``serve``): the
  municipality (identity), VDAB (competences), the school (diplomas);
* verifiers (``ssi-verifier init`` → ``endorse`` → ``register-verifier`` with exactly the
  claims their preset asks → ``serve``): the library (age 18+) and an employer (diploma).
"""

from __future__ import annotations

import asyncio
import json
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from issuer.config import PROFILES
from registry.client.client import RegistryClient, TrustPolicy
from registry.client.wait import cosigned_checkpoint
from ssiwallet.demo.services import ISSUER, REGISTRY, VERIFIER, Stack, free_port

__all__ = ["Issuer", "Verifier", "World", "build_world", "cosigned"]

CHAIN = "registry.keten.demo/vlaanderen"


@dataclass
class Issuer:
    name: str
    did: str
    url: str
    config: str
    admin_token: str

    def admin(self, method: str, path: str, body: object = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method, headers={
            "Authorization": f"Bearer {self.admin_token}", "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read())


@dataclass
class Verifier:
    name: str
    did: str
    url: str
    preset: str

    def start(self) -> dict[str, Any]:
        req = urllib.request.Request(self.url + "/sessions", method="POST",
                                     data=json.dumps({"preset": self.preset}).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            return dict(json.loads(resp.read()))

    def result(self, session_id: str) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.url}/sessions/{session_id}", timeout=30) as resp:
            return dict(json.loads(resp.read()))


@dataclass
class World:
    stack: Stack
    registry: str
    mirror: str
    genesis: str
    steward_key: str
    witnesses: dict[str, str]
    issuers: dict[str, Issuer] = field(default_factory=dict)
    verifiers: dict[str, Verifier] = field(default_factory=dict)


def cosigned(world: World, say: Any) -> None:
    """Wait (bounded) until the registry's witnesses have cosigned its newest checkpoint.

    Called after each write: the next step (a verifier starting, a wallet flow) verifies the
    checkpoint and needs the quorum on it, which the witnesses add a moment after the block.
    The wait is narrated; after ``registry.client.wait.COSIGN_WAIT`` seconds the client's
    ``registry.witness_quorum`` error ends the demo.
    """
    async def wait() -> None:
        async with RegistryClient(world.registry,
                                  policy=TrustPolicy(genesis_hash=world.genesis)) as client:
            await cosigned_checkpoint(client, notice=say)

    asyncio.run(wait())


def _registry(stack: Stack, say: Any) -> World:
    names = ["witness-antwerpen", "witness-leuven"]
    vkeys = [stack.run(REGISTRY, "witness-key", "--key", f"{n}.key", "--name",
                       f"{n}.keten.demo")["vkey"] for n in names]
    init = stack.run(REGISTRY, "init", "registry", "--chain", CHAIN, "--name",
                     "Keten Vlaanderen (demo)", "--steward", "Vlaamse overheid",
                     *[a for v in vkeys for a in ("--witness", v)], "--quorum", "2")
    witnesses = {}
    for name in names:
        port = free_port()
        stack.start(name, REGISTRY, "witness", "--key", f"{name}.key", "--name",
                    f"{name}.keten.demo", "--db", f"{name}.db", "--log", init["log_vkey"],
                    "--port", str(port))
        witnesses[f"{name}.keten.demo"] = f"http://127.0.0.1:{port}"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    stack.start("registry", REGISTRY, "serve", "--db", init["db"], "--key",
                init["sequencer_key"], "--port", str(port), "--public-url", url,
                "--cosign-interval", "0.5",
                *[a for n, u in witnesses.items() for a in ("--witness", f"{n}={u}")])
    mport = free_port()
    stack.start("mirror", REGISTRY, "follow", url, "--db", "mirror.db", "--genesis",
                init["genesis"], "--port", str(mport), "--interval", "0.5")
    say(f"registry node {url}, mirror http://127.0.0.1:{mport}, witnesses "
        f"{', '.join(witnesses)} (quorum 2); genesis {init['genesis'][:16]}…")
    return World(stack, url, f"http://127.0.0.1:{mport}", init["genesis"],
                 init["stewards"][0]["key_file"], witnesses)


def _issuer(world: World, key: str, profile: str, say: Any) -> Issuer:
    stack, port = world.stack, free_port()
    url = f"http://127.0.0.1:{port}"
    made = stack.run(ISSUER, "init", key, "--profile", profile, "--registry", world.registry,
                     "--public-url", url, "--port", str(port))
    stack.run(REGISTRY, "endorse", made["request"], "--steward", world.steward_key,
              "--registry", world.registry)
    stack.run(REGISTRY, "accredit", "--steward", world.steward_key, "--registry",
              world.registry, "--issuer", made["did"],
              *[a for v in made["vcts"] for a in ("--vct", v)])
    cosigned(world, say)
    banner = stack.start(key, ISSUER, "serve", "--config", made["config"])
    token = (stack.workdir / made["config"]).parent.joinpath("admin-token").read_text().strip()
    assert banner["did"] == made["did"]
    return Issuer(PROFILES[profile].display["en"], made["did"], url, made["config"], token)


def _verifier(world: World, key: str, name: str, preset: str, purpose: tuple[str, str],
              say: Any) -> Verifier:
    stack, port = world.stack, free_port()
    url = f"http://127.0.0.1:{port}"
    made = stack.run(VERIFIER, "init", key, "--registry", world.registry, "--public-url", url,
                     "--port", str(port), "--name", name, "--preset", preset)
    stack.run(REGISTRY, "endorse", made["request"], "--steward", world.steward_key,
              "--registry", world.registry)
    stack.run(REGISTRY, "register-verifier", "--steward", world.steward_key, "--registry",
              world.registry, "--verifier", made["did"], "--purpose-nl", purpose[0],
              "--purpose-en", purpose[1],
              *[a for c in made["register_claims"] for a in ("--claims", c)])
    cosigned(world, say)  # the verifier checks the registry's checkpoint as it starts
    stack.start(key, VERIFIER, "serve", "--config", made["config"])
    return Verifier(name, made["did"], url, preset)


def build_world(stack: Stack, say: Any) -> World:
    """Start and govern everything; each step is one of the project's own commands."""
    world = _registry(stack, say)
    for key, profile in (("municipality", "municipality"), ("vdab", "vdab"),
                         ("school", "school")):
        world.issuers[key] = issuer = _issuer(world, key, profile, say)
        say(f"issuer {issuer.name}: endorsed, accredited, serving {issuer.url}")
    world.verifiers["library"] = _verifier(
        world, "library", "Bibliotheek Gent", "age18",
        ("Toegang tot de leeszaal voor volwassenen", "Access to the adult reading room"),
        say)
    world.verifiers["employer"] = _verifier(
        world, "employer", "Werkgever Vlaanderen NV", "diploma-eqf6",
        ("Aanwerving: diploma controleren", "Recruitment: checking a diploma"), say)
    for v in world.verifiers.values():
        say(f"verifier {v.name}: registered for preset {v.preset}, desk {v.url}/desk")
    return world
