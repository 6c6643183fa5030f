"""The desk page: a clerk picks a preset, shows the QR code, and sees the live result.

Plain HTML with one small inline script that polls ``GET /sessions/{id}``; no build step.
Green shows the disclosed claims with their labels; red shows the reasons in plain words
(:mod:`verifier.words`) and, under them, each failed check's code for a support call.

Decisions:

* The desk itself needs no sign-in: creating a session reveals nothing, and a result can
  only be read with the session id, which is in the desk's own URL and never in the QR
  code. A verifier that exposes its desk beyond the counter puts it behind its own access
  control.
* Starting a session is still an action a page elsewhere must not take in the clerk's
  browser: the desk sets a random cookie (HttpOnly, ``SameSite=Strict``, ``/desk``, with a
  ``Max-Age``), its form carries the CSRF token of that cookie, and ``POST /desk/start`` must
  come from the verifier's own origin (:mod:`ssiwallet.infra.csrf`); otherwise it answers 403
  ``verifier.csrf`` and starts nothing. The token key is made when the process starts, so a
  restart only asks the clerk to reload the desk.
* A refused session shows its verdict and reason codes only; the check details (which may
  quote a claim value or the status entry) are not kept (see :mod:`verifier.sessions`).
"""

from __future__ import annotations

import re
import secrets
from html import escape
from typing import Any

import segno
from aiohttp import web

from ssiwallet.core.credtypes import get_type
from ssiwallet.errors import SsiError
from ssiwallet.infra.csrf import csrf_token, new_anchor, same_origin, set_desk_cookie, token_matches
from verifier.context import VERIFIER
from verifier.sessions import Session
from verifier.words import explain

__all__ = ["add_routes", "qr_svg", "session_view"]

COOKIE = "keten_verifier_desk"
_KEY = secrets.token_bytes(32)
_ANCHOR = re.compile(r"[A-Za-z0-9_-]{16,64}")

_STYLE = """
body{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;
color:#1b1b1b}h1{font-size:1.4rem}button{font-size:1.05rem;padding:.5rem 1rem;margin:.3rem}
#result{padding:1rem;border-radius:.4rem;margin-top:1rem;font-size:1.1rem}
#result.ok{background:#e3f6e3;border:3px solid #1a7f1a}
#result.fail{background:#fde8e8;border:3px solid #c00}#result.wait{border:2px dashed #999}
.link{word-break:break-all;font-size:.8rem}dt{font-weight:bold}dd{margin:0 0 .5rem 0}
code{font-size:.85rem;color:#555}
"""

_SCRIPT = """
const box = document.getElementById('result');
async function poll() {
  let view;
  try {
    const r = await fetch('/sessions/' + box.dataset.session, {cache: 'no-store'});
    view = await r.json();
    if (!r.ok) { show('fail', [{nl: view.detail, en: view.error, code: view.error}], []); return; }
  } catch (e) { setTimeout(poll, 1000); return; }
  document.getElementById('status').textContent = view.status;
  if (!view.result) { setTimeout(poll, 700); return; }
  show(view.result.ok ? 'ok' : 'fail', view.result.reasons, view.result.claims);
}
function show(kind, reasons, claims) {
  box.className = kind;
  const head = document.createElement('p');
  head.id = 'verdict';
  head.textContent = kind === 'ok' ? '✔ Aanvaard / Accepted' : '✘ Geweigerd / Refused';
  const list = document.createElement(kind === 'ok' ? 'dl' : 'ul');
  list.id = kind === 'ok' ? 'claims' : 'reasons';
  for (const c of claims) {
    const dt = document.createElement('dt'); dt.textContent = c.nl + ' / ' + c.en;
    const dd = document.createElement('dd'); dd.textContent = JSON.stringify(c.value);
    list.append(dt, dd);
  }
  for (const r of reasons) {
    const li = document.createElement('li');
    li.textContent = r.nl + ' — ' + r.en + ' ';
    const code = document.createElement('code'); code.textContent = r.code; li.append(code);
    list.append(li);
  }
  box.replaceChildren(head, list);
}
poll();
"""


def _page(title: str, body: str, script: str = "", status: int = 200) -> web.Response:
    html = (f"<!doctype html><html lang='nl'><head><meta charset='utf-8'>"
            f"<meta name='viewport' content='width=device-width'>"
            f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>"
            f"<h1>{escape(title)}</h1>{body}"
            + (f"<script>{script}</script>" if script else "") + "</body></html>")
    return web.Response(text=html, content_type="text/html", status=status,
                        headers={"Cache-Control": "no-store"})


def _forged(request: web.Request, detail: str) -> web.Response:
    """403 ``verifier.csrf``: a page for a browser, the project's JSON error otherwise."""
    if "text/html" in request.headers.get("Accept", ""):
        return _page("Geweigerd / Refused", f"<p>{escape(detail)} <code id='error'>"
                     "verifier.csrf</code></p><p><a href='/desk'>Terug / Back</a></p>",
                     status=403)
    return web.json_response({"error": "verifier.csrf", "detail": detail}, status=403,
                             headers={"Cache-Control": "no-store"})


def qr_svg(uri: str) -> str:
    """The link as an inline SVG QR code."""
    return str(segno.make(uri, error="m").svg_inline(scale=5, title="openid4vp request"))


def _claim_rows(vct: str | None, claims: dict[str, Any]) -> list[dict[str, Any]]:
    try:
        ctype = get_type(vct or "")
    except SsiError:
        ctype = None
    rows = []
    for name, value in claims.items():
        nl = en = name
        if ctype is not None and (name,) in ctype.claim_labels:
            nl, en = ctype.label((name,), "nl"), ctype.label((name,), "en")
        rows.append({"path": name, "nl": nl, "en": en, "value": value})
    return rows


def session_view(session: Session) -> dict[str, Any]:
    """What the desk shows about a session (JSON for the polling script)."""
    view: dict[str, Any] = {"id": session.id, "preset": session.preset.id,
                            "title": session.preset.title, "status": session.status,
                            "expires": session.expires, "result": None}
    if session.wallet_error is not None:
        view["result"] = {"ok": False, "claims": [], "reasons": [
            {"code": "wallet.declined", "nl": explain("wallet.declined", "nl"),
             "en": explain("wallet.declined", "en"), "detail": session.wallet_error}]}
    elif session.verdict is not None:
        verdict = session.verdict
        claims: list[dict[str, Any]] = []
        vcts = {c.query_id: c.vct for c in verdict.credentials}
        for qid, disclosed in verdict.disclosed.items():
            for one in disclosed:
                claims.extend(_claim_rows(vcts.get(qid), one))
        reasons = [{"code": c.code, "nl": explain(c.code, "nl"), "en": explain(c.code, "en"),
                    "detail": c.detail} for c in verdict.failures]
        view["result"] = {"ok": verdict.ok, "claims": claims, "reasons": reasons,
                          "checks": [c.to_json() for c in verdict.checks]}
    return view


async def desk(request: web.Request) -> web.Response:
    ctx = request.app[VERIFIER]
    registration = ctx.registration or {}
    purpose = ctx.purpose
    buttons = "".join(
        f"<button type='submit' name='preset' value='{escape(p.id)}' id='preset-{escape(p.id)}'>"
        f"{escape(p.title['nl'])} / {escape(p.title['en'])}</button>"
        for p in ctx.config.presets)
    anchor = request.cookies.get(COOKIE, "")
    if not _ANCHOR.fullmatch(anchor):
        anchor = new_anchor()
    body = (f"<p>{escape(str(registration.get('name', ctx.did)))} — "
            f"{escape(purpose['nl'])} / {escape(purpose['en'])}</p>"
            f"<form method='post' action='/desk/start'><input type='hidden' name='csrf' "
            f"value='{csrf_token(_KEY, anchor)}'>{buttons}</form>")
    response = _page("Verifiëren / Verify", body)
    set_desk_cookie(response, COOKIE, anchor, public_url=ctx.config.public_url)
    return response


async def start(request: web.Request) -> web.Response:
    ctx = request.app[VERIFIER]
    if not same_origin(request, ctx.config.public_url):
        return _forged(request, "this form did not come from the desk's own page "
                       f"({ctx.config.public_url}); no session was started")
    form = await request.post()
    if not token_matches(_KEY, request.cookies.get(COOKIE), form.get("csrf")):
        return _forged(request, "this form's desk token is missing or stale; reload the desk "
                       "and try again; no session was started")
    session, _ = ctx.start(str(form.get("preset", "")))
    raise web.HTTPSeeOther(f"/desk/{session.id}")


async def show(request: web.Request) -> web.Response:
    ctx = request.app[VERIFIER]
    session = ctx.session(request.match_info["id"])
    uri = ctx.wallet_uri(session)
    body = (f"<p>{escape(session.preset.title['nl'])} / {escape(session.preset.title['en'])}"
            "</p><p>Scan met je wallet / Scan with your wallet:</p>"
            f"<div id='qr'>{qr_svg(uri)}</div>"
            f"<p class='link'><a id='link' href='{escape(uri)}'>{escape(uri)}</a></p>"
            f"<p>Status: <span id='status'>{escape(session.status)}</span></p>"
            f"<div id='result' class='wait' data-session='{escape(session.id)}'>"
            "Wachten op de wallet… / Waiting for the wallet…</div>"
            "<p><a href='/desk'>Nieuwe vraag / New request</a></p>")
    return _page("Verifiëren / Verify", body, _SCRIPT)


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/desk", desk)
    router.add_post("/desk/start", start)
    router.add_get("/desk/{id}", show)
