"""The clerk's desk page: a plain HTML form that creates an offer and shows its QR code and PIN.

The form is generated from the credential type (its schema and its Dutch/English labels),
so it can never ask for a claim the type does not have; what the clerk types goes through
the same validation as the admin API, and refused claims come back listed by field.

The desk signs in with the admin token once; the cookie then holds a session sealed under a
key derived from the token (never the token itself), which ends after
:data:`~ssiwallet.infra.csrf.DESK_SESSION_SECONDS` on the server as in the browser.
``SameSite=Strict`` alone does not stop a page on another port of the same host (it is the
same site), so every form that changes something (sign in, sign out, an offer, a status)
carries the CSRF token of the browser's desk cookie and must come from the issuer's own
origin (:mod:`ssiwallet.infra.csrf`); otherwise it is refused with 403 ``issuer.csrf`` before
anything happens. Revoking cannot be undone, so its form carries a confirmation box that the
clerk ticks; without it the desk refuses with ``issuer.confirm_required``.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator, Mapping, Sequence
from html import escape
from typing import Any

import segno
from aiohttp import web

from issuer.context import ISSUER, IssuerContext
from issuer.errors import AdminAuthError
from issuer.issuance import STATUS_VALUES
from issuer.offers import CreatedOffer
from ssiwallet.core.credtype_schemas import VCT_IDENTITY
from ssiwallet.core.credtypes import CredentialType, InvalidClaimsError, Problem
from ssiwallet.errors import SsiError
from ssiwallet.infra.csrf import (
    csrf_token,
    new_anchor,
    open_session,
    same_origin,
    seal_session,
    set_desk_cookie,
    token_matches,
)

__all__ = ["add_routes", "claims_from_form"]

COOKIE = "keten_desk"
LOGIN_COOKIE = "keten_desk_login"
"""Before sign-in, the random value the login form's CSRF token is bound to."""
LOGIN_SECONDS = 3600
_STYLE = """
body{font-family:system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;
color:#1b1b1b}h1{font-size:1.4rem}fieldset{border:1px solid #bbb;margin:.6rem 0}
label{display:block;margin:.5rem 0}input,select{font-size:1rem;padding:.2rem;min-width:18rem}
.problems{background:#fde8e8;border-left:4px solid #c00;padding:.5rem 1rem}
.pin{font-size:2rem;letter-spacing:.3rem;font-weight:bold}table{border-collapse:collapse}
td,th{border-bottom:1px solid #ddd;padding:.3rem .6rem;text-align:left}
.link{word-break:break-all;font-size:.8rem}button{font-size:1rem;padding:.3rem .8rem}
"""


def _page(title: str, body: str, status: int = 200) -> web.Response:
    html = (f"<!doctype html><html lang='nl'><head><meta charset='utf-8'>"
            f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
            f"<body><h1>{escape(title)}</h1>{body}</body></html>")
    return web.Response(text=html, content_type="text/html", status=status,
                        headers={"Cache-Control": "no-store"})


def _key(ctx: IssuerContext) -> bytes:
    return ctx.desk_session().encode()


def _signed_in(request: web.Request) -> bool:
    ctx = request.app[ISSUER]
    return open_session(_key(ctx), request.cookies.get(COOKIE), ctx.clock())


def _csrf_field(ctx: IssuerContext, anchor: str) -> str:
    return f"<input type='hidden' name='csrf' value='{csrf_token(_key(ctx), anchor)}'>"


def _session_field(request: web.Request) -> str:
    """The hidden CSRF field of a signed-in clerk's forms."""
    return _csrf_field(request.app[ISSUER], request.cookies.get(COOKIE, ""))


def _refuse(request: web.Request, code: str, detail: str, status: int) -> web.Response:
    """A refused desk action: a page for a browser, the project's JSON error otherwise."""
    if "text/html" in request.headers.get("Accept", ""):
        return _page("Geweigerd / Refused",
                     f"<p class='problems' role='alert'>{escape(detail)} "
                     f"<code id='error'>{escape(code)}</code></p>"
                     "<p><a href='/desk'>Terug / Back</a></p>", status)
    return web.json_response({"error": code, "detail": detail}, status=status,
                             headers={"Cache-Control": "no-store"})


def _forged(request: web.Request, anchor: str | None, form: Mapping[str, object]
            ) -> web.Response | None:
    """The 403 for a form from another origin or without this browser's token, else None."""
    ctx = request.app[ISSUER]
    if not same_origin(request, ctx.config.public_url):
        return _refuse(request, "issuer.csrf", "this form did not come from the desk's own "
                       f"page ({ctx.config.public_url}); nothing was changed", 403)
    if not token_matches(_key(ctx), anchor, form.get("csrf")):
        return _refuse(request, "issuer.csrf", "this form's desk token is missing or stale; "
                       "reload the desk and try again; nothing was changed", 403)
    return None


def _cross_origin(request: web.Request) -> web.Response | None:
    """The 403 for a request from another origin, before its body is read."""
    ctx = request.app[ISSUER]
    if same_origin(request, ctx.config.public_url):
        return None
    return _refuse(request, "issuer.csrf", "this form did not come from the desk's own "
                   f"page ({ctx.config.public_url}); nothing was changed", 403)


def _leaf_fields(ctype: CredentialType) -> Iterator[tuple[tuple[str, ...], Mapping[str, Any]]]:
    """Every claim a clerk types: leaves of the schema, without the derived age claims."""
    defs = ctype.schema.get("$defs", {})

    def resolve(schema: Mapping[str, Any]) -> Mapping[str, Any]:
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return {**defs[ref.rsplit("/", 1)[1]], **{k: v for k, v in schema.items()
                                                       if k != "$ref"}}
        return schema

    for path in ctype.claim_labels:
        schema: Mapping[str, Any] = ctype.schema
        for part in path:
            schema = resolve(schema["properties"][part])
        if schema.get("type") == "object":
            continue
        if ctype.vct == VCT_IDENTITY and path[0].startswith("age_over_"):
            continue  # derived from the birthdate on the day of issuance
        yield path, schema


def _input(ctype: CredentialType, path: tuple[str, ...], schema: Mapping[str, Any],
           value: str) -> str:
    name = "claim." + ".".join(path)
    label = escape(f"{ctype.label(path, 'nl')} / {ctype.label(path, 'en')}")
    required = " required" if path in ctype.required_paths() else ""
    if "enum" in schema:
        chosen = value or ("BE" if "BE" in schema["enum"] else "")
        options = "".join(
            f"<option{' selected' if str(o) == chosen else ''}>{escape(str(o))}</option>"
            for o in schema["enum"])
        empty = "" if required else "<option value=''>—</option>"
        return f"<label>{label}<br><select name='{escape(name)}'>{empty}{options}</select></label>"
    kind = {"integer": "number"}.get(schema.get("type", ""), "text")
    if schema.get("format") == "date":
        kind = "date"
    return (f"<label>{label}<br><input type='{kind}' name='{escape(name)}' "
            f"value='{escape(value)}'{required}></label>")


def claims_from_form(ctype: CredentialType, form: Mapping[str, str]) -> dict[str, Any]:
    """Rebuild nested claims from the desk form; empty optional fields are left out."""
    claims: dict[str, Any] = {}
    for path, schema in _leaf_fields(ctype):
        raw = form.get("claim." + ".".join(path), "").strip()
        if not raw:
            continue
        value: Any = raw
        if schema.get("type") == "integer" and raw.lstrip("-").isdigit():
            value = int(raw)
        target = claims
        for part in path[:-1]:
            target = target.setdefault(part, {})
        target[path[-1]] = value
    return claims


def _form(ctx: IssuerContext, config_id: str, values: Mapping[str, str], csrf: str,
          problems: Sequence[Problem] | None = None) -> str:
    conf = ctx.config.credentials[config_id]
    ctype = conf.type
    listed = ""
    if problems:
        items = "".join(f"<li><b>{escape(p['path'] or 'claims')}</b>: {escape(p['message'])}</li>"
                        for p in problems)
        listed = f"<div class='problems' role='alert'><ul>{items}</ul></div>"
    fields = "".join(_input(ctype, path, schema, values.get("claim." + ".".join(path), ""))
                     for path, schema in _leaf_fields(ctype))
    return (f"<h2>{escape(ctype.name['nl'])} / {escape(ctype.name['en'])}</h2>{listed}"
            f"<form method='post' action='/desk/offer'>{csrf}"
            f"<input type='hidden' name='config' value='{escape(config_id)}'>"
            f"{fields}<p><button type='submit'>Aanbod maken / Create offer</button></p></form>")


def _action(rec_id: str, status: str, csrf: str) -> str:
    confirm = ("<label style='display:inline'><input type='checkbox' name='confirm' "
               "value='revoke' required style='min-width:0'> zeker, onherroepelijk / sure, "
               "cannot be undone</label> ") if status == "revoked" else ""
    return (f"<form method='post' action='/desk/status' style='display:inline'>{csrf}"
            f"<input type='hidden' name='credential' value='{escape(rec_id)}'>"
            f"{confirm}<button name='status' value='{status}'>{status}</button></form>")


def _credentials_table(ctx: IssuerContext, csrf: str) -> str:
    rows = []
    names = {v: k for k, v in STATUS_VALUES.items()}
    for rec in ctx.store.credentials(20):
        actions = "".join(
            _action(rec.id, s, csrf)
            for s in ("suspended", "valid", "revoked") if names.get(rec.status) != s
            and names.get(rec.status) != "revoked")
        rows.append(f"<tr><td><code>{escape(rec.id)}</code></td><td>{escape(rec.vct)}</td>"
                    f"<td>{len(rec.indices)}</td><td>{names.get(rec.status, rec.status)}</td>"
                    f"<td>{actions}</td></tr>")
    if not rows:
        return ""
    return ("<h2>Uitgereikt / Issued</h2><table><tr><th>id</th><th>vct</th><th>copies</th>"
            f"<th>status</th><th></th></tr>{''.join(rows)}</table>")


def _login(request: web.Request, error: str = "", status: int = 200) -> web.Response:
    """The sign-in page, with a fresh login cookie and the token bound to it."""
    ctx = request.app[ISSUER]
    anchor = new_anchor()
    shown = f"<p class='problems'>{escape(error)}</p>" if error else ""
    response = _page("Loket — aanmelden / Desk — sign in",
                     f"{shown}<form method='post' action='/desk/login'>"
                     f"{_csrf_field(ctx, anchor)}<label>Admin token<br>"
                     "<input type='password' name='token' autocomplete='off' required></label>"
                     "<button type='submit'>Aanmelden / Sign in</button></form>", status)
    set_desk_cookie(response, LOGIN_COOKIE, anchor, public_url=ctx.config.public_url,
                    max_age=LOGIN_SECONDS)
    return response


def _sign_out_form(csrf: str) -> str:
    return (f"<form method='post' action='/desk/logout' style='text-align:right'>{csrf}"
            "<button type='submit'>Afmelden / Sign out</button></form>")


async def desk(request: web.Request) -> web.Response:
    if not _signed_in(request):
        return _login(request)
    ctx = request.app[ISSUER]
    csrf = _session_field(request)
    forms = "".join(_form(ctx, cid, {}, csrf) for cid in ctx.config.credentials)
    return _page(f"Loket {ctx.config.display['nl']}",
                 _sign_out_form(csrf) + forms + _credentials_table(ctx, csrf))


async def login(request: web.Request) -> web.Response:
    ctx = request.app[ISSUER]
    if (refused := _cross_origin(request)) is not None:
        return refused
    form = await request.post()
    if (refused := _forged(request, request.cookies.get(LOGIN_COOKIE), form)) is not None:
        return refused
    given = str(form.get("token", ""))
    if not hmac.compare_digest(given.encode(), ctx.config.admin_token.encode()):
        return _login(request, "Onjuist token / wrong token", 401)
    response = web.HTTPSeeOther("/desk")
    set_desk_cookie(response, COOKIE, seal_session(_key(ctx), ctx.clock()),
                    public_url=ctx.config.public_url)
    set_desk_cookie(response, LOGIN_COOKIE, "", public_url=ctx.config.public_url, max_age=0)
    raise response


async def logout(request: web.Request) -> web.Response:
    ctx = request.app[ISSUER]
    if (refused := _cross_origin(request)) is not None:
        return refused
    if _signed_in(request):
        refused = _forged(request, request.cookies.get(COOKIE), await request.post())
        if refused is not None:
            return refused
    response = web.HTTPSeeOther("/desk")
    set_desk_cookie(response, COOKIE, "", public_url=ctx.config.public_url, max_age=0)
    raise response


async def _signed_form(request: web.Request
                       ) -> tuple[IssuerContext, dict[str, str]] | web.Response:
    """The context and the form of a signed-in clerk's action from the desk's own page;
    the refusal otherwise (nothing is changed)."""
    if (refused := _cross_origin(request)) is not None:
        return refused
    if not _signed_in(request):
        raise AdminAuthError("sign in at /desk first")
    form = {k: str(v) for k, v in (await request.post()).items()}
    if (refused := _forged(request, request.cookies.get(COOKIE), form)) is not None:
        return refused
    return request.app[ISSUER], form


async def create_offer(request: web.Request) -> web.Response:
    signed = await _signed_form(request)
    if isinstance(signed, web.Response):
        return signed
    ctx, form = signed
    config_id = form.get("config", "")
    if config_id not in ctx.config.credentials:
        return _page("Onbekend type / unknown type", "", 404)
    claims = claims_from_form(ctx.config.credentials[config_id].type, form)
    try:
        created = await ctx.create_offer(config_id, claims)
    except InvalidClaimsError as exc:
        return _page("Gegevens nakijken / Check the data",
                     _form(ctx, config_id, form, _session_field(request), exc.problems), 422)
    return _page("Aanbod klaar / Offer ready", _offer_html(created))


def _offer_html(created: CreatedOffer) -> str:
    svg = segno.make(created.uri, error="m").svg_inline(scale=4, title="credential offer")
    return (f"<div id='qr'>{svg}</div>"
            f"<p>PIN (geef apart door / give separately):</p>"
            f"<p class='pin' id='pin'>{escape(created.pin)}</p>"
            f"<p class='link'><a id='offer-link' href='{escape(created.uri)}'>"
            f"{escape(created.uri)}</a></p>"
            f"<p>Aanbod <code id='offer-id'>{escape(created.id)}</code>, geldig tot / valid "
            f"until {created.expires} (Unix time).</p><p><a href='/desk'>Terug / Back</a></p>")


async def set_status(request: web.Request) -> web.Response:
    signed = await _signed_form(request)
    if isinstance(signed, web.Response):
        return signed
    ctx, form = signed
    status = form.get("status", "")
    if status == "revoked" and form.get("confirm") != "revoke":
        return _refuse(request, "issuer.confirm_required", "revoking cannot be undone: tick "
                       "the confirmation box beside the button; nothing was changed", 400)
    try:
        await ctx.issuance.set_status(form.get("credential", ""), status, now=ctx.clock())
    except SsiError as exc:
        return _page("Niet gelukt / Failed", f"<p class='problems'>{escape(exc.detail)}</p>"
                     "<p><a href='/desk'>Terug / Back</a></p>", 409)
    raise web.HTTPSeeOther("/desk")


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/desk", desk)
    router.add_post("/desk/login", login)
    router.add_post("/desk/logout", logout)
    router.add_post("/desk/offer", create_offer)
    router.add_post("/desk/status", set_status)
