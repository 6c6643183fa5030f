"""The witness as an aiohttp service (C2SP ``tlog-witness``), and the client the node uses.

Routes:

* ``POST /add-checkpoint`` — the spec's call: ``text/plain`` cosignature lines on success,
  ``409`` with ``text/x.tlog.size`` (the stored size and a newline) when ``old`` is stale,
  the project's JSON errors otherwise (400, 403, 404, 422; 413 above ``MAX_BODY``).
* ``GET /{sha256(origin) hex}/checkpoint`` — the spec's monitoring call: the latest cosigned
  checkpoint, with the log signatures the witness verified and its cosignature.
* ``GET /evidence?limit=`` — refused checkpoints kept as evidence (JSON, newest first).
* ``GET /health`` — the witness name, vkey and the origins it follows.

Reading the stored state, deciding and writing the new state happen under one
``asyncio.Lock``, and the write is a compare-and-swap in the store, so two concurrent
requests (the spec's N / N+K race) can never roll the stored size back.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator, Callable, Sequence

import aiohttp
from aiohttp import web

from registry.tlog.checkpoint import Checkpoint, CosignatureVerifier
from registry.tlog.note import parse_note
from registry.witness.decide import (
    Accepted,
    AddCheckpointRequest,
    SignedCheckpoint,
    Witness,
    WitnessConfig,
    WitnessConflict,
    WitnessError,
    WitnessUnavailable,
    format_add_checkpoint,
    origin_hash,
    parse_add_checkpoint,
)
from registry.witness.store import WitnessStore, WitnessStoreError
from ssiwallet.errors import SsiError
from ssiwallet.infra.web import MAX_BODY, error_middleware, json_response

__all__ = [
    "CLOCK",
    "CONFIG",
    "LOCK",
    "STORE",
    "TLOG_SIZE_TYPE",
    "WITNESS",
    "create_witness_app",
    "submit_checkpoint",
]

log = logging.getLogger(__name__)

TLOG_SIZE_TYPE = "text/x.tlog.size"
MAX_RESPONSE = 64 * 1024
"""Largest witness answer the client reads: a few signature lines, never more."""
MAX_EVIDENCE_LIMIT = 1000

CONFIG = web.AppKey("witness_config", WitnessConfig)
WITNESS = web.AppKey("witness", Witness)
STORE = web.AppKey("witness_store", WitnessStore)
LOCK = web.AppKey("witness_lock", asyncio.Lock)
CLOCK: web.AppKey[Callable[[], int]] = web.AppKey("witness_clock")
ORIGINS = web.AppKey("witness_origins", dict[str, str])

_SIZE_BODY = re.compile(rb"(0|[1-9][0-9]{0,19})\n")


def _wall_clock() -> int:
    return int(time.time())


def create_witness_app(
    config: WitnessConfig, *, clock: Callable[[], int] = _wall_clock
) -> web.Application:
    """Build the witness service; the database is opened on start-up and closed on cleanup.

    Args:
        config: the witness key, the logs it follows and its database path.
        clock: POSIX seconds for cosignature timestamps (a parameter so tests can order them).
    """
    app = web.Application(middlewares=[error_middleware], client_max_size=MAX_BODY)
    app[CONFIG] = config
    app[WITNESS] = config.witness()
    app[LOCK] = asyncio.Lock()
    app[CLOCK] = clock
    app[ORIGINS] = {origin_hash(origin): origin for origin in config.logs}
    app.cleanup_ctx.append(_store_ctx)
    app.router.add_post("/add-checkpoint", _add_checkpoint)
    app.router.add_get("/health", _health)
    app.router.add_get("/evidence", _evidence)
    app.router.add_get("/{origin_hash:[0-9a-f]{64}}/checkpoint", _checkpoint)
    return app


async def _store_ctx(app: web.Application) -> AsyncIterator[None]:
    store = await asyncio.to_thread(WitnessStore, app[CONFIG].db_path)
    app[STORE] = store
    try:
        yield
    finally:
        await asyncio.to_thread(store.close)


async def _add_checkpoint(request: web.Request) -> web.Response:
    app = request.app
    parsed = parse_add_checkpoint(await request.read())
    signed = app[WITNESS].open_checkpoint(parsed)
    try:
        async with app[LOCK]:
            accepted = await _decide_and_store(app, parsed, signed)
    except WitnessConflict as exc:
        return web.Response(body=f"{exc.size}\n".encode(), status=409, content_type=TLOG_SIZE_TYPE)
    return web.Response(text=accepted.cosignatures, content_type="text/plain")


async def _decide_and_store(
    app: web.Application, parsed: AddCheckpointRequest, signed: SignedCheckpoint
) -> Accepted:
    """Read, decide, compare-and-swap: called under the lock, so no request interleaves."""
    store, origin = app[STORE], signed.origin
    stored = await asyncio.to_thread(store.get, origin)
    now = app[CLOCK]()
    try:
        accepted = app[WITNESS].decide(parsed, signed, stored, now)
    except WitnessError as exc:
        if exc.evidence is not None:
            try:
                await asyncio.to_thread(store.add_evidence, exc.evidence, now)
            except WitnessStoreError:
                log.exception("could not keep %s evidence for %s", exc.evidence.kind, origin)
        raise
    if not await asyncio.to_thread(store.compare_and_swap, origin, stored, accepted.state, now):
        # Another process on the same database moved first; the cosignature is discarded.
        current = await asyncio.to_thread(store.get, origin)
        raise WitnessConflict(0 if current is None else current.size)
    return accepted


async def _checkpoint(request: web.Request) -> web.Response:
    origin = request.app[ORIGINS].get(request.match_info["origin_hash"])
    state = None if origin is None else await asyncio.to_thread(request.app[STORE].get, origin)
    if state is None:
        raise web.HTTPNotFound(reason="no checkpoint cosigned for this log")
    return web.Response(text=state.note, content_type="text/plain")


async def _evidence(request: web.Request) -> web.Response:
    raw = request.query.get("limit", "100")
    if not re.fullmatch(r"[0-9]{1,4}", raw) or int(raw) > MAX_EVIDENCE_LIMIT:
        raise web.HTTPBadRequest(reason=f"limit must be an integer in [0, {MAX_EVIDENCE_LIMIT}]")
    rows = await asyncio.to_thread(request.app[STORE].evidence, int(raw))
    return json_response([
        {
            "id": row.id,
            "origin": row.evidence.origin,
            "kind": row.evidence.kind,
            "detail": row.evidence.detail,
            "received_at": row.received_at,
            "stored_note": row.evidence.stored_note,
            "submitted_note": row.evidence.submitted_note,
        }
        for row in rows
    ])


async def _health(request: web.Request) -> web.Response:
    config = request.app[CONFIG]
    return json_response({
        "status": "ok",
        "witness": config.key.name,
        "vkey": config.key.verifier.vkey(),
        "logs": sorted(config.logs),
    })


# --- the client the registry node uses ------------------------------------------------------


async def submit_checkpoint(
    session: aiohttp.ClientSession,
    witness_url: str,
    old_size: int,
    proof: Sequence[bytes],
    checkpoint_note: str,
    *,
    verifier: CosignatureVerifier | None = None,
    timeout: float = 10.0,
) -> str:
    """Ask a witness to cosign ``checkpoint_note``; return its cosignature line(s).

    Args:
        session: the caller's session (keep-alive across blocks, as the spec recommends).
        witness_url: the witness's submission prefix (``/add-checkpoint`` is appended).
        old_size: the size the caller believes the witness holds (0 the first time).
        proof: consistency proof from ``old_size`` to the checkpoint's size.
        checkpoint_note: the log-signed checkpoint note.
        verifier: the witness's key; when given, only its lines are returned and each must
            verify (a client must ignore unknown cosigners, and refuse a bad known one).
        timeout: seconds for the whole exchange.

    Raises:
        WitnessConflict: the witness holds another size (``.size``): fetch a proof from it
            and retry.
        WitnessUnavailable: timeout, connection failure, another error status (in
            ``.http_status``), an oversized or malformed answer, or a bad cosignature.
    """
    body = format_add_checkpoint(old_size, proof, checkpoint_note)
    url = witness_url.rstrip("/") + "/add-checkpoint"
    try:
        async with session.post(
            url, data=body, headers={"Content-Type": "text/plain; charset=utf-8"},
            timeout=aiohttp.ClientTimeout(total=timeout), allow_redirects=False,
        ) as resp:
            answer = await _read_bounded(resp)
            status, content_type = resp.status, resp.content_type
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise WitnessUnavailable(f"witness {url}: {type(exc).__name__}: {exc}") from None
    if status == 409:
        match = _SIZE_BODY.fullmatch(answer)
        if content_type != TLOG_SIZE_TYPE or match is None:
            raise WitnessUnavailable(f"witness {url}: 409 without a tree size", http_status=409)
        raise WitnessConflict(int(match.group(1)))
    if status != 200:
        reason = answer[:200].decode("utf-8", "replace")
        raise WitnessUnavailable(f"witness {url}: HTTP {status}: {reason}", http_status=status)
    return _cosignature_lines(url, answer, checkpoint_note, verifier)


async def _read_bounded(resp: aiohttp.ClientResponse) -> bytes:
    if resp.content_length is not None and resp.content_length > MAX_RESPONSE:
        raise WitnessUnavailable(f"witness answer of {resp.content_length} bytes is too large")
    data = bytearray()
    async for chunk in resp.content.iter_chunked(8192):
        data += chunk
        if len(data) > MAX_RESPONSE:
            raise WitnessUnavailable(f"witness answer exceeds {MAX_RESPONSE} bytes")
    return bytes(data)


def _cosignature_lines(
    url: str, answer: bytes, checkpoint_note: str, verifier: CosignatureVerifier | None
) -> str:
    """Check a 200 answer is signature lines (and, given the key, a valid cosignature)."""
    try:
        text = answer.decode("utf-8")
        body, _ = parse_note(checkpoint_note)
        _, signatures = parse_note(body + "\n" + text)
        checkpoint = Checkpoint.parse(body)
        if verifier is None:
            return text
        lines = [s.line() for s in signatures if (s.name, s.key_id) == (
            verifier.name, verifier.key_id)]
        for line in lines:
            verifier.verify_line(checkpoint, line)
    except (UnicodeDecodeError, SsiError) as exc:
        raise WitnessUnavailable(f"witness {url}: unusable cosignature: {exc}") from None
    if not lines:
        raise WitnessUnavailable(f"witness {url}: no cosignature by {verifier.name!r}")
    return "".join(lines)
