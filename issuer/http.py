"""The issuer's HTTP service: OpenID4VCI endpoints, the clerk's admin API and desk page.

Protocol endpoints answer errors the way OpenID4VCI and OAuth require: ``error`` holds the
protocol's error string (``invalid_grant``, ``invalid_proof`` …) and ``error_description`` a
sentence; Keten's stable ``code`` is added beside them. The admin API uses the project's
shape, ``{"error": code, "detail": …}`` (plus ``problems`` for refused claims).
"""

from __future__ import annotations

import hmac
import logging

from aiohttp import web

from issuer.context import ISSUER, IssuerContext
from issuer.errors import (
    AccessError,
    AdminAuthError,
    ConflictError,
    IssuerError,
    NotFoundError,
    RegistryLinkError,
    RegistryRefusedError,
)
from issuer.metadata import authorization_server_metadata, credential_issuer_metadata
from registry.client.types import RELAYED_STATUSES
from ssiwallet.core.credtypes import InvalidClaimsError
from ssiwallet.errors import CredentialTypeError, InputError, SsiError
from ssiwallet.infra.web import (
    StatusTable,
    form_body,
    json_body,
    json_response,
)
from ssiwallet.infra.web import error_middleware as make_error_middleware

__all__ = ["STATUSES", "add_routes", "error_middleware", "require_admin"]

log = logging.getLogger(__name__)

OAUTH_PATHS = frozenset({"/token", "/credential", "/nonce"})
_NO_STORE = {"Cache-Control": "no-store"}


STATUSES: StatusTable = {
    AccessError: 401, AdminAuthError: 401, NotFoundError: 404, ConflictError: 409,
    RegistryLinkError: 502, RegistryRefusedError: 400, CredentialTypeError: 422,
    **RELAYED_STATUSES,
}
"""The issuer's HTTP status for each error class (anything else is 400: the request's fault)."""


def _oauth_error(request: web.Request, exc: SsiError) -> str:
    """The OAuth error string; ``/credential`` has its own for a malformed request."""
    oauth = exc.oauth if isinstance(exc, IssuerError) else "invalid_request"
    if request.path == "/credential" and oauth == "invalid_request" and not isinstance(
            exc, AccessError):
        return "invalid_credential_request"
    return oauth


def _extend(_: web.Request, exc: SsiError, body: dict[str, object],
            headers: dict[str, str]) -> None:
    if isinstance(exc, InvalidClaimsError):
        body["problems"] = exc.problems
    if isinstance(exc, AccessError):
        headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'


error_middleware = make_error_middleware(STATUSES, oauth_paths=OAUTH_PATHS,
                                         oauth_error=_oauth_error, extend=_extend)


# ---------------------------------------------------------------------------- protocol


async def issuer_metadata(request: web.Request) -> web.Response:
    return json_response(credential_issuer_metadata(request.app[ISSUER].config))


async def as_metadata(request: web.Request) -> web.Response:
    return json_response(authorization_server_metadata(request.app[ISSUER].config))


async def token(request: web.Request) -> web.Response:
    ctx = request.app[ISSUER]
    answer = ctx.desk.token(await form_body(request), now=ctx.clock())
    return web.json_response(answer, headers=_NO_STORE)


async def nonce(request: web.Request) -> web.Response:
    ctx = request.app[ISSUER]
    return web.json_response({"c_nonce": ctx.issuance.nonces.issue(ctx.clock())},
                             headers=_NO_STORE)


async def credential(request: web.Request) -> web.Response:
    ctx = request.app[ISSUER]
    authorization = request.headers.get("Authorization")
    ctx.desk.redeem(authorization, now=ctx.clock())  # 401 before the body is even read
    if request.content_type != "application/json":
        raise IssuerError("the credential request must be application/json",
                          code="issuer.bad_content_type")
    try:
        body = await json_body(request)
    except InputError as exc:
        raise IssuerError(exc.detail, code=exc.code) from None
    answer = await ctx.issuance.credential(authorization, body, now=ctx.clock())
    return web.json_response(answer, headers=_NO_STORE)


async def health(request: web.Request) -> web.Response:
    ctx = request.app[ISSUER]
    vcts = [c.vct for c in ctx.config.profile.credentials]
    readiness = await ctx.link.readiness(vcts, ctx.clock())
    return json_response({"status": "ok", "profile": ctx.config.profile.name,
                          "issuer": ctx.config.public_url, **readiness,
                          **ctx.store.counts()})


# ---------------------------------------------------------------------------- admin API


def require_admin(request: web.Request) -> IssuerContext:
    """The context, if the request carries the admin bearer token (constant-time check)."""
    ctx = request.app[ISSUER]
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
            given.strip().encode(), ctx.config.admin_token.encode()):
        raise AdminAuthError("the admin API needs the clerk's bearer token")
    return ctx


async def admin_create_offer(request: web.Request) -> web.Response:
    ctx = require_admin(request)
    body = await json_body(request)
    if not isinstance(body, dict):
        raise IssuerError("the body must be a JSON object", code="issuer.bad_request")
    created = await ctx.create_offer(body.get("credential_configuration_id"),
                                     body.get("claims"))
    return json_response(created.to_json(), status=201)


async def admin_offer(request: web.Request) -> web.Response:
    ctx = require_admin(request)
    return json_response(ctx.desk.offer_status(request.match_info["id"]))


async def admin_credentials(request: web.Request) -> web.Response:
    ctx = require_admin(request)
    try:
        limit = min(max(int(request.query.get("limit", "100")), 1), 1000)
        offset = max(int(request.query.get("offset", "0")), 0)
    except ValueError:
        raise IssuerError("limit and offset are integers", code="issuer.bad_request") from None
    records = ctx.store.credentials(limit, offset)
    return json_response({"credentials": [r.to_json() for r in records]})


async def admin_set_status(request: web.Request) -> web.Response:
    ctx = require_admin(request)
    body = await json_body(request)
    status = body.get("status") if isinstance(body, dict) else None
    record = await ctx.issuance.set_status(request.match_info["id"], status, now=ctx.clock())
    return json_response(record.to_json())


def add_routes(router: web.UrlDispatcher) -> None:
    """The protocol endpoints and the admin API (the desk adds its own pages)."""
    router.add_get("/.well-known/openid-credential-issuer", issuer_metadata)
    router.add_get("/.well-known/oauth-authorization-server", as_metadata)
    router.add_post("/token", token)
    router.add_post("/nonce", nonce)
    router.add_post("/credential", credential)
    router.add_get("/health", health)
    router.add_post("/admin/offers", admin_create_offer)
    router.add_get("/admin/offers/{id}", admin_offer)
    router.add_get("/admin/credentials", admin_credentials)
    router.add_post("/admin/credentials/{id}/status", admin_set_status)
