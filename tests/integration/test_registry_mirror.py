"""A mirror following a node over real HTTP on loopback reads pages of any size it serves.

aiohttp's ``StreamReader.read(n)`` returns as soon as *some* data is buffered, so a mirror
that read each ``/blocks`` page with one bounded read got only the first piece of a large
page, failed to parse it and halted for good. Pages are now read to their end by
:mod:`ssiwallet.infra.http`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import pytest

from registry.ledger.tx import MAX_TX_BYTES, parse_tx

if TYPE_CHECKING:
    from tests.support.services import MirrorFactory, RegistryFactory

pytestmark = pytest.mark.asyncio

BLOCKS = 12
TXS_PER_BLOCK = 4


def big_schema_body(n: int) -> dict[str, Any]:
    """A ~45 KB ``schema.publish`` body (fifty long property names)."""
    props = {f"claim_{i:02d}_{'x' * 900}": {"type": "string"} for i in range(50)}
    return {"vct": f"urn:keten:vct:big:{n}", "schema": {"type": "object", "properties": props},
            "display": {"nl": "Groot", "en": "Big"}}


async def wait_for(condition: Callable[[], Awaitable[bool]], timeout: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await condition():
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


async def test_mirror_follows_blocks_of_big_schemas_in_a_two_megabyte_page(
        registry_node: RegistryFactory, registry_mirror: MirrorFactory) -> None:
    """Blocks of four 45 KB ``schema.publish`` transactions and one ``/blocks`` page of over
    2 MB: the mirror reaches the node's height and serves the same schemas."""
    reg = await registry_node()
    for block in range(BLOCKS):
        txs = [parse_tx(reg.sign(reg.steward, "schema.publish",
                                 big_schema_body(block * TXS_PER_BLOCK + i)))
               for i in range(TXS_PER_BLOCK)]
        assert all(45_000 < len(tx.data) <= MAX_TX_BYTES for tx in txs)
        await asyncio.gather(*(reg.node.submit(tx) for tx in txs))  # queued together: one block
    async with reg.session.get(f"{reg.url}/blocks?from=1&limit=50") as resp:
        page = await resp.read()
    assert len(page) > 2_000_000
    assert [len(b["txs"]) for b in json.loads(page)["blocks"]] == [TXS_PER_BLOCK] * BLOCKS
    target = await reg.health()
    assert target["height"] == BLOCKS

    mirror = await registry_mirror(reg, follow_interval=0.05)  # genesis only, then follows

    async def caught_up() -> bool:
        assert mirror.node.halted is None, mirror.node.halted
        return bool((await mirror.health())["height"] == target["height"])

    await wait_for(caught_up, timeout=30)
    health = await mirror.health()
    assert {k: health[k] for k in ("chain", "height", "size", "genesis")} == \
        {k: target[k] for k in ("chain", "height", "size", "genesis")}
    last = f"/schemas/urn:keten:vct:big:{BLOCKS * TXS_PER_BLOCK - 1}"
    assert await mirror.get(last) == await reg.get(last)
