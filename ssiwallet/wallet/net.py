"""The wallet's connections: the registry it trusts and the endpoints it agrees to call.

A link scanned from a QR code makes the wallet fetch a URL. So that a link cannot aim the
wallet at the person's own network (a router page, a cloud metadata address), the wallet
only calls ``https`` endpoints on hosts that are not literal private, loopback or
link-local addresses; plain ``http`` and loopback hosts are allowed only when the wallet's
registry itself is on loopback, i.e. a development or demo setup on one machine. Every
call is bounded in size and time and follows no redirect (see :mod:`ssiwallet.holder`), and
goes through an :class:`~ssiwallet.infra.http.AddressPolicy` that judges the address
actually connected to (a name that resolves to a private address, ``0x7f.1`` …).
"""

from __future__ import annotations

import ipaddress
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

import aiohttp

from registry.client.client import RegistryClient, TrustPolicy
from registry.client.wait import cosigned_checkpoint
from ssiwallet.errors import WalletError
from ssiwallet.infra.http import AddressPolicy, Http

__all__ = ["Online", "check_endpoint", "is_loopback_url", "online"]


def _host_ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def is_loopback_url(url: str) -> bool:
    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:  # not a URL at all: certainly not one on loopback
        return False
    ip = _host_ip(host)
    return host == "localhost" or (ip is not None and ip.is_loopback)


def check_endpoint(url: str, *, dev: bool, what: str) -> str:
    """Refuse an endpoint the wallet should not call (see the module docstring).

    Raises:
        WalletError: ``wallet.endpoint_refused``.
    """
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
    except ValueError:
        raise WalletError(f"the wallet does not call {what} at {url[:200]!r}: it is not a URL",
                          code="wallet.endpoint_refused") from None
    ip = _host_ip(host)
    local = host == "localhost" or host.endswith(".localhost") or (
        ip is not None and not ip.is_global)
    if dev and parts.scheme in ("http", "https") and (is_loopback_url(url) or not local):
        return url
    if parts.scheme == "https" and host and not local:
        return url
    raise WalletError(f"the wallet does not call {what} at {url!r}: only https to public "
                      "hosts (http on loopback only when the registry is on loopback)",
                      code="wallet.endpoint_refused")


def _tell_waiting(words: str) -> None:
    """The wallet's words while it waits for the witnesses (stderr: not a command's output)."""
    print(words, file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Online:
    """An HTTP session and the registry client for one flow.

    ``http`` is for the endpoints links name (issuers, verifiers): it connects only to
    addresses the wallet's :class:`AddressPolicy` allows. ``session`` is the registry's.
    """

    session: aiohttp.ClientSession
    registry: RegistryClient
    dev: bool
    http: Http


@asynccontextmanager
async def online(registry_url: str, *, genesis_hash: str | None, checkpoints: object,
                 on_genesis: Callable[[str], None],
                 clock: Callable[[], int]) -> AsyncIterator[Online]:
    """Open a session and a registry client that keeps its checkpoint in the wallet.

    A wallet without a pinned genesis trusts the first one it sees and pins it
    (``on_genesis``), so a different registry later is refused. Every flow starts by
    fetching the node's checkpoint: it must carry the genesis' witness quorum and extend
    the one the wallet verified last (a consistency proof), so a node can neither fork nor
    roll back what this wallet has seen.
    """
    dev = is_loopback_url(registry_url)
    async with aiohttp.ClientSession() as session, \
            Http(policy=AddressPolicy(allow_loopback=dev)) as http:
        registry = RegistryClient(registry_url, session=session, clock=clock,
                                  policy=TrustPolicy(genesis_hash=genesis_hash),
                                  checkpoint_store=checkpoints)  # type: ignore[arg-type]
        if genesis_hash is None:
            on_genesis((await registry.genesis()).hash)
        # right after a write the newest checkpoint may still lack the witnesses'
        # cosignatures: wait for them (bounded), saying so, rather than fail the flow
        await cosigned_checkpoint(registry, notice=_tell_waiting)
        yield Online(session, registry, dev, http)
