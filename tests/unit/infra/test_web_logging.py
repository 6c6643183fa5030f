"""A service's log says it started (what, where) and why each failed request failed."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket

import pytest
from aiohttp import web
from pytest_aiohttp import AiohttpClient

from ssiwallet.errors import InputError
from ssiwallet.infra.web import error_middleware, serve_forever


async def _refuse(request: web.Request) -> web.Response:
    raise InputError("not what was asked", code="demo.refused")


async def _crash(request: web.Request) -> web.Response:
    raise RuntimeError("a bug")


async def _conflict(request: web.Request) -> web.Response:
    return web.Response(status=409, text="7\n")


async def _fine(request: web.Request) -> web.Response:
    return web.Response(text="ok")


def _app(middleware: object) -> web.Application:
    app = web.Application(middlewares=[middleware])  # type: ignore[list-item]
    app.router.add_get("/refuse", _refuse)
    app.router.add_get("/crash", _crash)
    app.router.add_post("/conflict", _conflict)
    app.router.add_get("/fine", _fine)
    return app


@pytest.mark.asyncio
@pytest.mark.parametrize("middleware", [error_middleware({}),
                                        error_middleware({}, oauth_paths=frozenset({"/refuse"}))])
async def test_every_error_answer_is_logged_in_one_line(
        aiohttp_client: AiohttpClient, caplog: pytest.LogCaptureFixture,
        middleware: object) -> None:
    client = await aiohttp_client(_app(middleware))
    caplog.set_level(logging.INFO, logger="ssiwallet.infra.web")
    for method, path in (("GET", "/fine"), ("GET", "/refuse?nonce=secret"),
                         ("POST", "/conflict"), ("GET", "/nowhere"), ("GET", "/crash")):
        async with client.request(method, path) as resp:
            await resp.read()
    lines = [(r.levelno, r.getMessage()) for r in caplog.records]
    assert (logging.INFO, "GET /refuse -> 400 demo.refused: not what was asked") in lines
    assert (logging.INFO, "POST /conflict -> 409 Conflict") in lines
    assert (logging.INFO, "GET /nowhere -> 404 http.not_found: Not Found") in lines
    assert any(level == logging.ERROR and "GET /crash" in text for level, text in lines)
    assert not any("/fine" in text or "secret" in text for _, text in lines)


@pytest.mark.asyncio
async def test_a_service_logs_what_it_serves_and_where(
        caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    caplog.set_level(logging.INFO, logger="ssiwallet.infra.web")
    task = asyncio.create_task(serve_forever(_app(error_middleware({})), "127.0.0.1", port,
                                             {"witness": "w1.example"}))
    try:
        for _ in range(100):
            if caplog.records:
                break
            await asyncio.sleep(0.02)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert [r.getMessage() for r in caplog.records] == [
        f"listening on http://127.0.0.1:{port}: witness w1.example"]
    assert f'"url": "http://127.0.0.1:{port}"' in capsys.readouterr().out
