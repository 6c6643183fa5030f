"""Forged desk forms (SECURITY-TESTS.md item 38): the issuer's and the verifier's desk.

A page on another port of the same host is same-site, so ``SameSite=Strict`` still sends
the clerk's cookie with its forms. Every state-changing desk action must carry the CSRF
token of the browser's desk cookie and come from the service's own origin; anything else is
a 403 with ``issuer.csrf`` / ``verifier.csrf`` and changes nothing. The real flow still
works: over HTTP here, and in headless Chromium with a hostile page auto-submitting a form.
"""

from __future__ import annotations

import re
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from ssiwallet.holder.receive import fetch_offer, receive
from ssiwallet.infra.csrf import DESK_SESSION_SECONDS
from tests.support.browser import Browser

pytestmark = pytest.mark.asyncio

IDENTITY = {"given_name": "Mira", "family_name": "Claes", "birthdate": "2001-02-03",
            "address": {"street_address": "Kouter 5", "postal_code": "9000",
                        "locality": "Gent", "country": "BE"}}
TOKEN = re.compile(r"name='csrf' value='([^']+)'")


def _token(page: str) -> str:
    found = TOKEN.search(page)
    return found.group(1) if found else ""


def _other_origin(url: str) -> str:
    """The same host on another port: same-site, cross-origin."""
    host, port = url.rsplit(":", 1)
    return f"{host}:{int(port) + 1}"


async def _post(http: aiohttp.ClientSession, url: str, form: dict[str, str],
                headers: dict[str, str] | None = None) -> tuple[int, str]:
    async with http.post(url, data=form, headers=headers or {}, allow_redirects=False) as r:
        return r.status, await r.text()


async def _signed_in_desk(town: Any) -> tuple[aiohttp.ClientSession, str]:
    """A clerk's browser, signed in through the desk; and its desk page."""
    http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    own = {"Origin": town.url}
    async with http.get(town.url + "/desk") as resp:
        login = await resp.text()
    status, _ = await _post(http, town.url + "/desk/login",
                            {"token": town.admin_token, "csrf": _token(login)}, own)
    assert status == 303
    async with http.get(town.url + "/desk") as resp:
        page = await resp.text()
    assert "Voornaam / Given name" in page
    return http, page


async def _issued(town: Any) -> str:
    """A credential issued to a wallet; its id."""
    created = await town.offer(IDENTITY)
    async with aiohttp.ClientSession() as http, town.client() as registry:
        await receive(await fetch_offer(created["offer_uri"], http),
                      tx_code=created["tx_code"], session=http, registry=registry, copies=1,
                      clock=town.registry.clock)
    _, listed = await town.admin("GET", "/admin/credentials")
    return str(listed["credentials"][0]["id"])


async def _status(town: Any, credential: str) -> int:
    _, listed = await town.admin("GET", "/admin/credentials")
    return int(next(c["status"] for c in listed["credentials"] if c["id"] == credential))


def _refused(status: int, body: str, code: str) -> None:
    assert status == 403, (status, body[:300])
    assert code in body, body[:300]


async def test_forged_issuer_desk_forms_are_refused_and_change_nothing(
        registry_node: Any, issuer_service: Any) -> None:
    reg = await registry_node()
    town = await issuer_service(reg, profile="municipality", batch_size=1)
    credential = await _issued(town)
    http, page = await _signed_in_desk(town)
    stolen = _token(page)
    own, other = {"Origin": town.url}, {"Origin": _other_origin(town.url)}
    revoke = {"credential": credential, "status": "revoked", "confirm": "revoke"}
    offer = {"config": "identity_dc_sd_jwt", **{f"claim.{k}": v for k, v in IDENTITY.items()
                                                 if isinstance(v, str)},
             "claim.address.street_address": "Kouter 5", "claim.address.postal_code": "9000",
             "claim.address.locality": "Gent", "claim.address.country": "BE"}
    try:
        offers = len(town.ctx.store.offers())
        for form, headers in [
            (revoke, other),                                   # cookie, no token, foreign
            (revoke, {}),                                      # cookie, no token, no Origin
            ({**revoke, "csrf": "0" * 64}, own),               # wrong token
            ({**revoke, "csrf": stolen}, other),               # stolen token, foreign page
            ({**revoke, "csrf": stolen}, {"Origin": "null"}),  # sandboxed frame
            ({**revoke, "csrf": stolen}, {"Referer": _other_origin(town.url) + "/x"}),
            ({**revoke, "csrf": stolen}, {}),                  # neither Origin nor Referer
        ]:
            status, body = await _post(http, town.url + "/desk/status", form, headers)
            _refused(status, body, "issuer.csrf")
            assert await _status(town, credential) == 0
        for form, headers in [(offer, other), ({**offer, "csrf": stolen}, other),
                              (offer, own)]:
            status, body = await _post(http, town.url + "/desk/offer", form, headers)
            _refused(status, body, "issuer.csrf")
        assert len(town.ctx.store.offers()) == offers

        # signing out is an action too, and a forged one leaves the clerk signed in
        status, body = await _post(http, town.url + "/desk/logout", {}, other)
        _refused(status, body, "issuer.csrf")

        # a browser page asking for HTML gets a page that says what happened
        status, body = await _post(http, town.url + "/desk/status", revoke,
                                   {**other, "Accept": "text/html"})
        assert status == 403 and "<html" in body and "issuer.csrf" in body

        # revoking is irreversible: without the confirmation nothing happens
        status, body = await _post(http, town.url + "/desk/status",
                                   {**revoke, "csrf": stolen, "confirm": ""}, own)
        assert status == 400 and "issuer.confirm_required" in body
        assert await _status(town, credential) == 0
        assert "name='confirm'" in page

        # the real desk: suspend, reinstate, then revoke with the confirmation
        for form, expect in [({"credential": credential, "status": "suspended"}, 2),
                             ({"credential": credential, "status": "valid"}, 0),
                             (revoke, 1)]:
            status, _ = await _post(http, town.url + "/desk/status",
                                    {**form, "csrf": stolen}, own)
            assert status == 303
            assert await _status(town, credential) == expect
        # a Referer of the desk itself stands in for a missing Origin
        status, body = await _post(http, town.url + "/desk/offer", {**offer, "csrf": stolen},
                                   {"Referer": town.url + "/desk"})
        assert status == 200 and "id='pin'" in body

        status, _ = await _post(http, town.url + "/desk/logout", {"csrf": stolen}, own)
        assert status == 303
        async with http.get(town.url + "/desk") as resp:
            assert "Admin token" in await resp.text()
    finally:
        await http.close()


async def test_issuer_desk_login_needs_its_token_and_origin_and_sessions_expire(
        registry_node: Any, issuer_service: Any) -> None:
    reg = await registry_node()
    town = await issuer_service(reg, profile="municipality", batch_size=1)
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as http:
        async with http.get(town.url + "/desk") as resp:
            login = await resp.text()
        token = _token(login)
        for form, headers in [({"token": town.admin_token}, {"Origin": town.url}),
                              ({"token": town.admin_token, "csrf": token},
                               {"Origin": _other_origin(town.url)})]:
            status, body = await _post(http, town.url + "/desk/login", form, headers)
            _refused(status, body, "issuer.csrf")
            assert "keten_desk" not in {c.key for c in jar}
        status, _ = await _post(http, town.url + "/desk/login",
                                {"token": town.admin_token, "csrf": token},
                                {"Origin": town.url})
        assert status == 303
        cookie = next(c for c in jar if c.key == "keten_desk")
        assert cookie["httponly"] and cookie["samesite"] == "Strict"
        assert cookie["path"] == "/desk" and cookie["max-age"] == str(DESK_SESSION_SECONDS)
        assert not cookie["secure"]  # served over http on loopback
        assert town.admin_token not in cookie.value
        async with http.get(town.url + "/desk") as resp:
            assert "Voornaam / Given name" in await resp.text()
        # the server ends the session too, not only the browser
        reg.clock.advance(DESK_SESSION_SECONDS)
        async with http.get(town.url + "/desk") as resp:
            assert "Admin token" in await resp.text()


async def test_forged_verifier_desk_start_is_refused(registry_node: Any,
                                                     verifier_service: Any) -> None:
    reg = await registry_node()
    desk = await verifier_service(reg, presets=["age18"])
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as http:
        async with http.get(desk.url + "/desk") as resp:
            stolen = _token(await resp.text())
        cookie = next(c for c in jar if c.key == "keten_verifier_desk")
        assert cookie["httponly"] and cookie["samesite"] == "Strict"
        assert cookie["max-age"] and cookie["path"] == "/desk"
        own, other = {"Origin": desk.url}, {"Origin": _other_origin(desk.url)}
        for form, headers in [({"preset": "age18"}, other), ({"preset": "age18"}, {}),
                              ({"preset": "age18"}, own),
                              ({"preset": "age18", "csrf": "0" * 64}, own),
                              ({"preset": "age18", "csrf": stolen}, other),
                              ({"preset": "age18", "csrf": stolen}, {})]:
            status, body = await _post(http, desk.url + "/desk/start", form, headers)
            _refused(status, body, "verifier.csrf")
        assert len(desk.ctx.sessions) == 0
        status, _ = await _post(http, desk.url + "/desk/start",
                                {"preset": "age18", "csrf": stolen}, own)
        assert status == 303 and len(desk.ctx.sessions) == 1


async def test_a_hostile_page_on_another_port_cannot_revoke_in_the_browser(
        registry_node: Any, issuer_service: Any, browser: Browser,
        aiohttp_server: Any) -> None:
    """The review's attack as it happened: the clerk is signed in, visits a page on another
    port of the same host, and that page auto-submits a revocation form to the desk."""
    reg = await registry_node()
    town = await issuer_service(reg, profile="municipality", batch_size=1)
    credential = await _issued(town)
    page = await browser.new_page()
    await page.goto(town.url + "/desk")
    await page.fill("input[name=token]", town.admin_token)
    await page.click("button[type=submit]")
    await page.wait_for("document.body.innerText.includes('Given name')")
    token = await page.evaluate("document.querySelector(\"input[name=csrf]\")?.value ?? ''")

    async def hostile(_: web.Request) -> web.Response:
        # it even knows a token (say, read from a screenshot): the Origin gives it away
        return web.Response(content_type="text/html", text=(
            f"<form id='f' method='post' action='{town.url}/desk/status'>"
            f"<input name='credential' value='{credential}'>"
            "<input name='status' value='revoked'><input name='confirm' value='revoke'>"
            f"<input name='csrf' value='{token}'></form>"
            "<script>document.getElementById('f').submit()</script>"))

    trap = web.Application()
    trap.router.add_get("/", hostile)
    server = await aiohttp_server(trap, host="127.0.0.1")
    await page.goto(f"http://127.0.0.1:{server.port}/")
    await page.wait_for(f"location.port === '{town.url.rsplit(':', 1)[1]}'")
    assert await _status(town, credential) == 0
    assert "issuer.csrf" in await page.content()

    # the clerk's own desk still revokes, after ticking the confirmation
    await page.goto(town.url + "/desk")
    await page.click("input[name=confirm]")
    await page.click("button[value=revoked]")
    await page.wait_for("document.querySelector('button[value=revoked]') === null")
    assert await _status(town, credential) == 1
    assert page.console_errors == []
