"""SECURITY-TESTS 37: unauthenticated endpoints that cost CPU are budgeted per client and
overall; beyond the budget a client gets 429 with ``Retry-After`` and the project's JSON
error, while another client (another loopback source address, so another peer) is served.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import aiohttp
import pytest

from registry.author import Controller

if TYPE_CHECKING:
    from tests.support.services import RegistryFactory, VerifierFactory

pytestmark = pytest.mark.asyncio

RAPID = 30


def other_peer() -> aiohttp.ClientSession:
    """A client connecting from 127.0.0.2: the services see another peer address."""
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=("127.0.0.2", 0)))


async def post(session: aiohttp.ClientSession, url: str, **kwargs: Any
               ) -> tuple[int, Any, str | None]:
    async with session.post(url, **kwargs) as resp:
        body = await resp.json(content_type=None)
        return resp.status, body, resp.headers.get("Retry-After")


def assert_rate_limited(answers: list[tuple[int, Any, str | None]]) -> None:
    limited = [a for a in answers if a[0] == 429]
    assert limited, sorted({a[0] for a in answers})
    for _, body, retry_after in limited:
        assert body["error"] == "http.rate_limited", body
        assert isinstance(body["detail"], str)
        assert retry_after is not None and retry_after.isdigit() and int(retry_after) >= 1


async def test_rapid_verifier_sessions_are_limited_per_client(
        registry_node: RegistryFactory, verifier_service: VerifierFactory) -> None:
    reg = await registry_node()
    desk = await verifier_service(reg, presets=["age18"])
    async with aiohttp.ClientSession() as flooder:
        answers = await asyncio.gather(*(post(flooder, desk.url + "/sessions",
                                              json={"preset": "age18"})
                                         for _ in range(RAPID)))
    assert {a[0] for a in answers} <= {201, 429}
    assert_rate_limited(list(answers))
    async with other_peer() as neighbour:
        status, body, _ = await post(neighbour, desk.url + "/sessions", json={"preset": "age18"})
    assert status == 201, body


async def test_rapid_registry_posts_are_limited_per_client(registry_node: RegistryFactory
                                                           ) -> None:
    reg = await registry_node()
    junk = b'{"not": "a transaction"}'
    async with aiohttp.ClientSession() as flooder:
        answers = await asyncio.gather(*(post(flooder, reg.url + "/txs", data=junk)
                                         for _ in range(3 * RAPID)))
    assert {a[0] for a in answers} <= {400, 422, 429}
    assert_rate_limited(list(answers))
    tx = Controller.new("School").create_tx(reg.chain, reg.clock(), reg.steward)
    async with other_peer() as neighbour:
        status, body, _ = await post(neighbour, reg.url + "/txs", data=tx)
    assert status == 201, body
