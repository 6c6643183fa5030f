"""Request budgets: token buckets per client and overall, answered 429 with ``Retry-After``.

A :class:`Budget` holds one bucket per client key (the peer's address by default) and one
for everybody; a request takes a token from both or from neither. Buckets refill at
``per_second`` up to ``burst``. Memory is bounded: a client whose bucket has refilled is
forgotten (it would start full anyway), and past ``max_clients`` the least recently seen
client is dropped. The clock is injectable (monotonic seconds).

:func:`budget_middleware` applies budgets per route (method and route pattern) before the
handler runs, so before any body is read: a refused request costs a dictionary look-up and
answers ``{"error": "http.rate_limited", ...}`` with status 429 and ``Retry-After`` (whole
seconds, at least 1). It never trusts ``X-Forwarded-For``; a deployment behind a proxy
passes its own ``key``.
"""

from __future__ import annotations

import logging
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from aiohttp import web
from aiohttp.typedefs import Middleware

from ssiwallet.infra.web import Handler, error_response

__all__ = ["Budget", "Rate", "RouteBudgets", "budget_middleware", "peer_key"]

log = logging.getLogger(__name__)

Clock = Callable[[], float]


@dataclass(frozen=True)
class Rate:
    """``per_second`` tokens a second, at most ``burst`` saved up."""

    per_second: float
    burst: float

    def __post_init__(self) -> None:
        if not (self.per_second > 0 and self.burst >= 1):
            raise ValueError(f"bad rate: {self.per_second}/s, burst {self.burst}")


class _Bucket:
    __slots__ = ("stamp", "tokens")

    def __init__(self, tokens: float, stamp: float) -> None:
        self.tokens, self.stamp = tokens, stamp

    def refill(self, rate: Rate, now: float) -> None:
        self.tokens = min(rate.burst, self.tokens + (now - self.stamp) * rate.per_second)
        self.stamp = now

    def wait(self, rate: Rate) -> float:
        """Seconds until one token is there (0 if it is)."""
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / rate.per_second


class Budget:
    """Token buckets per client key and overall (``overall=None``: per client only)."""

    def __init__(self, per_client: Rate, overall: Rate | None = None, *,
                 clock: Clock = time.monotonic, max_clients: int = 10_000) -> None:
        if max_clients < 1:
            raise ValueError("max_clients must be at least 1")
        self.per_client, self.overall = per_client, overall
        self.clock, self.max_clients = clock, max_clients
        self._clients: OrderedDict[str, _Bucket] = OrderedDict()  # least recently seen first
        self._all = _Bucket(overall.burst, clock()) if overall is not None else None

    def __len__(self) -> int:
        """The number of clients tracked."""
        return len(self._clients)

    def _evict(self, now: float) -> None:
        full_after = self.per_client.burst / self.per_client.per_second
        while self._clients:
            key, oldest = next(iter(self._clients.items()))
            if now - oldest.stamp < full_after and len(self._clients) <= self.max_clients:
                break
            del self._clients[key]

    def take(self, key: str) -> float:
        """Take a token for ``key``: 0.0 if granted, else the seconds to wait (none taken)."""
        now = self.clock()
        bucket = self._clients.get(key)
        if bucket is None:
            bucket = self._clients[key] = _Bucket(self.per_client.burst, now)
        else:
            self._clients.move_to_end(key)
            bucket.refill(self.per_client, now)
        self._evict(now)
        wait = bucket.wait(self.per_client)
        if self._all is not None and self.overall is not None:
            self._all.refill(self.overall, now)
            wait = max(wait, self._all.wait(self.overall))
        if wait > 0:
            return wait
        bucket.tokens -= 1
        if self._all is not None:
            self._all.tokens -= 1
        return 0.0


RouteBudgets = Mapping[tuple[str, str], Budget]
"""(method, route pattern as registered, e.g. ``("POST", "/sessions")``) → its budget."""


def peer_key(request: web.Request) -> str:
    """The connected peer's address (never a forwarded-for header)."""
    return request.remote or "unknown"


def budget_middleware(budgets: RouteBudgets, *,
                      key: Callable[[web.Request], str] = peer_key) -> Middleware:
    """Refuse a request over its route's budget with 429 and ``Retry-After`` before its
    handler (and so its body) runs; put it first in an application's middlewares."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        resource = request.match_info.route.resource
        budget = budgets.get((request.method, resource.canonical)) if resource else None
        if budget is not None:
            wait = budget.take(key(request))
            if wait > 0:
                seconds = max(1, math.ceil(wait))
                log.info("%s %s -> 429 http.rate_limited", request.method, request.path)
                answer = error_response("http.rate_limited",
                                        f"too many requests; retry after {seconds} s", 429)
                answer.headers["Retry-After"] = str(seconds)
                answer.headers["Cache-Control"] = "no-store"
                return answer
        return await handler(request)

    return middleware
