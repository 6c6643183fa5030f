"""The did:keten registry: appends, resolutions, full-chain verification, growth to 10⁵ txs.

Every figure has its peer or bound measured in the same run:

* **Appends over HTTP.** A sequencer node (``build_app`` on loopback, ``SqliteStorage`` in a
  temporary directory, WAL + ``synchronous=FULL``) takes pre-signed ``status.update``
  transactions from 256 accredited issuers, POSTed by concurrent clients (each client owns
  some issuers and submits each issuer's transactions in sequence order, one at a time).
  Compared with (a) the in-process bound: the same transactions parsed, applied with
  ``Chain.prepare`` and appended to a ``MemoryStorage`` (no HTTP, no fsync), and (b) the same
  HTTP load with one transaction per block (``max_block_txs=1``), which is what group commit
  buys.
* **Resolutions over HTTP** (``GET /1.0/identifiers/{did}``, warm) against a bare aiohttp
  endpoint returning the same bytes, served and loaded the same way.
* **Full-chain verification**: ``replay`` of a stored chain (SQLite) with a realistic mix,
  against the bound of one Ed25519 verification per signature it holds (transaction proofs
  and block headers, the same messages and keys).
* **Growth**: full-verification time per transaction and resolution latency on prefixes of one
  chain of 10⁵ transactions, at 10³, 10⁴ and 10⁵ (ratio near 1: flat).

The HTTP load comes from a second process (a minimal keep-alive HTTP/1.1 client on raw
asyncio streams, far cheaper than a full client library), so the server has a core of its
own on a two-core machine; the bare endpoint measures what that server and client can do
at all, which bounds every HTTP figure.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import itertools
import multiprocessing
import random
import re
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from bench.harness import Row, ops_per_second
from registry.author import Controller, genesis_block
from registry.ledger.block import make_header, parse_header
from registry.ledger.chain import Chain
from registry.ledger.resolve import resolve
from registry.ledger.tx import parse_tx
from registry.node.app import ServiceOptions, build_app
from registry.node.http import NodeSettings
from registry.node.node import Node, replay
from registry.node.storage import MemoryStorage, SqliteStorage, Storage, StoredBlock
from registry.tlog.merkle import leaf_hash
from registry.tlog.tree import MerkleTree
from ssiwallet.core import strictjson
from ssiwallet.core.keys import Ed25519PrivateKey, Ed25519PublicKey

__all__ = ["run"]

CHAIN = "registry.keten.example/bench"
VCT = "urn:keten:vct:identity:1"
BLOCK_TXS = 500  # the node's default max_block_txs
CLIENTS = 32
ISSUERS = 256  # submitting issuers in the append benchmark (8 per client)
SAMPLE = 64  # DIDs resolved on every prefix (the 10³ prefix holds 66)
UNIT_TXS = 30  # transactions per issuer "life" in the growth chain (see _issuer_life)

_LENGTH = re.compile(rb"\r\ncontent-length:[ \t]*(\d+)", re.IGNORECASE)


def _sup(n: int) -> str:
    return "10" + str(n).translate(str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹"))


# --------------------------------------------------------------------------- chain building


@dataclass
class _Writer:
    """Writes signed blocks straight into a store (``replay`` later validates all of it).

    Blocks are cut so that every multiple of ``block_txs`` transactions is a block
    boundary, which lets ``replay(stop_at=…)`` take exact prefixes of 10³, 10⁴, … txs.
    """

    storage: Storage
    steward: Controller
    sequencer: Ed25519PrivateKey
    time: int
    block_txs: int = BLOCK_TXS
    keys: dict[str, Ed25519PublicKey] = field(default_factory=dict)
    """Every key id that signs, with its public key (for the verification bound)."""
    tree: MerkleTree = field(default_factory=MerkleTree)
    height: int = -1
    prev: str = ""
    size: int = 0
    buffer: list[bytes] = field(default_factory=list)
    ends: dict[int, int] = field(default_factory=dict)
    """Block height at which each stored prefix size ends."""
    created: list[tuple[str, int]] = field(default_factory=list)
    """Every DID created after genesis, with the index of its did.create."""

    def __post_init__(self) -> None:
        self.keys[self.steward.kid] = self.steward.key.public_key
        header, txs = genesis_block(CHAIN, "Bench", [self.steward], self.sequencer, [], 0,
                                    self.time)
        for d in txs:
            self.tree.append(leaf_hash(d))
        self._store(header.height, header.hash, header.data, txs)

    def _store(self, height: int, block_hash: str, header: bytes, txs: list[bytes]) -> None:
        self.storage.append_block(StoredBlock(height, block_hash, header, self.size, len(txs)),
                                  [(hashlib.sha256(d).hexdigest(), d) for d in txs], "")
        self.size += len(txs)
        self.height, self.prev = height, block_hash
        self.ends[self.size] = height

    def emit(self, data: bytes) -> None:
        self.buffer.append(data)
        if (self.size + len(self.buffer)) % self.block_txs == 0:
            self.flush()

    def flush(self) -> None:
        if not self.buffer:
            return
        txs, self.buffer = self.buffer, []
        for d in txs:
            self.tree.append(leaf_hash(d))
        header = make_header(CHAIN, self.height + 1, self.prev, self.time, txs, self.tree.size,
                             self.tree.root(), self.sequencer)
        self._store(header.height, header.hash, header.data, txs)

    def new_did(self, name: str) -> Controller:
        """A fresh DID, created with the steward's endorsement."""
        controller = Controller.new(name)
        self.keys[controller.kid] = controller.key.public_key
        self.created.append((str(controller.did), self.size + len(self.buffer)))
        self.emit(controller.create_tx(CHAIN, self.time, self.steward))
        return controller

    def rotate(self, controller: Controller) -> None:
        self.keys[f"{controller.did}#key-{controller.key_number + 1}"] = (
            controller.next_key.public_key)
        self.emit(controller.rotate_tx(CHAIN, self.time))

    def accredited_issuer(self, name: str) -> Controller:
        """An issuer DID, accredited, with a status list ``main`` (3 transactions)."""
        issuer = self.new_did(name)
        self.emit(self.steward.sign(CHAIN, "accreditation.grant",
                                    {"issuer": str(issuer.did), "vcts": [VCT],
                                     "valid_from": self.time, "valid_until": None}, self.time))
        self.emit(issuer.sign(CHAIN, "status.list.create",
                              {"name": "main", "bits": 1, "size": 4096}, self.time))
        return issuer


def _status_update(issuer: Controller, indices: list[int], time: int) -> bytes:
    return issuer.sign(CHAIN, "status.update", {"list": f"{issuer.did.method_id}.main",
                                                "indices": indices, "value": 1}, time)


def _issuer_life(w: _Writer, n: int, rng: random.Random) -> None:
    """One issuer and one verifier over their first 30 transactions: create + grant + list,
    12 revocations, a key rotation, 12 more revocations, a verifier create + register."""
    issuer = w.accredited_issuer(f"Issuer {n}")
    for step in range(25):
        if step == 12:
            w.rotate(issuer)
        else:
            w.emit(_status_update(issuer, rng.sample(range(4096), rng.randint(1, 4)), w.time))
    verifier = w.new_did(f"Verifier {n}")
    w.emit(w.steward.sign(CHAIN, "verifier.register", {
        "verifier": str(verifier.did), "purpose": {"nl": "Leeftijd nagaan", "en": "Age check"},
        "credentials": [{"vct": VCT, "claims": [["given_name"], ["birthdate"]]}],
        "valid_until": None}, w.time))


def _signatures(storage: Storage, keys: dict[str, Ed25519PublicKey], sequencer:
                Ed25519PublicKey, stop_at: int) -> list[tuple[Ed25519PublicKey, bytes, bytes]]:
    """(key, message, signature) of every signature in blocks 0…``stop_at``."""
    sigs: list[tuple[Ed25519PublicKey, bytes, bytes]] = []
    for block in storage.iter_blocks(0):
        if block.height > stop_at:
            break
        header = parse_header(block.header)
        sigs.append((sequencer, header.signing_input, header.sig))
        for stored in storage.block_txs(block.height):
            tx = parse_tx(stored.data)
            sigs.extend((keys[p.kid], tx.signing_input, p.sig) for p in tx.proofs)
    return sigs


# --------------------------------------------------------------------------- HTTP load


def _drive(port: int, jobs: list[list[bytes]], cycle: bool, seconds: float
           ) -> tuple[list[int], int, float]:
    """In the load process: one keep-alive connection per job, each sending its raw
    requests one at a time (cycling through them if ``cycle``) until ``seconds`` pass or
    the job runs out. Returns requests completed per job, non-2xx count, elapsed seconds."""
    return asyncio.run(_drive_async(port, jobs, cycle, seconds))


async def _drive_async(port: int, jobs: list[list[bytes]], cycle: bool, seconds: float
                       ) -> tuple[list[int], int, float]:
    conns = [await asyncio.open_connection("127.0.0.1", port) for _ in jobs]
    start = time.perf_counter()
    deadline = start + seconds

    async def client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                     job: list[bytes]) -> tuple[int, int]:
        done = errors = 0
        n = len(job)
        while (cycle or done < n) and n and time.perf_counter() < deadline:
            writer.write(job[done % n])
            head = await reader.readuntil(b"\r\n\r\n")
            match = _LENGTH.search(head)
            if match is None:
                raise RuntimeError(f"response without Content-Length: {head[:200]!r}")
            length = int(match.group(1))
            if length:
                await reader.readexactly(length)
            if not head.startswith(b"HTTP/1.1 2"):
                errors += 1
            done += 1
        return done, errors

    results = await asyncio.gather(*(client(r, w, job) for (r, w), job in zip(conns, jobs,
                                                                               strict=True)))
    elapsed = time.perf_counter() - start
    for _, writer in conns:
        writer.close()
    return [d for d, _ in results], sum(e for _, e in results), elapsed


def _get(path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()


def _post(path: str, body: bytes) -> bytes:
    return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body


class _Server:
    """An aiohttp application on 127.0.0.1, port chosen by the OS."""

    def __init__(self, app: web.Application) -> None:
        self.runner = web.AppRunner(app, access_log=None)  # as ``ssi-registry serve``
        self.port = 0

    async def __aenter__(self) -> _Server:
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.port = self.runner.addresses[0][1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.runner.cleanup()


@dataclass
class _Load:
    """The load process and the conditions every HTTP round shares."""

    pool: ProcessPoolExecutor
    seconds: float

    async def round(self, port: int, jobs: list[list[bytes]], *, cycle: bool,
                    seconds: float | None = None) -> tuple[list[int], float]:
        loop = asyncio.get_running_loop()
        done, errors, elapsed = await loop.run_in_executor(
            self.pool, _drive, port, jobs, cycle, seconds or self.seconds)
        if errors:
            raise RuntimeError(f"{errors} requests failed during the benchmark")
        return done, sum(done) / elapsed


# --------------------------------------------------------------------------- 1. appends


async def _appends(load: _Load, workdir: Path, rounds: int, per_issuer: int
                   ) -> list[Row]:
    now = int(time.time())
    sequencer = Ed25519PrivateKey.generate()
    storage = SqliteStorage(workdir / "appends.db")
    w = _Writer(storage, Controller.new("Steward"), sequencer, now)
    issuers = [w.accredited_issuer(f"Issuer {i}") for i in range(ISSUERS)]
    w.flush()
    bound_chain, bound_store = replay(storage), MemoryStorage()
    for block in storage.iter_blocks(0):
        bound_store.append_block(block, [(t.id, t.data) for t in storage.block_txs(
            block.height)], "")
    node = Node(replay(storage), storage, sequencer, clock=lambda: now)
    # Pre-signed before any timing: the same transactions feed the node and the bound.
    pool = [[_status_update(issuer, [k % 4096], now) for k in range(per_issuer)]
            for issuer in issuers]
    http_next = [0] * ISSUERS
    bound_next = 0

    def jobs() -> tuple[list[list[bytes]], list[list[int]]]:
        requests, owners = [], []
        for client in range(CLIENTS):
            mine = range(client, ISSUERS, CLIENTS)
            order = [i for r in range(per_issuer) for i in mine if http_next[i] + r < per_issuer]
            cursor = {i: http_next[i] for i in mine}
            job = []
            for i in order:
                job.append(_post("/txs", pool[i][cursor[i]]))
                cursor[i] += 1
            requests.append(job)
            owners.append(order)
        return requests, owners

    async def http_round(port: int, max_block_txs: int) -> tuple[float, float]:
        node.max_block_txs = max_block_txs
        requests, owners = jobs()
        size, height = node.chain.size, node.chain.head.height
        done, rate = await load.round(port, requests, cycle=False)
        for order, n in zip(owners, done, strict=True):
            for i in order[:n]:
                http_next[i] += 1
        blocks = node.chain.head.height - height
        return rate, (node.chain.size - size) / max(blocks, 1)

    def bound_round() -> float:
        nonlocal bound_next
        count = 0
        start = time.perf_counter()
        deadline = start + load.seconds / 2  # a steady loop: half as long is plenty
        while time.perf_counter() < deadline and bound_next + CLIENTS <= per_issuer * ISSUERS:
            batch = [pool[k % ISSUERS][k // ISSUERS]
                     for k in range(bound_next, bound_next + CLIENTS)]
            bound_next += CLIENTS
            txs = [parse_tx(d) for d in batch]
            pending, rejected = bound_chain.prepare(txs, now, sequencer)
            assert pending is not None and not rejected, rejected[:1]
            bound_store.append_block(
                StoredBlock(pending.header.height, pending.header.hash, pending.header.data,
                            pending.header.size - len(pending.txs), len(pending.txs)),
                [(tx.id, tx.data) for tx in pending.txs], "")
            bound_chain.commit(pending)
            count += len(batch)
        return count / (time.perf_counter() - start)

    batched = unbatched = bound = block_size = 0.0
    async with _Server(build_app(node, ServiceOptions(settings=NodeSettings.unlimited()))
                       ) as server:
        await http_round(server.port, BLOCK_TXS)  # warm-up: connections, the load process
        for _ in range(rounds):
            rate, size = await http_round(server.port, BLOCK_TXS)
            if rate > batched:
                batched, block_size = rate, size
            unbatched = max(unbatched, (await http_round(server.port, 1))[0])
            bound = max(bound, bound_round())
    if max(http_next) == per_issuer or bound_next + CLIENTS > per_issuer * ISSUERS:
        print("  note: the pre-signed pool ran out; raise per_issuer", flush=True)
    what = f"appends over HTTP ({CLIENTS} clients, signed status.update, SQLite fsync)"
    return [
        Row(f"{what}, group commit: avg block {block_size:.1f} txs", batched,
            f"in-process bound: parse + Chain.prepare + MemoryStorage, blocks of {CLIENTS}, "
            "no HTTP, no fsync", bound, unit="txs/s"),
        Row(f"{what}, group commit", batched, "same HTTP load, one tx per block "
            "(max_block_txs=1)", unbatched, unit="txs/s"),
    ]


# --------------------------------------------------------------------------- 2–4. the big chain


@dataclass
class _Prefix:
    """One prefix of the growth chain, the DIDs created in it and what was measured on it.

    ``chain`` stays one block short of the prefix while verification is measured, so that
    its last block can be checked again and again (``check_block`` then ``abort``).
    """

    size: int
    height: int
    dids: list[str]
    chain: Chain | None = None
    last: tuple[bytes, list[bytes]] = (b"", [])
    verify_seconds: float = float("inf")
    """Full verification: ``replay`` up to the last block, then the last block's check."""
    block_seconds: float = float("inf")
    """The last block's check alone, on the chain before it."""

    def finish(self) -> Chain:
        """Commit the last block: the whole prefix, validated, for resolution."""
        assert self.chain is not None
        if self.chain.size != self.size:
            self.chain.commit(self.chain.check_block(*self.last))
        assert self.chain.size == self.size
        return self.chain


def _build_growth_chain(path: Path, sizes: list[int]) -> tuple[SqliteStorage, _Writer,
                                                                list[_Prefix]]:
    """One chain of ``sizes[-1]`` txs (block boundaries at every size), and its prefixes."""
    rng = random.Random(7)
    storage = SqliteStorage(path)
    w = _Writer(storage, Controller.new("Steward"), Ed25519PrivateKey.generate(),
                int(time.time()))
    lives = 0
    while w.size < sizes[-1]:
        _issuer_life(w, lives, rng)
        lives += 1
    return storage, w, [_Prefix(size, w.ends[size], [d for d, at in w.created if at < size])
                        for size in sizes]


def _timed_replay(storage: Storage, prefix: _Prefix) -> None:
    """What ``replay(storage, stop_at=prefix.height)`` does, with the last block held back."""
    gc.collect()
    start = time.perf_counter()
    chain = replay(storage, stop_at=prefix.height - 1)
    stored = storage.block(prefix.height)
    assert stored is not None and hashlib.sha256(stored.header).hexdigest() == stored.hash
    data = [t.data for t in storage.block_txs(prefix.height)]
    pending = chain.check_block(stored.header, data)
    elapsed = time.perf_counter() - start
    chain.abort(pending)
    prefix.chain, prefix.last = chain, (stored.header, data)
    prefix.verify_seconds = min(prefix.verify_seconds, elapsed)


def _timed_last_block(prefix: _Prefix) -> None:
    assert prefix.chain is not None
    start = time.perf_counter()
    pending = prefix.chain.check_block(*prefix.last)
    elapsed = time.perf_counter() - start
    prefix.chain.abort(pending)
    prefix.block_seconds = min(prefix.block_seconds, elapsed)


async def _resolutions(load: _Load, prefixes: list[_Prefix], rounds: int, seconds: float,
                       storage: Storage) -> list[tuple[float, float]]:
    """HTTP resolutions/s on each prefix and on the bare endpoint: (ours, bare) per prefix."""
    now = int(time.time())
    servers = []
    jobs = []
    for p in prefixes:
        node = Node(p.finish(), storage, None)
        servers.append(_Server(build_app(node, ServiceOptions(
            close_storage=False, settings=NodeSettings.unlimited()))))
        dids = random.Random(p.size).sample(p.dids, SAMPLE)
        jobs.append([[_get(f"/1.0/identifiers/{d}") for d in dids[c::CLIENTS]]
                     for c in range(CLIENTS)])
    middle = prefixes[min(1, len(prefixes) - 1)]
    body = strictjson.dumps(resolve(middle.finish().state, middle.dids[0], None, now))

    async def bare(_: web.Request) -> web.Response:
        return web.Response(text=body, content_type="application/did-resolution+json")

    app = web.Application()
    app.router.add_get("/1.0/identifiers/{did}", bare)
    servers.append(_Server(app))
    jobs.append([[_get(f"/1.0/identifiers/{middle.dids[0]}")] for _ in range(CLIENTS)])
    best = [0.0] * len(servers)
    for s in servers:
        await s.__aenter__()
    try:
        for i, s in enumerate(servers):  # warm-up: document cache, connections
            await load.round(s.port, jobs[i], cycle=True, seconds=0.3)
        for _ in range(rounds):
            for i, s in enumerate(servers):
                rate = (await load.round(s.port, jobs[i], cycle=True, seconds=seconds))[1]
                best[i] = max(best[i], rate)
    finally:
        for s in servers:
            await s.__aexit__()
    return [(ours, best[-1]) for ours in best[:-1]]


def _verify_bound(sigs: list[tuple[Ed25519PublicKey, bytes, bytes]]) -> Callable[[], None]:
    def work() -> None:
        for key, message, sig in sigs:
            if not key.verify(message, sig):
                raise AssertionError("a chain signature does not verify")
    return work


def run(quick: bool = False) -> list[Row]:
    """All registry figures; ``quick`` stops the growth chain at 10⁴ and shortens rounds."""
    exps = [3, 4] if quick else [3, 4, 5]
    rounds = 3 if quick else 5
    context = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory(prefix="keten-bench-") as tmp, \
            ProcessPoolExecutor(1, mp_context=context) as pool:
        workdir = Path(tmp)
        load = _Load(pool, 0.5 if quick else 1.0)
        print("  appends over HTTP …", flush=True)
        rows = asyncio.run(_appends(load, workdir, rounds, 30 if quick else 90))

        print(f"  building a {_sup(exps[-1])}-transaction chain …", flush=True)
        start = time.perf_counter()
        storage, writer, prefixes = _build_growth_chain(workdir / "growth.db",
                                                        [10**e for e in exps])
        print(f"  built in {time.perf_counter() - start:.1f} s; verifying …", flush=True)
        small, middle, top = prefixes[0], prefixes[1], prefixes[-1]
        sigs = _signatures(storage, writer.keys, writer.sequencer.public_key, middle.height)
        bound = _verify_bound(sigs)
        bound_seconds = float("inf")
        # Interleaved: 10³ five times, 10⁴ three times, 10⁵ (about 20 s) once.
        for r in range(max(rounds, 3)):
            _timed_replay(storage, small)
            if r < 3:
                _timed_replay(storage, middle)
                gc.collect()
                start = time.perf_counter()
                bound()
                bound_seconds = min(bound_seconds, time.perf_counter() - start)
        if top is not middle:
            _timed_replay(storage, top)
        for _ in range(rounds):  # the last block again, on each prefix (about 0.1 s each)
            for p in prefixes:
                _timed_last_block(p)

        print("  resolving …", flush=True)
        now = int(time.time()) + 60

        def resolver(p: _Prefix) -> Callable[[], object]:
            state = p.finish().state
            dids: Iterator[str] = itertools.cycle(random.Random(p.size).sample(p.dids, SAMPLE))
            return lambda: resolve(state, next(dids), None, now)

        local = ops_per_second([resolver(p) for p in prefixes], rounds=rounds)
        # Shorter, more numerous rounds: a best of many resists a noisy machine.
        http = asyncio.run(_resolutions(load, prefixes, 2 * rounds, load.seconds / 2, storage))
        storage.close()

    def per_tx(p: _Prefix) -> float:
        return p.verify_seconds / p.size * 1e6

    def exp(p: _Prefix) -> str:
        return _sup(len(str(p.size)) - 1)

    mix = (f"mix per {UNIT_TXS} txs: 2 did.create, grant, list, 24 status.update, "
           "rotation, verifier.register")
    http_runs = f"best of {2 * rounds} × {load.seconds / 2:g} s"
    rows += [
        Row(f"resolutions over HTTP ({CLIENTS} clients, {exp(middle)}-tx chain, {SAMPLE} DIDs, "
            f"warm; {http_runs})", http[1][0],
            "bare aiohttp endpoint returning the same bytes, same client", http[1][1],
            unit="res/s"),
        Row(f"full-chain verification: replay of {middle.size:,} txs from SQLite ({mix}; "
            "best of 3)", middle.size / middle.verify_seconds,
            f"bound: 1 Ed25519 verify per signature ({len(sigs):,}: proofs + block headers)",
            middle.size / bound_seconds, unit="txs/s"),
    ]
    for p in prefixes[1:]:
        runs = "best of 3" if p is middle else "1 run"
        rows.append(Row(f"growth: full verify per tx at {exp(p)} txs "
                        f"(total {p.verify_seconds:.2f} s, {runs})", per_tx(p),
                        f"same at {exp(small)} txs (total {small.verify_seconds:.3f} s)",
                        per_tx(small), unit="µs/tx"))
    rows.append(Row(f"growth: verify per tx of the last block ({len(top.last[1])} txs) at "
                    f"{exp(top)} txs, on the chain before it (best of {rounds})",
                    top.block_seconds / len(top.last[1]) * 1e6,
                    f"same for the last block at {exp(small)} txs",
                    small.block_seconds / len(small.last[1]) * 1e6, unit="µs/tx"))
    for i, p in enumerate(prefixes[1:], start=1):
        rows.append(Row(f"growth: resolve latency in-process at {exp(p)} txs", 1e6 / local[i],
                        f"same at {exp(small)} txs", 1e6 / local[0], unit="µs"))
    rows.append(Row(f"growth: resolutions over HTTP at {exp(top)} txs ({http_runs})",
                    http[-1][0], f"same at {exp(small)} txs", http[0][0], unit="res/s"))
    return rows
