"""Every outgoing HTTP request of every Keten part, made one way: bounded, no redirects, judged.

:class:`Http` sends a :class:`Request` through a :class:`Transport` and returns a whole
:class:`Response`. The real transport (:class:`AiohttpTransport`) reads the body to its end in
chunks, refusing it as soon as it passes ``max_bytes`` (or when ``Content-Length`` announces
more), within ``timeout`` seconds for the whole exchange, and never follows a redirect. Tests
hand in a :class:`MockTransport` instead of monkeypatching.

An :class:`AddressPolicy` (the wallet's, for links that come from a QR code) judges the
address a request will *actually* connect to: an IP literal in any spelling that the
resolver accepts (``0x7f000001``, ``0x7f.1``, ``017700000001``, ``::ffff:127.0.0.1``) and every
address a DNS name resolves to. The resolver hands aiohttp only the addresses it judged, so
the connection goes where the judgement was made (no second lookup to rebind).
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Protocol, Self
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver

from ssiwallet.core import strictjson
from ssiwallet.errors import SsiError

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_TIMEOUT",
    "AddressPolicy",
    "AddressRefusedError",
    "AiohttpTransport",
    "Http",
    "HttpError",
    "MockTransport",
    "Request",
    "Response",
    "TooLargeError",
    "Transport",
    "Client",
    "UnreachableError",
    "as_http",
    "read_limited",
]

DEFAULT_MAX_BYTES = 1 << 20
DEFAULT_TIMEOUT = 10.0
_CHUNK = 1 << 16

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class HttpError(SsiError):
    """A request that did not produce a usable answer (root of this module's errors)."""

    code = "http.error"


class UnreachableError(HttpError):
    """No answer: refused connection, unknown name, timeout, connection dropped."""

    code = "http.unreachable"


class TooLargeError(HttpError):
    """The answer is larger than the caller accepts."""

    code = "http.too_large"


class AddressRefusedError(HttpError):
    """The URL leads to an address the policy forbids (loopback, private, link-local …)."""

    code = "http.address_refused"


# ---------------------------------------------------------------------------- messages


@dataclass(frozen=True)
class Request:
    """One request as the caller means it; the transport adds nothing but the wire format."""

    method: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes | None = None
    max_bytes: int = DEFAULT_MAX_BYTES
    timeout: float = DEFAULT_TIMEOUT


@dataclass(frozen=True)
class Response:
    """A whole answer: status, headers (lower-case names) and the complete body."""

    status: int
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    url: str = ""

    @property
    def content_type(self) -> str:
        """The media type without parameters, lower case (``""`` if none was sent)."""
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    def json_object(self, what: str) -> dict[str, Any]:
        """The body as one strict JSON object (see :mod:`ssiwallet.core.strictjson`)."""
        return strictjson.loads_object(self.body, what=what, max_bytes=max(len(self.body), 1))


class Transport(Protocol):
    """Sends one request and returns the whole answer, or raises an :class:`HttpError`."""

    async def send(self, request: Request) -> Response: ...

    async def close(self) -> None: ...


# ---------------------------------------------------------------------------- address policy


def _literal_ip(host: str) -> IpAddress | None:
    """The address a host string denotes if it is an IP literal in any accepted spelling.

    ``inet_aton`` accepts the historic forms (hex, octal, one to four parts) that browsers,
    curl and ``getaddrinfo`` all honour; ``ipaddress`` alone accepts only dotted quads.
    """
    bare = host.strip("[]")
    with contextlib.suppress(ValueError):  # not in standard notation: try inet_aton's forms
        return ipaddress.ip_address(bare)
    try:
        return ipaddress.IPv4Address(socket.inet_aton(bare))
    except (OSError, ValueError):
        return None


@dataclass(frozen=True)
class AddressPolicy:
    """Which addresses a request may connect to.

    By default only globally routable unicast addresses. ``allow_loopback`` admits
    127.0.0.0/8 and ::1 (a development setup on one machine), nothing else that is local.
    """

    allow_loopback: bool = False

    def judge(self, address: IpAddress) -> None:
        """Raise :class:`AddressRefusedError` unless a connection to ``address`` is allowed."""
        ip: IpAddress = address
        if isinstance(ip, ipaddress.IPv6Address):
            ip = ip.ipv4_mapped or ip.sixtofour or ip
        if self.allow_loopback and ip.is_loopback:
            return
        if not ip.is_global or ip.is_multicast or ip.is_reserved or ip.is_unspecified:
            raise AddressRefusedError(f"{address} is not a public address")

    def judge_url(self, url: str) -> None:
        """Judge the host of ``url`` when it is an address literal (names: see the resolver)."""
        host = urlsplit(url).hostname or ""
        if host == "localhost" or host.endswith(".localhost"):
            if self.allow_loopback:
                return
            raise AddressRefusedError(f"{host} is not a public host")
        ip = _literal_ip(host)
        if ip is not None:
            self.judge(ip)


class _GuardedResolver(AbstractResolver):
    """Resolves like aiohttp does, then keeps only the addresses the policy allows."""

    def __init__(self, policy: AddressPolicy) -> None:
        self._policy = policy
        self._inner = ThreadedResolver()

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        allowed: list[ResolveResult] = []
        for result in results:
            try:
                self._policy.judge(ipaddress.ip_address(result["host"]))
            except (AddressRefusedError, ValueError):
                continue
            allowed.append(result)
        if not allowed:
            raise AddressRefusedError(f"{host} resolves to no public address")
        return allowed

    async def close(self) -> None:
        await self._inner.close()


# ---------------------------------------------------------------------------- transports


async def read_limited(content: aiohttp.StreamReader, max_bytes: int,
                       content_length: int | None = None) -> bytes:
    """Read a body to its end in chunks; :class:`TooLargeError` past ``max_bytes``.

    ``StreamReader.read(n)`` returns as soon as *some* data is buffered, so a single read
    truncates any body that arrives in more than one piece: always read to EOF.
    """
    if content_length is not None and content_length > max_bytes:
        raise TooLargeError(f"answer of {content_length} bytes is larger than {max_bytes}")
    body = bytearray()
    async for chunk in content.iter_chunked(_CHUNK):
        body += chunk
        if len(body) > max_bytes:
            raise TooLargeError(f"answer is larger than {max_bytes} bytes")
    return bytes(body)


class AiohttpTransport:
    """The real transport: one aiohttp session, no redirects, bodies read to EOF within bounds.

    Without a session it opens (and closes) its own, whose connector resolves names through
    the policy when one is given. A caller-owned session is left open and used as it is.
    """

    def __init__(self, session: aiohttp.ClientSession | None = None, *,
                 policy: AddressPolicy | None = None) -> None:
        self._session = session
        self._own = session is None
        self.policy = policy

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = (aiohttp.TCPConnector(resolver=_GuardedResolver(self.policy))
                         if self.policy is not None else aiohttp.TCPConnector())
            self._session = aiohttp.ClientSession(connector=connector)
        return self._session

    async def send(self, request: Request) -> Response:
        if self.policy is not None:
            self.policy.judge_url(request.url)
        session = self._open()
        try:
            async with session.request(
                    request.method, request.url, data=request.body,
                    headers=dict(request.headers), allow_redirects=False,
                    timeout=aiohttp.ClientTimeout(total=request.timeout)) as resp:
                body = await read_limited(resp.content, request.max_bytes, resp.content_length)
                headers = {k.lower(): v for k, v in resp.headers.items()}
                return Response(resp.status, body, headers, str(resp.url))
        except HttpError:
            raise
        except TimeoutError:
            raise UnreachableError(f"{request.method} {request.url}: no answer within "
                                   f"{request.timeout:g} s") from None
        except aiohttp.ClientConnectorError as exc:
            if isinstance(exc.os_error, AddressRefusedError):
                raise AddressRefusedError(f"{request.url}: {exc.os_error.detail}") from None
            raise UnreachableError(f"{request.method} {request.url}: cannot connect "
                                   f"({exc.os_error.strerror or 'refused'})") from None
        except (aiohttp.ClientError, ValueError) as exc:
            raise UnreachableError(f"{request.method} {request.url}: "
                                   f"{type(exc).__name__}") from None

    async def close(self) -> None:
        if self._own and self._session is not None:
            await self._session.close()
            self._session = None  # a caller's session stays in use: its owner closes it


Handler = Callable[[Request], Awaitable[Response] | Response]


class MockTransport:
    """A transport for tests: a function from :class:`Request` to :class:`Response`.

    The bounds still apply, so a handler returning too large a body gets the real error.
    """

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[Request] = []

    async def send(self, request: Request) -> Response:
        self.requests.append(request)
        answer = self.handler(request)
        response = answer if isinstance(answer, Response) else await answer
        if len(response.body) > request.max_bytes:
            raise TooLargeError(f"answer is larger than {request.max_bytes} bytes")
        return response

    async def close(self) -> None:
        return None


# ---------------------------------------------------------------------------- the client


class Http:
    """What callers use: ``await http.get(url, max_bytes=…)``; see the module docstring."""

    def __init__(self, transport: Transport | None = None, *,
                 session: aiohttp.ClientSession | None = None,
                 policy: AddressPolicy | None = None) -> None:
        self.transport: Transport = transport or AiohttpTransport(session, policy=policy)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.close()

    async def close(self) -> None:
        await self.transport.close()

    async def request(self, method: str, url: str, *, body: bytes | None = None,
                      headers: Mapping[str, str] | None = None,
                      max_bytes: int = DEFAULT_MAX_BYTES,
                      timeout: float = DEFAULT_TIMEOUT) -> Response:
        return await self.transport.send(
            Request(method, url, dict(headers or {}), body, max_bytes, timeout))

    async def get(self, url: str, *, headers: Mapping[str, str] | None = None,
                  max_bytes: int = DEFAULT_MAX_BYTES,
                  timeout: float = DEFAULT_TIMEOUT) -> Response:
        return await self.request("GET", url, headers=headers, max_bytes=max_bytes,
                                  timeout=timeout)

    async def post(self, url: str, body: bytes, *, content_type: str,
                   headers: Mapping[str, str] | None = None,
                   max_bytes: int = DEFAULT_MAX_BYTES,
                   timeout: float = DEFAULT_TIMEOUT) -> Response:
        return await self.request("POST", url, body=body,
                                  headers={**(headers or {}), "Content-Type": content_type},
                                  max_bytes=max_bytes, timeout=timeout)


Client = Http | aiohttp.ClientSession
"""What a caller may hand to code that makes requests: an :class:`Http`, or a session."""


def as_http(client: Client) -> Http:
    """``client`` itself, or an :class:`Http` over the caller's session (left open)."""
    return client if isinstance(client, Http) else Http(session=client)
