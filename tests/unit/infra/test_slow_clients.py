"""SECURITY-TESTS 36: slow and vanishing clients, against ``serve_forever`` on loopback.

Every service runs through :func:`ssiwallet.infra.web.serve_forever`; here it serves a small
app with the project's error middleware under short limits (``LIMITS`` patched), and raw
sockets play the slow clients: headers one byte at a time, a trickled body, an idle
keep-alive connection, a client vanishing mid-upload, one connection too many. Each test
keeps to a few sockets and a few seconds, and checks that others are still served.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import struct
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web

from ssiwallet.infra import web as infra_web
from ssiwallet.infra.web import ServeLimits, error_middleware, json_body, json_response

pytestmark = pytest.mark.asyncio

LIMITS = ServeLimits(header_timeout=1.0, body_timeout=1.0, max_connections=6,
                     lingering_time=0.2)
DEADLINE = 4.0
"""No slow client may hold its connection this long."""


def app() -> web.Application:
    async def ok(request: web.Request) -> web.Response:
        return json_response({"ok": True})

    async def echo(request: web.Request) -> web.Response:
        return json_response({"got": await json_body(request)})

    application = web.Application(middlewares=[error_middleware({})], client_max_size=1 << 20)
    application.router.add_get("/ok", ok)
    application.router.add_post("/echo", echo)
    return application


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest_asyncio.fixture
async def service(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
                  ) -> AsyncIterator[int]:
    """``serve_forever`` under :data:`LIMITS` on a free loopback port; yields the port."""
    monkeypatch.setattr(infra_web, "LIMITS", LIMITS, raising=False)
    port = free_port()
    task = asyncio.create_task(infra_web.serve_forever(app(), "127.0.0.1", port, {"app": "t"}))
    for _ in range(100):
        with contextlib.suppress(OSError):
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            break
        await asyncio.sleep(0.02)
    try:
        yield port
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def honest_get(port: int) -> int:
    """Another client, meanwhile: answered, and quickly."""
    async with aiohttp.ClientSession() as session, asyncio.timeout(1):
        async with session.get(f"http://127.0.0.1:{port}/ok") as resp:
            await resp.read()
            return resp.status


async def closed_within(reader: asyncio.StreamReader, seconds: float) -> tuple[bytes, float]:
    """Everything the server sent until it closed, and when (fails after ``seconds``)."""
    start, data = time.monotonic(), b""
    async with asyncio.timeout(seconds):
        while chunk := await reader.read(4096):
            data += chunk
    return data, time.monotonic() - start


async def test_headers_sent_one_byte_at_a_time_are_cut_off(service: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", service)
    request = b"GET /ok HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100 + b"\r\n\r\n"
    start, sent = time.monotonic(), 0

    async def trickle() -> None:
        nonlocal sent
        with contextlib.suppress(OSError):
            for byte in request:
                writer.write(bytes([byte]))
                await writer.drain()
                sent += 1
                await asyncio.sleep(0.1)

    dripping = asyncio.create_task(trickle())
    assert await honest_get(service) == 200
    data, _ = await closed_within(reader, DEADLINE)
    elapsed = time.monotonic() - start
    dripping.cancel()
    assert not data.startswith(b"HTTP/1.1 200")  # never served
    assert LIMITS.header_timeout - 0.2 <= elapsed <= LIMITS.header_timeout + 1.5
    assert sent < len(request)
    writer.close()


async def test_a_trickled_body_is_cut_off_with_408(service: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", service)
    body = b'{"a": "' + b"x" * 200 + b'"}'
    writer.write(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n")
    start = time.monotonic()

    async def trickle() -> None:
        with contextlib.suppress(OSError):
            for byte in body:
                writer.write(bytes([byte]))
                await writer.drain()
                await asyncio.sleep(0.1)

    dripping = asyncio.create_task(trickle())
    assert await honest_get(service) == 200
    data, _ = await closed_within(reader, DEADLINE)
    elapsed = time.monotonic() - start
    dripping.cancel()
    assert data.startswith(b"HTTP/1.1 408"), data[:200]
    assert b'"error": "http.408"' in data
    assert LIMITS.body_timeout - 0.2 <= elapsed <= LIMITS.body_timeout + 1.5
    writer.close()


async def test_an_idle_keep_alive_connection_is_closed(service: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", service)
    writer.write(b"GET /ok HTTP/1.1\r\nHost: x\r\n\r\n")
    head = await reader.readuntil(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and b"Connection: close" not in head
    length = int(head.split(b"Content-Length: ")[1].split(b"\r\n")[0])
    await reader.readexactly(length)
    data, idle = await closed_within(reader, DEADLINE)
    assert data == b"" and idle <= LIMITS.header_timeout + 1.5
    writer.close()


async def test_a_connection_never_used_is_closed(service: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", service)
    data, idle = await closed_within(reader, DEADLINE)
    assert data == b"" and idle <= LIMITS.header_timeout + 1.5
    writer.close()


async def test_a_client_vanishing_mid_upload_logs_no_traceback(
        service: int, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for _ in range(3):
        sock = socket.create_connection(("127.0.0.1", service))
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 100000\r\n\r\n" + b'{"a": "' + b"x" * 5000)
        await asyncio.sleep(0.1)  # the handler is reading the body
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()  # a reset, mid-upload
    await asyncio.sleep(0.3)
    assert await honest_get(service) == 200
    bad = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not bad, [(r.name, r.getMessage()) for r in bad]
    gone = [r for r in caplog.records if "went away" in r.getMessage()]
    assert len(gone) == 3 and all(r.levelno == logging.INFO for r in gone)


async def test_connections_beyond_the_cap_are_refused_at_once(service: int) -> None:
    held = [await asyncio.open_connection("127.0.0.1", service)
            for _ in range(LIMITS.max_connections)]
    await asyncio.sleep(0.05)
    reader, writer = await asyncio.open_connection("127.0.0.1", service)
    data, took = await closed_within(reader, 1.0)
    assert data.startswith(b"HTTP/1.1 503") and b"Retry-After: 1" in data and took < 0.5
    writer.close()
    for _, held_writer in held:
        held_writer.close()
    await asyncio.sleep(0.1)
    assert await honest_get(service) == 200  # room again
