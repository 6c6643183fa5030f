"""A registry sequencer node in a child process, for the kill -9 test of test_registry_attacks.

Run as ``python registry_child.py DB KEY_FILE`` (never imported): opens the store, replaying
it from genesis, serves :func:`registry.node.app.build_app` on an ephemeral loopback port,
prints one JSON line ``{"url": ..., "height": ..., "size": ...}`` once it accepts
connections, then serves until it is killed.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from aiohttp import web

from registry.author.keyfile import load_seed
from registry.node.app import ServiceOptions, build_app
from registry.node.http import NodeSettings
from registry.node.node import Node
from registry.node.storage import SqliteStorage


async def serve(db: Path, key_file: Path) -> None:
    storage = SqliteStorage(db)
    try:
        node = Node.open(storage, load_seed(key_file))
    except BaseException:
        storage.close()
        raise
    # the node itself is under test here (kill -9 mid-write): no write budget in the way
    runner = web.AppRunner(build_app(node, ServiceOptions(settings=NodeSettings.unlimited())),
                           access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        print(json.dumps({"url": f"http://{host}:{port}", "height": node.chain.head.height,
                          "size": node.chain.size}), flush=True)
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(serve(Path(sys.argv[1]), Path(sys.argv[2])))
