"""What a verifier session keeps after the answer (SECURITY-TESTS.md item 43).

A refused presentation leaves only the verdict, its reason codes and what the desk needs to
show the refusal: no disclosed claim value, no status list entry or list address, nothing of
the ``vp_token``; not in the session API, not on the desk page, not in the session object.
An accepted one shows its claims for the registered retention and is then forgotten.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest

from ssiwallet.core.oid4vp import parse_request_object, parse_request_uri
from ssiwallet.core.sdjwt import parse
from ssiwallet.core.sdjwt.holder import present
from ssiwallet.holder.receive import ReceivedCredential, fetch_offer, receive

pytestmark = pytest.mark.asyncio

RETENTION = 120


def _identity(birth_year: int) -> dict[str, Any]:
    return {"given_name": "Tijl", "family_name": "Verhaegen",
            "birthdate": f"{birth_year}-04-09",
            "address": {"street_address": "Onderbergen 12", "postal_code": "9000",
                        "locality": "Gent", "country": "BE"}}


async def _receive(town: Any, claims: dict[str, Any], http: aiohttp.ClientSession
                   ) -> ReceivedCredential:
    created = await town.offer(claims)
    async with town.client() as registry:
        return await receive(await fetch_offer(created["offer_uri"], http),
                             tx_code=created["tx_code"], session=http, registry=registry,
                             copies=2, clock=town.registry.clock)


async def _answer(desk: Any, got: ReceivedCredential, copy: int,
                  http: aiohttp.ClientSession) -> tuple[str, dict[str, Any], str]:
    """Start an age18 session and show ``age_over_18`` of one copy, whatever its value (a
    wallet that does not check the query first); the session id, the answer, the token."""
    started = await desk.start("age18")
    _, request_uri = parse_request_uri(started["uri"])
    async with http.get(request_uri) as resp:
        request = parse_request_object(await resp.text())
    shown = present(parse(got.copies[copy].credential), [("age_over_18",)],
                    holder_key=got.copies[copy].holder_key, nonce=request.nonce,
                    aud=request.client_id, iat=int(desk.registry.clock())).compact()
    vp_token = json.dumps({"identity": [shown]})
    async with http.post(desk.url + "/response",
                         data={"vp_token": vp_token, "state": request.state}) as resp:
        assert resp.status == 200
        return str(started["id"]), await resp.json(), shown


async def _everything_kept(desk: Any, session_id: str, http: aiohttp.ClientSession) -> str:
    """The session as the API, the desk page and the process itself hold it."""
    async with http.get(f"{desk.url}/sessions/{session_id}") as resp:
        api = await resp.text()
    async with http.get(f"{desk.url}/desk/{session_id}") as resp:
        page = await resp.text()
    kept = desk.ctx.sessions.get(session_id, desk.registry.clock())
    return "\n".join([api, page, repr(kept)])


def _status_of(got: ReceivedCredential, copy: int) -> tuple[int, str]:
    ref = got.copies[copy].verified.status
    assert ref is not None
    return ref.idx, ref.uri


async def test_a_refusal_keeps_no_value_no_status_entry_and_no_token(
        registry_node: Any, issuer_service: Any, verifier_service: Any) -> None:
    reg = await registry_node()
    town = await issuer_service(reg, profile="municipality", batch_size=2)
    desk = await verifier_service(reg, presets=["age18"], retention=RETENTION)
    year = datetime.fromtimestamp(reg.clock(), UTC).year
    async with aiohttp.ClientSession() as http:
        minor = await _receive(town, _identity(year - 12), http)
        adult = await _receive(town, _identity(year - 40), http)
        doomed = await _receive(town, _identity(year - 30), http)

        # revoked: the status list is read, and its entry must not stay behind
        _, listed = await town.admin("GET", "/admin/credentials")
        record = next(c for c in listed["credentials"]
                      if _status_of(doomed, 0)[0] in c["indices"])
        status, _ = await town.admin("POST", f"/admin/credentials/{record['id']}/status",
                                     {"status": "revoked"})
        assert status == 200
        reg.clock.advance(400)  # past the status list's ttl in every cache
        revoked_id, answer, revoked_shown = await _answer(desk, doomed, 0, http)
        assert answer["keten_reasons"] == ["status.revoked"]
        # under age: the claim is there with the wrong value
        session_id, answer, shown = await _answer(desk, minor, 0, http)
        assert answer["keten_reasons"] == ["dcql.value_mismatch"]

        for sid, got, token, code in [(session_id, minor, shown, "dcql.value_mismatch"),
                                      (revoked_id, doomed, revoked_shown, "status.revoked")]:
            kept = await _everything_kept(desk, sid, http)
            idx, uri = _status_of(got, 0)
            assert uri not in kept and f"entry {idx}" not in kept, kept
            assert "has value" not in kept and "disclosed claims" not in kept, kept
            assert token not in kept and token.split("~")[1] not in kept, kept
            view = await desk.result(sid)
            result = view["result"]
            assert (view["status"], result["ok"], result["claims"]) == ("answered", False, [])
            assert [r["code"] for r in result["reasons"]] == [code]
            assert all(c["detail"] == "" for c in result["checks"]), result["checks"]
            assert {c["check"] for c in result["checks"]} >= {"signature", "status", "dcql"}

        # an accepted answer shows its claim for the retention, then nothing at all
        accepted_id, answer, _ = await _answer(desk, adult, 0, http)
        assert "keten_reasons" not in answer
        view = await desk.result(accepted_id)
        assert view["result"]["ok"] is True
        assert [(c["path"], c["value"]) for c in view["result"]["claims"]] == [
            ("age_over_18", True)]
        reg.clock.advance(RETENTION)
        async with http.get(f"{desk.url}/sessions/{accepted_id}") as resp:
            assert resp.status == 404
