"""The verifier's aiohttp application: built from its configuration, owning its resources.

``create_app(config)`` opens the registry client when the app starts, reads the verifier's
registration and checks every preset against it (a verifier that would ask more than it is
registered for does not start), follows the registry's checkpoint while it runs, and closes
the client when it stops. Tests hand in a clock and an HTTP transport.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable

from aiohttp import web

from registry.client import RegistryClient, TrustPolicy
from ssiwallet.infra.budget import Budget, Rate, budget_middleware
from ssiwallet.infra.clock import Clock, system_clock
from ssiwallet.infra.http import Transport
from ssiwallet.infra.web import MAX_BODY, every
from verifier import desk
from verifier import http as routes
from verifier.config import VerifierConfig
from verifier.context import VERIFIER
from verifier.errors import VerifierError
from verifier.service import CHECKPOINT_SECONDS, VerifierContext

__all__ = ["create_app"]

log = logging.getLogger(__name__)


def _resources(config: VerifierConfig, clock: Clock, transport: Transport | None
               ) -> Callable[[web.Application], AsyncIterator[None]]:
    async def context(app: web.Application) -> AsyncIterator[None]:
        client = RegistryClient(config.registry_url, transport=transport, clock=clock,
                                policy=TrustPolicy(genesis_hash=config.genesis_hash))
        try:
            ctx = VerifierContext.build(config, client, clock=clock)
            await ctx.prepare()  # refuses presets that ask more than registered
            app[VERIFIER] = ctx
            yield
        finally:
            await client.close()

    return context


async def _follow_checkpoint(app: web.Application) -> None:
    """Follow the registry's checkpoint (see ``VerifierContext.follow_checkpoint``)."""
    try:
        await app[VERIFIER].follow_checkpoint()
    except VerifierError as exc:
        log.warning("registry checkpoint: %s", exc.detail)


def budgets() -> dict[tuple[str, str], Budget]:
    """Fresh budgets for the routes that cost CPU without a sign-in (a session and its QR
    code, a presentation's checks): per peer address and overall (429 beyond)."""
    sessions = Budget(Rate(5, 20), Rate(50, 100))
    return {("POST", "/sessions"): sessions, ("POST", "/desk/start"): sessions,
            ("POST", "/response"): Budget(Rate(10, 20), Rate(100, 200))}


def create_app(config: VerifierConfig, *, clock: Clock = system_clock,
               transport: Transport | None = None) -> web.Application:
    """The aiohttp application of one configured verifier (see the module docstring)."""
    app = web.Application(client_max_size=MAX_BODY,
                          middlewares=[budget_middleware(budgets()), routes.error_middleware])
    app.cleanup_ctx.append(_resources(config, clock, transport))
    app.cleanup_ctx.append(every(CHECKPOINT_SECONDS, _follow_checkpoint, at_start=False))
    routes.add_routes(app.router)
    desk.add_routes(app.router)
    return app
