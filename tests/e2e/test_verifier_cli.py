"""``ssi-verifier`` as an operator runs it: init, endorsement and registration through
``ssi-registry``, serve (which refuses over-asking presets), ``request`` printing the link,
a wallet presenting a diploma from a served school, and ``check --registry``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from registry.client.client import RegistryClient, TrustPolicy
from ssiwallet.core.dcql_match import Candidate
from ssiwallet.core.sdjwt import parse
from ssiwallet.core.sdjwt.holder import present
from ssiwallet.holder.present import prepare, send
from ssiwallet.holder.receive import fetch_offer, receive
from tests.e2e.test_registry_cli import (
    banner_of,
    free_port,
    get_json,
    init_registry,
    read_json_object,
    run,
    start_server,
    stop,
)

ISSUER = [sys.executable, "-m", "issuer.cli"]
VERIFIER = [sys.executable, "-m", "verifier.cli"]
DIPLOMA = {"holder_name": "Ilse Maes", "title": "Bachelor toegepaste informatica",
           "eqf_level": 6, "field_of_study": "Informatica", "awarded_on": "2025-06-27",
           "institution": "Hogeschool Gent"}


def start(stack: contextlib.ExitStack, cwd: Path, cmd: list[str], *args: str
          ) -> subprocess.Popen[bytes]:
    log = stack.enter_context(open(cwd / f"{cmd[-1]}-{args[0]}-{free_port()}.log", "wb"))
    proc = subprocess.Popen([*cmd, *args], cwd=cwd, stdout=subprocess.PIPE, stderr=log)
    stack.callback(stop, proc)
    return proc


async def _wallet(offer: dict[str, Any], link: str, registry: str, genesis: str
                  ) -> tuple[bool, list[str], str]:
    async with aiohttp.ClientSession() as http, RegistryClient(
            registry, policy=TrustPolicy(genesis_hash=genesis)) as client:
        got = await receive(await fetch_offer(offer["offer_uri"], http),
                            tx_code=offer["tx_code"], session=http, registry=client, copies=2)
        plan = await prepare(link, candidates=[Candidate("d", "dc+sd-jwt", got.vct,
                                                         got.claims)],
                             session=http, registry=client)
        result = await send(plan, copies={"d": (got.copies[0].credential,
                                                got.copies[0].holder_key)},
                            session=http, registry=client)
        # a presentation for `check`: the second copy, title only, bound to a test nonce
        token = present(parse(got.copies[1].credential), [["title"]],
                        holder_key=got.copies[1].holder_key, nonce="cli-nonce-1234567890",
                        aud="https://desk.example", iat=int(time.time()))
        return result.accepted is True, result.reasons, token.compact()


@pytest.mark.slow
def test_verifier_cli_from_init_to_a_checked_presentation(tmp_path: Path) -> None:
    init = init_registry(tmp_path)
    steward = init["stewards"][0]["key_file"]
    with contextlib.ExitStack() as stack:
        node = start_server(stack, tmp_path, "serve", "--db", init["db"], "--key",
                            init["sequencer_key"], "--port", str(free_port()))
        url = banner_of(node)["url"]
        iport, vport = free_port(), free_port()
        school = run(tmp_path, "init", "school", "--profile", "school", "--registry", url,
                     "--public-url", f"http://127.0.0.1:{iport}", "--port", str(iport),
                     cmd=ISSUER)
        desk = run(tmp_path, "init", "desk", "--registry", url, "--public-url",
                   f"http://127.0.0.1:{vport}", "--port", str(vport), "--name",
                   "Werkgever NV", "--preset", "diploma-eqf6", cmd=VERIFIER)
        assert desk["register_claims"] == [
            "urn:keten:vct:diploma:1=eqf_level,holder_name,institution,title"]
        for request in (school["request"], desk["request"]):
            run(tmp_path, "endorse", request, "--steward", steward, "--registry", url)
        run(tmp_path, "accredit", "--steward", steward, "--registry", url, "--issuer",
            school["did"], "--vct", school["vcts"][0])
        # registered for less than the preset asks: serve refuses to start
        run(tmp_path, "register-verifier", "--steward", steward, "--registry", url,
            "--verifier", desk["did"], "--purpose-nl", "Aanwerving", "--purpose-en",
            "Recruitment", "--claims", "urn:keten:vct:diploma:1=title", )
        refused = start(stack, tmp_path, VERIFIER, "serve", "--config", desk["config"])
        banner, printed = read_json_object(refused)
        assert refused.wait(30) == 1 and banner is not None, printed
        assert banner["error"] == "verifier.preset_over_asks"
        run(tmp_path, "register-verifier", "--steward", steward, "--registry", url,
            "--verifier", desk["did"], "--purpose-nl", "Aanwerving", "--purpose-en",
            "Recruitment", *[a for c in desk["register_claims"] for a in ("--claims", c)])

        issuer = start(stack, tmp_path, ISSUER, "serve", "--config", school["config"])
        verifier = start(stack, tmp_path, VERIFIER, "serve", "--config", desk["config"])
        assert banner_of(issuer)["did"] == school["did"]
        assert banner_of(verifier)["presets"] == ["diploma-eqf6"]
        (tmp_path / "claims.json").write_text(json.dumps(DIPLOMA))
        offer = run(tmp_path, "offer", "--config", school["config"], "--claims",
                    "claims.json", cmd=ISSUER)
        session = run(tmp_path, "request", "diploma-eqf6", "--config", desk["config"],
                      cmd=VERIFIER)
        assert session["uri"].startswith("openid4vp://?client_id=decentralized_identifier")
        accepted, reasons, token = asyncio.run(_wallet(offer, session["uri"], url,
                                                       init["genesis"]))
        assert accepted and reasons == []
        view = get_json(f"http://127.0.0.1:{vport}/sessions/{session['session']}")
        assert view["result"]["ok"] is True and len(view["result"]["claims"]) == 4

        (tmp_path / "shown.txt").write_text(token)
        checked = run(tmp_path, "check", "shown.txt", "--registry", url, "--genesis-hash",
                      init["genesis"], "--nonce", "cli-nonce-1234567890", "--aud",
                      "https://desk.example", cmd=VERIFIER)
        assert checked["title"] == DIPLOMA["title"] and "holder_name" not in checked
        wrong = run(tmp_path, "check", "shown.txt", "--registry", url, "--nonce", "other",
                    "--aud", "https://desk.example", cmd=VERIFIER, expect=1)
        assert wrong["error"] == "sdjwt.kb_nonce_mismatch"
