"""The registry node's HTTP API (aiohttp): a thin adapter over :class:`registry.node.node.Node`.

Every route parses its input, asks the node or the pure resolvers, and maps errors through
:func:`ssiwallet.infra.web.error_middleware` to ``{"error": code, "detail": ...}``.
"""

from __future__ import annotations

import asyncio
import base64
import re
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from registry.errors import ProofError, RegistryError
from registry.ledger.block import BlockError
from registry.ledger.didketen import DidUrlError, KetenDid, multikey
from registry.ledger.fields import TxMalformedError
from registry.ledger.resolve import DidNotFoundError
from registry.ledger.resolve import answer as resolution_answer
from registry.ledger.rules import TxConflictError, TxForbiddenError, TxRejectedError
from registry.ledger.tx import MAX_TX_BYTES, parse_tx
from registry.node.node import Node, NodeHaltedError, NotSequencerError
from registry.node.storage import StorageError
from registry.node.sync import ForkError, UpstreamError
from ssiwallet.core import strictjson
from ssiwallet.core.statuslist import StatusList, create_status_list_token
from ssiwallet.core.values import StatusListId
from ssiwallet.errors import BadValueError
from ssiwallet.infra.budget import Budget, Rate, budget_middleware
from ssiwallet.infra.web import (
    MAX_BODY,
    Handler,
    StatusTable,
    error_middleware,
    json_response,
)

__all__ = ["NODE", "STATUSES", "NodeSettings", "add_routes", "create_node_app", "node_application"]

MAX_PAGE = 100
INLINE_PARSE_BYTES = 8 * 1024
"""Transactions up to this size are parsed on the event loop (well under a millisecond);
larger ones (up to 64 KiB, a few milliseconds) in a worker thread."""
_DIGITS = re.compile(r"[0-9]{1,19}")


@dataclass(frozen=True)
class NodeSettings:
    """HTTP-level settings: status list token lifetime and caching hint."""

    status_ttl: int = 300
    status_lifetime: int = 3600
    public_url: str | None = None
    """The URL credentials name in ``status.status_list.uri`` (the signed ``sub``); without
    it the request's own scheme and host are used, which is right only without a proxy."""
    tx_rate: Rate = Rate(20, 40)
    """``POST /txs`` per peer address (per second, burst); beyond it 429 and Retry-After."""
    tx_rate_overall: Rate = Rate(200, 400)
    """``POST /txs`` from everybody together."""

    @classmethod
    def unlimited(cls, **kwargs: Any) -> NodeSettings:
        """No write budget: for load tests and benchmarks that measure the node itself."""
        return cls(tx_rate=UNLIMITED, tx_rate_overall=UNLIMITED, **kwargs)


UNLIMITED = Rate(1e9, 1e9)
"""A budget nobody reaches."""


NODE = web.AppKey("node", Node)
SETTINGS = web.AppKey("settings", NodeSettings)


class NotFoundError(RegistryError):
    code = "registry.not_found"


STATUSES: StatusTable = {
    ProofError: 422, BlockError: 422, TxRejectedError: 422, TxForbiddenError: 403,
    TxConflictError: 409, DidNotFoundError: 404, NotFoundError: 404,
    StorageError: 503, NodeHaltedError: 503, NotSequencerError: 503,
    ForkError: 502, UpstreamError: 502,
}
"""The node's HTTP status for each error class (anything else is 400: the request's fault)."""


def _int_param(request: web.Request, name: str, default: int | None = None,
               maximum: int = (1 << 63) - 1) -> int:
    raw = request.query.get(name)
    if raw is None:
        if default is None:
            raise RegistryError(f"query parameter {name!r} is required",
                                code="registry.bad_parameter")
        return default
    if not _DIGITS.fullmatch(raw) or int(raw) > maximum:
        raise RegistryError(f"{name} must be a non-negative integer up to {maximum}",
                            code="registry.bad_parameter")
    return int(raw)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


async def health(request: web.Request) -> web.Response:
    node = request.app[NODE]
    head = node.chain.head
    return json_response({"status": "halted" if node.halted else "ok",
                          "chain": head.chain, "height": head.height, "size": head.size,
                          "genesis": node.chain.genesis.hash, "sequencer": node.key is not None,
                          "halted": node.halted},
                         status=503 if node.halted else 200)


async def genesis(request: web.Request) -> web.Response:
    """Block 0 and the keys a client pins: verify its hash, then trust its sequencer key."""
    node = request.app[NODE]
    found = node.block(0)
    assert found is not None
    stored, txs = found
    state = node.chain.state
    return json_response({
        "hash": stored.hash, "header": strictjson.loads(stored.header),
        "txs": [strictjson.loads(t.data) for t in txs], "chain": state.chain,
        "sequencer": multikey(state.sequencer), "log_vkey": node.log_verifier.vkey(),
        "witnesses": [{"name": n, "vkey": v} for n, v in state.witnesses],
        "quorum": state.quorum})


async def post_tx(request: web.Request) -> web.Response:
    node = request.app[NODE]
    if node.key is None:
        raise NotSequencerError("this node is a mirror; submit to the sequencer")
    declared = request.content_length or 0
    if declared > MAX_BODY:
        raise web.HTTPRequestEntityTooLarge(max_size=MAX_BODY, actual_size=declared)
    if declared > MAX_TX_BYTES:  # refused before it is read
        raise TxMalformedError(f"transaction larger than {MAX_TX_BYTES} bytes")
    data = await request.read()
    # Only the cheap checks here; a schema's metaschema validation waits for the author's
    # signature and runs off the loop (Node.submit).
    if len(data) <= INLINE_PARSE_BYTES:
        tx = parse_tx(data, defer_costly=True)
    else:
        tx = await asyncio.to_thread(parse_tx, data, defer_costly=True)
    receipt = await node.submit(tx)
    body = {"id": receipt.id, "index": receipt.index, "height": receipt.height}
    return json_response(body, status=201)


async def get_tx(request: web.Request) -> web.Response:
    node = request.app[NODE]
    stored = node.tx(request.match_info["id"])
    if stored is None:
        raise NotFoundError("no such transaction")
    return json_response({"id": stored.id, "index": stored.index, "height": stored.height,
                          "tx": strictjson.loads(stored.data)})


async def get_blocks(request: web.Request) -> web.Response:
    node = request.app[NODE]
    start = _int_param(request, "from", 0)
    limit = _int_param(request, "limit", 20, MAX_PAGE)
    if limit == 0:
        raise RegistryError("limit must be at least 1", code="registry.bad_parameter")
    blocks: list[dict[str, Any]] = []
    for height in range(start, min(start + limit, node.chain.head.height + 1)):
        found = node.block(height)
        assert found is not None
        stored, txs = found
        blocks.append({"hash": stored.hash, "header": strictjson.loads(stored.header),
                       "txs": [strictjson.loads(t.data) for t in txs]})
    return json_response({"height": node.chain.head.height, "blocks": blocks})


async def get_checkpoint(request: web.Request) -> web.Response:
    note = request.app[NODE].checkpoint
    if not note:
        raise NotFoundError("this node has no checkpoint yet")
    return web.Response(text=note, content_type="text/plain", charset="utf-8")


async def inclusion(request: web.Request) -> web.Response:
    node = request.app[NODE]
    tx_id = request.query.get("tx", "")
    index = node.chain.tx_index.get(tx_id)
    if index is None:
        raise NotFoundError("no such transaction")
    size = _int_param(request, "size", node.chain.size)
    if size > node.chain.size:
        raise RegistryError(f"size {size} is beyond the tree ({node.chain.size})",
                            code="registry.proof_bad_size")
    proof = node.chain.tree.inclusion_proof(index, size)
    return json_response({"tx": tx_id, "index": index, "size": size,
                          "leaf_hash": _b64(node.chain.tree.leaf(index)),
                          "proof": [_b64(h) for h in proof]})


async def consistency(request: web.Request) -> web.Response:
    node = request.app[NODE]
    old, new = _int_param(request, "from"), _int_param(request, "to", node.chain.size)
    if new > node.chain.size or old > new:
        raise RegistryError(f"need from <= to <= {node.chain.size}",
                            code="registry.proof_bad_size")
    proof = node.chain.tree.consistency_proof(old, new)
    return json_response({"from": old, "to": new, "proof": [_b64(h) for h in proof]})


async def identifiers(request: web.Request) -> web.Response:
    """The DID Resolution HTTP(S) binding: ``Accept`` picks the representation; a DID URL
    with a ``#fragment`` (sent as ``%23``) is dereferenced (:func:`resolution_answer`)."""
    node = request.app[NODE]
    got = resolution_answer(node.chain.state, request.match_info["did"], request.query,
                            request.headers.get("Accept"), node.clock())
    return web.Response(body=got.body.encode("utf-8"), status=got.status,
                        headers={"Content-Type": got.media_type, "Vary": "Accept"})


async def accreditations(request: web.Request) -> web.Response:
    node = request.app[NODE]
    state = node.chain.state
    issuer = request.query.get("issuer")
    if issuer is None:
        raise RegistryError("query parameter 'issuer' is required",
                            code="registry.bad_parameter")
    KetenDid(issuer)
    vct = request.query.get("vct")
    at = _int_param(request, "at", node.clock())
    records = [a for a in state.accreditations_of(issuer) if vct is None or vct in a.vcts]
    body: dict[str, Any] = {"issuer": issuer, "at": at, "height": state.height,
                            "size": node.chain.size,
                            "accreditations": [a.to_json() for a in records]}
    if vct is not None:
        body["vct"] = vct
        body["accredited"] = state.accredited(issuer, vct, at) is not None
    return json_response(body)


async def verifiers(request: web.Request) -> web.Response:
    node = request.app[NODE]
    did = request.match_info["did"]
    KetenDid(did)
    registration = node.chain.state.verifiers.get(did)
    record = node.chain.state.dids.get(did)
    if registration is None or record is None:
        raise NotFoundError(f"{did} is not a registered verifier")
    at = _int_param(request, "at", node.clock())
    return json_response({**registration.to_json(), "name": record.name, "at": at,
                          "active": registration.active_at(at) and not record.deactivated_at(at),
                          "height": node.chain.state.height, "size": node.chain.size})


async def schemas(request: web.Request) -> web.Response:
    node = request.app[NODE]
    vct = request.match_info["vct"]
    versions = node.chain.state.schemas.get(vct, ())
    wanted = _int_param(request, "version", len(versions))
    if not versions or not 1 <= wanted <= len(versions):
        raise NotFoundError(f"no schema published for {vct}")
    return json_response({**versions[wanted - 1].to_json(), "versions": len(versions),
                          "size": node.chain.size})


async def status_list(request: web.Request) -> web.Response:
    """The list as a Token Status List JWT signed by the node as Status Issuer."""
    node, settings = request.app[NODE], request.app[SETTINGS]
    try:
        list_id = StatusListId(request.match_info["list_id"])
    except BadValueError:
        raise DidUrlError("not a status list id", code="registry.bad_parameter") from None
    record = node.chain.state.status_lists.get(list_id)
    if record is None:
        raise NotFoundError(f"no status list {list_id}")
    if node.key is None:
        raise NotSequencerError("status list tokens are signed by the sequencer")
    status = StatusList.new(record.size, record.bits)
    for index, value in record.values.items():
        status.set(index, value)
    now = node.clock()
    base = settings.public_url or f"{request.scheme}://{request.host}"
    sub = f"{base.rstrip('/')}/status/{list_id}"
    token = create_status_list_token(
        status, sub=sub, iat=now, exp=now + settings.status_lifetime, ttl=settings.status_ttl,
        key=node.key, kid=multikey(node.key.public_key),
        extra_claims={"keten_height": node.chain.state.height, "keten_size": node.chain.size,
                      "keten_list": record.id})
    return web.Response(text=token, content_type="application/statuslist+jwt",
                        headers={"Cache-Control": f"max-age={settings.status_ttl}"})


@web.middleware
async def halted_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A node that found its storage altered answers nothing but ``/health``."""
    node = request.app[NODE]
    if node.halted is not None and request.path != "/health":
        raise NodeHaltedError(f"node halted: {node.halted}")
    return await handler(request)


def add_routes(router: web.UrlDispatcher) -> None:
    """The node's API (see the module docstring)."""
    router.add_get("/health", health)
    router.add_get("/genesis", genesis)
    router.add_post("/txs", post_tx)
    router.add_get("/txs/{id}", get_tx)
    router.add_get("/blocks", get_blocks)
    router.add_get("/checkpoint", get_checkpoint)
    router.add_get("/proofs/inclusion", inclusion)
    router.add_get("/proofs/consistency", consistency)
    router.add_get("/1.0/identifiers/{did}", identifiers)
    router.add_get("/accreditations", accreditations)
    router.add_get("/verifiers/{did}", verifiers)
    router.add_get("/schemas/{vct:.+}", schemas)
    router.add_get("/status/{list_id}", status_list)


def node_application(settings: NodeSettings | None = None) -> web.Application:
    """The node's application without its node: whoever opens the node sets ``app[NODE]``."""
    settings = settings or NodeSettings()
    txs = Budget(settings.tx_rate, settings.tx_rate_overall)
    app = web.Application(middlewares=[budget_middleware({("POST", "/txs"): txs}),
                                       error_middleware(STATUSES), halted_middleware],
                          client_max_size=MAX_BODY)
    app[SETTINGS] = settings
    add_routes(app.router)
    return app


def create_node_app(node: Node, settings: NodeSettings | None = None) -> web.Application:
    """The application around a node the caller opened (tests, benchmarks; services use
    :func:`registry.node.app.create_app`, which opens and closes its own)."""
    app = node_application(settings)
    app[NODE] = node
    return app
