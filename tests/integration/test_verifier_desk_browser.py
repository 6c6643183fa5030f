"""The verifier's desk page in headless Chromium, as a clerk uses it.

Load the desk, choose a preset, see the QR code; a scripted wallet answers; the page turns
green with the disclosed claim. Then a revoked credential: the page turns red with the
reason in plain words. Screenshots are saved in ``tests/artifacts/``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import pytest

from ssiwallet.core.dcql_match import Candidate
from ssiwallet.holder.present import prepare, send
from ssiwallet.holder.receive import ReceivedCredential, fetch_offer, receive
from tests.support.browser import Browser, Page

pytestmark = pytest.mark.asyncio

IDENTITY = {"given_name": "Lena", "family_name": "De Smet", "birthdate": "1999-12-24",
            "address": {"street_address": "Sint-Pietersplein 7", "postal_code": "9000",
                        "locality": "Gent", "country": "BE"}}


async def _wallet_answers(page: Page, town: Any, got: ReceivedCredential, copy: int,
                          http: aiohttp.ClientSession) -> list[str]:
    link = await page.evaluate("document.getElementById('link').href")
    async with town.client() as registry:
        plan = await prepare(link, candidates=[Candidate("id", "dc+sd-jwt", got.vct,
                                                         got.claims)],
                             session=http, registry=registry, clock=town.registry.clock)
        result = await send(plan, copies={"id": (got.copies[copy].credential,
                                                 got.copies[copy].holder_key)},
                            session=http, registry=registry, clock=town.registry.clock)
    return result.reasons


async def _choose(page: Page, desk_url: str, preset: str) -> None:
    await page.goto(desk_url + "/desk")
    await page.click(f"#preset-{preset}")
    await page.wait_for("document.querySelector('#qr svg') !== null")
    assert (await page.text("#result")).startswith("Wachten")


async def test_desk_shows_qr_then_green_then_red_with_the_reason(
        registry_node: Any, issuer_service: Any, verifier_service: Any,
        browser: Browser, artifacts: Path) -> None:  # noqa: F811
    reg = await registry_node()
    town = await issuer_service(reg, profile="municipality", batch_size=3)
    desk = await verifier_service(reg, presets=["age18", "diploma-eqf6"])
    async with aiohttp.ClientSession() as http:
        created = await town.offer(IDENTITY)
        async with town.client() as registry:
            got = await receive(await fetch_offer(created["offer_uri"], http),
                                tx_code=created["tx_code"], session=http, registry=registry,
                                copies=3, clock=reg.clock)
        page = await browser.new_page()
        await _choose(page, desk.url, "age18")
        assert "openid4vp://" in await page.text("#link")
        await page.screenshot(artifacts / "desk-waiting.png")
        assert await _wallet_answers(page, town, got, 0, http) == []
        await page.wait_for("document.getElementById('result').className === 'ok'")
        text = await page.text("#result")
        assert "Aanvaard" in text and "Ouder dan 18" in text and "true" in text
        assert "Lena" not in text and "1999" not in text
        await page.screenshot(artifacts / "desk-accepted.png")

        _, listed = await town.admin("GET", "/admin/credentials")
        status, _ = await town.admin(
            "POST", f"/admin/credentials/{listed['credentials'][0]['id']}/status",
            {"status": "revoked"})
        assert status == 200
        reg.clock.advance(400)  # past the status list's ttl
        await _choose(page, desk.url, "age18")
        assert await _wallet_answers(page, town, got, 1, http) == ["status.revoked"]
        await page.wait_for("document.getElementById('result').className === 'fail'")
        text = await page.text("#result")
        assert "Geweigerd" in text and "ingetrokken" in text and "revoked" in text
        assert "status.revoked" in text
        await page.screenshot(artifacts / "desk-refused.png")
        assert page.console_errors == []
    for name in ("desk-waiting.png", "desk-accepted.png", "desk-refused.png"):
        assert (artifacts / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
