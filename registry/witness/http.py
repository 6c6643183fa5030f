"""The witness as an aiohttp service (C2SP ``tlog-witness``); the client is in ``client.py``.

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
from collections.abc import AsyncIterator

from aiohttp import web

from registry.witness.client import TLOG_SIZE_TYPE
from registry.witness.decide import (
    Accepted,
    AddCheckpointRequest,
    SignedCheckpoint,
    Witness,
    WitnessBadProof,
    WitnessBadRequest,
    WitnessConfig,
    WitnessConflict,
    WitnessError,
    WitnessForbidden,
    WitnessUnavailable,
    WitnessUnknownLog,
    origin_hash,
    parse_add_checkpoint,
)
from registry.witness.store import WitnessStore, WitnessStoreError
from ssiwallet.infra.clock import Clock, system_clock
from ssiwallet.infra.web import MAX_BODY, StatusTable, error_middleware, json_response

__all__ = [
    "CLOCK",
    "CONFIG",
    "LOCK",
    "STORE",
    "TLOG_SIZE_TYPE",
    "WITNESS",
    "create_witness_app",
]

log = logging.getLogger(__name__)

STATUSES: StatusTable = {
    WitnessError: 500, WitnessBadRequest: 400, WitnessUnknownLog: 404, WitnessForbidden: 403,
    WitnessConflict: 409, WitnessBadProof: 422, WitnessUnavailable: 502, WitnessStoreError: 503,
}
"""The witness's HTTP status for each error class (anything else is 400)."""

MAX_EVIDENCE_LIMIT = 1000

CONFIG = web.AppKey("witness_config", WitnessConfig)
WITNESS = web.AppKey("witness", Witness)
STORE = web.AppKey("witness_store", WitnessStore)
LOCK = web.AppKey("witness_lock", asyncio.Lock)
CLOCK: web.AppKey[Clock] = web.AppKey("witness_clock")
ORIGINS = web.AppKey("witness_origins", dict[str, str])


def create_witness_app(
    config: WitnessConfig, *, clock: Clock = system_clock
) -> web.Application:
    """Build the witness service; the database is opened on start-up and closed on cleanup.

    Args:
        config: the witness key, the logs it follows and its database path.
        clock: POSIX seconds for cosignature timestamps (a parameter so tests can order them).
    """
    app = web.Application(middlewares=[error_middleware(STATUSES)], client_max_size=MAX_BODY)
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

