"""Putting a node together: storage, node, HTTP app and its background tasks.

:func:`build_app` is what ``ssi-registry serve`` and ``follow`` run and what tests start on
loopback: the sequencer loop (when the node holds the key), the witness cosigning loop
(when witnesses are configured) and the mirror's follow loop (when an upstream is given)
live in the application's ``cleanup_ctx``, so they stop with it and the store is closed.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web

from registry.errors import RegistryError
from registry.node.http import NodeSettings, create_node_app
from registry.node.node import Node
from registry.node.sync import cosign_loop as _cosign_loop
from registry.node.sync import follow, witness_targets

__all__ = ["ServiceOptions", "build_app"]


@dataclass(frozen=True)
class ServiceOptions:
    """What runs beside the HTTP API."""

    witnesses: dict[str, str] = field(default_factory=dict)
    """Witness name (as in genesis) → its URL; the sequencer asks each to cosign."""
    cosign_interval: float = 30.0
    upstream: str | None = None
    """A mirror's sequencer URL."""
    follow_interval: float = 1.0
    close_storage: bool = True
    scrub_interval: float = 60.0
    """Seconds between background re-hashes of everything stored (tamper detection)."""
    settings: NodeSettings = field(default_factory=NodeSettings)


async def _scrub_loop(node: Node, interval: float) -> None:
    while node.halted is None:
        await asyncio.sleep(interval)
        with contextlib.suppress(RegistryError):  # a halt is recorded on the node itself
            await asyncio.to_thread(node.scrub)


def build_app(node: Node, options: ServiceOptions | None = None) -> web.Application:
    """The node's application with its background tasks wired in."""
    opts = options or ServiceOptions()
    app = create_node_app(node, opts.settings)
    targets = witness_targets(node, opts.witnesses)

    async def background(_: web.Application) -> AsyncIterator[None]:
        session = aiohttp.ClientSession()
        tasks: list[asyncio.Task[None]] = []
        if node.key is not None:
            tasks.append(asyncio.create_task(node.run_sequencer()))
            if targets:
                tasks.append(asyncio.create_task(
                    _cosign_loop(node, targets, session, interval=opts.cosign_interval)))
        tasks.append(asyncio.create_task(_scrub_loop(node, opts.scrub_interval)))
        if opts.upstream is not None:
            tasks.append(asyncio.create_task(
                follow(node, opts.upstream.rstrip("/"), session, interval=opts.follow_interval)))
        yield
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await session.close()
        if opts.close_storage:
            node.storage.close()

    app.cleanup_ctx.append(background)
    return app
