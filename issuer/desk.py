"""The clerk's desk page: a plain HTML form that creates an offer and shows its QR code and PIN.

The form is generated from the credential type (its schema and its Dutch/English labels),
so it can never ask for a claim the type does not have; what the clerk types goes through
the same validation as the admin API, and refused claims come back listed by field.

The desk signs in with the admin token once; the cookie then holds a value derived from the
token (HttpOnly, ``SameSite=Strict``, path ``/desk``), so a page elsewhere cannot make the
clerk's browser post to the desk.
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

__all__ = ["add_routes", "claims_from_form"]

COOKIE = "keten_desk"
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


def _signed_in(request: web.Request) -> bool:
    ctx = request.app[ISSUER]
    return hmac.compare_digest(request.cookies.get(COOKIE, ""), ctx.desk_session())


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


def _form(ctx: IssuerContext, config_id: str, values: Mapping[str, str],
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
            f"<form method='post' action='/desk/offer'>"
            f"<input type='hidden' name='config' value='{escape(config_id)}'>"
            f"{fields}<p><button type='submit'>Aanbod maken / Create offer</button></p></form>")


def _credentials_table(ctx: IssuerContext) -> str:
    rows = []
    names = {v: k for k, v in STATUS_VALUES.items()}
    for rec in ctx.store.credentials(20):
        actions = "".join(
            f"<form method='post' action='/desk/status' style='display:inline'>"
            f"<input type='hidden' name='credential' value='{escape(rec.id)}'>"
            f"<button name='status' value='{s}'>{s}</button></form>"
            for s in ("suspended", "valid", "revoked") if names.get(rec.status) != s
            and names.get(rec.status) != "revoked")
        rows.append(f"<tr><td><code>{escape(rec.id)}</code></td><td>{escape(rec.vct)}</td>"
                    f"<td>{len(rec.indices)}</td><td>{names.get(rec.status, rec.status)}</td>"
                    f"<td>{actions}</td></tr>")
    if not rows:
        return ""
    return ("<h2>Uitgereikt / Issued</h2><table><tr><th>id</th><th>vct</th><th>copies</th>"
            f"<th>status</th><th></th></tr>{''.join(rows)}</table>")


def _login(error: str = "", status: int = 200) -> web.Response:
    shown = f"<p class='problems'>{escape(error)}</p>" if error else ""
    return _page("Loket — aanmelden / Desk — sign in",
                 f"{shown}<form method='post' action='/desk/login'><label>Admin token<br>"
                 "<input type='password' name='token' autocomplete='off' required></label>"
                 "<button type='submit'>Aanmelden / Sign in</button></form>", status)


async def desk(request: web.Request) -> web.Response:
    if not _signed_in(request):
        return _login()
    ctx = request.app[ISSUER]
    forms = "".join(_form(ctx, cid, {}) for cid in ctx.config.credentials)
    return _page(f"Loket {ctx.config.display['nl']}", forms + _credentials_table(ctx))


async def login(request: web.Request) -> web.Response:
    ctx = request.app[ISSUER]
    form = await request.post()
    given = str(form.get("token", ""))
    if not hmac.compare_digest(given.encode(), ctx.config.admin_token.encode()):
        return _login("Onjuist token / wrong token", 401)
    response = web.HTTPSeeOther("/desk")
    response.set_cookie(COOKIE, ctx.desk_session(), httponly=True, samesite="Strict",
                        path="/desk")
    raise response


def _require(request: web.Request) -> IssuerContext:
    if not _signed_in(request):
        raise AdminAuthError("sign in at /desk first")
    return request.app[ISSUER]


async def create_offer(request: web.Request) -> web.Response:
    ctx = _require(request)
    form = {k: str(v) for k, v in (await request.post()).items()}
    config_id = form.get("config", "")
    if config_id not in ctx.config.credentials:
        return _page("Onbekend type / unknown type", "", 404)
    claims = claims_from_form(ctx.config.credentials[config_id].type, form)
    try:
        created = await ctx.create_offer(config_id, claims)
    except InvalidClaimsError as exc:
        return _page("Gegevens nakijken / Check the data",
                     _form(ctx, config_id, form, exc.problems), 422)
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
    ctx = _require(request)
    form = await request.post()
    try:
        await ctx.issuance.set_status(str(form.get("credential", "")),
                                      str(form.get("status", "")), now=ctx.clock())
    except SsiError as exc:
        return _page("Niet gelukt / Failed", f"<p class='problems'>{escape(exc.detail)}</p>"
                     "<p><a href='/desk'>Terug / Back</a></p>", 409)
    raise web.HTTPSeeOther("/desk")


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/desk", desk)
    router.add_post("/desk/login", login)
    router.add_post("/desk/offer", create_offer)
    router.add_post("/desk/status", set_status)
