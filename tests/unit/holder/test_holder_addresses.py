"""Where a scanned link may make the holder connect (``ssiwallet.holder`` with the wallet's
``infra.http.AddressPolicy``), without a network.

A link from a QR code names the URLs the wallet fetches. Outside a development setup, a
host that is a loopback, private or link-local address in any spelling (``0x7f.1``,
``017700000001``, ``[::ffff:127.0.0.1]`` …) is refused with ``http.address_refused`` before
any connection is opened, and the holder passes that refusal on as it is instead of folding
it into "unreachable". The transport used here is the real one with its connection step
replaced by a recorder, so a test sees whether a connection would have been attempted.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, cast
from urllib.parse import quote

import aiohttp
import base58
import pytest

from registry.client import RegistryClient
from ssiwallet.core.keys import Ed25519PrivateKey
from ssiwallet.core.oid4vci import CredentialOffer, TxCode
from ssiwallet.core.oid4vp import (
    build_request_object,
    build_request_uri,
    client_id_for,
    parse_request_object,
)
from ssiwallet.errors import SsiError
from ssiwallet.holder.present import Plan, decline, prepare, send
from ssiwallet.holder.receive import fetch_offer, receive
from ssiwallet.infra.http import (
    AddressPolicy,
    AddressRefusedError,
    AiohttpTransport,
    Http,
    MockTransport,
    Request,
    Response,
    UnreachableError,
)

pytestmark = pytest.mark.asyncio

VERIFIER_DID = "did:keten:" + base58.b58encode(bytes(range(1, 17))).decode()
CLIENT_ID = client_id_for(VERIFIER_DID)
HOSTS = ["0x7f.1", "0x7f000001", "017700000001", "127.1", "[::ffff:127.0.0.1]", "[::1]",
         "10.0.0.1", "192.168.1.1", "169.254.169.254", "localhost", "100.64.0.1"]


class NoNetwork(AiohttpTransport):
    """The real transport (policy included) whose connection step only records the attempt."""

    def __init__(self, policy: AddressPolicy) -> None:
        super().__init__(policy=policy)
        self.connections: list[str] = []

    def _open(self) -> aiohttp.ClientSession:
        self.connections.append("open")
        raise UnreachableError("no network in unit tests")


def wallet_http(*, dev: bool = False) -> tuple[Http, NoNetwork]:
    transport = NoNetwork(AddressPolicy(allow_loopback=dev))
    return Http(transport), transport


def never_called(request: Request) -> Response:
    raise AssertionError(f"the holder made a request to {request.url}")


class NoRegistry:
    """A registry that must not be asked: the refusal comes before any trust question."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the registry was asked {name}")


REGISTRY = cast(RegistryClient, NoRegistry())


async def refused(call: Awaitable[Any], code: str) -> SsiError:
    with pytest.raises(SsiError) as err:
        await call
    assert err.value.code == code, repr(err.value)
    return err.value


# --- the policy refuses before connecting -------------------------------------------------


@pytest.mark.parametrize("host", HOSTS)
async def test_an_offer_uri_on_a_local_address_is_refused_without_connecting(
        host: str) -> None:
    http, transport = wallet_http()
    link = ("openid-credential-offer://?credential_offer_uri="
            + quote(f"https://{host}/offers/1", safe=""))
    err = await refused(fetch_offer(link, http), "http.address_refused")
    assert isinstance(err, AddressRefusedError)
    assert transport.connections == []


@pytest.mark.parametrize("host", ["0x7f.1", "10.0.0.1", "169.254.169.254"])
async def test_an_offer_naming_an_issuer_on_a_local_address_is_refused_without_connecting(
        host: str) -> None:
    http, transport = wallet_http()
    offer = CredentialOffer(f"https://{host}", ("identity",), "code-1", TxCode(length=6))
    await refused(receive(offer, tx_code="123456", session=http, registry=REGISTRY),
                  "http.address_refused")
    assert transport.connections == []


@pytest.mark.parametrize("host", ["0x7f.1", "017700000001", "192.168.1.1"])
async def test_a_request_uri_on_a_local_address_is_refused_without_connecting(
        host: str) -> None:
    http, transport = wallet_http()
    link = build_request_uri(client_id=CLIENT_ID, request_uri=f"https://{host}/request/1")
    await refused(prepare(link, candidates=[], session=http, registry=REGISTRY),
                  "http.address_refused")
    assert transport.connections == []


async def test_in_development_a_loopback_address_is_connected_to() -> None:
    http, transport = wallet_http(dev=True)
    link = ("openid-credential-offer://?credential_offer_uri="
            + quote("https://0x7f.1/offers/1", safe=""))
    await refused(fetch_offer(link, http), "oid4vci.unreachable")
    assert transport.connections == ["open"]
    http, transport = wallet_http(dev=True)
    link = ("openid-credential-offer://?credential_offer_uri="
            + quote("https://10.0.0.1/offers/1", safe=""))
    await refused(fetch_offer(link, http), "http.address_refused")  # private: never
    assert transport.connections == []


async def test_a_public_address_is_connected_to() -> None:
    http, transport = wallet_http()
    link = ("openid-credential-offer://?credential_offer_uri="
            + quote("https://93.184.215.14/offers/1", safe=""))
    await refused(fetch_offer(link, http), "oid4vci.unreachable")
    assert transport.connections == ["open"]


# --- plain http to such a host is not even a valid link -----------------------------------


@pytest.mark.parametrize(("call", "code"), [
    (lambda http: fetch_offer("openid-credential-offer://?credential_offer_uri="
                              + quote("http://0x7f.1/offers/1", safe=""), http),
     "oid4vci.invalid_offer"),
    (lambda http: fetch_offer(CredentialOffer("https://i.example", ("x",), "c", None).to_uri()
                              .replace("https%3A%2F%2Fi.example", "http%3A%2F%2F0x7f.1"), http),
     "oid4vci.invalid_offer"),
    (lambda http: prepare(f"openid4vp://?client_id={quote(CLIENT_ID, safe='')}"
                          f"&request_uri={quote('http://0x7f.1/r', safe='')}",
                          candidates=[], session=http, registry=REGISTRY),
     "oid4vp.bad_uri"),
])
async def test_a_plain_http_link_to_a_disguised_loopback_is_refused_before_any_request(
        call: Callable[[Http], Awaitable[Any]], code: str) -> None:
    transport = MockTransport(never_called)
    await refused(call(Http(transport)), code)
    assert transport.requests == []


# --- a refusal from the transport is passed on, not called "unreachable" -------------------


def refusing(request: Request) -> Response:
    raise AddressRefusedError(f"{request.url}: resolves to no public address")


async def test_fetch_offer_passes_a_refused_address_on() -> None:
    link = ("openid-credential-offer://?credential_offer_uri="
            + quote("https://intranet.example/offers/1", safe=""))
    await refused(fetch_offer(link, Http(MockTransport(refusing))), "http.address_refused")


async def test_receive_passes_a_refused_address_on() -> None:
    offer = CredentialOffer("https://intranet.example", ("identity",), "code-1", None)
    await refused(receive(offer, tx_code=None, session=Http(MockTransport(refusing)),
                          registry=REGISTRY), "http.address_refused")


async def test_prepare_passes_a_refused_address_on() -> None:
    link = build_request_uri(client_id=CLIENT_ID, request_uri="https://intranet.example/r")
    await refused(prepare(link, candidates=[], session=Http(MockTransport(refusing)),
                          registry=REGISTRY), "http.address_refused")


def plan_posting_to(response_uri: str) -> Plan:
    """A plan (nothing to disclose) for a signed request whose response_uri is given."""
    request = parse_request_object(build_request_object(
        client_id=CLIENT_ID, nonce="nonce-0123456789abcdefghij",
        state="state-0123456789abcdefghij", dcql_query={"credentials": [
            {"id": "c", "format": "dc+sd-jwt", "meta": {"vct_values": ["https://v.example"]}}]},
        response_uri=response_uri, now=1_790_000_000, lifetime=300,
        key=Ed25519PrivateKey(bytes([22]) * 32), kid=VERIFIER_DID + "#key-1"))
    return Plan(request, VERIFIER_DID, VERIFIER_DID, {}, False, {}, {}, {}, [], True)


async def test_send_and_decline_pass_a_refused_address_on() -> None:
    plan = plan_posting_to("https://intranet.example/response")
    await refused(send(plan, copies={}, session=Http(MockTransport(refusing)),
                       registry=REGISTRY), "http.address_refused")
    await refused(decline(plan, session=Http(MockTransport(refusing))), "http.address_refused")
