"""The headless-Chromium tooling itself: a tiny aiohttp page driven through
``tests.support.browser``.

Covers navigation, form filling, selects, clicks, JS polling of a JSON endpoint, evaluation,
screenshots (written to ``tests/artifacts/``) and the collection of page JavaScript errors.
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import unused_port
from pytest_aiohttp import AiohttpServer

from tests.support.browser import Browser, BrowserError, JSError

pytestmark = pytest.mark.asyncio

FORM_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Keten tooling check</title></head>
<body>
  <form id="form" onsubmit="return false">
    <label>Name <input id="name" name="name"></label>
    <label>Colour <select id="colour" name="colour">
      <option value="red">Red</option><option value="green">Green</option>
    </select></label>
    <button id="go" type="button">Go</button>
  </form>
  <p id="out">waiting</p>
  <p id="typed"></p>
  <p id="status">unknown</p>
  <script>
    let changes = 0;
    document.getElementById("name").addEventListener("input", e => {
      document.getElementById("typed").textContent = "typed " + e.target.value;
    });
    document.getElementById("colour").addEventListener("change", () => { changes += 1; });
    document.getElementById("go").addEventListener("click", async () => {
      const name = document.getElementById("name").value;
      const colour = document.getElementById("colour").value;
      const reply = await fetch("/api/echo", {
        method: "POST", headers: {"Content-Type": "application/json"},
        body: JSON.stringify({name, colour}),
      });
      const data = await reply.json();
      document.getElementById("out").textContent = `Hello ${data.name}, you chose ${data.colour}`;
    });
    async function poll() {
      const data = await (await fetch("/api/status")).json();
      document.getElementById("status").textContent = data.state;
      if (data.state !== "ready") setTimeout(poll, 50);
    }
    poll();
    window.colourChanges = () => changes;
  </script>
</body></html>
"""

BROKEN_PAGE = """<!doctype html>
<html><body><p id="p">broken</p>
<script>console.error("deliberate console error");</script>
<script>undefinedFunction();</script>
</body></html>
"""


def _app() -> web.Application:
    polls = {"count": 0}

    async def form(_: web.Request) -> web.Response:
        return web.Response(text=FORM_PAGE, content_type="text/html")

    async def broken(_: web.Request) -> web.Response:
        return web.Response(text=BROKEN_PAGE, content_type="text/html")

    async def status(_: web.Request) -> web.Response:
        polls["count"] += 1
        return web.json_response({"state": "ready" if polls["count"] >= 3 else "pending"})

    async def echo(request: web.Request) -> web.Response:
        return web.json_response(await request.json())

    async def favicon(_: web.Request) -> web.Response:
        return web.Response(status=204)

    app = web.Application()
    app.router.add_get("/", form)
    app.router.add_get("/broken", broken)
    app.router.add_get("/api/status", status)
    app.router.add_post("/api/echo", echo)
    app.router.add_get("/favicon.ico", favicon)
    return app


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG signature"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


async def test_drives_a_form_page(
    aiohttp_server: AiohttpServer, browser: Browser, artifacts: Path  # noqa: F811
) -> None:
    server = await aiohttp_server(_app())
    page = await browser.new_page()
    await page.goto(str(server.make_url("/")))

    assert await page.evaluate("document.title") == "Keten tooling check"
    assert await page.wait_for("document.getElementById('status').textContent === 'ready'")
    assert await page.text("#status") == "ready"

    await page.fill("#name", "Ada")
    assert await page.text("#typed") == "typed Ada"
    await page.select("#colour", "green")
    assert await page.evaluate("window.colourChanges()") == 1
    await page.click("#go")
    await page.wait_for("document.getElementById('out').textContent !== 'waiting'")
    assert await page.text("#out") == "Hello Ada, you chose green"

    assert await page.evaluate("Promise.resolve({a: [1, 2], b: null})") == {"a": [1, 2], "b": None}
    assert await page.evaluate("undefined") is None
    assert '<p id="out">Hello Ada, you chose green</p>' in await page.content()

    shot = await page.screenshot(artifacts / "browser-tooling-form.png")
    assert shot.parent == artifacts
    width, height = _png_size(shot.read_bytes())
    assert width > 100 and height > 100
    assert page.console_errors == []


async def test_helpers_fail_loudly(
    aiohttp_server: AiohttpServer, browser: Browser  # noqa: F811
) -> None:
    server = await aiohttp_server(_app())
    page = await browser.new_page()
    await page.goto(str(server.make_url("/")))

    with pytest.raises(JSError, match="no element matches #missing"):
        await page.click("#missing")
    with pytest.raises(JSError, match="no option blue"):
        await page.select("#colour", "blue")
    with pytest.raises(JSError, match="ReferenceError: nope is not defined"):
        await page.evaluate("nope.at.all")
    with pytest.raises(TimeoutError, match="never"):
        await page.wait_for("window.never === true", timeout=0.3)
    with pytest.raises(BrowserError, match="ERR_CONNECTION_REFUSED"):
        await page.goto(f"http://127.0.0.1:{unused_port()}/")
    assert page.console_errors == []  # evaluate()'s own exceptions are not page errors


async def test_collects_page_errors(
    aiohttp_server: AiohttpServer, browser: Browser  # noqa: F811
) -> None:
    server = await aiohttp_server(_app())
    page = await browser.new_page()
    await page.goto(str(server.make_url("/broken")))

    await page.wait_for("true")
    assert len(page.console_errors) == 2, page.console_errors
    assert "deliberate console error" in page.console_errors[0]
    assert "ReferenceError: undefinedFunction is not defined" in page.console_errors[1]

    other = await browser.new_page()  # errors are kept per page
    await other.goto(str(server.make_url("/")))
    await other.wait_for("document.getElementById('status').textContent === 'ready'")
    assert other.console_errors == []
