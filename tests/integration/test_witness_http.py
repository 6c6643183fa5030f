"""The witness over real HTTP: the spec's answers, races, restarts, and split views.

SECURITY-TESTS 21 (evidence of smaller / forked checkpoints is kept), 22 (concurrent and stale
submissions never lower the stored size) and 23 (a log showing forks to different witnesses
reaches a 2-of-3 quorum on at most one of them; the other verifier fails closed).
"""

from __future__ import annotations

import asyncio
import io
import itertools
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from registry.tlog.checkpoint import (
    Checkpoint,
    CosignatureSigner,
    WitnessQuorumError,
    verify_checkpoint,
)
from registry.tlog.merkle import consistency_proof, leaf_hash, root
from registry.tlog.note import NoteSigner, sign_note
from registry.witness.client import submit_checkpoint
from registry.witness.decide import (
    Accepted,
    Evidence,
    LogState,
    Witness,
    WitnessConfig,
    WitnessConflict,
    WitnessKeyError,
    WitnessUnavailable,
    format_add_checkpoint,
    origin_hash,
)
from registry.witness.http import LOCK, TLOG_SIZE_TYPE, create_witness_app
from registry.witness.store import (
    WitnessStore,
    WitnessStoreError,
    format_witness_key,
    load_or_create_witness_key,
    load_witness_key,
)
from ssiwallet.core.keys import Ed25519PrivateKey

Client = TestClient[web.Request, web.Application]


def key(n: int) -> Ed25519PrivateKey:
    return Ed25519PrivateKey(bytes([n]) * 32)


ORIGIN = "keten.example/chain-1"
LOG = NoteSigner(ORIGIN, key(1))
ROGUE = NoteSigner(ORIGIN, key(2))
WITNESSES = [CosignatureSigner(f"witness.example/w{i}", key(10 + i)) for i in (1, 2, 3)]
LEAVES = [leaf_hash(b"tx %d" % i) for i in range(64)]
FORK = LEAVES[:7] + [leaf_hash(b"forked %d" % i) for i in range(57)]  # agrees up to size 7
NOW = 1_700_000_000


def note(size: int, leaves: list[bytes] = LEAVES, signer: NoteSigner = LOG) -> str:
    return sign_note(Checkpoint(ORIGIN, size, root(leaves[:size])).body(), [signer])


def body(size: int, leaves: list[bytes] = LEAVES) -> str:
    return Checkpoint(ORIGIN, size, root(leaves[:size])).body()


def request(old: int, size: int, leaves: list[bytes] = LEAVES, proof: list[bytes] | None = None,
            signer: NoteSigner = LOG) -> bytes:
    if proof is None:
        proof = consistency_proof(leaves, old, size) if 0 < old <= size else []
    return format_add_checkpoint(old, proof, note(size, leaves, signer))


def config_for(tmp_path: Path, n: int = 0) -> WitnessConfig:
    return WitnessConfig(WITNESSES[n], {ORIGIN: [LOG.verifier.vkey()]}, tmp_path / f"w{n}.db")


def counter_clock() -> Callable[[], int]:
    """Each cosignature gets the next second, so timestamps give the order of acceptance."""
    return itertools.count(NOW).__next__


async def start(aiohttp_client: AiohttpClient, config: WitnessConfig,
                clock: Callable[[], int] | None = None) -> Client:
    return await aiohttp_client(create_witness_app(config, clock=clock or counter_clock()))


async def post(client: Client, data: bytes) -> tuple[int, str, str]:
    async with client.post("/add-checkpoint", data=data) as resp:
        return resp.status, resp.headers.get("Content-Type", ""), await resp.text()


async def error_code(client: Client, data: bytes) -> tuple[int, str]:
    async with client.post("/add-checkpoint", data=io.BytesIO(data)) as resp:
        payload: dict[str, Any] = await resp.json()
        return resp.status, payload["error"]


async def stored_size(client: Client) -> int | None:
    async with client.get(f"/{origin_hash(ORIGIN)}/checkpoint") as resp:
        if resp.status == 404:
            return None
        return Checkpoint.parse((await resp.text()).split("\n\n")[0] + "\n").size


# --- add-checkpoint through HTTP -------------------------------------------------------------


@pytest.mark.asyncio
async def test_first_checkpoint_then_growth_are_cosigned(
    aiohttp_client: AiohttpClient, tmp_path: Path
) -> None:
    client = await start(aiohttp_client, config_for(tmp_path))
    status, ctype, text = await post(client, request(0, 5))
    assert (status, ctype) == (200, "text/plain; charset=utf-8")
    assert WITNESSES[0].verifier.verify_line(body(5), text) == NOW
    status, _, text = await post(client, request(5, 13))
    assert status == 200 and WITNESSES[0].verifier.verify_line(body(13), text) == NOW + 1
    async with client.get(f"/{origin_hash(ORIGIN)}/checkpoint") as resp:
        assert resp.status == 200
        cosigned = await resp.text()
    checkpoint, _ = verify_checkpoint(cosigned, LOG.verifier, [WITNESSES[0].verifier], 1)
    assert checkpoint.size == 13


@pytest.mark.asyncio
async def test_stale_old_gets_409_with_the_stored_size_as_tlog_size(
    aiohttp_client: AiohttpClient, tmp_path: Path
) -> None:
    client = await start(aiohttp_client, config_for(tmp_path))
    assert (await post(client, request(0, 5)))[0] == 200
    for old in (0, 3):
        assert await post(client, request(old, 9)) == (409, TLOG_SIZE_TYPE, "5\n")


@pytest.mark.asyncio
async def test_refusals_use_the_spec_statuses_and_json_codes(
    aiohttp_client: AiohttpClient, tmp_path: Path
) -> None:
    client = await start(aiohttp_client, config_for(tmp_path))
    assert (await post(client, request(0, 5)))[0] == 200
    bad_proof = consistency_proof(LEAVES, 5, 12)
    bad_proof[-1] = bytes(32)
    other = NoteSigner("other.example/log", key(4))
    unknown = format_add_checkpoint(0, [], sign_note(
        Checkpoint("other.example/log", 1, root(LEAVES[:1])).body(), [other]))
    cases = [
        (request(5, 12, proof=bad_proof), 422, "registry.witness_bad_proof"),
        (request(5, 12, signer=ROGUE), 403, "registry.witness_forbidden"),
        (unknown, 404, "registry.witness_unknown_log"),
        (b"old 5\nnot a proof\n\n" + note(12).encode(), 400, "registry.witness_bad_request"),
        (request(13, 12, proof=[]), 400, "registry.witness_bad_request"),
        (b"old 0\n\n" + b"x" * (1 << 20), 413, "http.body_too_large"),
    ]
    for data, status, code in cases:
        assert await error_code(client, data) == (status, code)
    assert await stored_size(client) == 5


@pytest.mark.asyncio
async def test_forks_and_rollbacks_are_refused_and_kept_as_evidence(
    aiohttp_client: AiohttpClient, tmp_path: Path
) -> None:
    client = await start(aiohttp_client, config_for(tmp_path))
    assert (await post(client, request(0, 12)))[0] == 200
    assert await error_code(client, request(12, 12, FORK)) == (422, "registry.witness_fork")
    assert (await post(client, request(0, 12, FORK)))[:2] == (409, TLOG_SIZE_TYPE)  # same note
    assert (await post(client, request(3, 5)))[:2] == (409, TLOG_SIZE_TYPE)
    assert await error_code(client, request(12, 20, FORK, consistency_proof(FORK, 12, 20))) == (
        422, "registry.witness_bad_proof")
    assert await stored_size(client) == 12
    async with client.get("/evidence") as resp:
        evidence = await resp.json()
    assert [e["kind"] for e in evidence] == ["bad_proof", "rollback", "fork"]
    assert all(e["stored_note"].startswith(body(12)) for e in evidence)
    assert [e["submitted_note"] for e in evidence] == [note(20, FORK), note(5), note(12, FORK)]
    async with client.get("/evidence?limit=x") as resp:
        assert resp.status == 400


@pytest.mark.asyncio
async def test_health_and_unknown_monitoring_paths(
    aiohttp_client: AiohttpClient, tmp_path: Path
) -> None:
    client = await start(aiohttp_client, config_for(tmp_path))
    async with client.get("/health") as resp:
        assert await resp.json() == {"status": "ok", "witness": WITNESSES[0].name,
                                     "vkey": WITNESSES[0].verifier.vkey(), "logs": [ORIGIN]}
    for path in (f"/{origin_hash(ORIGIN)}/checkpoint", f"/{origin_hash('x')}/checkpoint"):
        async with client.get(path) as resp:
            assert resp.status == 404 and (await resp.json())["error"] == "http.not_found"


# --- SECURITY 22: races and restarts ---------------------------------------------------------


@pytest.mark.asyncio
async def test_concurrent_n_and_n_plus_k_exactly_one_wins(
    aiohttp_client: AiohttpClient, tmp_path: Path
) -> None:
    client = await start(aiohttp_client, config_for(tmp_path))
    assert (await post(client, request(0, 5)))[0] == 200
    small, big = await asyncio.gather(post(client, request(5, 9)), post(client, request(5, 30)))
    statuses = sorted([small[0], big[0]])
    assert statuses == [200, 409]
    winner = 9 if small[0] == 200 else 30
    loser = big if winner == 9 else small
    assert loser[1:] == (TLOG_SIZE_TYPE, f"{winner}\n")
    assert await stored_size(client) == winner
    retry = await post(client, request(winner, 30))  # the log retries from the size it was told
    assert retry[0] == (200 if winner == 9 else 400)
    assert await stored_size(client) == 30


@pytest.mark.asyncio
async def test_many_concurrent_submitters_never_lower_the_stored_size(
    aiohttp_client: AiohttpClient, tmp_path: Path
) -> None:
    client = await start(aiohttp_client, config_for(tmp_path))
    accepted: list[tuple[int, int]] = []  # (cosignature time, size)

    async def honest_log(size: int) -> None:
        old = 0
        for _ in range(40):
            status, _, text = await post(client, request(old, size))
            if status == 200:
                accepted.append((WITNESSES[0].verifier.verify_line(body(size), text), size))
                return
            assert status in (400, 409)
            if status == 400 or int(text) > size:
                return  # the witness is already past this checkpoint
            old = int(text)
        raise AssertionError("no progress")

    sizes = [3, 17, 9, 64, 1, 33, 8, 40, 2, 63]
    await asyncio.gather(*(honest_log(s) for s in sizes))
    in_order = [size for _, size in sorted(accepted)]
    assert in_order == sorted(in_order) and in_order[-1] == 64
    assert await stored_size(client) == 64


class NoLock(asyncio.Lock):
    """Lets requests through together once armed, to show the store's compare-and-swap holds."""

    barrier: asyncio.Barrier | None = None

    async def __aenter__(self) -> None:
        if self.barrier is not None:
            await self.barrier.wait()

    async def __aexit__(self, *exc: object) -> None:
        return None


@pytest.mark.asyncio
async def test_without_the_lock_the_stored_size_still_never_rolls_back(
    aiohttp_client: AiohttpClient, tmp_path: Path
) -> None:
    app = create_witness_app(config_for(tmp_path), clock=counter_clock())
    app[LOCK] = no_lock = NoLock()
    client = await aiohttp_client(app)
    assert (await post(client, request(0, 5)))[0] == 200
    sizes = [9, 30, 6, 64, 12, 40, 7, 33]
    no_lock.barrier = asyncio.Barrier(len(sizes))
    results = await asyncio.gather(*(post(client, request(5, s)) for s in sizes))
    winners = [size for size, (status, _, _) in zip(sizes, results, strict=True) if status == 200]
    assert len(winners) == 1  # all asked to move from size 5; only one move can apply
    assert all(r[:2] == (409, TLOG_SIZE_TYPE) for r in results if r[0] != 200)
    assert await stored_size(client) == winners[0]


@pytest.mark.asyncio
async def test_a_writer_between_read_and_write_makes_the_swap_fail_with_409(
    aiohttp_client: AiohttpClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = config_for(tmp_path)
    client = await start(aiohttp_client, config)
    assert (await post(client, request(0, 5)))[0] == 200
    real_decide = Witness.decide

    def decide_then_other_process_writes(self: Witness, *args: Any, **kwargs: Any) -> Accepted:
        accepted = real_decide(self, *args, **kwargs)
        with WitnessStore(config.db_path) as other:  # another process on the same file
            before = other.get(ORIGIN)
            assert other.compare_and_swap(ORIGIN, before, LogState(9, root(LEAVES[:9]), "n"), 1)
        return accepted

    monkeypatch.setattr(Witness, "decide", decide_then_other_process_writes)
    assert await post(client, request(5, 30)) == (409, TLOG_SIZE_TYPE, "9\n")
    with WitnessStore(config.db_path) as store:
        state = store.get(ORIGIN)
        assert state is not None and state.size == 9


@pytest.mark.asyncio
async def test_state_and_evidence_survive_a_restart(
    aiohttp_client: AiohttpClient, tmp_path: Path
) -> None:
    config = config_for(tmp_path)
    first = await start(aiohttp_client, config)
    assert (await post(first, request(0, 12)))[0] == 200
    assert (await post(first, request(12, 12, FORK)))[0] == 422
    await first.close()
    second = await start(aiohttp_client, config)
    assert await post(second, request(0, 20)) == (409, TLOG_SIZE_TYPE, "12\n")
    assert (await post(second, request(12, 20)))[0] == 200
    async with second.get("/evidence") as resp:
        assert [e["kind"] for e in await resp.json()] == ["fork"]


# --- the client helper -----------------------------------------------------------------------


@pytest.mark.asyncio
async def test_submit_checkpoint_returns_lines_and_raises_conflict_with_size(
    aiohttp_client: AiohttpClient, tmp_path: Path
) -> None:
    client = await start(aiohttp_client, config_for(tmp_path))
    url = str(client.make_url(""))
    session = client.session
    lines = await submit_checkpoint(session, url, 0, [], note(5),
                                    verifier=WITNESSES[0].verifier)
    assert WITNESSES[0].verifier.verify_line(body(5), lines) == NOW
    with pytest.raises(WitnessConflict) as exc:
        await submit_checkpoint(session, url, 0, [], note(9))
    assert exc.value.size == 5
    proof = consistency_proof(LEAVES, 5, 9)
    assert (await submit_checkpoint(session, url, 5, proof, note(9))).startswith("\u2014 ")
    with pytest.raises(WitnessUnavailable) as failed:
        await submit_checkpoint(session, url, 9, [bytes(32)], note(12))
    assert failed.value.http_status == 422
    with pytest.raises(WitnessUnavailable, match="no cosignature by"):
        await submit_checkpoint(session, url, 9, consistency_proof(LEAVES, 9, 12), note(12),
                                verifier=WITNESSES[1].verifier)


@pytest.mark.asyncio
async def test_submit_checkpoint_bounds_time_size_and_shape(
    aiohttp_client: AiohttpClient, unused_tcp_port: int
) -> None:
    release = asyncio.Event()

    async def slow(_: web.Request) -> web.Response:
        await release.wait()
        return web.Response(text="late")

    async def huge(_: web.Request) -> web.Response:
        return web.Response(text="\u2014 x AAAA\n" * 20000)

    async def chunked(_: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        resp.enable_chunked_encoding()
        await resp.prepare(_)
        for _i in range(100):
            await resp.write(b"x" * 1024)
        return resp

    async def bare_409(_: web.Request) -> web.Response:
        return web.Response(text="5\n", status=409)

    async def garbage(_: web.Request) -> web.Response:
        return web.Response(text="not a signature line\n")

    app = web.Application()
    for path, handler in [("/slow", slow), ("/huge", huge), ("/chunked", chunked),
                          ("/bare", bare_409), ("/garbage", garbage)]:
        app.router.add_post(path + "/add-checkpoint", handler)
    client = await aiohttp_client(app)
    try:
        for path, match in [("/slow", "no answer within"), ("/huge", "too large"),
                            ("/chunked", "too large"), ("/bare", "409 without"),
                            ("/garbage", "unusable")]:
            with pytest.raises(WitnessUnavailable, match=match):
                await submit_checkpoint(client.session, str(client.make_url(path)), 0, [],
                                        note(1), timeout=0.2)
    finally:
        release.set()
    async with aiohttp.ClientSession() as session:
        with pytest.raises(WitnessUnavailable, match="cannot connect"):
            await submit_checkpoint(session, f"http://127.0.0.1:{unused_tcp_port}", 0, [],
                                    note(1))


# --- SECURITY 23: split views under a 2-of-3 quorum ------------------------------------------


async def malicious_submit(session: aiohttp.ClientSession, url: str, leaves: list[bytes],
                           size: int, old: int) -> str | None:
    """A log pushing one fork as hard as it can: it retries from whatever size it is told."""
    for _ in range(3):
        proof = consistency_proof(leaves, old, size) if 0 < old <= size else []
        try:
            return await submit_checkpoint(session, url, old, proof, note(size, leaves))
        except WitnessConflict as exc:
            old = exc.size
        except WitnessUnavailable:
            return None
    return None


@pytest.mark.asyncio
@pytest.mark.parametrize("fork_b_size", [12, 20], ids=["same_size", "other_size"])
@pytest.mark.parametrize("order", ["a_first", "b_first", "concurrent"])
async def test_split_view_reaches_quorum_on_at_most_one_fork(
    aiohttp_client: AiohttpClient, tmp_path: Path, fork_b_size: int, order: str
) -> None:
    clients = [await start(aiohttp_client, config_for(tmp_path, n)) for n in range(3)]
    urls = [str(c.make_url("")) for c in clients]
    session = clients[0].session
    for url in urls:  # an honest past: every witness cosigned the common prefix
        await submit_checkpoint(session, url, 0, [], note(7))
    fork_a, fork_b = (LEAVES, 12), (FORK, fork_b_size)

    async def push(fork: tuple[list[bytes], int], n: int) -> str | None:
        return await malicious_submit(session, urls[n], fork[0], fork[1], 7)

    lines_a, lines_b = [await push(fork_a, 0)], [await push(fork_b, 2)]
    if order == "concurrent":
        a2, b2 = await asyncio.gather(push(fork_a, 1), push(fork_b, 1))
    elif order == "a_first":
        a2, b2 = await push(fork_a, 1), await push(fork_b, 1)
    else:
        b2, a2 = await push(fork_b, 1), await push(fork_a, 1)
    lines_a.append(a2)
    lines_b.append(b2)
    assert (a2 is None) != (b2 is None)  # witness 2 cosigned exactly one fork

    verifiers = [w.verifier for w in WITNESSES]
    outcomes = []
    for (leaves, size), lines in ((fork_a, lines_a), (fork_b, lines_b)):
        cosigned = note(size, leaves) + "".join(line for line in lines if line)
        try:
            verify_checkpoint(cosigned, LOG.verifier, verifiers, quorum=2, now=NOW, max_age=600)
            outcomes.append(True)
        except WitnessQuorumError:
            outcomes.append(False)  # this verifier fails closed
    assert outcomes == [a2 is not None, b2 is not None] and sum(outcomes) == 1
    async with clients[1].get("/evidence") as resp:
        assert len(await resp.json()) >= 1  # witness 2 kept the other fork's signed note


# --- the store and the key file --------------------------------------------------------------


def test_store_compare_and_swap_and_monotonic_trigger(tmp_path: Path) -> None:
    path = tmp_path / "w.db"
    s5 = LogState(5, root(LEAVES[:5]), "n5")
    s9 = LogState(9, root(LEAVES[:9]), "n9")
    with WitnessStore(path) as store:
        assert store.get(ORIGIN) is None
        assert store.compare_and_swap(ORIGIN, None, s5, NOW)
        assert not store.compare_and_swap(ORIGIN, None, s9, NOW)  # someone is already there
        assert store.compare_and_swap(ORIGIN, s5, s9, NOW)
        assert not store.compare_and_swap(ORIGIN, s5, LogState(12, root(LEAVES[:12]), "x"), NOW)
        with pytest.raises(ValueError):
            store.compare_and_swap(ORIGIN, s9, s5, NOW)
        assert store.get(ORIGIN) == s9
    raw = sqlite3.connect(path)
    try:
        with pytest.raises(sqlite3.IntegrityError, match="shrink or fork"):
            raw.execute("UPDATE log_state SET size = 4")
        with pytest.raises(sqlite3.IntegrityError, match="shrink or fork"):
            raw.execute("UPDATE log_state SET root_hash = zeroblob(32)")
    finally:
        raw.close()
    with WitnessStore(path) as store:
        assert store.get(ORIGIN) == s9
    store.close()
    with pytest.raises(WitnessStoreError):
        store.get(ORIGIN)


def test_store_evidence_is_deduplicated_and_capped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("registry.witness.store.MAX_EVIDENCE_PER_ORIGIN", 2)
    with WitnessStore(tmp_path / "w.db") as store:
        rollback = [Evidence(ORIGIN, "rollback", "stored", f"old {i}", "d") for i in range(3)]
        assert store.add_evidence(rollback[0], NOW)
        assert not store.add_evidence(rollback[0], NOW + 1)
        assert store.add_evidence(rollback[1], NOW)
        assert not store.add_evidence(rollback[2], NOW)  # capped
        assert store.add_evidence(Evidence(ORIGIN, "fork", "s", "f", "d"), NOW)  # never capped
        assert [e.evidence.kind for e in store.evidence()] == ["fork", "rollback", "rollback"]
        assert len(store.evidence(limit=1)) == 1


def test_store_refuses_a_foreign_database(tmp_path: Path) -> None:
    raw = sqlite3.connect(tmp_path / "other.db")
    raw.execute("CREATE TABLE t (x)")
    raw.commit()
    raw.close()
    with pytest.raises(WitnessStoreError, match="not a witness database"):
        WitnessStore(tmp_path / "other.db")


def test_witness_key_is_created_once_private_and_reloaded(tmp_path: Path) -> None:
    path = tmp_path / "witness.key"
    signer = load_or_create_witness_key(path, "witness.example/w9")
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert path.read_text() == format_witness_key(signer)
    assert path.read_text().startswith(f"PRIVATE+KEY+witness.example/w9+{signer.key_id:08x}+")
    again = load_or_create_witness_key(path, "witness.example/w9")
    assert again.verifier.vkey() == signer.verifier.vkey()
    assert [p.name for p in tmp_path.iterdir()] == ["witness.key"]
    with pytest.raises(WitnessKeyError, match="not 'witness.example/other'"):
        load_or_create_witness_key(path, "witness.example/other")
    os.chmod(path, 0o644)
    with pytest.raises(WitnessKeyError, match="group or others"):
        load_witness_key(path, "witness.example/w9")


@pytest.mark.parametrize(
    "content",
    [
        "",
        "PRIVATE+KEY+witness.example/w9+00000000+AAAA\n",
        "garbage\n",
        "PRIVATE+KEY+witness.example/w9\n",
    ],
)
def test_corrupt_witness_key_is_refused(tmp_path: Path, content: str) -> None:
    path = tmp_path / "witness.key"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, content.encode())
    os.close(fd)
    with pytest.raises(WitnessKeyError):
        load_or_create_witness_key(path, "witness.example/w9")


def test_witness_key_with_a_wrong_key_id_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "witness.key"
    line = format_witness_key(WITNESSES[0])
    name, rest = WITNESSES[0].name, line.split("+", 4)[4]
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, f"PRIVATE+KEY+{name}+00000000+{rest}".encode())
    os.close(fd)
    with pytest.raises(WitnessKeyError, match="key ID"):
        load_witness_key(path, name)
