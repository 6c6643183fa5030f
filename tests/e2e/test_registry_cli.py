"""``ssi-registry`` as real processes: a witness and a node on loopback, governance commands
against them, ``verify`` of the database and of the URL, then one flipped byte in the stored
chain, which ``verify`` names by block and which the node refuses to start on.

Every process is started with the test's interpreter (``python -m registry.cli``; the
installed console script where one sits next to it) and is killed in ``finally``.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from registry.tlog.checkpoint import CosignatureVerifier, verify_checkpoint
from registry.tlog.note import NoteVerifier
from ssiwallet.errors import SsiError

CHAIN = "registry.keten.example/e2e"
WITNESS = "witness.keten.example/w1"
VCT = "urn:keten:vct:identity:1"
MODULE = [sys.executable, "-m", "registry.cli"]


def console_script() -> list[str]:
    """The installed ``ssi-registry`` script of this interpreter's environment, if any."""
    script = shutil.which("ssi-registry", path=str(Path(sys.executable).parent))
    return [script] if script else MODULE


def run_all(cwd: Path, *commands: tuple[str, ...], expect: tuple[int, ...] | None = None,
            cmd: list[str] | None = None) -> list[Any]:
    """Run independent commands side by side; require their exit codes; their JSON outputs."""
    codes = expect or (0,) * len(commands)
    procs: list[subprocess.Popen[str]] = []
    try:
        for args in commands:
            procs.append(subprocess.Popen([*(cmd or MODULE), *args], cwd=cwd, text=True,
                                          stdout=subprocess.PIPE, stderr=subprocess.PIPE))
        results = []
        for proc, args, code in zip(procs, commands, codes, strict=True):
            out, err = proc.communicate(timeout=60)
            assert proc.returncode == code, (args, proc.returncode, out, err)
            results.append(json.loads(out))
        return results
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()


def run(cwd: Path, *args: str, expect: int = 0, cmd: list[str] | None = None) -> Any:
    """Run one command to completion; require its exit code; its JSON output."""
    return run_all(cwd, args, expect=(expect,), cmd=cmd)[0]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def read_json_object(proc: subprocess.Popen[bytes], timeout: float = 30.0
                     ) -> tuple[dict[str, Any] | None, str]:
    """The first JSON object the process prints (the banner may span lines), or ``None``
    with what it printed if it exits first."""
    assert proc.stdout is not None
    fd, buffer = proc.stdout.fileno(), b""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        assert left > 0, f"no JSON on stdout within {timeout}s: {buffer!r}"
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            continue
        chunk = os.read(fd, 65536)
        if not chunk:
            return None, buffer.decode("utf-8", "replace")
        buffer += chunk
        with contextlib.suppress(ValueError):
            obj = json.loads(buffer)
            if isinstance(obj, dict):
                return obj, buffer.decode()


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if proc.stdout is not None:
        proc.stdout.close()


def start_server(stack: contextlib.ExitStack, cwd: Path, *args: str
                 ) -> subprocess.Popen[bytes]:
    """Start a long-running command, to be stopped when ``stack`` closes (stderr to a log)."""
    log = stack.enter_context(open(cwd / f"{args[0]}-{time.monotonic_ns()}.log", "wb"))
    proc = subprocess.Popen([*MODULE, *args], cwd=cwd, stdout=subprocess.PIPE, stderr=log)
    stack.callback(stop, proc)
    return proc


def banner_of(proc: subprocess.Popen[bytes]) -> dict[str, Any]:
    """The JSON banner a server prints once it listens."""
    banner, printed = read_json_object(proc)
    assert banner is not None and "url" in banner, (proc.wait(), printed)
    return banner


def http(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as err:
        with err:
            return err.code, err.read().decode()


def get_json(url: str) -> Any:
    status, body = http(url)
    assert status == 200, (url, status, body)
    return json.loads(body)


def init_args(*witness_vkeys: str) -> tuple[str, ...]:
    args = ["init", "reg", "--chain", CHAIN, "--name", "Keten E2E", "--steward", "Stad Gent"]
    for vkey in witness_vkeys:
        args += ["--witness", vkey]
    return (*args, "--quorum", str(len(witness_vkeys)))


def init_registry(tmp_path: Path, *witness_vkeys: str) -> dict[str, Any]:
    out = run(tmp_path, *init_args(*witness_vkeys))
    assert out["chain"] == CHAIN and len(out["stewards"]) == 1
    assert (tmp_path / out["db"]).is_file() and (tmp_path / out["sequencer_key"]).is_file()
    return dict(out)


def flip_one_byte(db: Path, tx_id: str) -> int:
    """Flip a bit of one stored transaction in place (WAL and all); its block height."""
    conn = sqlite3.connect(db)
    try:
        with conn:
            height, data = conn.execute("SELECT height, data FROM txs WHERE id = ?",
                                        (tx_id,)).fetchone()
            tampered = bytearray(data)
            tampered[len(tampered) // 2] ^= 0x01
            conn.execute("UPDATE txs SET data = ? WHERE id = ?", (bytes(tampered), tx_id))
    finally:
        conn.close()
    return int(height)


@pytest.mark.slow
def test_cli_governance_verify_and_tamper(tmp_path: Path) -> None:
    witness = run(tmp_path, "witness-key", "--key", "w1.key", "--name", WITNESS,
                  cmd=console_script())
    assert witness["name"] == WITNESS and witness["vkey"].startswith(WITNESS + "+")
    init = init_registry(tmp_path, witness["vkey"])
    steward_key = init["stewards"][0]["key_file"]
    db = tmp_path / init["db"]

    with contextlib.ExitStack() as stack:
        wport, port = free_port(), free_port()
        witness_proc = start_server(
            stack, tmp_path, "witness", "--key", "w1.key", "--name", WITNESS, "--db", "w1.db",
            "--log", init["log_vkey"], "--port", str(wport))
        node_proc = start_server(
            stack, tmp_path, "serve", "--db", str(db), "--key", init["sequencer_key"],
            "--port", str(port), "--witness", f"{WITNESS}=http://127.0.0.1:{wport}",
            "--cosign-interval", "0.2")
        issuer = run(tmp_path, "did-create", "--name", "Gemeente Gent", "--out", "issuer.json",
                     "--chain", CHAIN, "--request", "issuer-request.json")
        w_banner, banner = banner_of(witness_proc), banner_of(node_proc)
        assert w_banner["vkey"] == witness["vkey"]
        url = banner["url"]
        assert url == f"http://127.0.0.1:{port}"
        assert (banner["serving"], banner["height"]) == (CHAIN, 0)

        created = run(tmp_path, "endorse", "issuer-request.json", "--steward", steward_key,
                      "--registry", url)
        assert (created["index"], created["height"]) == (2, 1)
        accredited = run(tmp_path, "accredit", "--steward", steward_key, "--registry", url,
                         "--issuer", issuer["did"], "--vct", VCT)
        assert accredited["type"] == "accreditation.grant"
        registered = run(tmp_path, "register-verifier", "--steward", steward_key,
                         "--registry", url, "--verifier", issuer["did"],
                         "--purpose-nl", "Lidmaatschap", "--purpose-en", "Membership",
                         "--claims", f"{VCT}=given_name,address.locality")
        assert registered["type"] == "verifier.register"
        rotated = run(tmp_path, "rotate", "--key", "issuer.json", "--registry", url)
        assert rotated["kid"] == f"{issuer['did']}#key-2"

        # what the commands did, as the node tells it
        doc = get_json(f"{url}/1.0/identifiers/{issuer['did']}")
        assert [m["id"] for m in doc["didDocument"]["verificationMethod"]] == [rotated["kid"]]
        assert doc["didDocumentMetadata"]["sequence"] == 2
        acc = get_json(f"{url}/accreditations?issuer={issuer['did']}&vct={VCT}")
        assert acc["accredited"] is True and acc["accreditations"][0]["id"] == accredited["id"]
        reg = get_json(f"{url}/verifiers/{issuer['did']}")
        assert reg["credentials"] == [{"vct": VCT,
                                       "claims": [["given_name"], ["address", "locality"]]}]
        assert reg["active"] is True and reg["name"] == "Gemeente Gent"

        # verify the live database and the node
        checked, over_http = run_all(tmp_path, ("verify", str(db)),
                                     ("verify", url, "--genesis", init["genesis"]))
        assert checked["valid"] is True and checked["genesis"] == init["genesis"]
        assert (checked["height"], checked["size"]) == (rotated["height"], 6)
        assert over_http == checked

        # the witness cosigned the node's newest checkpoint
        log_key = NoteVerifier.from_vkey(init["log_vkey"])
        witness_key = CosignatureVerifier.from_vkey(witness["vkey"])
        deadline = time.monotonic() + 15
        while True:
            status, note = http(f"{url}/checkpoint")
            assert status == 200, note
            try:
                checkpoint, cosigned = verify_checkpoint(note, log_key, [witness_key], 1)
            except SsiError:
                checkpoint = None
            if checkpoint is not None and checkpoint.size == checked["size"]:
                break
            assert time.monotonic() < deadline, note
            time.sleep(0.1)
        assert set(cosigned) == {WITNESS}

    # the processes are stopped: change one byte of one stored transaction
    assert node_proc.returncode is not None and witness_proc.returncode is not None
    height = flip_one_byte(db, accredited["id"])
    assert height == accredited["height"]

    # verify names the block; a node on that file refuses to start (or, if up, to serve)
    with contextlib.ExitStack() as stack:
        tampered = start_server(stack, tmp_path, "serve", "--db", str(db), "--key",
                                init["sequencer_key"], "--port", str(free_port()))
        refused = run(tmp_path, "verify", str(db), expect=1)
        assert str(refused["block"]) == str(height), refused
        assert refused["error"].startswith("registry.")
        started, printed = read_json_object(tampered)
        if started is None or "url" not in started:
            assert tampered.wait(timeout=30) != 0
            error = started or json.loads(printed)
            assert str(error["block"]) == str(height), error
        else:
            status, body = http(f"{banner['url']}/health")
            assert status == 503, body


@pytest.mark.slow
def test_cli_publish_schema(tmp_path: Path) -> None:
    init = init_registry(tmp_path)
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
              "properties": {"given_name": {"type": "string"}}, "required": ["given_name"]}
    (tmp_path / "schema.json").write_text(json.dumps(schema))
    with contextlib.ExitStack() as stack:
        url = banner_of(start_server(stack, tmp_path, "serve", "--db", init["db"], "--key",
                                     init["sequencer_key"], "--port", str(free_port())))["url"]
        published = run(tmp_path, "publish-schema", "--steward",
                        init["stewards"][0]["key_file"], "--registry", url, "--vct", VCT,
                        "--schema", "schema.json", "--name-nl", "Identiteit",
                        "--name-en", "Identity")
        assert published["type"] == "schema.publish"
        record = get_json(f"{url}/schemas/{VCT}")
        assert record["schema"] == schema and record["version"] == 1
        assert "Identiteit" in json.dumps(record["display"])
        assert "Identity" in json.dumps(record["display"])
