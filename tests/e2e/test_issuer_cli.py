"""``ssi-issuer`` as an operator runs it: init, endorsement and accreditation through
``ssi-registry``, serve, an offer from the command line, a wallet redeeming it, revocation,
and a key rotation after which the earlier credential still verifies.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
import time
import tomllib
import urllib.request
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from registry.client.client import RegistryClient, TrustPolicy
from ssiwallet.core.vc import keys_named, verify_vc
from ssiwallet.holder.receive import ReceivedCredential, fetch_offer, receive
from tests.e2e.test_registry_cli import (
    banner_of,
    free_port,
    get_json,
    init_registry,
    run,
    start_server,
    stop,
)

ISSUER = [sys.executable, "-m", "issuer.cli"]
CLAIMS = {"given_name": "Fatima", "family_name": "El Amrani", "esco_skill":
          "http://data.europa.eu/esco/skill/ccd0a1d9-afda-43d9-b901-96344886e14d",
          "skill_name": "Python programmeren", "level": "advanced",
          "assessed_on": "2026-03-02", "assessor": "VDAB Gent"}


async def _receive(offer_uri: str, pin: str, registry: str, genesis: str
                   ) -> tuple[ReceivedCredential, list[int]]:
    async with aiohttp.ClientSession() as session, RegistryClient(
            registry, policy=TrustPolicy(genesis_hash=genesis)) as client:
        got = await receive(await fetch_offer(offer_uri, session), tx_code=pin,
                            session=session, registry=client, copies=3)
        return got, [await client.status_of_ref(c.verified.status)
                     for c in got.copies if c.verified.status]


async def _statuses(got: ReceivedCredential, registry: str, genesis: str) -> list[int]:
    async with RegistryClient(registry, policy=TrustPolicy(genesis_hash=genesis)) as client:
        return [await client.status_of_ref(c.verified.status)
                for c in got.copies if c.verified.status]


async def _still_verifies(token: str, registry: str, genesis: str) -> dict[str, Any]:
    async with RegistryClient(registry, policy=TrustPolicy(genesis_hash=genesis)) as client:
        keys = await client.issuer_keys(keys_named(token))
        vc = verify_vc(token, keys=keys, now=int(time.time()), key_binding=None,
                       expect_kb=False)
        return vc.disclosed


def start_issuer(stack: contextlib.ExitStack, cwd: Path, *args: str
                 ) -> subprocess.Popen[bytes]:
    """Start ``ssi-issuer`` with ``args``, stopped when ``stack`` closes (stderr to a log)."""
    log = stack.enter_context(open(cwd / "issuer.log", "wb"))
    proc = subprocess.Popen([*ISSUER, *args], cwd=cwd, stdout=subprocess.PIPE, stderr=log)
    stack.callback(stop, proc)
    return proc


@pytest.mark.slow
def test_issuer_cli_from_init_to_rotation(tmp_path: Path) -> None:
    init = init_registry(tmp_path)
    steward = init["stewards"][0]["key_file"]
    with contextlib.ExitStack() as stack:
        port = free_port()
        node = start_server(stack, tmp_path, "serve", "--db", init["db"], "--key",
                            init["sequencer_key"], "--port", str(port))
        url = banner_of(node)["url"]
        iport = free_port()
        issuer_url = f"http://127.0.0.1:{iport}"
        made = run(tmp_path, "init", "vdab", "--profile", "vdab", "--registry", url,
                   "--public-url", issuer_url, "--port", str(iport), cmd=ISSUER)
        assert made["vcts"] == ["urn:keten:vct:competence:1"] and len(made["next"]) == 3
        assert (tmp_path / "vdab" / "admin-token").stat().st_mode & 0o077 == 0
        run(tmp_path, "endorse", made["request"], "--steward", steward, "--registry", url)
        run(tmp_path, "accredit", "--steward", steward, "--registry", url, "--issuer",
            made["did"], "--vct", made["vcts"][0])
        proc = start_issuer(stack, tmp_path, "serve", "--config", made["config"])
        banner = banner_of(proc)
        assert banner["url"] == issuer_url and banner["did"] == made["did"]
        assert get_json(f"{issuer_url}/health")["accredited"] == {made["vcts"][0]: True}

        (tmp_path / "claims.json").write_text(json.dumps(CLAIMS))
        offer = run(tmp_path, "offer", "--config", made["config"], "--claims", "claims.json",
                    cmd=ISSUER)
        got, statuses = asyncio.run(_receive(offer["offer_uri"], offer["tx_code"], url,
                                             init["genesis"]))
        assert got.claims == CLAIMS and statuses == [0, 0, 0]

        listed = get_json(f"{issuer_url}/health")
        assert listed["credentials"] == 1
        rotated = run(tmp_path, "rotate-key", "--config", made["config"], cmd=ISSUER)
        assert rotated["kid"] == f"{made['did']}#key-2"
        second = run(tmp_path, "offer", "--config", made["config"], "--claims", "claims.json",
                     cmd=ISSUER)
        newer, _ = asyncio.run(_receive(second["offer_uri"], second["tx_code"], url,
                                        init["genesis"]))
        assert newer.copies[0].verified.kid == rotated["kid"]
        assert asyncio.run(_still_verifies(got.copies[0].credential, url,
                                           init["genesis"])) == CLAIMS

        credentials = run(tmp_path, "revoke", "--config", made["config"], "missing",
                          cmd=ISSUER, expect=1)
        assert credentials["error"] == "issuer.not_found"
        first_id = _credential_ids(tmp_path / made["config"])[-1]
        revoked = run(tmp_path, "revoke", "--config", made["config"], first_id, cmd=ISSUER)
        assert revoked["status"] == 1 and len(revoked["indices"]) == 3
        assert asyncio.run(_statuses(got, url, init["genesis"])) == [1, 1, 1]


def _credential_ids(config: Path) -> list[str]:
    """Credential ids, newest first, read through the admin API like a clerk's script."""
    folder = Path(config).parent
    settings = tomllib.loads(Path(config).read_text())["issuer"]
    token = (folder / settings["admin_token_file"]).read_text().strip()
    request = urllib.request.Request(f"{settings['public_url']}/admin/credentials",
                                     headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as resp:
        return [c["id"] for c in json.loads(resp.read())["credentials"]]
