"""A small Chrome DevTools Protocol driver for page tests: headless Chromium over aiohttp.

``ensure_chromium()`` finds (or, as root on Debian, installs) a Chromium binary;
``Browser`` starts it headless and hands out ``Page`` objects attached through flattened
Target sessions, so one websocket carries every page's commands and events.

Part of the suite's plugin: the ``chromium_path``, ``browser`` and ``artifacts`` fixtures
at the end are there for every test without an import.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import fcntl
import itertools
import json
import os
import shutil
import subprocess
import tempfile
from collections import deque
from collections.abc import AsyncIterator
from pathlib import Path
from types import TracebackType
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from tests.support.paths import ARTIFACTS

CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
    "--disable-dev-shm-usage", "--no-default-browser-check", "--no-proxy-server",
    "--mute-audio", "--hide-scrollbars", "--window-size=1280,900",
)
_LOCK = Path(tempfile.gettempdir()) / "keten-chromium-install.lock"


class BrowserError(RuntimeError):
    """Chromium could not be found, installed, started or driven."""


class JSError(BrowserError):
    """A script evaluated in the page threw; the message is the JavaScript error text."""


def _find_chromium() -> str | None:
    for candidate in ("/usr/bin/chromium", shutil.which("chromium")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def _apt(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    cmd = ["apt-get", "-o", "DPkg::Lock::Timeout=300", *args]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=1800)


def ensure_chromium() -> str:
    """Return the path of a Chromium binary, installing Debian's ``chromium`` if needed.

    ``KETEN_CHROMIUM`` (a binary path) wins when set. Otherwise ``/usr/bin/chromium`` or
    ``chromium`` on ``PATH``; failing both, root with ``apt-get`` installs the package
    (running ``apt-get update`` only when the first install attempt fails), serialised
    across processes by an ``fcntl`` lock.

    Raises:
        BrowserError: no binary and no way to install one, or the installation failed.
    """
    if override := os.environ.get("KETEN_CHROMIUM"):
        if not os.access(override, os.X_OK):
            raise BrowserError(f"KETEN_CHROMIUM={override!r} is not an executable file")
        return override
    if found := _find_chromium():
        return found
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise BrowserError(
            "Chromium not found and cannot be installed here (needs root and apt-get): "
            "run `apt-get install chromium` or set KETEN_CHROMIUM to a Chromium binary")
    with open(_LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another test process may be installing right now
        if found := _find_chromium():
            return found
        install = ("install", "-y", "--no-install-recommends", "chromium")
        result = _apt(*install)
        if result.returncode != 0:
            update = _apt("update")
            if update.returncode != 0:
                raise BrowserError(f"apt-get update failed:\n{update.stderr[-2000:]}")
            result = _apt(*install)
        if result.returncode != 0 or (found := _find_chromium()) is None:
            raise BrowserError(f"apt-get install chromium failed:\n{result.stderr[-2000:]}")
        return found


class Page:
    """One browser tab, driven through its flattened CDP session."""

    def __init__(self, browser: Browser, target_id: str, session_id: str) -> None:
        self.browser = browser
        self.target_id = target_id
        self.session_id = session_id
        self.console_errors: list[str] = []
        self._waiters: dict[str, list[asyncio.Future[dict[str, Any]]]] = {}

    async def send(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """Send a CDP command in this page's session and return its result."""
        return await self.browser.send(method, params, session_id=self.session_id)

    def _on_event(self, method: str, params: dict[str, Any]) -> None:
        if method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            exc = details.get("exception") or {}
            self.console_errors.append(exc.get("description") or details.get("text", "?"))
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            args = params.get("args", [])
            self.console_errors.append(" ".join(
                str(a.get("value", a.get("description", ""))) for a in args))
        for future in self._waiters.pop(method, []):
            if not future.done():
                future.set_result(params)

    def _expect(self, method: str) -> asyncio.Future[dict[str, Any]]:
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(method, []).append(future)
        return future

    async def goto(self, url: str, wait_for_load: bool = True, timeout: float = 30.0) -> None:
        """Navigate to ``url``; by default wait for the page's ``load`` event.

        A fragment-only change of the current URL fires no ``load``: pass
        ``wait_for_load=False`` for it.

        Raises:
            BrowserError: the navigation failed (e.g. connection refused).
            TimeoutError: no ``load`` event within ``timeout`` seconds.
        """
        loaded = self._expect("Page.loadEventFired") if wait_for_load else None
        result = await self.send("Page.navigate", {"url": url})
        if error := result.get("errorText"):
            if loaded is not None:
                loaded.cancel()
            raise BrowserError(f"navigating to {url} failed: {error}")
        if loaded is not None:
            await asyncio.wait_for(loaded, timeout)

    async def evaluate(self, js: str) -> Any:
        """Evaluate an expression (awaiting a promise result) and return it by value.

        Raises:
            JSError: the expression threw; the message is the JavaScript error text.
        """
        result = await self.send("Runtime.evaluate", {
            "expression": js, "returnByValue": True, "awaitPromise": True, "userGesture": True})
        if details := result.get("exceptionDetails"):
            exc = details.get("exception") or {}
            raise JSError(exc.get("description") or details.get("text", "script failed"))
        return result["result"].get("value")

    async def _on_element(self, selector: str, body: str, arg: Any = None) -> Any:
        """Run ``body`` with ``el`` bound to the first match of ``selector`` (and ``arg``)."""
        script = (f"((sel, arg) => {{ const el = document.querySelector(sel);"
                  f" if (!el) throw new Error('no element matches ' + sel); {body} }})"
                  f"({json.dumps(selector)}, {json.dumps(arg)})")
        return await self.evaluate(script)

    async def click(self, selector: str) -> None:
        """Scroll the element into view and click it (``HTMLElement.click()``)."""
        await self._on_element(selector, "el.scrollIntoView({block: 'center'}); el.click();")

    async def fill(self, selector: str, value: str) -> None:
        """Set an input's or textarea's value and dispatch ``input`` and ``change`` events."""
        await self._on_element(selector, "el.focus(); el.value = arg;"
                               " el.dispatchEvent(new Event('input', {bubbles: true}));"
                               " el.dispatchEvent(new Event('change', {bubbles: true}));", value)

    async def select(self, selector: str, value: str) -> None:
        """Choose the ``<option>`` with ``value`` in a ``<select>``, dispatching its events."""
        await self._on_element(
            selector, "if (![...el.options].some(o => o.value === arg))"
            " throw new Error('no option ' + arg + ' in ' + sel); el.value = arg;"
            " el.dispatchEvent(new Event('input', {bubbles: true}));"
            " el.dispatchEvent(new Event('change', {bubbles: true}));", value)

    async def text(self, selector: str) -> str:
        """Return the rendered text (``innerText``) of the first match of ``selector``."""
        return str(await self._on_element(selector, "return el.innerText;"))

    async def content(self) -> str:
        """Return the current document's serialised HTML."""
        return str(await self.evaluate("document.documentElement.outerHTML"))

    async def wait_for(self, js_condition: str, timeout: float = 10.0,
                       interval: float = 0.05) -> Any:
        """Poll until ``js_condition`` is truthy and return its value.

        A condition that throws counts as false (the element may not exist yet).

        Raises:
            TimeoutError: still false after ``timeout`` seconds (names the last JS error).
        """
        deadline = asyncio.get_running_loop().time() + timeout
        last_error = ""
        while True:
            try:
                if value := await self.evaluate(js_condition):
                    return value
            except BrowserError as exc:  # throwing conditions and navigation in progress
                if not self.browser.connected:
                    raise
                last_error = f" (last error: {exc})"
            if asyncio.get_running_loop().time() >= deadline:
                raise TimeoutError(f"{js_condition!r} not true after {timeout}s{last_error}")
            await asyncio.sleep(interval)

    async def screenshot(self, path: str | os.PathLike[str]) -> Path:
        """Capture the viewport as PNG, write it to ``path`` and return the path."""
        result = await self.send("Page.captureScreenshot", {"format": "png"})
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(base64.b64decode(result["data"]))
        return out

    async def close(self) -> None:
        """Close this tab."""
        await self.browser.send("Target.closeTarget", {"targetId": self.target_id})
        self.browser._pages.pop(self.session_id, None)


class Browser:
    """Headless Chromium driven over the DevTools Protocol (``async with Browser(path)``)."""

    def __init__(self, executable: str, start_timeout: float = 30.0,
                 command_timeout: float = 30.0) -> None:
        self.executable = executable
        self.start_timeout = start_timeout
        self.command_timeout = command_timeout
        self.stderr_tail: deque[str] = deque(maxlen=50)
        self._profile = ""
        self._proc: asyncio.subprocess.Process | None = None
        self._http: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._pages: dict[str, Page] = {}

    async def __aenter__(self) -> Browser:
        try:
            await self._start()
        except BaseException:
            await self.close()
            raise
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.close()

    async def _start(self) -> None:
        self._profile = tempfile.mkdtemp(prefix="keten-chromium-profile-")
        self._proc = await asyncio.create_subprocess_exec(
            self.executable, *CHROMIUM_FLAGS, "--remote-debugging-port=0",
            f"--user-data-dir={self._profile}", "about:blank",
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE)
        assert self._proc.stderr is not None
        try:
            ws_url = await asyncio.wait_for(self._read_ws_url(self._proc.stderr),
                                            self.start_timeout)
        except TimeoutError:
            tail = "\n".join(self.stderr_tail)
            raise BrowserError(f"no DevTools URL from Chromium within "
                               f"{self.start_timeout}s:\n{tail}") from None
        self._tasks.append(asyncio.create_task(self._drain(self._proc.stderr)))
        self._http = aiohttp.ClientSession()
        self._ws = await self._http.ws_connect(ws_url, max_msg_size=0, autoping=True)
        self._tasks.append(asyncio.create_task(self._read_messages(self._ws)))

    async def _read_ws_url(self, stderr: asyncio.StreamReader) -> str:
        while line := (await stderr.readline()).decode(errors="replace"):
            self.stderr_tail.append(line.rstrip())
            if line.startswith("DevTools listening on "):
                return line.removeprefix("DevTools listening on ").strip()
        tail = "\n".join(self.stderr_tail)
        raise BrowserError(f"Chromium exited before opening DevTools:\n{tail}")

    async def _drain(self, stderr: asyncio.StreamReader) -> None:
        """Keep reading Chromium's stderr so a full pipe never blocks it."""
        while line := await stderr.readline():
            self.stderr_tail.append(line.decode(errors="replace").rstrip())

    async def _read_messages(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        try:
            async for msg in ws:
                if msg.type != aiohttp.WSMsgType.TEXT:
                    continue
                data = json.loads(msg.data)
                if "id" in data:
                    future = self._pending.pop(data["id"], None)
                    if future is not None and not future.done():
                        future.set_result(data)
                elif (page := self._pages.get(data.get("sessionId", ""))) is not None:
                    page._on_event(data["method"], data.get("params", {}))
        finally:
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(BrowserError("DevTools connection closed"))
            self._pending.clear()

    @property
    def connected(self) -> bool:
        """Whether the DevTools websocket is open."""
        return self._ws is not None and not self._ws.closed

    async def send(self, method: str, params: dict[str, Any] | None = None,
                   session_id: str | None = None) -> dict[str, Any]:
        """Send a CDP command (to a page session when ``session_id`` is given).

        Raises:
            BrowserError: the connection is gone or Chromium answered with an error.
        """
        if self._ws is None or self._ws.closed:
            raise BrowserError(f"{method}: DevTools connection is not open")
        msg_id = next(self._ids)
        message: dict[str, Any] = {"id": msg_id, "method": method, "params": params or {}}
        if session_id is not None:
            message["sessionId"] = session_id
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[msg_id] = future
        try:
            await self._ws.send_str(json.dumps(message))
            reply = await asyncio.wait_for(future, self.command_timeout)
        finally:
            self._pending.pop(msg_id, None)
        if "error" in reply:
            raise BrowserError(f"{method}: {reply['error'].get('message', reply['error'])}")
        result: dict[str, Any] = reply.get("result", {})
        return result

    async def new_page(self) -> Page:
        """Open a blank tab with the Page and Runtime domains enabled."""
        target = await self.send("Target.createTarget", {"url": "about:blank"})
        attached = await self.send("Target.attachToTarget",
                                   {"targetId": target["targetId"], "flatten": True})
        page = Page(self, target["targetId"], attached["sessionId"])
        self._pages[page.session_id] = page
        await page.send("Page.enable")
        await page.send("Runtime.enable")
        return page

    async def close(self) -> None:
        """Close the connection, stop Chromium (killing it if it lingers), drop the profile."""
        asked = False
        if self._ws is not None and not self._ws.closed:
            with contextlib.suppress(BrowserError, TimeoutError, aiohttp.ClientError, OSError):
                asked = True
                await asyncio.wait_for(self.send("Browser.close"), 5)
            await self._ws.close()
        if self._http is not None:
            await self._http.close()
        if (proc := self._proc) is not None:
            if asked:  # Browser.close was sent: give Chromium a moment to exit by itself
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(proc.wait(), 5)
            for stop in (proc.terminate, proc.kill):
                if proc.returncode is not None:
                    break
                with contextlib.suppress(ProcessLookupError):
                    stop()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(proc.wait(), 5)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        if self._profile:
            shutil.rmtree(self._profile, ignore_errors=True)
            self._profile = ""


# --- fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Path of a Chromium binary, installed through apt on first use when missing."""
    return ensure_chromium()


@pytest_asyncio.fixture
async def browser(chromium_path: str) -> AsyncIterator[Browser]:
    """A fresh headless Chromium (own temporary profile), stopped after the test."""
    async with Browser(chromium_path) as started:
        yield started


@pytest.fixture
def artifacts() -> Path:
    """The git-ignored ``tests/artifacts/`` folder (created) for screenshots and dumps."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
