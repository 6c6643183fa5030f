"""The issuer's aiohttp application: built from its configuration, owning its resources.

``create_app(config)`` is all a caller needs (``ssi-issuer serve``, tests, benchmarks): the
database and the registry client are opened when the app starts and closed when it stops,
in one ``cleanup_ctx``, so nobody has to build a context first or remember to close it.
Tests hand in a clock and an HTTP transport instead of monkeypatching.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

from aiohttp import web

from issuer import desk
from issuer import http as routes
from issuer.config import IssuerConfig
from issuer.context import ISSUER, IssuerContext
from issuer.issuance import Nonces
from issuer.registry_link import RegistryLink
from issuer.store import IssuerStore
from registry.client import RegistryClient, TrustPolicy
from ssiwallet.infra.budget import Budget, Rate, budget_middleware
from ssiwallet.infra.clock import Clock, system_clock
from ssiwallet.infra.http import Transport
from ssiwallet.infra.web import MAX_BODY, every

__all__ = ["create_app"]

SWEEP_SECONDS = 60


def _resources(config: IssuerConfig, clock: Clock, transport: Transport | None,
               nonces: Nonces | None
               ) -> Callable[[web.Application], AsyncIterator[None]]:
    async def context(app: web.Application) -> AsyncIterator[None]:
        store = IssuerStore(config.database)
        client = RegistryClient(config.registry_url, transport=transport, clock=clock,
                                policy=TrustPolicy(genesis_hash=config.genesis_hash))
        try:
            link = RegistryLink(client, config.key_file)
            app[ISSUER] = IssuerContext.build(config, store, link, clock, nonces)
            yield
        finally:
            await client.close()
            store.close()

    return context


async def _expire_offers(app: web.Application) -> None:
    """Forget the claims of expired offers (once a minute, and once at start)."""
    ctx = app[ISSUER]
    ctx.store.expire_offers(ctx.clock())


def budgets() -> dict[tuple[str, str], Budget]:
    """Fresh budgets for the writes a wallet or a sign-in makes: per peer address and overall
    (429 beyond)."""
    def protocol() -> Budget:
        return Budget(Rate(10, 60), Rate(100, 300))

    return {("POST", "/nonce"): protocol(), ("POST", "/token"): protocol(),
            ("POST", "/credential"): protocol(), ("POST", "/admin/offers"): protocol(),
            ("POST", "/desk/login"): Budget(Rate(2, 10), Rate(20, 40))}


def create_app(config: IssuerConfig, *, clock: Clock = system_clock,
               transport: Transport | None = None,
               nonces: Nonces | None = None) -> web.Application:
    """The aiohttp application of one configured issuer (see the module docstring)."""
    app = web.Application(client_max_size=MAX_BODY,
                          middlewares=[budget_middleware(budgets()), routes.error_middleware])
    app.cleanup_ctx.append(_resources(config, clock, transport, nonces))
    app.cleanup_ctx.append(every(SWEEP_SECONDS, _expire_offers, at_start=True))
    routes.add_routes(app.router)
    desk.add_routes(app.router)
    return app
