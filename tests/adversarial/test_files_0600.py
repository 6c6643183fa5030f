"""Files the services write are private where they hold secrets (SECURITY-TESTS.md item 44).

A witness, a registry node, an issuer and a verifier are set up with their own commands
(``init``, ``witness-key``) and run as real processes in a temporary folder, under the usual
umask 022; a wallet redeems an offer so the issuer stores PIN hashes and its index map.
While they run, every file they created that holds a key, a token, a PIN hash or the
credential-to-index map (databases with their ``-wal``, ``-shm`` and ``-journal`` files
included) must be mode 0600; the rest (configurations, the genesis block, public requests)
is listed by name, so a new file must be judged before it is allowed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from registry.client.client import RegistryClient, TrustPolicy
from ssiwallet.holder.receive import fetch_offer, receive
from tests.e2e.test_registry_cli import banner_of, free_port, read_json_object, stop

REGISTRY = [sys.executable, "-m", "registry.cli"]
ISSUER = [sys.executable, "-m", "issuer.cli"]
VERIFIER = [sys.executable, "-m", "verifier.cli"]
CHAIN = "registry.keten.example/modes"
WITNESS = "witness.keten.example/m1"
IDENTITY = {"given_name": "Sara", "family_name": "Peeters", "birthdate": "1990-01-02",
            "address": {"street_address": "Veldstraat 1", "postal_code": "9000",
                        "locality": "Gent", "country": "BE"}}

# Files that hold nothing secret, each by its name: what it is.
PUBLIC = {
    "issuer.toml": "the issuer's configuration (names the token file, holds no secret)",
    "verifier.toml": "the verifier's configuration",
    "did-create-request.json": "a signed did.create request a steward endorses",
    "claims.json": "written by this test",
}
SECRET_SUFFIXES = (".db", ".db-wal", ".db-shm", ".db-journal", ".key", "-token")


@contextlib.contextmanager
def _umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def _env(root: Path) -> dict[str, str]:
    home = root / "home"
    return {**os.environ, "HOME": str(home), "XDG_STATE_HOME": str(home / "state"),
            "XDG_CONFIG_HOME": str(home / "config"), "XDG_DATA_HOME": str(home / "data"),
            "XDG_CACHE_HOME": str(home / "cache")}


def _run(root: Path, cmd: list[str], *args: str) -> Any:
    done = subprocess.run([*cmd, *args], cwd=root / "ops", env=_env(root), text=True,
                          capture_output=True, timeout=120, check=False)
    assert done.returncode == 0, (args, done.stdout, done.stderr)
    return json.loads(done.stdout)


def _start(stack: contextlib.ExitStack, root: Path, cmd: list[str], *args: str
           ) -> subprocess.Popen[bytes]:
    log = stack.enter_context(open(root / "logs" / f"{args[0]}-{time.monotonic_ns()}.log",
                                   "wb"))
    proc = subprocess.Popen([*cmd, *args], cwd=root / "ops", env=_env(root),
                            stdout=subprocess.PIPE, stderr=log)
    stack.callback(stop, proc)
    return proc


async def _redeem(offer: dict[str, Any], registry: str, genesis: str) -> int:
    async with aiohttp.ClientSession() as session, RegistryClient(
            registry, policy=TrustPolicy(genesis_hash=genesis)) as client:
        got = await receive(await fetch_offer(offer["offer_uri"], session),
                            tx_code=offer["tx_code"], session=session, registry=client,
                            copies=2)
        return len(got.copies)


def _modes(root: Path) -> dict[str, int]:
    """Every file under the services' folders (and the home they were given), by path."""
    found: dict[str, int] = {}
    for folder in (root / "ops", root / "home"):
        for path in folder.rglob("*"):
            if path.is_file():
                found[str(path.relative_to(root))] = stat.S_IMODE(path.stat().st_mode)
    return found


def _judge(modes: dict[str, int]) -> list[str]:
    """The files that are not 0600 and not public by name."""
    wrong = []
    for name, mode in sorted(modes.items()):
        if Path(name).name in PUBLIC:
            continue
        if mode != 0o600:
            wrong.append(f"{name}: {mode:04o}")
    return wrong


@pytest.mark.slow
def test_every_secret_file_a_service_writes_is_0600(tmp_path: Path) -> None:
    for folder in ("ops", "home", "logs"):
        (tmp_path / folder).mkdir()
    with _umask(0o022), contextlib.ExitStack() as stack:
        witness = _run(tmp_path, REGISTRY, "witness-key", "--key", "w1.key", "--name",
                       WITNESS)
        init = _run(tmp_path, REGISTRY, "init", "reg", "--chain", CHAIN, "--name",
                    "Keten modes", "--steward", "Stad Gent", "--witness", witness["vkey"],
                    "--quorum", "1")
        steward = init["stewards"][0]["key_file"]
        wport, port, iport, vport = free_port(), free_port(), free_port(), free_port()
        _start(stack, tmp_path, REGISTRY, "witness", "--key", "w1.key", "--name", WITNESS,
               "--db", "w1.db", "--log", init["log_vkey"], "--port", str(wport))
        node = _start(stack, tmp_path, REGISTRY, "serve", "--db", init["db"], "--key",
                      init["sequencer_key"], "--port", str(port), "--witness",
                      f"{WITNESS}=http://127.0.0.1:{wport}", "--cosign-interval", "0.2")
        url = banner_of(node)["url"]
        town = _run(tmp_path, ISSUER, "init", "town", "--profile", "municipality",
                    "--registry", url, "--public-url", f"http://127.0.0.1:{iport}",
                    "--port", str(iport))
        desk = _run(tmp_path, VERIFIER, "init", "desk", "--registry", url, "--public-url",
                    f"http://127.0.0.1:{vport}", "--port", str(vport), "--name",
                    "Bibliotheek", "--preset", "age18")
        for request in (town["request"], desk["request"]):
            _run(tmp_path, REGISTRY, "endorse", request, "--steward", steward, "--registry",
                 url)
        _run(tmp_path, REGISTRY, "accredit", "--steward", steward, "--registry", url,
             "--issuer", town["did"], "--vct", town["vcts"][0])
        _run(tmp_path, REGISTRY, "register-verifier", "--steward", steward, "--registry",
             url, "--verifier", desk["did"], "--purpose-nl", "Toegang", "--purpose-en",
             "Access", *[a for c in desk["register_claims"] for a in ("--claims", c)])
        issuer = _start(stack, tmp_path, ISSUER, "serve", "--config", town["config"])
        verifier = _start(stack, tmp_path, VERIFIER, "serve", "--config", desk["config"])
        banner_of(issuer)
        banner, printed = read_json_object(verifier)
        assert banner is not None and "url" in banner, printed
        (tmp_path / "ops" / "claims.json").write_text(json.dumps(IDENTITY))
        offer = _run(tmp_path, ISSUER, "offer", "--config", town["config"], "--claims",
                     "claims.json")
        _run(tmp_path, ISSUER, "offer", "--config", town["config"], "--claims",
             "claims.json")  # one left unredeemed: its PIN hash and sealed claims stay
        assert asyncio.run(_redeem(offer, url, init["genesis"])) == 2
        _run(tmp_path, VERIFIER, "request", "age18", "--config", desk["config"])

        modes = _modes(tmp_path)  # while every service still has its files open
        names = "\n".join(f"{m:04o} {n}" for n, m in sorted(modes.items()))
        for needed in (".db-wal", ".db-shm", ".key", "admin-token"):
            assert any(n.endswith(needed) for n in modes), names
        secret = [n for n in modes if n.endswith(SECRET_SUFFIXES)]
        assert len([n for n in secret if n.endswith(".db")]) >= 3, names  # node, witness,
        assert _judge(modes) == [], names                                 # issuer
