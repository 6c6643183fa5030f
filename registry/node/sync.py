"""The node's conversations with other nodes: asking witnesses to cosign, and mirroring.

* :func:`cosign_loop` (sequencer): after every block, and every ``interval`` seconds when
  idle, sends the newest checkpoint with a consistency proof to each witness and attaches
  the cosignatures that verify under the witness keys named in genesis.
* :func:`bootstrap_mirror` and :func:`follow` (mirror): fetch genesis (checked against a
  pinned hash), then blocks, re-validating every one with the same rules as the sequencer,
  and serve the sequencer's checkpoint only once the local tree has the same root.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from registry.errors import RegistryError
from registry.ledger.chain import Chain
from registry.ledger.tx import canonical
from registry.node.node import Node, store_block
from registry.node.storage import Storage
from registry.tlog.checkpoint import Checkpoint, CosignatureVerifier
from registry.tlog.note import open_note
from registry.witness.client import submit_checkpoint
from registry.witness.decide import WitnessConflict, WitnessError
from ssiwallet.core import strictjson
from ssiwallet.errors import SsiError
from ssiwallet.infra.http import Client, HttpError, as_http

__all__ = ["ForkError", "WitnessTarget", "bootstrap_mirror", "cosign_loop", "follow",
           "get_upstream"]

log = logging.getLogger(__name__)
MAX_RESPONSE = 8 << 20
"""Largest answer read from an upstream node (a page of blocks, a checkpoint)."""
UPSTREAM_TIMEOUT = 30.0
COSIGN_RETRY = 0.5
"""Seconds before a failed cosigning round is retried (doubling up to the idle interval)."""


class ForkError(RegistryError):
    """The upstream's signed tree head disagrees with the chain this mirror validated."""

    code = "registry.fork_detected"


class UpstreamError(RegistryError):
    code = "registry.upstream_error"


@dataclass(frozen=True)
class WitnessTarget:
    """A witness the sequencer submits to: its URL and the genesis key it must sign with."""

    url: str
    verifier: CosignatureVerifier


def witness_targets(node: Node, urls: dict[str, str]) -> list[WitnessTarget]:
    """Pair witness names (as in genesis) with URLs; refuse a name genesis does not list."""
    keys = {name: vkey for name, vkey in node.chain.state.witnesses}
    targets = []
    for name, url in urls.items():
        if name not in keys:
            raise RegistryError(f"witness {name!r} is not named in genesis",
                                code="registry.unknown_witness")
        targets.append(WitnessTarget(url, CosignatureVerifier.from_vkey(keys[name])))
    return targets


async def _cosign_one(node: Node, session: Client, target: WitnessTarget,
                      sizes: dict[str, int]) -> None:
    note, size = node.signed_checkpoint, node.chain.size
    for _attempt in range(2):
        old = min(sizes.get(target.url, 0), size)
        proof = node.chain.tree.consistency_proof(old, size)
        try:
            lines = await submit_checkpoint(session, target.url, old, proof, note,
                                            verifier=target.verifier)
        except WitnessConflict as exc:
            if exc.size > size:  # the witness saw a bigger tree than this node has
                log.error("witness %s holds size %d > ours %d", target.url, exc.size, size)
                return
            sizes[target.url] = exc.size
            continue
        sizes[target.url] = size
        for line in lines.splitlines(keepends=True):
            node.add_cosignature(note, line)
        return


async def cosign_loop(node: Node, targets: Sequence[WitnessTarget],
                      session: Client, *, interval: float = 30.0) -> None:
    """Collect witness cosignatures for every new checkpoint, and refresh them when idle.

    A block that lands while a round is in flight is sent at once when the round ends (its
    notification came while nobody waited), and a round in which a witness failed is
    retried after :data:`COSIGN_RETRY` seconds, doubling up to ``interval``: clients need
    the quorum on the newest checkpoint, so it must not wait an idle interval for it. A
    failure is logged and never ends the loop (a dead loop would leave every later
    checkpoint without cosignatures).
    """
    sizes: dict[str, int] = {}
    session = as_http(session)
    backoff = COSIGN_RETRY
    while True:
        sent = node.signed_checkpoint
        results = await asyncio.gather(
            *(_cosign_one(node, session, t, sizes) for t in targets), return_exceptions=True)
        failed = False
        for target, result in zip(targets, results, strict=True):
            if isinstance(result, BaseException):
                if not isinstance(result, Exception):
                    raise result
                failed = True
                if isinstance(result, WitnessError | SsiError):
                    log.warning("witness %s: %s", target.url, result)
                else:
                    log.error("witness %s: %s", target.url, result, exc_info=result)
        wait = min(backoff, interval) if failed else interval
        backoff = min(backoff * 2, interval) if failed else COSIGN_RETRY
        async with node.new_block:
            if node.signed_checkpoint == sent:  # else a block landed during the round
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(node.new_block.wait(), wait)



async def get_upstream(client: Client, url: str) -> bytes:
    """GET ``url`` from an upstream node: the whole body of a 200, else :class:`UpstreamError`."""
    try:
        resp = await as_http(client).get(url, max_bytes=MAX_RESPONSE, timeout=UPSTREAM_TIMEOUT)
    except HttpError as exc:
        raise UpstreamError(f"GET {url}: {exc.detail}") from None
    if resp.status != 200:
        raise UpstreamError(f"GET {url}: HTTP {resp.status}")
    return resp.body


def parse_blocks_page(payload: bytes) -> list[tuple[bytes, list[bytes]]]:
    obj = strictjson.loads_object(payload, what="blocks page", max_bytes=MAX_RESPONSE)
    blocks = obj.get("blocks")
    if not isinstance(blocks, list):
        raise UpstreamError("blocks page without a blocks list")
    out = []
    for block in blocks:
        if not isinstance(block, dict) or not isinstance(block.get("txs"), list) \
                or not isinstance(block.get("header"), dict):
            raise UpstreamError("malformed block in blocks page")
        out.append((canonical(block["header"]),
                    [canonical(t) if isinstance(t, dict) else b"" for t in block["txs"]]))
    return out


async def bootstrap_mirror(storage: Storage, upstream: str, genesis_hash: str,
                           session: Client) -> Node:
    """Start a mirror: the stored chain if any, else the upstream's genesis (pinned hash)."""
    if storage.height() is not None:
        node = Node.open(storage)
    else:
        first = await get_upstream(session, f"{upstream}/blocks?from=0&limit=1")
        ((header, txs),) = parse_blocks_page(first)
        chain = Chain.from_genesis(header, txs)
        if chain.head.hash != genesis_hash:
            raise ForkError(f"upstream genesis {chain.head.hash} is not the pinned {genesis_hash}")
        store_block(storage, chain.head, txs, "")
        node = Node(chain, storage)
    if node.chain.genesis.hash != genesis_hash:
        raise ForkError(f"stored genesis {node.chain.genesis.hash} is not {genesis_hash}")
    return node


async def sync_once(node: Node, upstream: str, session: Client) -> int:
    """Catch up with the upstream's current checkpoint; return the new size.

    Raises:
        ForkError: the upstream's signed root differs from the root of the validated chain.
        BlockError: a block the upstream serves does not validate.
    """
    note = (await get_upstream(session, f"{upstream}/checkpoint")).decode("utf-8", "replace")
    text, _ = open_note(note, [node.log_verifier])
    checkpoint = Checkpoint.parse(text)
    if checkpoint.origin != node.chain.state.chain:
        raise ForkError(f"upstream checkpoint is for {checkpoint.origin!r}")
    while node.chain.size < checkpoint.size:
        page = parse_blocks_page(await get_upstream(
            session, f"{upstream}/blocks?from={node.chain.head.height + 1}&limit=50"))
        if not page:
            raise UpstreamError("upstream has fewer blocks than its checkpoint says")
        for header, txs in page:
            await node.append_checked(header, txs)
    if node.chain.tree.root(checkpoint.size) != checkpoint.root_hash:
        raise ForkError(f"upstream signed root of size {checkpoint.size} differs from ours")
    if checkpoint.size == node.chain.size:
        node.set_upstream_checkpoint(note)
    return node.chain.size


async def follow(node: Node, upstream: str, session: Client, *,
                 interval: float = 1.0) -> None:
    """Mirror ``upstream`` until cancelled; a fork or an invalid block halts the mirror."""
    session = as_http(session)
    while True:
        try:
            await sync_once(node, upstream, session)
        except UpstreamError as exc:
            log.warning("upstream: %s", exc)
        except SsiError as exc:
            node.halted = f"{exc.code}: {exc.detail}"
            log.error("mirror halted: %s", node.halted)
            return
        await asyncio.sleep(interval)
