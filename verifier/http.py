"""The verifier's HTTP service: OpenID4VP endpoints, the session API and the desk page.

Routes::

    POST /sessions {"preset"}      a new session: its id, the openid4vp:// link, the QR code
    GET  /sessions/{id}            status and, once answered, the verdict (the desk polls it)
    GET  /request/{request_id}     the signed request object (application/oauth-authz-req+jwt)
    POST /response                 direct_post from the wallet → 200 {"keten_receipt": …}
    GET  /desk, /desk/{session}    the clerk's page (see verifier.desk)
    GET  /health

Errors are JSON ``{"error": code, "detail": …}``; the response endpoint answers like an
OAuth endpoint (``error`` = ``invalid_request``, with Keten's ``code`` beside it), because a
wallet reads it. Nothing a wallet sends can make the service answer 500 or stop.
"""

from __future__ import annotations

import logging

from aiohttp import web

from registry.client.types import RELAYED_STATUSES
from ssiwallet.infra.web import (
    StatusTable,
    form_body,
    json_body,
    json_response,
)
from ssiwallet.infra.web import error_middleware as make_error_middleware
from verifier import desk
from verifier.context import VERIFIER
from verifier.service import SessionError

__all__ = ["STATUSES", "add_routes", "error_middleware"]

log = logging.getLogger(__name__)

REQUEST_TYPE = "application/oauth-authz-req+jwt"


STATUSES: StatusTable = {
    SessionError: 404, "verifier.registry_untrusted": 503, **RELAYED_STATUSES,
}
"""The verifier's HTTP status for each error class (anything else is 400)."""

error_middleware = make_error_middleware(STATUSES, oauth_paths=frozenset({"/response"}))
"""The response endpoint answers like an OAuth endpoint, because a wallet reads it."""


async def create_session(request: web.Request) -> web.Response:
    ctx = request.app[VERIFIER]
    body = await json_body(request)
    preset = body.get("preset") if isinstance(body, dict) else None
    session, uri = ctx.start(preset)
    return json_response({"id": session.id, "preset": session.preset.id, "uri": uri,
                          "expires": session.expires, "qr_svg": desk.qr_svg(uri)}, status=201)


async def get_session(request: web.Request) -> web.Response:
    ctx = request.app[VERIFIER]
    session = ctx.session(request.match_info["id"])
    return web.json_response(desk.session_view(session),
                             headers={"Cache-Control": "no-store"})


async def get_request(request: web.Request) -> web.Response:
    ctx = request.app[VERIFIER]
    token = ctx.request_object(request.match_info["request_id"])
    return web.Response(text=token, content_type=REQUEST_TYPE,
                        headers={"Cache-Control": "no-store"})


async def post_response(request: web.Request) -> web.Response:
    ctx = request.app[VERIFIER]
    answer = await ctx.answer(await form_body(request))
    return web.json_response(answer, headers={"Cache-Control": "no-store"})


async def health(request: web.Request) -> web.Response:
    ctx = request.app[VERIFIER]
    return json_response({"status": "ok", "did": ctx.did, "client_id": ctx.client_id,
                          "presets": [p.id for p in ctx.config.presets],
                          "registered": ctx.registration is not None,
                          "sessions": len(ctx.sessions),
                          "registry_checkpoint": ctx.checkpoint_error or "verified"})


def add_routes(router: web.UrlDispatcher) -> None:
    """The session API and the OpenID4VP endpoints (the desk adds its own pages)."""
    router.add_post("/sessions", create_session)
    router.add_get("/sessions/{id}", get_session)
    router.add_get("/request/{request_id}", get_request)
    router.add_post("/response", post_response)
    router.add_get("/health", health)
