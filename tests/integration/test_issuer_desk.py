"""The clerk's desk page: sign in, the generated form, an offer with QR and PIN, refusals."""

from __future__ import annotations

import re
from typing import Any

import aiohttp
import pytest

pytestmark = pytest.mark.asyncio


async def _post(http: aiohttp.ClientSession, url: str, form: dict[str, str]
                ) -> tuple[int, str]:
    """Post a desk form as the desk's own page does (its Origin, its CSRF token)."""
    async with http.post(url, data=form, allow_redirects=True,
                         headers={"Origin": url.split("/desk")[0]}) as resp:
        return resp.status, await resp.text()


def _csrf(page: str) -> str:
    found = re.search(r"name='csrf' value='([^']+)'", page)
    assert found, page[:300]
    return found.group(1)


async def test_desk_signs_in_makes_an_offer_and_lists_problems(
        registry_node: Any, issuer_service: Any) -> None:
    reg = await registry_node()
    town = await issuer_service(reg, profile="municipality")
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as http:
        async with http.get(town.url + "/desk") as resp:
            page = await resp.text()
            assert resp.status == 200 and "Admin token" in page
        status, _ = await _post(http, town.url + "/desk/offer", {"config": "x"})
        assert status == 401
        status, page = await _post(http, town.url + "/desk/login",
                                   {"token": "wrong" * 5, "csrf": _csrf(page)})
        assert status == 401 and "wrong token" in page
        status, page = await _post(http, town.url + "/desk/login",
                                   {"token": town.admin_token, "csrf": _csrf(page)})
        assert status == 200 and "Voornaam / Given name" in page
        assert "age_over" not in page  # derived, never typed
        cookie = next(c for c in jar if c.key == "keten_desk")
        assert cookie.value != town.admin_token and cookie["httponly"]
        assert cookie["samesite"] == "Strict"
        form = {"config": "identity_dc_sd_jwt", "claim.given_name": "Mira",
                "claim.family_name": "Claes", "claim.birthdate": "2001-02-03",
                "claim.address.street_address": "Kouter 5", "claim.address.postal_code":
                "9000", "claim.address.locality": "Gent", "claim.address.country": "BE",
                "csrf": _csrf(page)}
        status, page = await _post(http, town.url + "/desk/offer", form)
        assert status == 200 and "<svg" in page
        pin = re.search(r"id='pin'>(\d{6})<", page)
        link = re.search(r"id='offer-link' href='([^']+)'", page)
        assert pin and link and link.group(1).startswith("openid-credential-offer://")
        status, page = await _post(http, town.url + "/desk/offer",
                                   {**form, "claim.birthdate": "2001-02-30",
                                    "claim.given_name": " Mira"})
        assert status == 422 and "birthdate" in page and "given_name" in page
        assert "value='Claes'" in page  # the clerk's input is kept for correction
        assert len(town.ctx.store.offers()) == 1
