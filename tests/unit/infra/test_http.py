"""ssiwallet.infra.http: the one way every Keten part makes an HTTP request.

Against a real aiohttp server on 127.0.0.1: bodies are read whole however they arrive,
bounded with and without ``Content-Length``, redirects are answers (not followed), a silent
server is a timeout; and the wallet's :class:`AddressPolicy` refuses loopback, private and
link-local addresses in every spelling before a connection is made.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web
from pytest_aiohttp import AiohttpServer

from ssiwallet.infra.http import (
    AddressPolicy,
    AddressRefusedError,
    Http,
    MockTransport,
    Request,
    Response,
    TooLargeError,
    UnreachableError,
)

CHUNK = b"0123456789abcdef" * 64  # 1 KiB
CHUNKS = 300


class Served:
    """A test server and the paths it was asked for."""

    def __init__(self, url: str, port: int, seen: list[str], release: asyncio.Event) -> None:
        self.url, self.port, self.seen, self.release = url, port, seen, release


@pytest_asyncio.fixture
async def served(aiohttp_server: AiohttpServer) -> AsyncIterator[Served]:
    seen: list[str] = []
    release = asyncio.Event()

    @web.middleware
    async def record(request: web.Request, handler: Callable[..., Any]) -> web.StreamResponse:
        seen.append(request.path)
        response: web.StreamResponse = await handler(request)
        return response

    async def trickle(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        for i in range(CHUNKS):
            await resp.write(CHUNK)
            if i % 10 == 0:
                await asyncio.sleep(0.005)  # the client sees the body in many pieces
        await resp.write_eof()
        return resp

    async def sized(request: web.Request) -> web.Response:
        return web.Response(body=b"x" * int(request.query["n"]))

    async def redirect(_: web.Request) -> web.Response:
        raise web.HTTPFound("/target")

    async def target(_: web.Request) -> web.Response:
        return web.Response(text="followed")

    async def silent(_: web.Request) -> web.Response:
        await release.wait()
        return web.Response(text="late")

    async def echo(request: web.Request) -> web.Response:
        return web.json_response({"method": request.method, "body": await request.text(),
                                  "type": request.content_type})

    app = web.Application(middlewares=[record])
    app.router.add_get("/trickle", trickle)
    app.router.add_get("/sized", sized)
    app.router.add_get("/redirect", redirect)
    app.router.add_get("/target", target)
    app.router.add_get("/silent", silent)
    app.router.add_get("/", target)
    app.router.add_post("/echo", echo)
    server = await aiohttp_server(app)
    assert server.port is not None
    try:
        yield Served(f"http://127.0.0.1:{server.port}", server.port, seen, release)
    finally:
        release.set()


# --- the real transport ------------------------------------------------------------------


@pytest.mark.asyncio
async def test_a_body_streamed_in_many_small_pieces_is_read_whole(served: Served) -> None:
    async with Http() as http:
        resp = await http.get(served.url + "/trickle", max_bytes=CHUNKS * len(CHUNK))
    assert resp.status == 200
    assert resp.body == CHUNK * CHUNKS


@pytest.mark.asyncio
@pytest.mark.parametrize("path", ["/sized?n=5000", "/trickle"],
                         ids=["content_length", "chunked_without_length"])
async def test_a_body_over_max_bytes_is_refused(served: Served, path: str) -> None:
    async with Http() as http:
        with pytest.raises(TooLargeError) as exc:
            await http.get(served.url + path, max_bytes=4096)
    assert exc.value.code == "http.too_large"


@pytest.mark.asyncio
async def test_a_body_of_exactly_max_bytes_is_accepted(served: Served) -> None:
    async with Http() as http:
        assert (await http.get(served.url + "/sized?n=4096", max_bytes=4096)).body == \
            b"x" * 4096


@pytest.mark.asyncio
async def test_a_redirect_is_returned_not_followed(served: Served) -> None:
    async with Http() as http:
        resp = await http.get(served.url + "/redirect")
    assert resp.status == 302
    assert resp.headers["location"] == "/target"
    assert served.seen == ["/redirect"]


@pytest.mark.asyncio
async def test_a_server_that_does_not_answer_in_time_is_unreachable(served: Served) -> None:
    async with Http() as http:
        with pytest.raises(UnreachableError) as exc:
            await http.get(served.url + "/silent", timeout=0.2)
    assert "no answer within" in exc.value.detail


@pytest.mark.asyncio
async def test_a_closed_port_is_unreachable(unused_tcp_port: int) -> None:
    async with Http() as http:
        with pytest.raises(UnreachableError, match="cannot connect"):
            await http.get(f"http://127.0.0.1:{unused_tcp_port}/")


@pytest.mark.asyncio
async def test_post_sends_the_body_and_its_type(served: Served) -> None:
    async with Http() as http:
        resp = await http.post(served.url + "/echo", b"a=1", content_type="text/plain")
    assert resp.content_type == "application/json"
    assert resp.json_object("echo") == {"method": "POST", "body": "a=1", "type": "text/plain"}


# --- the mock transport ------------------------------------------------------------------


@pytest.mark.asyncio
async def test_mock_transport_answers_and_records_requests() -> None:
    def handler(request: Request) -> Response:
        return Response(201, b'{"ok":true}', {"content-type": "application/json"}, request.url)

    async def later(request: Request) -> Response:
        return Response(200, b"x" * 100)

    mock = MockTransport(handler)
    async with Http(mock) as http:
        resp = await http.post("https://issuer.example/token", b"code=1",
                               content_type="application/x-www-form-urlencoded")
    assert (resp.status, resp.json_object("token")) == (201, {"ok": True})
    (sent,) = mock.requests
    assert (sent.method, sent.url, sent.body) == ("POST", "https://issuer.example/token",
                                                  b"code=1")
    assert sent.headers["Content-Type"] == "application/x-www-form-urlencoded"
    http = Http(MockTransport(later))
    assert (await http.get("https://x.example/")).body == b"x" * 100
    with pytest.raises(TooLargeError):  # the bounds apply to a mock's answers too
        await http.get("https://x.example/", max_bytes=99)


# --- the address policy ------------------------------------------------------------------

REFUSED = ["0x7f000001", "0x7f.1", "017700000001", "127.1", "127.0.0.1", "0xa9fea9fe",
           "[::ffff:127.0.0.1]", "[::1]", "169.254.169.254", "10.0.0.1", "192.168.1.1",
           "172.16.0.1", "100.64.0.1", "0.0.0.0", "[fe80::1]", "[fc00::1]", "224.0.0.1",
           "localhost", "printer.localhost"]


@pytest.mark.parametrize("host", REFUSED)
def test_the_default_policy_refuses_local_addresses_in_any_spelling(host: str) -> None:
    with pytest.raises(AddressRefusedError) as exc:
        AddressPolicy().judge_url(f"https://{host}/x")
    assert exc.value.code == "http.address_refused"


@pytest.mark.parametrize("host", ["93.184.215.14", "[2606:2800:21f:cb07:6820:80da:af6b:8b2c]",
                                  "issuer.example"])
def test_the_default_policy_admits_public_addresses_and_leaves_names_to_the_resolver(
        host: str) -> None:
    AddressPolicy().judge_url(f"https://{host}/x")


@pytest.mark.parametrize("host", ["127.0.0.1", "127.1", "0x7f.1", "[::1]", "localhost"])
def test_allow_loopback_admits_loopback(host: str) -> None:
    AddressPolicy(allow_loopback=True).judge_url(f"http://{host}:8080/")


@pytest.mark.parametrize("host", ["10.0.0.1", "169.254.169.254", "0xa9fea9fe", "192.168.0.1",
                                  "[::ffff:10.0.0.1]"])
def test_allow_loopback_still_refuses_private_and_link_local(host: str) -> None:
    with pytest.raises(AddressRefusedError):
        AddressPolicy(allow_loopback=True).judge_url(f"http://{host}/")


@pytest.mark.asyncio
@pytest.mark.parametrize("host", ["0x7f.1", "127.1", "017700000001", "[::ffff:127.0.0.1]"])
async def test_a_guarded_request_to_a_loopback_spelling_makes_no_connection(
        served: Served, host: str) -> None:
    async with Http(policy=AddressPolicy()) as http:
        with pytest.raises(AddressRefusedError):
            await http.get(f"http://{host}:{served.port}/")
    assert served.seen == []


@pytest.fixture
def intranet_name(monkeypatch: pytest.MonkeyPatch) -> str:
    """A DNS name (not an address literal) that resolves to 127.0.0.1."""
    name, real = "intranet.keten.example", socket.getaddrinfo

    def resolve(host: Any, *args: Any, **kwargs: Any) -> Any:
        return real("127.0.0.1" if host == name else host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    return name


@pytest.mark.asyncio
async def test_a_name_that_resolves_to_loopback_is_judged_by_its_address(
        served: Served, intranet_name: str) -> None:
    url = f"http://{intranet_name}:{served.port}/"
    AddressPolicy().judge_url(url)  # the name alone says nothing
    async with Http(policy=AddressPolicy()) as http:
        with pytest.raises(AddressRefusedError, match="no public address"):
            await http.get(url)
    assert served.seen == []
    async with Http(policy=AddressPolicy(allow_loopback=True)) as http:
        assert (await http.get(url)).body == b"followed"
    assert served.seen == ["/"]


@pytest.mark.asyncio
async def test_allow_loopback_connects_to_the_loopback_server(served: Served) -> None:
    async with Http(policy=AddressPolicy(allow_loopback=True)) as http:
        resp = await http.get(f"http://127.0.0.1:{served.port}/redirect")
    assert resp.status == 302
    async with Http(policy=AddressPolicy(allow_loopback=True)) as http:
        with pytest.raises(AddressRefusedError):
            await http.get("http://10.0.0.1/")
