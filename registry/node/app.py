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
from pathlib import Path

from aiohttp import web

from registry.author.keyfile import load_seed
from registry.errors import RegistryError
from registry.node.http import NODE, NodeSettings, create_node_app, node_application
from registry.node.node import Node
from registry.node.storage import SqliteStorage
from registry.node.sync import bootstrap_mirror, follow, witness_targets
from registry.node.sync import cosign_loop as _cosign_loop
from ssiwallet.infra.clock import Clock, system_clock
from ssiwallet.infra.http import Http, Transport

__all__ = ["NodeConfig", "ServiceOptions", "build_app", "create_app"]


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


@contextlib.asynccontextmanager
async def _loops(node: Node, opts: ServiceOptions, http: Http) -> AsyncIterator[None]:
    """The sequencer, cosigning, scrub and follow loops while the app runs."""
    targets = witness_targets(node, opts.witnesses)
    tasks: list[asyncio.Task[None]] = []
    if node.key is not None:
        tasks.append(asyncio.create_task(node.run_sequencer()))
        if targets:
            tasks.append(asyncio.create_task(
                _cosign_loop(node, targets, http, interval=opts.cosign_interval)))
    tasks.append(asyncio.create_task(_scrub_loop(node, opts.scrub_interval)))
    if opts.upstream is not None:
        tasks.append(asyncio.create_task(
            follow(node, opts.upstream.rstrip("/"), http, interval=opts.follow_interval)))
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


def build_app(node: Node, options: ServiceOptions | None = None) -> web.Application:
    """The application around a node the caller opened, with its background tasks wired in
    (tests and benchmarks that build nodes in memory; services use :func:`create_app`)."""
    opts = options or ServiceOptions()
    app = create_node_app(node, opts.settings)

    async def background(_: web.Application) -> AsyncIterator[None]:
        async with Http() as http:
            async with _loops(node, opts, http):
                yield
        if opts.close_storage:
            node.storage.close()

    app.cleanup_ctx.append(background)
    return app


@dataclass(frozen=True)
class NodeConfig:
    """A served node: a sequencer (with its key) or a mirror (with its upstream and genesis)."""

    db: Path
    key: Path | None = None
    """The sequencer key's seed file; ``None`` for a mirror."""
    upstream: str | None = None
    """A mirror's sequencer URL."""
    genesis: str | None = None
    """The genesis hash a new mirror pins."""
    witnesses: dict[str, str] = field(default_factory=dict)
    cosign_interval: float = 30.0
    follow_interval: float = 1.0
    scrub_interval: float = 60.0
    public_url: str | None = None


def create_app(config: NodeConfig, *, clock: Clock = system_clock,
               transport: Transport | None = None) -> web.Application:
    """A node's application that owns its resources: the database is opened (and the chain
    replayed, or a new mirror bootstrapped from its upstream) when the app starts, the
    background loops run while it serves, and everything is closed when it stops."""
    opts = ServiceOptions(witnesses=config.witnesses, cosign_interval=config.cosign_interval,
                          upstream=config.upstream, follow_interval=config.follow_interval,
                          scrub_interval=config.scrub_interval,
                          settings=NodeSettings(public_url=config.public_url))
    app = node_application(opts.settings)

    async def resources(app: web.Application) -> AsyncIterator[None]:
        storage = SqliteStorage(config.db)
        try:
            async with Http(transport) as http:
                if config.key is not None:
                    node = Node.open(storage, load_seed(config.key), clock=clock)
                elif config.upstream is not None and config.genesis is not None:
                    node = await bootstrap_mirror(storage, config.upstream.rstrip("/"),
                                                  config.genesis, http)
                    node.clock = clock
                else:
                    raise RegistryError("a node needs a sequencer key, or an upstream and "
                                        "the genesis it pins", code="registry.bad_config")
                app[NODE] = node
                async with _loops(node, opts, http):
                    yield
        finally:
            storage.close()

    app.cleanup_ctx.append(resources)
    return app
