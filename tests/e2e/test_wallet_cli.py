"""``ssiwallet`` as a citizen scripts it: init, receive, list, show, present (consent by
flag), history with the receipt, refresh after a revocation, backup and restore, delete.

The services are real (registry, a municipality, a library desk on loopback); the wallet is
the installed command in a child process, so arguments, prompts, exit codes and output are
what a person or a script sees.

The services in this process and the wallet in its child read one time: before every step the
services' fake clock catches up with the real one, and the child gets that clock through
``FakeClock.env()``. ``KETEN_TEST_STEP_DELAY=65`` waits that many real seconds before every
step, longer than any clock-skew leeway, to show that a slow run still passes;
``KETEN_TEST_STEP_ADVANCE=65`` moves the shared clock that far instead, at no cost in time.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_verifier_service import IDENTITY
from tests.support.clock import FakeClock
from tests.support.services import VerifierService

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]

PASS = "zeven kleine geitjes"
STEP_DELAY_ENV = "KETEN_TEST_STEP_DELAY"
STEP_ADVANCE_ENV = "KETEN_TEST_STEP_ADVANCE"


class Timeline:
    """One time for the services (their fake clock) and the wallet child (its environment)."""

    def __init__(self, clock: FakeClock, advance: int = 0) -> None:
        self.clock = clock
        self.delay = float(os.environ.get(STEP_DELAY_ENV) or 0)
        self.advance = advance or int(os.environ.get(STEP_ADVANCE_ENV) or 0)

    async def step(self) -> dict[str, str]:
        """Wait the injected delay, move the services' clock up to now; the child's clock."""
        if self.delay:
            await asyncio.sleep(self.delay)
        self.clock.set(max(self.clock(), int(time.time())) + self.advance)
        return self.clock.env()


async def wallet(timeline: Timeline, home: Path, *args: str, json_out: bool = True,
                 env: dict[str, str] | None = None, stdin: bytes = b"") -> tuple[int, Any, str]:
    """One step: run ``ssiwallet`` (exit status, parsed JSON stdout or text, stderr)."""
    full_env = {**os.environ, **await timeline.step(), "SSIWALLET_HOME": str(home),
                "SSIWALLET_PASSPHRASE": PASS, **(env or {})}
    argv = [sys.executable, "-m", "ssiwallet.cli", *(["--json"] if json_out else []), *args]
    proc = await asyncio.create_subprocess_exec(*argv, env=full_env,
                                                stdin=asyncio.subprocess.PIPE,
                                                stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(stdin), 60)
    text = out.decode()
    assert proc.returncode is not None
    return proc.returncode, json.loads(text) if json_out else text, err.decode()


async def verdict(desk: VerifierService, started: dict[str, Any], doc: Any, err: str) -> str:
    """What the verifier made of a presentation (its reasons and checks), for a failed assert."""
    seen = await desk.result(started["id"])
    return (f"wallet said: {doc!r}\nwallet stderr: {err[-2000:]}\n"
            f"verifier said: {json.dumps(seen, indent=1)}")


@pytest.mark.parametrize("advance", [0, 65], ids=["real-time", "65-s-between-steps"])
async def test_the_wallet_cli_end_to_end(registry_node: Any, issuer_service: Any,
                                         verifier_service: Any, tmp_path: Path,
                                         advance: int) -> None:
    """Every step in order; the second run puts 65 s of shared time between steps, more
    than any leeway, so a wallet and services that read different clocks would fail."""
    reg = await registry_node()
    town = await issuer_service(reg, profile="municipality", batch_size=3)
    library = await verifier_service(reg, presets=["age18"])
    home = tmp_path / "home"
    t = Timeline(reg.clock, advance)

    status, doc, _ = await wallet(t, home, "init", "--registry", reg.url)
    assert status == 0 and doc["registry"] == reg.url
    status, doc, _ = await wallet(t, home, "init", "--registry", reg.url)
    assert (status, doc["error"]) == (1, "wallet.exists")

    offer = await town.offer(IDENTITY)
    status, doc, _ = await wallet(t, home, "receive", offer["offer_uri"], "--pin",
                                  offer["tx_code"], "--copies", "3")
    assert status == 0, doc
    cid = doc["id"]
    assert (doc["state"], doc["copies_left"], doc["accredited"]) == ("valid", 3, True)
    # the genesis seen first is now pinned in the wallet; naming the same registry keeps it
    status, doc, _ = await wallet(t, home, "registry", reg.url)
    assert status == 0 and doc["genesis"] == reg.genesis_hash
    status, listed, _ = await wallet(t, home, "list")
    assert [c["id"] for c in listed["credentials"]] == [cid]
    assert "claims" not in listed["credentials"][0]
    status, shown, _ = await wallet(t, home, "show", cid[:6])
    assert shown["claims"]["address"]["locality"] == "Gent"
    status, words, _ = await wallet(t, home, "show", cid, json_out=False)
    assert "Noor" in words and "Korenmarkt 3" in words and "accredited" in words

    # present: without --yes and without a terminal, nothing leaves
    started = await library.start("age18")
    status, doc, err = await wallet(t, home, "present", started["uri"])
    assert (status, doc.get("error")) == (1, "wallet.consent_required"), \
        await verdict(library, started, doc, err)
    status, doc, err = await wallet(t, home, "present", started["uri"], "--yes")
    assert status == 0 and doc["outcome"] == "accepted", await verdict(library, started, doc, err)
    assert doc["leaving"] == {cid: [["age_over_18"]]} and doc["over_asked"] == [], \
        await verdict(library, started, doc, err)
    assert doc["receipt"]["received"][0]["claims"] == [["age_over_18"]], \
        await verdict(library, started, doc, err)
    started = await library.start("age18")
    status, words, err = await wallet(t, home, "present", started["uri"], "--decline",
                                      json_out=False)
    assert status == 3 and "nothing was shown" in words, \
        await verdict(library, started, words, err)

    status, doc, _ = await wallet(t, home, "history")
    assert [h["outcome"] for h in doc["history"]] == ["declined", "accepted"]
    assert doc["history"][1]["receipt_jwt"].count(".") == 2
    status, words, _ = await wallet(t, home, "history", json_out=False)
    assert "accepted" in words and "receipt" in words and "age_over_18" in words

    # backup, then restore into a second wallet: the same credential, the same history
    status, doc, _ = await wallet(t, home, "backup", str(tmp_path / "wallet.backup"))
    assert status == 0 and doc["generation"] > 0
    other = tmp_path / "other"
    await wallet(t, other, "init")
    status, doc, _ = await wallet(t, other, "restore", str(tmp_path / "wallet.backup"))
    assert status == 0 and doc["exact"] is True, doc
    status, listed, _ = await wallet(t, other, "list")
    assert [c["id"] for c in listed["credentials"]] == [cid]
    status, doc, _ = await wallet(t, other, "restore", str(tmp_path / "wallet.backup"),
                                  env={"SSIWALLET_BACKUP_PASSPHRASE": "wrong"})
    assert (status, doc["error"]) == (1, "wallet.unlock_failed")

    # the municipality revokes: refresh shows it, and the next presentation is not even tried
    listed_admin = await town.admin("GET", "/admin/credentials")
    await town.admin("POST", f"/admin/credentials/{listed_admin[1]['credentials'][0]['id']}"
                     "/status", {"status": "revoked"})
    status, doc, _ = await wallet(t, home, "refresh")
    assert status == 0 and doc["credentials"][0]["state"] == "revoked"
    started = await library.start("age18")
    status, doc, err = await wallet(t, home, "present", started["uri"], "--yes")
    assert (status, doc.get("error")) == (1, "wallet.unsatisfiable"), \
        await verdict(library, started, doc, err)

    # a wrong passphrase is one generic error; delete one, then everything
    status, doc, _ = await wallet(t, home, "list", env={"SSIWALLET_PASSPHRASE": "nope"})
    assert (status, doc["error"]) == (1, "wallet.unlock_failed")
    assert PASS not in json.dumps(doc)
    status, doc, _ = await wallet(t, home, "delete", cid[:8])
    assert status == 0 and doc["deleted"] == cid
    status, doc, _ = await wallet(t, home, "delete", "--all")
    assert (status, doc["error"]) == (1, "wallet.consent_required")
    status, doc, _ = await wallet(t, home, "delete", "--all", "--yes")
    assert status == 0
    status, doc, _ = await wallet(t, home, "list")
    assert (status, doc["error"]) == (1, "wallet.not_found")
