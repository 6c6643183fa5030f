"""SECURITY-TESTS 16–25 against real registry nodes: HTTP API, SQLite store, witnesses, client.

16  a byte flipped in the store of a running node halts it: 503 ``registry.node_halted``
    everywhere, no new block, no new signature; a restart names the tampered block.
17  ``kill -9`` of a node process during concurrent POST /txs, and a full disk: every
    transaction answered 201 survives, the store replays, its checkpoint names no missing leaf.
18  a replayed rotation is never applied twice; one for another origin is refused; chain id
    and sequence number are inside the signed bytes.
19  rotations by a superseded key or a non-controller, accreditations by a non-steward: 403.
20  the transparency-dev Merkle vectors: covered by ``tests/unit/registry/test_merkle.py``.
21  a client holding a checkpoint refuses a forked or rolled-back one; the witness keeps both.
22  concurrent N and N+K submissions of a real node's checkpoints never lower a witness's size.
23  a log showing two forks to 2-of-3 witnesses reaches quorum on at most one; the other
    verifier fails closed (node- and client-level; the witness-level forms of 21–23 live in
    ``tests/unit/registry/test_witness.py`` and ``tests/integration/test_witness_http.py``).
24  a withheld checkpoint is refused under ``max_age`` once its quorum-th newest cosignature
    is too old, even with one witness's clock running fast.
25  an accreditation revoked at block N is refused at every checkpoint >= N; an offline
    verifier fails closed.

Storage-level crash tests are in ``test_storage_crash.py``; here the whole node runs.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import random
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from registry import cli
from registry.author import Controller, genesis_block, load_controller
from registry.client.client import (
    FileCheckpointStore,
    NotAccreditedError,
    RegistryClient,
    RegistryUnavailableError,
    TrustPolicy,
    UntrustedResponseError,
)
from registry.ledger.block import BlockError
from registry.ledger.didketen import commitment, multikey
from registry.ledger.tx import parse_tx, sign_tx, unsigned_tx
from registry.node.app import ServiceOptions, build_app
from registry.node.node import Node
from registry.node.storage import SqliteStorage, StoredBlock
from registry.tlog.checkpoint import (
    Checkpoint,
    CheckpointStaleError,
    CosignatureSigner,
    CosignatureVerifier,
    WitnessQuorumError,
    verify_checkpoint,
)
from registry.tlog.note import NoteSigner, NoteVerifier, open_note, parse_note, sign_note
from registry.witness.client import submit_checkpoint
from registry.witness.decide import WitnessConfig, WitnessConflict, WitnessUnavailable, origin_hash
from registry.witness.http import create_witness_app
from ssiwallet.core.b64 import b64u_encode
from ssiwallet.core.keys import Ed25519PrivateKey
from ssiwallet.errors import SsiError
from tests.support.clock import FakeClock, shifted

Client = TestClient[web.Request, web.Application]

REPO = Path(__file__).resolve().parents[2]
CHILD = Path(__file__).with_name("registry_child.py")
CHAIN = "registry.keten.example/attacks"
OTHER_CHAIN = "registry.keten.example/other-origin"
T0 = 1_800_000_000
VCT = "urn:keten:vct:identity:1"
HALTED = (503, "registry.node_halted")
WITNESSES = [CosignatureSigner(f"witness.example/w{i}", Ed25519PrivateKey(bytes([40 + i]) * 32))
             for i in (1, 2, 3)]


# --- a node in this process -----------------------------------------------------------------


@dataclass
class Reg:
    """A registry node served on loopback, and the file it stores into."""

    client: Client
    node: Node
    db: Path

    @property
    def url(self) -> str:
        return str(self.client.make_url("")).rstrip("/")

    async def call(self, method: str, path: str, data: bytes | None = None) -> tuple[int, Any]:
        async with self.client.request(method, path, data=data) as resp:
            text = await resp.text()
            assert resp.status != 500, f"{method} {path}: 500 {text}"
            if resp.content_type in ("application/json", "application/ld+json"):
                return resp.status, json.loads(text)
            return resp.status, text

    async def get(self, path: str) -> tuple[int, Any]:
        return await self.call("GET", path)

    async def post(self, data: bytes) -> tuple[int, Any]:
        return await self.call("POST", "/txs", data)

    async def accepted(self, data: bytes) -> dict[str, Any]:
        status, body = await self.post(data)
        assert status == 201, body
        receipt: dict[str, Any] = body
        return receipt

    async def head(self) -> tuple[int, int]:
        _, health = await self.get("/health")
        return health["height"], health["size"]

    async def snapshot(self, *dids: str) -> dict[str, Any]:
        """What a refused request must leave as it was: head, checkpoint, DIDs, accreditations."""
        out: dict[str, Any] = {"head": await self.head(), "checkpoint": await self.get(
            "/checkpoint"), "stored_checkpoint": stored_checkpoint(self.db)}
        for did in dids:
            out[did] = await self.get(f"/1.0/identifiers/{did}")
            out[f"accreditations of {did}"] = await self.get(f"/accreditations?issuer={did}")
        return out


def write_genesis(db: Path, steward: Controller, seq_key: Ed25519PrivateKey, *,
                  chain: str = CHAIN, witnesses: list[CosignatureSigner] | None = None,
                  quorum: int = 0, at: int = T0) -> str:
    """Block 0 into a fresh SQLite file; returns its hash (what clients pin)."""
    named = [(w.name, w.verifier.vkey()) for w in witnesses or []]
    header, txs = genesis_block(chain, "Keten attack tests", [steward], seq_key, named, quorum,
                                at)
    with SqliteStorage(db) as storage:
        storage.append_block(StoredBlock(0, header.hash, header.data, 0, len(txs)),
                             [(hashlib.sha256(t).hexdigest(), t) for t in txs], "")
    return header.hash


async def serve(aiohttp_client: AiohttpClient, db: Path, seq_key: Ed25519PrivateKey,
                clock: FakeClock, *, max_pages: int | None = None,
                options: ServiceOptions | None = None) -> Reg:
    storage = SqliteStorage(db, max_pages=max_pages)
    try:
        node = Node.open(storage, seq_key, clock=clock)
    except BaseException:
        storage.close()
        raise
    return Reg(await aiohttp_client(build_app(node, options)), node, db)


def stored_checkpoint(db: Path) -> str | None:
    with closing(sqlite3.connect(db)) as raw:
        row = raw.execute("SELECT note FROM checkpoint WHERE id = 0").fetchone()
    return None if row is None else str(row[0])


def stored_height(db: Path) -> int:
    with closing(sqlite3.connect(db)) as raw:
        top: int = raw.execute("SELECT max(height) FROM blocks").fetchone()[0]
    return top


def snapshot_db(src: Path, dst: Path) -> None:
    """A consistent copy of a live store (SQLite's backup API, WAL included)."""
    with closing(sqlite3.connect(src)) as source, closing(sqlite3.connect(dst)) as target:
        source.backup(target)


def grant(steward: Controller, issuer: Controller, at: int, chain: str = CHAIN) -> bytes:
    return steward.sign(chain, "accreditation.grant", {"issuer": str(issuer.did), "vcts": [VCT],
                                                       "valid_from": at, "valid_until": None}, at)


def rotation(ctrl: Controller, *, chain: str = CHAIN, seq: int | None = None, at: int = T0,
             kid: str | None = None, signer: Ed25519PrivateKey | None = None,
             reveal: Ed25519PrivateKey | None = None) -> bytes:
    """A ``did.rotate`` for ``ctrl`` built by hand (the controller's state is left alone).

    By default it is the genuine one: reveals the committed next key and is signed by it.
    """
    body = {"key": multikey((reveal or ctrl.next_key).public_key),
            "next": commitment(multikey(Ed25519PrivateKey.generate().public_key))}
    unsigned = unsigned_tx(chain, "did.rotate", str(ctrl.did), ctrl.seq if seq is None else seq,
                           at, body)
    return sign_tx(unsigned, [(kid or f"{ctrl.did}#key-{ctrl.key_number + 1}",
                               signer or ctrl.next_key)])


def edited(data: bytes, **changes: Any) -> bytes:
    obj = json.loads(data)
    obj.update(changes)
    return json.dumps(obj).encode()


def flip(data: bytes) -> bytes:
    """The same bytes with one bit of the middle byte flipped."""
    i = len(data) // 2
    return data[:i] + bytes([data[i] ^ 0x01]) + data[i + 1:]


@dataclass
class Basic:
    """A node whose chain holds a steward, an accredited issuer and the issuer's status list."""

    reg: Reg
    steward: Controller
    issuer: Controller
    seq_key: Ed25519PrivateKey
    clock: FakeClock
    issuer_receipt: dict[str, Any]
    accreditation: str

    @property
    def list_id(self) -> str:
        return f"{self.issuer.did.method_id}.main"


async def basic(aiohttp_client: AiohttpClient, tmp_path: Path) -> Basic:
    clock, steward, seq_key = FakeClock(T0), Controller.new("Steward"), Ed25519PrivateKey.generate()
    write_genesis(tmp_path / "registry.db", steward, seq_key)
    reg = await serve(aiohttp_client, tmp_path / "registry.db", seq_key, clock)
    issuer = Controller.new("Gemeente Gent")
    created = await reg.accepted(issuer.create_tx(CHAIN, T0, steward))  # block 1
    accreditation = (await reg.accepted(grant(steward, issuer, T0)))["id"]  # block 2
    await reg.accepted(issuer.sign(CHAIN, "status.list.create",  # block 3
                                   {"name": "main", "bits": 1, "size": 64}, T0))
    return Basic(reg, steward, issuer, seq_key, clock, created, accreditation)


# --- 16: tampered storage ---------------------------------------------------------------------


def tamper(db: Path, target: str, tx_index: int) -> None:
    """Alter block 1 (or one of its transactions) through another connection to the file."""
    with closing(sqlite3.connect(db)) as raw:
        if target.startswith("block_header"):
            header = flip(raw.execute("SELECT header FROM blocks WHERE height = 1").fetchone()[0])
            raw.execute("UPDATE blocks SET header = ? WHERE height = 1", (header,))
            if target == "block_header_and_hash":  # the attacker also fixes the hash column
                raw.execute("UPDATE blocks SET hash = ? WHERE height = 1",
                            (hashlib.sha256(header).hexdigest(),))
        else:
            data = raw.execute("SELECT data FROM txs WHERE idx = ?", (tx_index,)).fetchone()[0]
            raw.execute("UPDATE txs SET data = ? WHERE idx = ?", (flip(data), tx_index))
        raw.commit()


@pytest.mark.asyncio
@pytest.mark.parametrize(("target", "first_read"), [
    ("block_header", "blocks"), ("block_header_and_hash", "blocks"), ("tx_data", "tx"),
    ("tx_data", "blocks"),
])
async def test_16_tampered_store_halts_the_running_node_and_it_never_signs_again(
    aiohttp_client: AiohttpClient, tmp_path: Path, target: str, first_read: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    b = await basic(aiohttp_client, tmp_path)
    reg = b.reg
    head = await reg.head()
    status, note_before = await reg.get("/checkpoint")
    assert status == 200
    stored_before = stored_checkpoint(reg.db)
    tamper(reg.db, target, b.issuer_receipt["index"])  # the issuer's did.create, in block 1

    path = f"/txs/{b.issuer_receipt['id']}" if first_read == "tx" else "/blocks?from=0&limit=10"
    status, body = await reg.get(path)
    assert (status, body["error"]) == HALTED
    assert reg.node.halted is not None

    # From now on it refuses everything: a valid transaction, the checkpoint, any block.
    status, body = await reg.post(Controller.new("Late").create_tx(CHAIN, T0, b.steward))
    assert (status, body["error"]) == HALTED
    for path in ("/checkpoint", "/blocks?from=0&limit=1", "/genesis",
                 f"/txs/{b.issuer_receipt['id']}", f"/txs/{b.accreditation}"):
        status, body = await reg.get(path)
        assert (status, body["error"]) == HALTED, path
    status, health = await reg.get("/health")
    assert status == 503 and health["status"] == "halted" and health["halted"]
    assert (health["height"], health["size"]) == head
    await asyncio.sleep(0.05)  # give the sequencer every chance to write something
    assert stored_height(reg.db) == head[0]
    assert stored_checkpoint(reg.db) == stored_before  # nothing new was signed
    assert stored_before is not None and stored_before.startswith(note_before)
    await reg.client.close()

    # A restart replays from genesis and names the tampered block.
    with SqliteStorage(reg.db) as storage, pytest.raises(BlockError) as refused:
        Node.open(storage, b.seq_key)
    assert refused.value.height == 1
    capsys.readouterr()
    assert cli.main(["verify", str(reg.db)]) == 1
    assert json.loads(capsys.readouterr().out)["block"] == "1"


@pytest.mark.asyncio
@pytest.mark.parametrize("route", [
    "POST /txs",
    "GET /checkpoint",
    "GET /genesis",
    "GET /blocks?from=2",
    "GET /txs/{tx}",
    "GET /proofs/inclusion?tx={tx}",
    "GET /proofs/consistency?from=1&to=3",
    "GET /1.0/identifiers/{did}",
    "GET /accreditations?issuer={did}&vct=" + VCT,
    "GET /verifiers/{did}",
    "GET /schemas/" + VCT,
    "GET /status/{list_id}",
])
async def test_16_halted_node_answers_503_on_every_route(
    aiohttp_client: AiohttpClient, tmp_path: Path, route: str
) -> None:
    b = await basic(aiohttp_client, tmp_path)
    tamper(b.reg.db, "block_header", 0)
    assert (await b.reg.get("/blocks?from=1&limit=1"))[1]["error"] == "registry.node_halted"
    method, path = route.split(" ")
    path = path.format(tx=b.accreditation, did=b.issuer.did, list_id=b.list_id)
    data = Controller.new("Late").create_tx(CHAIN, T0, b.steward) if method == "POST" else None
    status, body = await b.reg.call(method, path, data)
    assert isinstance(body, dict), f"{route} answered {status} {str(body)[:80]}"
    assert (status, body.get("error")) == HALTED


# --- 17: kill -9 and a full disk ----------------------------------------------------------------

KILL_ROUNDS = 8
WRITERS = 6


@asynccontextmanager
async def node_process(db: Path, key: Path, kill_during_startup: float | None = None
                       ) -> AsyncIterator[str | None]:
    """Run registry_child.py on ``db``; yield its URL, or None when it is to be killed
    ``kill_during_startup`` seconds after it was started (opening, replaying the store).

    The process is killed with SIGKILL when the block exits, whatever happened inside.
    """
    with subprocess.Popen([sys.executable, str(CHILD), str(db), str(key)], cwd=REPO,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        try:
            if kill_during_startup is not None:
                await asyncio.sleep(kill_during_startup)
                if proc.poll() is None:
                    yield None
                    return
            line = await asyncio.wait_for(asyncio.to_thread(proc.stdout.readline), 30)
            if not line:
                raise AssertionError(f"node did not start: {proc.stderr.read().decode()}")
            yield json.loads(line)["url"]
        finally:
            proc.kill()  # SIGKILL: no cleanup handler, no flush, no WAL checkpoint
            proc.wait()
            err = proc.stderr.read().decode(errors="replace")
            assert "Traceback" not in err, err


async def writer(session: aiohttp.ClientSession, url: str, steward: Controller,
                 acked: dict[str, int], refused: list[str]) -> None:
    """POST fresh did.create transactions until the node dies; record every 201."""
    while True:
        data = Controller.new("Org").create_tx(CHAIN, int(time.time()), steward)
        try:
            async with session.post(f"{url}/txs", data=data) as resp:
                text = await resp.text()
                status = resp.status
        except (aiohttp.ClientError, TimeoutError):
            return  # the node was killed: this one was never acknowledged
        if status == 201:
            receipt = json.loads(text)
            assert receipt["id"] == hashlib.sha256(data).hexdigest()
            acked[receipt["id"]] = receipt["index"]
        else:
            refused.append(f"{status} {text[:200]}")


async def all_present(session: aiohttp.ClientSession, url: str, acked: dict[str, int]) -> None:
    gate = asyncio.Semaphore(16)

    async def one(tx_id: str, index: int) -> None:
        async with gate, session.get(f"{url}/txs/{tx_id}") as resp:
            assert resp.status == 200, f"acknowledged tx {tx_id} lost ({resp.status})"
            assert (await resp.json())["index"] == index

    await asyncio.gather(*(one(i, n) for i, n in acked.items()))


def check_store(db: Path, log: NoteVerifier, capsys: pytest.CaptureFixture[str]) -> int:
    """``ssi-registry verify`` replays the store, and the stored checkpoint names exactly the
    tree of the last stored block (so never a missing leaf); returns the tree size."""
    capsys.readouterr()
    code = cli.main(["verify", str(db)])
    out = capsys.readouterr().out
    assert code == 0, out
    verified = json.loads(out)
    with SqliteStorage(db) as storage:
        top = storage.block(verified["height"])
        note = storage.checkpoint()
    assert top is not None and top.hash == verified["head"]
    if verified["height"] == 0:
        assert note == ""  # init stores none; the node signs one with its first block
        return int(verified["size"])
    header = json.loads(top.header)
    assert note
    text, _ = open_note(note, [log])
    checkpoint = Checkpoint.parse(text)
    assert (checkpoint.size, checkpoint.root_hash.hex()) == (header["size"], header["root"])
    assert checkpoint.size == verified["size"]
    return checkpoint.size


@pytest.mark.slow
@pytest.mark.asyncio
async def test_17_kill_9_during_concurrent_posts_loses_no_acknowledged_tx(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seed = random.randrange(1 << 32)
    try:
        await kill_rounds(tmp_path / "registry", random.Random(seed), capsys)
    except BaseException as exc:
        exc.add_note(f"random seed {seed}")
        raise


async def kill_rounds(root: Path, rng: random.Random, capsys: pytest.CaptureFixture[str]
                      ) -> None:
    assert cli.main(["init", str(root), "--chain", CHAIN, "--name", "Crash test",
                     "--steward", "Steward"]) == 0
    init = json.loads(capsys.readouterr().out)
    db, key = Path(init["db"]), Path(init["sequencer_key"])
    steward = load_controller(Path(init["stewards"][0]["key_file"]))
    log = NoteVerifier.from_vkey(init["log_vkey"])
    acked: dict[str, int] = {}  # every transaction answered 201: id -> leaf index
    size = check_store(db, log, capsys)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        for _ in range(KILL_ROUNDS):
            round_acked: dict[str, int] = {}
            refused: list[str] = []
            startup = rng.uniform(0, 0.6) if rng.random() < 0.15 else None
            async with node_process(db, key, startup) as url:
                if url is None:
                    continue
                # a restart on the same file: what earlier rounds acknowledged is served
                await all_present(session, url, dict(list(acked.items())[-300:]))
                writers = [asyncio.create_task(writer(session, url, steward, round_acked,
                                                      refused)) for _ in range(WRITERS)]
                await asyncio.sleep(rng.uniform(0.03, 0.5))
            # SIGKILLed at a random moment: the writers see their connections fail
            await asyncio.gather(*writers)
            assert not refused, refused[:3]
            acked.update(round_acked)
            new_size = check_store(db, log, capsys)
            assert new_size >= size
            assert all(index < new_size for index in round_acked.values())
            size = new_size
        async with node_process(db, key) as url:
            assert url is not None
            await all_present(session, url, acked)  # every acknowledged tx, after all crashes
    assert len(acked) > KILL_ROUNDS, "too few acknowledged transactions to mean anything"
    assert len(set(acked.values())) == len(acked)
    script = Path(sys.executable).with_name("ssi-registry")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "registry.cli"]
    done = subprocess.run([*command, "verify", str(db)], capture_output=True, cwd=REPO,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stdout.decode() + done.stderr.decode()
    assert json.loads(done.stdout)["size"] == size


def big_schema_tx(steward: Controller, at: int) -> bytes:
    """A ~45 KB schema.publish: needs more than ten new database pages."""
    props = {f"claim_{i:02d}_{'x' * 900}": {"type": "string"} for i in range(50)}
    return steward.sign(CHAIN, "schema.publish", {
        "vct": "urn:keten:vct:big:1", "schema": {"type": "object", "properties": props},
        "display": {"nl": "Groot", "en": "Big"}}, at)


@pytest.mark.asyncio
@pytest.mark.parametrize("spare_pages", [0, 3, 8])
async def test_17_full_disk_answers_503_storage_full_and_applies_nothing(
    aiohttp_client: AiohttpClient, tmp_path: Path, spare_pages: int,
    capsys: pytest.CaptureFixture[str],
) -> None:
    clock, steward, seq_key = FakeClock(T0), Controller.new("Steward"), Ed25519PrivateKey.generate()
    db = tmp_path / "registry.db"
    write_genesis(db, steward, seq_key)
    with closing(sqlite3.connect(db)) as raw:
        pages: int = raw.execute("PRAGMA page_count").fetchone()[0]
    reg = await serve(aiohttp_client, db, seq_key, clock, max_pages=pages + spare_pages)
    data = big_schema_tx(steward, T0)
    assert len(data) > 40_000
    tx_id = hashlib.sha256(data).hexdigest()
    before = await reg.snapshot(str(steward.did))
    status, body = await reg.post(data)
    assert (status, body["error"]) == (503, "registry.storage_full")
    assert await reg.snapshot(str(steward.did)) == before  # head, checkpoint, sequence number
    assert (await reg.get(f"/txs/{tx_id}"))[0] == 404
    assert (await reg.get("/schemas/urn:keten:vct:big:1"))[0] == 404
    assert reg.node.chain.tree.size == reg.node.chain.size  # the in-memory tree rolled back
    status, body = await reg.post(data)  # still full: the same refusal, not a half state
    assert (status, body["error"]) == (503, "registry.storage_full")
    await reg.client.close()

    roomy = await serve(aiohttp_client, db, seq_key, clock)
    receipt = await roomy.accepted(data)
    assert (receipt["index"], receipt["height"]) == (before["head"][1], before["head"][0] + 1)
    assert (await roomy.get("/schemas/urn:keten:vct:big:1"))[0] == 200
    await roomy.client.close()
    assert check_store(db, NoteVerifier(CHAIN, seq_key.public_key), capsys) == receipt["index"] + 1


# --- 18: replays and other origins ------------------------------------------------------------


async def rotated(aiohttp_client: AiohttpClient, tmp_path: Path) -> tuple[Basic, bytes,
                                                                          dict[str, Any]]:
    b = await basic(aiohttp_client, tmp_path)
    data = b.issuer.rotate_tx(CHAIN, T0)
    return b, data, await b.reg.accepted(data)


def _whitespace(data: bytes) -> bytes:
    return json.dumps(json.loads(data), indent=3).encode()


def _reordered(data: bytes) -> bytes:
    return json.dumps(dict(reversed(list(json.loads(data).items()))), separators=(", ", ": ")
                      ).encode()


def _proofs(data: bytes, cosigner: Controller, variant: str) -> bytes:
    """The rotation with its proofs changed: listed twice, or with a second valid signature
    (a steward's, over the same signing input) after or before the author's."""
    proofs = json.loads(data)["proofs"]
    extra = {"kid": cosigner.kid,
             "sig": b64u_encode(cosigner.key.sign(parse_tx(data).signing_input))}
    return edited(data, proofs={"proof_listed_twice": proofs * 2,
                                "second_proof_added": [*proofs, extra],
                                "proofs_reordered": [extra, *proofs]}[variant])


@pytest.mark.asyncio
@pytest.mark.parametrize(("variant", "outcome"), [
    ("identical", 201), ("whitespace", 201), ("members_reordered", 201),
    ("proof_listed_twice", (400, "registry.tx_malformed")),
    ("second_proof_added", (409, "registry.replayed")),
    ("proofs_reordered", (409, "registry.replayed")),
])
async def test_18_replayed_rotation_is_never_applied_twice(
    aiohttp_client: AiohttpClient, tmp_path: Path, variant: str, outcome: Any
) -> None:
    b, data, receipt = await rotated(aiohttp_client, tmp_path)
    replay_bytes = {"identical": data, "whitespace": _whitespace(data),
                    "members_reordered": _reordered(data)}.get(variant) or _proofs(
                        data, b.steward, variant)
    assert replay_bytes != data or variant == "identical"
    did = str(b.issuer.did)
    before = await b.reg.snapshot(did)
    status, body = await b.reg.post(replay_bytes)
    if outcome == 201:  # the same canonical transaction: answered with its original receipt
        assert (status, body) == (201, receipt)
    else:
        assert (status, body["error"]) == outcome
    assert await b.reg.snapshot(did) == before
    doc = before[did][1]["didDocument"]
    assert [m["id"] for m in doc["verificationMethod"]] == [f"{did}#key-2"]


@pytest.mark.asyncio
async def test_18_replayed_create_with_proofs_swapped_is_refused(
    aiohttp_client: AiohttpClient, tmp_path: Path
) -> None:
    b = await basic(aiohttp_client, tmp_path)
    status, stored = await b.reg.get(f"/txs/{b.issuer_receipt['id']}")
    assert status == 200 and len(stored["tx"]["proofs"]) == 2
    swapped = json.dumps({**stored["tx"], "proofs": stored["tx"]["proofs"][::-1]}).encode()
    before = await b.reg.snapshot(str(b.issuer.did))
    status, body = await b.reg.post(swapped)
    assert (status, body["error"]) == (409, "registry.did_exists")
    assert await b.reg.snapshot(str(b.issuer.did)) == before


@pytest.mark.asyncio
async def test_18_concurrent_duplicates_of_a_rotation_apply_once(
    aiohttp_client: AiohttpClient, tmp_path: Path
) -> None:
    b = await basic(aiohttp_client, tmp_path)
    height, size = await b.reg.head()
    data = b.issuer.rotate_tx(CHAIN, T0)
    results = await asyncio.gather(*(b.reg.post(d) for d in [data, _whitespace(data)] * 3))
    receipts = [body for status, body in results if status == 201]
    refusals = [(status, body["error"]) for status, body in results if status != 201]
    assert receipts and all(r == receipts[0] for r in receipts)
    assert set(refusals) <= {(409, "registry.replayed")}
    assert await b.reg.head() == (height + 1, size + 1)


@dataclass
class TwoOrigins:
    a: Reg
    b: Reg
    issuer: Controller
    steward: Controller


async def two_origins(aiohttp_client: AiohttpClient, tmp_path: Path) -> TwoOrigins:
    """Two registries with other chain ids but the same steward, sequencer and issuer keys."""
    clock, steward, seq_key = FakeClock(T0), Controller.new("Steward"), Ed25519PrivateKey.generate()
    write_genesis(tmp_path / "a.db", steward, seq_key)
    write_genesis(tmp_path / "b.db", steward, seq_key, chain=OTHER_CHAIN)
    a = await serve(aiohttp_client, tmp_path / "a.db", seq_key, clock)
    b = await serve(aiohttp_client, tmp_path / "b.db", seq_key, clock)
    issuer = Controller.new("Gemeente Gent")
    create_a = issuer.create_tx(CHAIN, T0, steward)
    create_b = issuer.create_tx(OTHER_CHAIN, T0, steward)
    await a.accepted(create_a)
    await b.accepted(create_b)
    assert issuer.seq == 1  # the same DID, expecting the same sequence number on both
    return TwoOrigins(a, b, issuer, steward)


@pytest.mark.asyncio
async def test_18_rotation_sent_to_another_origin_is_refused(
    aiohttp_client: AiohttpClient, tmp_path: Path
) -> None:
    w = await two_origins(aiohttp_client, tmp_path)
    did = str(w.issuer.did)
    data = rotation(w.issuer)  # signed for CHAIN
    before = await w.b.snapshot(did)
    status, body = await w.b.post(data)
    assert (status, body["error"]) == (409, "registry.wrong_chain")
    assert await w.b.snapshot(did) == before
    assert (await w.a.accepted(data))["id"] == hashlib.sha256(data).hexdigest()  # genuine on A


@pytest.mark.asyncio
async def test_18_chain_id_and_sequence_number_are_signed(
    aiohttp_client: AiohttpClient, tmp_path: Path
) -> None:
    w = await two_origins(aiohttp_client, tmp_path)
    did = str(w.issuer.did)
    data = rotation(w.issuer)
    # Re-labelled for the other origin: everything else fits B, only the signature fails.
    before_b = await w.b.snapshot(did)
    status, body = await w.b.post(edited(data, chain=OTHER_CHAIN))
    assert (status, body["error"]) == (403, "registry.bad_tx_signature")
    assert await w.b.snapshot(did) == before_b
    # Signed for sequence number 2, edited to the expected 1: the signature fails.
    before_a = await w.a.snapshot(did)
    status, body = await w.a.post(edited(rotation(w.issuer, seq=2), seq=1))
    assert (status, body["error"]) == (403, "registry.bad_tx_signature")
    assert await w.a.snapshot(did) == before_a
    await w.a.accepted(data)  # nothing was consumed by the forgeries


# --- 19: signers without the right ----------------------------------------------------------


async def _attack_19(b: Basic, mallory: Controller, old_key: Ed25519PrivateKey, variant: str
                     ) -> bytes:
    issuer, steward, did = b.issuer, b.steward, str(b.issuer.did)
    next_kid = f"{did}#key-{issuer.key_number + 1}"
    acc_body = {"issuer": str(mallory.did), "vcts": [VCT], "valid_from": T0, "valid_until": None}
    match variant:
        case "rotation_by_superseded_key":
            return rotation(issuer, kid=f"{did}#key-1", signer=old_key)
        case "rotation_by_current_key":
            return rotation(issuer, kid=issuer.kid, signer=issuer.key)
        case "rotation_by_superseded_key_claiming_next_kid":
            return rotation(issuer, kid=next_kid, signer=old_key)
        case "rotation_by_non_controller":
            return rotation(issuer, kid=mallory.kid, signer=mallory.key)
        case "rotation_by_non_controller_claiming_next_kid":
            return rotation(issuer, kid=next_kid, signer=mallory.key)
        case "rotation_revealing_another_key":
            return rotation(issuer, kid=next_kid, signer=mallory.key, reveal=mallory.key)
        case "accreditation_by_non_steward":
            return mallory.sign(CHAIN, "accreditation.grant", acc_body, T0)
        case "accreditation_by_accredited_issuer":
            return issuer.sign(CHAIN, "accreditation.grant", acc_body, T0)
        case "accreditation_in_a_stewards_name":
            unsigned = unsigned_tx(CHAIN, "accreditation.grant", str(steward.did), steward.seq,
                                   T0, acc_body)
            return sign_tx(unsigned, [(mallory.kid, mallory.key)])
        case "accreditation_revoked_by_non_steward":
            return mallory.sign(CHAIN, "accreditation.revoke",
                                {"accreditation": b.accreditation}, T0)
    raise AssertionError(variant)


@pytest.mark.asyncio
@pytest.mark.parametrize(("variant", "code"), [
    ("rotation_by_superseded_key", "registry.not_next_key"),
    ("rotation_by_current_key", "registry.not_next_key"),
    ("rotation_by_superseded_key_claiming_next_kid", "registry.bad_tx_signature"),
    ("rotation_by_non_controller", "registry.not_next_key"),
    ("rotation_by_non_controller_claiming_next_kid", "registry.bad_tx_signature"),
    ("rotation_revealing_another_key", "registry.commitment_mismatch"),
    ("accreditation_by_non_steward", "registry.not_steward"),
    ("accreditation_by_accredited_issuer", "registry.not_steward"),
    ("accreditation_in_a_stewards_name", "registry.not_author"),
    ("accreditation_revoked_by_non_steward", "registry.not_steward"),
])
async def test_19_unauthorised_signer_is_refused_with_403(
    aiohttp_client: AiohttpClient, tmp_path: Path, variant: str, code: str
) -> None:
    b = await basic(aiohttp_client, tmp_path)
    mallory = Controller.new("Mallory BV")
    await b.reg.accepted(mallory.create_tx(CHAIN, T0, b.steward))
    old_key = b.issuer.key
    await b.reg.accepted(b.issuer.rotate_tx(CHAIN, T0))  # key-1 is superseded by key-2
    seq = b.issuer.seq
    data = await _attack_19(b, mallory, old_key, variant)
    b.issuer.seq = seq  # a refused transaction consumes no sequence number
    dids = (str(b.issuer.did), str(mallory.did), str(b.steward.did))
    before = await b.reg.snapshot(*dids)
    status, body = await b.reg.post(data)
    assert (status, body["error"]) == (403, code)
    assert await b.reg.snapshot(*dids) == before
    # The rightful controller still holds the DID: its genuine rotation goes through.
    await b.reg.accepted(b.issuer.rotate_tx(CHAIN, T0))


# --- 21, 22, 23: split views and witness races with a real node's checkpoints -----------------


async def start_witnesses(aiohttp_client: AiohttpClient, tmp_path: Path, log_vkey: str,
                          clocks: list[Callable[[], int]]) -> list[Client]:
    return [await aiohttp_client(create_witness_app(
        WitnessConfig(signer, {CHAIN: [log_vkey]}, tmp_path / f"witness{i + 1}.db"),
        clock=clock)) for i, (signer, clock) in enumerate(zip(WITNESSES, clocks, strict=True))]


def witness_url(client: Client) -> str:
    return str(client.make_url("")).rstrip("/")


async def push(session: aiohttp.ClientSession, reg: Reg, witness: Client, n: int, old: int
               ) -> str | None:
    """A log pushing its newest checkpoint to witness ``n`` as hard as it can.

    It retries from whatever size the witness says it holds, with the node's own consistency
    proof, and attaches the cosignature to the node (what ``cosign_loop`` does).
    """
    note, size = reg.node.signed_checkpoint, reg.node.chain.size
    for _ in range(3):
        status, proof = await reg.get(f"/proofs/consistency?from={old}&to={size}")
        assert status == 200
        try:
            lines = await submit_checkpoint(session, witness_url(witness), old,
                                            [base64.b64decode(h) for h in proof["proof"]],
                                            note, verifier=WITNESSES[n].verifier)
        except WitnessConflict as exc:
            if exc.size > size:
                return None
            old = exc.size
            continue
        except WitnessUnavailable:
            return None
        for line in lines.splitlines(keepends=True):
            assert reg.node.add_cosignature(note, line)
        return lines
    return None


@dataclass
class SplitView:
    """A malicious operator: two sequencers with one key and one genesis, fed different txs."""

    a: Reg
    b: Reg
    genesis_hash: str
    witnesses: list[Client]
    base_size: int
    steward: Controller
    seq_key: Ed25519PrivateKey
    clock: FakeClock
    past_lines: list[str]
    """Each witness's cosignature of the common genesis checkpoint."""


async def split_view(aiohttp_client: AiohttpClient, tmp_path: Path,
                     session: aiohttp.ClientSession) -> SplitView:
    clock, steward, seq_key = FakeClock(T0), Controller.new("Steward"), Ed25519PrivateKey.generate()
    genesis_hash = write_genesis(tmp_path / "a.db", steward, seq_key, witnesses=WITNESSES,
                                 quorum=2)
    for copy in ("b.db", "genesis.db"):  # closed cleanly: no WAL left behind
        shutil.copyfile(tmp_path / "a.db", tmp_path / copy)
    a = await serve(aiohttp_client, tmp_path / "a.db", seq_key, clock)
    b = await serve(aiohttp_client, tmp_path / "b.db", seq_key, clock)
    witnesses = await start_witnesses(aiohttp_client, tmp_path, a.node.log_verifier.vkey(),
                                      [clock] * 3)
    base_size = a.node.chain.size
    past_lines = []
    for n, w in enumerate(witnesses):  # an honest past: everyone cosigned genesis
        lines = await push(session, a, w, n, 0)
        assert lines is not None and await push(session, b, w, n, 0) is not None
        past_lines.append(lines)
    await a.accepted(Controller.new("Fork A").create_tx(CHAIN, T0, steward))
    await b.accepted(Controller.new("Fork B").create_tx(CHAIN, T0, steward))
    cp_a = Checkpoint.parse(parse_note(a.node.signed_checkpoint)[0])
    cp_b = Checkpoint.parse(parse_note(b.node.signed_checkpoint)[0])
    assert cp_a.size == cp_b.size == base_size + 1 and cp_a.root_hash != cp_b.root_hash
    return SplitView(a, b, genesis_hash, witnesses, base_size, steward, seq_key, clock, past_lines)


def genesis_verifiers(genesis: dict[str, Any]) -> list[CosignatureVerifier]:
    return [CosignatureVerifier.from_vkey(w["vkey"]) for w in genesis["witnesses"]]


@pytest.mark.asyncio
@pytest.mark.parametrize("order", ["a_first", "b_first", "concurrent"])
async def test_23_split_view_reaches_a_2_of_3_quorum_on_at_most_one_fork(
    aiohttp_client: AiohttpClient, tmp_path: Path, order: str
) -> None:
    async with aiohttp.ClientSession() as session:
        s = await split_view(aiohttp_client, tmp_path, session)
        w1, w2, w3 = s.witnesses
        old = s.base_size
        assert await push(session, s.a, w1, 0, old) is not None
        assert await push(session, s.b, w3, 2, old) is not None
        if order == "concurrent":
            on_a, on_b = await asyncio.gather(push(session, s.a, w2, 1, old),
                                              push(session, s.b, w2, 1, old))
        elif order == "a_first":
            on_a, on_b = await push(session, s.a, w2, 1, old), await push(session, s.b, w2, 1, old)
        else:
            on_b, on_a = await push(session, s.b, w2, 1, old), await push(session, s.a, w2, 1, old)
        assert (on_a is None) != (on_b is None)  # witness 2 cosigned exactly one fork
        winner, loser = (s.a, s.b) if on_a is not None else (s.b, s.a)

        # Verifiers read the policy from the genesis both nodes serve (it pins the same hash).
        status, genesis = await winner.get("/genesis")
        assert status == 200 and genesis["hash"] == s.genesis_hash and genesis["quorum"] == 2
        log = NoteVerifier.from_vkey(genesis["log_vkey"])
        _, note_w = await winner.get("/checkpoint")
        _, note_l = await loser.get("/checkpoint")
        checkpoint, cosigned = verify_checkpoint(note_w, log, genesis_verifiers(genesis), 2)
        assert checkpoint.size == s.base_size + 1 and len(cosigned) == 2
        with pytest.raises(WitnessQuorumError):
            verify_checkpoint(note_l, log, genesis_verifiers(genesis), 2)

        policy = TrustPolicy(genesis_hash=s.genesis_hash)  # quorum from genesis: 2 of 3
        async with RegistryClient(winner.url, policy=policy, clock=s.clock) as client:
            assert (await client.checkpoint()).size == s.base_size + 1
        async with RegistryClient(loser.url, policy=policy, clock=s.clock) as client:
            with pytest.raises(UntrustedResponseError) as refused:
                await client.checkpoint()
            assert refused.value.code == "registry.witness_quorum"
            assert client.tracked is None  # fails closed: nothing was believed

        async with w2.get("/evidence") as resp:  # the refusing witness kept the other fork
            evidence = await resp.json()
        loser_note = loser.node.signed_checkpoint
        assert any(e["kind"] == "fork" and e["submitted_note"] == loser_note
                   and e["stored_note"].startswith(parse_note(note_w)[0]) for e in evidence)


@pytest.mark.asyncio
async def test_23_split_view_through_the_nodes_own_cosign_loops(
    aiohttp_client: AiohttpClient, tmp_path: Path
) -> None:
    """The operator points each sequencer at a different pair of the genesis witnesses."""
    clock, steward, seq_key = FakeClock(T0), Controller.new("Steward"), Ed25519PrivateKey.generate()
    genesis_hash = write_genesis(tmp_path / "a.db", steward, seq_key, witnesses=WITNESSES,
                                 quorum=2)
    shutil.copyfile(tmp_path / "a.db", tmp_path / "b.db")
    log_vkey = NoteVerifier(CHAIN, seq_key.public_key).vkey()
    witnesses = await start_witnesses(aiohttp_client, tmp_path, log_vkey, [clock] * 3)
    urls = {signer.name: witness_url(w) for signer, w in zip(WITNESSES, witnesses, strict=True)}
    names = list(urls)

    def loop_over(*picked: str) -> ServiceOptions:
        return ServiceOptions(witnesses={n: urls[n] for n in picked}, cosign_interval=0.05)

    a = await serve(aiohttp_client, tmp_path / "a.db", seq_key, clock,
                    options=loop_over(names[0], names[1]))
    b = await serve(aiohttp_client, tmp_path / "b.db", seq_key, clock,
                    options=loop_over(names[1], names[2]))
    await a.accepted(Controller.new("Fork A").create_tx(CHAIN, T0, steward))
    size = a.node.chain.size
    note_a = await cosigned_note(a, 2, size)
    await b.accepted(Controller.new("Fork B").create_tx(CHAIN, T0, steward))
    await eventually(lambda: evidence_kinds(witnesses[1]), lambda kinds: "fork" in kinds)
    note_b = await cosigned_note(b, 1, size)
    assert parse_note(note_a)[0] != parse_note(note_b)[0]  # same size, two roots
    policy = TrustPolicy(genesis_hash=genesis_hash)
    async with RegistryClient(a.url, policy=policy, clock=clock) as client:
        assert (await client.checkpoint()).size == size
    async with RegistryClient(b.url, policy=policy, clock=clock) as client:
        with pytest.raises(UntrustedResponseError) as refused:
            await client.checkpoint()
        assert refused.value.code == "registry.witness_quorum"


async def eventually(probe: Callable[[], Any], ok: Callable[[Any], bool],
                     timeout: float = 10.0) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await probe()
        if ok(value):
            return value
        assert asyncio.get_running_loop().time() < deadline, f"never happened: {value!r}"
        await asyncio.sleep(0.02)


async def evidence_kinds(witness: Client) -> list[str]:
    async with witness.get("/evidence") as resp:
        return [e["kind"] for e in await resp.json()]


async def cosigned_note(reg: Reg, count: int, size: int, since: int = 0) -> str:
    """Wait until the node serves a checkpoint of ``size`` with ``count`` cosignatures from
    genesis witnesses, each timestamped at or after ``since``; return that note."""
    verifiers = [w.verifier for w in WITNESSES]

    async def probe() -> tuple[str, int]:
        _, note = await reg.get("/checkpoint")
        try:
            checkpoint, times = verify_checkpoint(note, reg.node.log_verifier, verifiers, 0)
        except SsiError:
            return note, -1
        fresh = sum(t >= since for t in times.values())
        return note, fresh if checkpoint.size == size else -1

    note, _ = await eventually(probe, lambda found: found[1] >= count)
    return str(note)


@pytest.mark.asyncio
async def test_21_client_refuses_a_forked_or_rolled_back_checkpoint_and_witness_keeps_both(
    aiohttp_client: AiohttpClient, tmp_path: Path
) -> None:
    async with aiohttp.ClientSession() as session:
        s = await split_view(aiohttp_client, tmp_path, session)
        w1, w2, w3 = s.witnesses
        assert await push(session, s.a, w1, 0, s.base_size) is not None
        assert await push(session, s.a, w2, 1, s.base_size) is not None
        assert await push(session, s.b, w3, 2, s.base_size) is not None
        # Node level: a witness holding fork A refuses fork B (same size, other root) and the
        # genesis head (smaller), and keeps both log-signed notes as evidence.
        assert await push(session, s.b, w2, 1, s.base_size) is None
        rolled = await serve(aiohttp_client, tmp_path / "genesis.db", s.seq_key, s.clock)
        for line in s.past_lines:  # the honest past's cosignatures make it look genuine
            assert rolled.node.add_cosignature(rolled.node.signed_checkpoint, line)
        with pytest.raises(WitnessConflict) as conflict:
            await submit_checkpoint(session, witness_url(w2), s.base_size, [],
                                    rolled.node.signed_checkpoint)
        assert conflict.value.size == s.base_size + 1  # its stored size did not move
        async with w2.get("/evidence") as resp:
            evidence = {e["kind"]: e["submitted_note"] for e in await resp.json()}
        assert evidence == {"fork": s.b.node.signed_checkpoint,
                            "rollback": rolled.node.signed_checkpoint}

        # Client level: a verifier keeps the checkpoint it verified and refuses both.
        store = FileCheckpointStore(tmp_path / "verifier-checkpoint")
        one = TrustPolicy(genesis_hash=s.genesis_hash, quorum=1)  # quorum aside: fork logic
        async with RegistryClient(s.a.url, policy=one, checkpoint_store=store) as client:
            assert (await client.checkpoint()).size == s.base_size + 1
        held_note = store.load()
        async with RegistryClient(s.b.url, policy=one, checkpoint_store=store) as client:
            with pytest.raises(UntrustedResponseError) as refused:
                await client.checkpoint()
            assert refused.value.code == "registry.fork_detected"
        genesis_quorum = TrustPolicy(genesis_hash=s.genesis_hash)  # 2 of 3: C has all three
        async with RegistryClient(rolled.url, policy=genesis_quorum,
                                  checkpoint_store=store) as client:
            with pytest.raises(UntrustedResponseError) as refused:
                await client.checkpoint()
            assert refused.value.code == "registry.rollback"
        assert store.load() == held_note  # what it verified is kept, nothing else


@pytest.mark.asyncio
async def test_22_witness_size_never_decreases_under_concurrent_node_checkpoints(
    aiohttp_client: AiohttpClient, tmp_path: Path
) -> None:
    clock, steward, seq_key = FakeClock(T0), Controller.new("Steward"), Ed25519PrivateKey.generate()
    write_genesis(tmp_path / "registry.db", steward, seq_key, witnesses=WITNESSES, quorum=1)
    reg = await serve(aiohttp_client, tmp_path / "registry.db", seq_key, clock)
    witness = (await start_witnesses(aiohttp_client, tmp_path, reg.node.log_verifier.vkey(),
                                     [clock] * 3))[0]
    url = witness_url(witness)
    heads = [(reg.node.chain.size, reg.node.signed_checkpoint)]
    for i in range(8):  # the node's real checkpoints at eight growing sizes
        await reg.accepted(Controller.new(f"Org {i}").create_tx(CHAIN, T0, steward))
        heads.append((reg.node.chain.size, reg.node.signed_checkpoint))
    rogue = NoteSigner(CHAIN, Ed25519PrivateKey.generate())  # same origin, unknown key
    biggest = heads[-1][0]

    async def proof(old: int, size: int) -> list[bytes]:
        _, body = await reg.get(f"/proofs/consistency?from={old}&to={size}")
        return [base64.b64decode(h) for h in body["proof"]]

    async with aiohttp.ClientSession() as session:
        await submit_checkpoint(session, url, 0, [], heads[0][1])
        seen: list[int] = []
        done = asyncio.Event()

        async def monitor() -> None:
            while not done.is_set():
                async with witness.get(f"/{origin_hash(CHAIN)}/checkpoint") as resp:
                    seen.append(Checkpoint.parse((await resp.text()).split("\n\n")[0] + "\n").size)
                await asyncio.sleep(0)

        async def honest(size: int, note: str) -> None:
            old = heads[0][0]
            for _ in range(20):  # the log retries from the size the witness says it holds
                try:
                    lines = await submit_checkpoint(session, url, old, await proof(old, size),
                                                    note, verifier=WITNESSES[0].verifier)
                except WitnessConflict as exc:
                    if exc.size >= size:
                        return  # the witness is already at or past this head
                    old = exc.size
                    continue
                WITNESSES[0].verifier.verify_line(parse_note(note)[0], lines)
                return
            raise AssertionError("no progress")

        async def hostile(kind: str, size: int, note: str) -> None:
            """A stale ``old``, a bad proof from wherever the witness is, or an unknown key:
            refused every time, whatever the interleaving."""
            old = heads[0][0]  # the witness has moved past it before the race starts
            for _ in range(20):
                try:
                    if kind == "stale_old":
                        await submit_checkpoint(session, url, old, await proof(old, size), note)
                    elif kind == "bad_proof":
                        bad = [bytes(32)] * len(await proof(old, size))
                        await submit_checkpoint(session, url, old, bad, note)
                    else:
                        forged = sign_note(parse_note(note)[0], [rogue])
                        await submit_checkpoint(session, url, old, await proof(old, size),
                                                forged)
                except WitnessConflict as exc:
                    if kind != "bad_proof" or exc.size >= size:
                        return
                    old = exc.size  # chase the witness to get the bad proof looked at
                    continue
                except WitnessUnavailable as exc:
                    assert (kind, exc.http_status) in (("bad_proof", 422),
                                                       ("unknown_key", 403)), exc
                    return
                raise AssertionError(f"{kind} submission of size {size} was cosigned")

        await honest(*heads[1])
        watcher = asyncio.create_task(monitor())
        jobs = [honest(size, note) for size, note in heads[2:]]
        jobs += [hostile(kind, *heads[n]) for kind in ("stale_old", "bad_proof", "unknown_key")
                 for n in (2, 5, 8)]
        random.shuffle(jobs)
        await asyncio.gather(*jobs)
        # Late replays of every older head: refused, the stored size stays where it is.
        for size, note in heads[:-1]:
            with pytest.raises(WitnessConflict) as conflict:
                await submit_checkpoint(session, url, size, [], note)
            assert conflict.value.size == biggest
        done.set()
        await watcher
    assert seen == sorted(seen) and seen[-1] == biggest
    assert "rollback" in await evidence_kinds(witness)


@dataclass
class Revocable:
    """An honest sequencer whose own loop gets every block cosigned by three witnesses
    (quorum 2), with an issuer accredited at T0."""

    reg: Reg
    genesis_hash: str
    steward: Controller
    issuer: Controller
    accreditation: str
    seq_key: Ed25519PrivateKey
    witnesses: list[Client]


async def revocable(aiohttp_client: AiohttpClient, tmp_path: Path, clock: FakeClock,
                    witness_clocks: list[Callable[[], int]]) -> Revocable:
    steward, seq_key = Controller.new("Steward"), Ed25519PrivateKey.generate()
    genesis_hash = write_genesis(tmp_path / "registry.db", steward, seq_key,
                                 witnesses=WITNESSES, quorum=2)
    log_vkey = NoteVerifier(CHAIN, seq_key.public_key).vkey()
    witnesses = await start_witnesses(aiohttp_client, tmp_path, log_vkey, witness_clocks)
    options = ServiceOptions(witnesses={s.name: witness_url(w) for s, w in zip(
        WITNESSES, witnesses, strict=True)}, cosign_interval=0.05)
    reg = await serve(aiohttp_client, tmp_path / "registry.db", seq_key, clock, options=options)
    issuer = Controller.new("Gemeente Gent")
    await reg.accepted(issuer.create_tx(CHAIN, T0, steward))
    accreditation = (await reg.accepted(grant(steward, issuer, T0)))["id"]
    return Revocable(reg, genesis_hash, steward, issuer, accreditation, seq_key, witnesses)


@pytest.mark.asyncio
async def test_24_withheld_checkpoint_is_stale_under_max_age(
    aiohttp_client: AiohttpClient, tmp_path: Path
) -> None:
    clock = FakeClock(T0)
    fast = shifted(clock, 3600)  # witness 3's clock runs an hour ahead
    world = await revocable(aiohttp_client, tmp_path, clock, [clock, clock, fast])
    honest, steward = world.reg, world.steward
    did, log = str(world.issuer.did), honest.node.log_verifier
    verifiers = [w.verifier for w in WITNESSES]
    granted_size = honest.node.chain.size
    granted_note = await cosigned_note(honest, 3, granted_size)
    # The operator keeps a copy of this head (cosignatures included) to serve later.
    snapshot_db(honest.db, tmp_path / "withheld.db")
    verify_checkpoint(granted_note, log, verifiers, 2, now=clock(), max_age=600)

    clock.advance(3600)  # an hour later the accreditation is revoked
    await honest.accepted(steward.sign(CHAIN, "accreditation.revoke",
                                       {"accreditation": world.accreditation}, clock()))
    fresh = await cosigned_note(honest, 3, honest.node.chain.size, since=clock())
    verify_checkpoint(fresh, log, verifiers, 2, now=clock(), max_age=600)

    # A node that stopped cosigning keeps showing the old head, where the issuer is accredited.
    withheld = await serve(aiohttp_client, tmp_path / "withheld.db", world.seq_key, clock)
    status, served = await withheld.get("/checkpoint")
    assert status == 200 and served == granted_note
    _, answer = await withheld.get(f"/accreditations?issuer={did}&vct={VCT}&at={clock()}")
    assert answer["accredited"] is True  # the lie a stale view tells
    with pytest.raises(CheckpointStaleError) as stale:
        verify_checkpoint(served, log, verifiers, 2, now=clock(), max_age=600)
    assert stale.value.code == "registry.checkpoint_stale"
    # One witness with a fast clock makes its newest cosignature look current; the policy
    # looks at the quorum-th newest, which is an hour old.
    _, times = verify_checkpoint(served, log, verifiers, 0)
    assert sorted(times.values()) == [T0, T0, T0 + 3600]
    verify_checkpoint(served, log, verifiers, 1, now=clock(), max_age=600)  # 1-of-3 is fooled
    # Nor can the operator get the old head re-cosigned: the witnesses have seen the newer one.
    async with aiohttp.ClientSession() as session:
        for witness in world.witnesses:
            with pytest.raises(WitnessConflict) as conflict:
                await submit_checkpoint(session, witness_url(witness), granted_size, [],
                                        withheld.node.signed_checkpoint)
            assert conflict.value.size == honest.node.chain.size
            assert "rollback" in await evidence_kinds(witness)

    policy = TrustPolicy(genesis_hash=world.genesis_hash, max_age=600)
    async with RegistryClient(withheld.url, policy=policy, clock=clock) as client:
        with pytest.raises(UntrustedResponseError) as refused:
            await client.accredited(did, VCT, clock())
        assert refused.value.code == "registry.checkpoint_stale"
    async with RegistryClient(honest.url, policy=policy, clock=clock) as client:
        assert await client.accredited(did, VCT, clock()) is False


@pytest.mark.asyncio
async def test_25_revoked_accreditation_is_refused_at_every_later_checkpoint_offline_fails(
    aiohttp_client: AiohttpClient, tmp_path: Path
) -> None:
    clock = FakeClock(T0)
    world = await revocable(aiohttp_client, tmp_path, clock, [clock] * 3)
    reg, steward = world.reg, world.steward
    did, log = str(world.issuer.did), reg.node.log_verifier
    verifiers = [w.verifier for w in WITNESSES]
    store = FileCheckpointStore(tmp_path / "verifier-checkpoint")
    policy = TrustPolicy(genesis_hash=world.genesis_hash, max_age=600)
    await cosigned_note(reg, 3, reg.node.chain.size)
    async with RegistryClient(reg.url, policy=policy, clock=clock,
                              checkpoint_store=store) as client:
        assert await client.accredited(did, VCT, T0) is True

    since = clock.advance(120)
    revoked = await reg.accepted(steward.sign(CHAIN, "accreditation.revoke",
                                              {"accreditation": world.accreditation,
                                               "since": since},
                                              since))
    for later in range(3):  # the revocation block N, then checkpoints after it
        if later:
            clock.advance(30)
            await reg.accepted(Controller.new(f"Later {later}").create_tx(CHAIN, clock(),
                                                                          steward))
        note = await cosigned_note(reg, 2, reg.node.chain.size, since=clock())
        checkpoint, _ = verify_checkpoint(note, log, verifiers, 2, now=clock(), max_age=600)
        assert checkpoint.size > revoked["index"]
        for at, accredited in ((since, False), (clock(), False), (since - 1, True)):
            status, answer = await reg.get(f"/accreditations?issuer={did}&vct={VCT}&at={at}")
            assert status == 200 and answer["accredited"] is accredited, (later, at)
            assert answer["height"] >= revoked["height"] and answer["size"] >= checkpoint.size

    client = RegistryClient(reg.url, policy=policy, clock=clock, checkpoint_store=store)
    async with client:
        assert await client.verify_inclusion(revoked["id"]) == revoked["index"]
        assert client.tracked is not None and client.tracked.size > revoked["index"]
        assert await client.accredited(did, VCT, since - 1) is True  # history is kept
        for at in (since, clock()):
            with pytest.raises(NotAccreditedError):
                await client.require_accredited(did, VCT, at)

        # Offline: the registry is unreachable. The client cannot get a fresh checkpoint and
        # refuses to answer at all, even a question it answered "yes" to before.
        url = reg.url
        await reg.client.close()
        clock.advance(601)
        with pytest.raises(RegistryUnavailableError):
            await client.accredited(did, VCT, T0)
    async with RegistryClient(url, policy=policy, clock=clock,
                              checkpoint_store=store) as offline:
        with pytest.raises(RegistryUnavailableError):
            await offline.accredited(did, VCT, T0)
    held = store.load()
    assert held is not None  # the cached checkpoint is no substitute for a fresh one
    with pytest.raises(CheckpointStaleError):
        verify_checkpoint(held, log, verifiers, 2, now=clock(), max_age=600)
