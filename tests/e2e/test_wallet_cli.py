"""``ssiwallet`` as a citizen scripts it: init, receive, list, show, present (consent by
flag), history with the receipt, refresh after a revocation, backup and restore, delete.

The services are real (registry, a municipality, a library desk on loopback); the wallet is
the installed command in a child process, so arguments, prompts, exit codes and output are
what a person or a script sees.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_verifier_service import IDENTITY

pytestmark = pytest.mark.asyncio

PASS = "zeven kleine geitjes"


async def wallet(home: Path, *args: str, json_out: bool = True, env: dict[str, str] | None = None,
                 stdin: bytes = b"") -> tuple[int, Any, str]:
    """Run ``ssiwallet`` (exit status, parsed JSON stdout or text, stderr)."""
    full_env = {**os.environ, "SSIWALLET_HOME": str(home), "SSIWALLET_PASSPHRASE": PASS,
                **(env or {})}
    argv = [sys.executable, "-m", "ssiwallet.cli", *(["--json"] if json_out else []), *args]
    proc = await asyncio.create_subprocess_exec(*argv, env=full_env,
                                                stdin=asyncio.subprocess.PIPE,
                                                stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(stdin), 60)
    text = out.decode()
    assert proc.returncode is not None
    return proc.returncode, json.loads(text) if json_out else text, err.decode()


async def test_the_wallet_cli_end_to_end(registry_node: Any, issuer_service: Any,
                                         verifier_service: Any, tmp_path: Path) -> None:
    reg = await registry_node()
    town = await issuer_service(reg, profile="municipality", batch_size=3)
    library = await verifier_service(reg, presets=["age18"])
    home = tmp_path / "home"

    status, doc, _ = await wallet(home, "init", "--registry", reg.url)
    assert status == 0 and doc["registry"] == reg.url
    status, doc, _ = await wallet(home, "init", "--registry", reg.url)
    assert (status, doc["error"]) == (1, "wallet.exists")

    offer = await town.offer(IDENTITY)
    status, doc, _ = await wallet(home, "receive", offer["offer_uri"], "--pin",
                                  offer["tx_code"], "--copies", "3")
    assert status == 0, doc
    cid = doc["id"]
    assert (doc["state"], doc["copies_left"], doc["accredited"]) == ("valid", 3, True)
    # the genesis seen first is now pinned in the wallet; naming the same registry keeps it
    status, doc, _ = await wallet(home, "registry", reg.url)
    assert status == 0 and doc["genesis"] == reg.genesis_hash
    status, listed, _ = await wallet(home, "list")
    assert [c["id"] for c in listed["credentials"]] == [cid]
    assert "claims" not in listed["credentials"][0]
    status, shown, _ = await wallet(home, "show", cid[:6])
    assert shown["claims"]["address"]["locality"] == "Gent"
    status, words, _ = await wallet(home, "show", cid, json_out=False)
    assert "Noor" in words and "Korenmarkt 3" in words and "accredited" in words

    # present: without --yes and without a terminal, nothing leaves
    started = await library.start("age18")
    status, doc, _ = await wallet(home, "present", started["uri"])
    assert (status, doc["error"]) == (1, "wallet.consent_required")
    status, doc, _ = await wallet(home, "present", started["uri"], "--yes")
    assert status == 0 and doc["outcome"] == "accepted", doc
    assert doc["leaving"] == {cid: [["age_over_18"]]} and doc["over_asked"] == []
    assert doc["receipt"]["received"][0]["claims"] == [["age_over_18"]]
    status, words, _ = await wallet(home, "present", (await library.start("age18"))["uri"],
                                    "--decline", json_out=False)
    assert status == 3 and "nothing was shown" in words

    status, doc, _ = await wallet(home, "history")
    assert [h["outcome"] for h in doc["history"]] == ["declined", "accepted"]
    assert doc["history"][1]["receipt_jwt"].count(".") == 2
    status, words, _ = await wallet(home, "history", json_out=False)
    assert "accepted" in words and "receipt" in words and "age_over_18" in words

    # backup, then restore into a second wallet: the same credential, the same history
    status, doc, _ = await wallet(home, "backup", str(tmp_path / "wallet.backup"))
    assert status == 0 and doc["generation"] > 0
    other = tmp_path / "other"
    await wallet(other, "init")
    status, doc, _ = await wallet(other, "restore", str(tmp_path / "wallet.backup"))
    assert status == 0 and doc["exact"] is True, doc
    status, listed, _ = await wallet(other, "list")
    assert [c["id"] for c in listed["credentials"]] == [cid]
    status, doc, _ = await wallet(other, "restore", str(tmp_path / "wallet.backup"),
                                  env={"SSIWALLET_BACKUP_PASSPHRASE": "wrong"})
    assert (status, doc["error"]) == (1, "wallet.unlock_failed")

    # the municipality revokes: refresh shows it, and the next presentation is not even tried
    listed_admin = await town.admin("GET", "/admin/credentials")
    await town.admin("POST", f"/admin/credentials/{listed_admin[1]['credentials'][0]['id']}"
                     "/status", {"status": "revoked"})
    status, doc, _ = await wallet(home, "refresh")
    assert status == 0 and doc["credentials"][0]["state"] == "revoked"
    status, doc, _ = await wallet(home, "present", (await library.start("age18"))["uri"],
                                  "--yes")
    assert (status, doc["error"]) == (1, "wallet.unsatisfiable")

    # a wrong passphrase is one generic error; delete one, then everything
    status, doc, _ = await wallet(home, "list", env={"SSIWALLET_PASSPHRASE": "nope"})
    assert (status, doc["error"]) == (1, "wallet.unlock_failed")
    assert PASS not in json.dumps(doc)
    status, doc, _ = await wallet(home, "delete", cid[:8])
    assert status == 0 and doc["deleted"] == cid
    status, doc, _ = await wallet(home, "delete", "--all")
    assert (status, doc["error"]) == (1, "wallet.consent_required")
    status, doc, _ = await wallet(home, "delete", "--all", "--yes")
    assert status == 0
    status, doc, _ = await wallet(home, "list")
    assert (status, doc["error"]) == (1, "wallet.not_found")
