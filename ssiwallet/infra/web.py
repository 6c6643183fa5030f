"""What every registry HTTP service shares: JSON errors with stable codes, and body limits.

A handler raises; :func:`error_middleware` turns a project error into
``{"error": code, "detail": ...}`` with the status the service's table gives it, an
aiohttp HTTP exception into the same shape with an ``http.*`` code, and anything else into
an opaque 500 that is logged here and never shows a traceback to the client. Every error
answer is logged in one line, and :func:`serve_forever` logs what a service serves and
where, so a service's log (its stderr) says it started and why each failed request failed.

:func:`serve_forever` also bounds what a slow or vanishing client can hold (see
:class:`ServeLimits`): the time to send a request's headers and its body, an idle
keep-alive connection's life, and the number of connections; a client that goes away
mid-request is one INFO line, never a traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl

from aiohttp import web
from aiohttp.typedefs import Middleware

from ssiwallet.core import strictjson
from ssiwallet.errors import InputError, SsiError

__all__ = ["LIMITS", "MAX_BODY", "Handler", "ServeLimits", "StatusTable", "error_middleware",
           "error_response", "every", "form_body", "json_body", "json_response",
           "log_to_stderr", "make_runner", "serve", "serve_forever", "start_site", "status_for"]

log = logging.getLogger(__name__)

MAX_BODY = 1 << 20
"""Request bodies above 1 MiB are refused before they are read (413)."""

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_HTTP_CODES = {
    400: "http.bad_request",
    404: "http.not_found",
    405: "http.method_not_allowed",
    413: "http.body_too_large",
    415: "http.unsupported_media_type",
}


def error_response(code: str, detail: str, status: int) -> web.Response:
    """A JSON error body in the project's shape."""
    return web.json_response({"error": code, "detail": detail}, status=status)


def json_response(data: object, status: int = 200) -> web.Response:
    """A JSON response serialised compactly (``dumps`` keeps key order as built)."""
    return web.Response(
        text=strictjson.dumps(data), status=status, content_type="application/json"
    )


async def form_body(request: web.Request) -> dict[str, str]:
    """A strict ``application/x-www-form-urlencoded`` body: repeated names are refused
    (RFC 6749 §3.1), as are bodies that are not UTF-8 or do not parse.

    Raises:
        InputError: ``form.bad_content_type`` or ``form.malformed``.
    """
    if request.content_type != "application/x-www-form-urlencoded":
        raise InputError("the body must be application/x-www-form-urlencoded",
                         code="form.bad_content_type")
    raw = await request.read()
    try:
        pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(raw),
                          errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise InputError("the form body does not parse", code="form.malformed") from None
    form = dict(pairs)
    if len(form) != len(pairs):
        raise InputError("a parameter appears more than once", code="form.malformed")
    return form


async def json_body(request: web.Request) -> object:
    """Read and strictly parse a JSON request body (size-capped by the application)."""
    body = await request.read()
    return strictjson.loads(body)


def _logged(request: web.Request, response: web.StreamResponse, code: str = "",
            detail: str = "") -> web.StreamResponse:
    """Log an error answer (status 400 and up) in one line: method, path, status, why.

    Refusals (4xx) are INFO, the service's own failures (5xx) WARNING; the query string is
    left out (it may carry a nonce or a state), and the detail is cut to 300 characters.
    """
    if response.status >= 400:
        why = f"{code}: {detail}" if code else (response.reason or "")
        log.log(logging.WARNING if response.status >= 500 else logging.INFO,
                "%s %s -> %d %s", request.method, request.path, response.status, why[:300])
    return response


Banner = Mapping[str, object] | Callable[[web.Application], Mapping[str, object]]


@dataclass(frozen=True)
class ServeLimits:
    """What a client may hold of a service, and for how long (:func:`serve_forever`)."""

    header_timeout: float = 20.0
    """Seconds to send a request's line and headers, counted from the connection's start or
    from the end of the previous answer; an idle keep-alive connection is closed after the
    same time (aiohttp's ``keepalive_timeout`` covers both)."""
    body_timeout: float = 30.0
    """Seconds to send the whole body (at most :data:`MAX_BODY`) once the headers are in:
    408, and the connection closed."""
    max_connections: int = 512
    """Open connections at once; one more is answered 503 and closed at once."""
    max_line_size: int = 8190
    max_field_size: int = 8190
    lingering_time: float = 1.0
    """Seconds spent reading and discarding a body the answer did not need."""


LIMITS = ServeLimits()
"""The limits every service runs with."""


def _slow_client_middleware(limits: ServeLimits) -> Middleware:
    """Read a body within ``body_timeout`` before any handler runs, and make a client that
    went away one INFO line (innermost, so the error middleware answers the 408)."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            # (a multipart body is streamed by its reader, so it is left to the handler)
            if request.body_exists and not request.content_type.startswith("multipart/"):
                try:
                    async with asyncio.timeout(limits.body_timeout):
                        await request.read()  # kept: the handler's read() returns it
                except TimeoutError:
                    raise web.HTTPRequestTimeout(
                        reason=f"body not received within {limits.body_timeout:g} s") from None
            return await handler(request)
        except ConnectionResetError:  # aiohttp's ClientConnectionResetError too
            # Nobody reads this answer: it ends the request in the one line the error
            # middleware logs ("-> 499 client went away"), without a traceback.
            return web.Response(status=499, reason="client went away")
        except asyncio.CancelledError:
            log.info("%s %s: cancelled, the client went away", request.method, request.path)
            raise

    return middleware


class _CappedSite(web.TCPSite):
    """A TCP site that answers 503 to a connection beyond ``max_connections`` and closes it."""

    def __init__(self, runner: web.AppRunner, host: str, port: int, max_connections: int
                 ) -> None:
        super().__init__(runner, host, port)
        self.max_connections = max_connections

    async def start(self) -> None:
        await web.BaseSite.start(self)
        server = self._runner.server
        assert server is not None
        cap = self.max_connections

        def protocol() -> asyncio.Protocol:
            if len(server.connections) >= cap:
                return _Refuse()
            return server()

        self._server = await asyncio.get_running_loop().create_server(
            protocol, self._host, self._port, backlog=self._backlog)
        sockets = self._server.sockets
        self._bound_port = sockets[0].getsockname()[1] if sockets else self._port


class _Refuse(asyncio.Protocol):
    _ANSWER = (b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\n"
               b"Content-Length: 0\r\nConnection: close\r\n\r\n")

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.WriteTransport)
        transport.write(self._ANSWER)
        transport.close()


def make_runner(app: web.Application, limits: ServeLimits | None = None) -> web.AppRunner:
    """The runner of every service: ``app`` with the slow-client middleware and ``limits``
    (default :data:`LIMITS`)."""
    limits = limits or LIMITS
    app.middlewares.append(_slow_client_middleware(limits))
    return web.AppRunner(app, access_log=None, keepalive_timeout=limits.header_timeout,
                         max_line_size=limits.max_line_size,
                         max_field_size=limits.max_field_size,
                         lingering_time=limits.lingering_time)


async def start_site(runner: web.AppRunner, host: str, port: int,
                     limits: ServeLimits | None = None) -> int:
    """Listen on ``host:port`` (0: any free port) with the connection cap; the bound port."""
    site = _CappedSite(runner, host, port, (limits or LIMITS).max_connections)
    await site.start()
    return site.port


async def serve_forever(app: web.Application, host: str, port: int, banner: Banner) -> None:
    """Serve ``app`` and print a JSON banner with its ``url`` on stdout once it listens
    (scripts and tests wait for that line rather than for a port to open). A callable banner
    is asked once the app has started, for what only its resources know (a node's height).
    Slow and vanishing clients are bounded by :data:`LIMITS`."""
    runner = make_runner(app)
    await runner.setup()
    await start_site(runner, host, port)
    if callable(banner):
        banner = banner(app)
    url = f"http://{host}:{port}"
    log.info("listening on %s: %s", url, ", ".join(f"{k} {v}" for k, v in banner.items()))
    print(json.dumps({**banner, "url": url}, indent=2, ensure_ascii=False))
    sys.stdout.flush()
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


def log_to_stderr(*, service: bool) -> None:
    """How every command logs: a service at INFO with times (its start and every failed
    request, see :func:`serve_forever`), any other command only its warnings."""
    logging.basicConfig(level=logging.INFO if service else logging.WARNING,
                        format=("%(asctime)s " if service else "")
                        + "%(levelname)s %(name)s: %(message)s")


def serve(app: web.Application, host: str, port: int, banner: Banner) -> None:
    """Run a service until it is stopped: logging set up, then :func:`serve_forever`."""
    log_to_stderr(service=True)
    asyncio.run(serve_forever(app, host, port, banner))


OAuthHook = Callable[[web.Request, SsiError, dict[str, object], dict[str, str]], None]

StatusTable = Mapping[str | type[SsiError], int]
"""A service's HTTP statuses, at its edge: an error's exact ``code``, or an error class (the
most specific class in the table wins); anything else is 400. Domain errors carry no status."""


def status_for(exc: SsiError, statuses: StatusTable, default: int = 400) -> int:
    """The status ``statuses`` gives ``exc`` (see :data:`StatusTable`)."""
    if exc.code in statuses:
        return statuses[exc.code]
    for cls in type(exc).__mro__:
        if cls in statuses:
            return statuses[cls]
    return default


def _ascii(text: str) -> str:
    """OAuth error descriptions are limited to printable ASCII without ``"`` and ``\\``."""
    return "".join(c if 0x20 <= ord(c) <= 0x7E and c not in '"\\' else "?" for c in text)


def error_middleware(statuses: StatusTable, *, oauth_paths: frozenset[str] = frozenset(),
                     oauth_error: Callable[[web.Request, SsiError], str] | None = None,
                     extend: OAuthHook | None = None) -> Middleware:
    """The one error middleware of every service: failures become JSON, never a traceback.

    A project error answers ``{"error": code, "detail": …}`` with the status ``statuses``
    gives it; on ``oauth_paths`` (OAuth-style protocol endpoints a wallet reads) it is
    ``{"error": <OAuth error>, "error_description": …, "code": <Keten code>}`` instead
    (``oauth_error`` picks the OAuth string, default ``invalid_request``). ``extend`` may add
    members or headers (refused claims, ``WWW-Authenticate``). An aiohttp HTTP exception gets
    the same shape with an ``http.*`` code. Error answers are never cached and are logged in
    one line; anything unexpected is an opaque, logged 500.
    """

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        oauth = request.path in oauth_paths
        headers = {"Cache-Control": "no-store"}
        try:
            return _logged(request, await handler(request))
        except SsiError as exc:
            body: dict[str, object]
            if oauth:
                error = oauth_error(request, exc) if oauth_error else "invalid_request"
                body = {"error": error, "error_description": _ascii(exc.detail),
                        "code": exc.code}
            else:
                body = dict(exc.to_json())
            if extend is not None:
                extend(request, exc, body, headers)
            answer = web.json_response(body, status=status_for(exc, statuses), headers=headers)
            return _logged(request, answer, exc.code, exc.detail)
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            code = _HTTP_CODES.get(exc.status, f"http.{exc.status}")
            body = ({"error": "invalid_request", "error_description": exc.reason, "code": code}
                    if oauth else {"error": code, "detail": exc.reason})
            return _logged(request, web.json_response(body, status=exc.status,
                                                      headers=headers), code, exc.reason)
        except Exception:
            log.exception("unhandled error on %s %s", request.method, request.path)
            return error_response("internal", "internal error", 500)

    return middleware


CleanupContext = Callable[[web.Application], contextlib.AbstractAsyncContextManager[None]]


def every(seconds: float, step: Callable[[web.Application], Awaitable[None]], *,
          at_start: bool) -> CleanupContext:
    """A ``cleanup_ctx`` entry running ``step(app)`` every ``seconds`` while the app runs.

    ``step`` is expected to log its own failures; one that raises anyway is logged here and
    the loop goes on, since a background chore must never stop the service.
    """

    @contextlib.asynccontextmanager
    async def context(app: web.Application) -> AsyncIterator[None]:
        async def loop() -> None:
            if not at_start:
                await asyncio.sleep(seconds)
            while True:
                try:
                    await step(app)
                except Exception:  # logged and retried at the next round
                    log.exception("background task %s failed", step.__name__)
                await asyncio.sleep(seconds)

        task = asyncio.create_task(loop())
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    return context
