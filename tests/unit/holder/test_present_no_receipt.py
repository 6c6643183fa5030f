"""``present.send`` against verifiers that are not Keten's (OpenID4VP 1.0 §8.2).

A ``200`` with a JSON object and no Keten receipt completes the presentation: unknown
members are ignored and ``redirect_uri`` comes back to the caller, never followed. Whatever
fails once the vp_token was posted is a :class:`SentError` that still says what left, so the
wallet can record the disclosure. The verifier and registry are the in-memory ones of
``test_holder_present``.
"""

from __future__ import annotations

from typing import Any

import pytest

from ssiwallet.core.keys import Ed25519PrivateKey
from ssiwallet.holder.present import Plan, PresentationResult, SentError, send
from ssiwallet.infra.clock import FakeClock
from ssiwallet.infra.http import Request, Response, UnreachableError
from tests.unit.holder.test_holder_present import (
    ATTACKER,
    RESPONSE_URI,
    T0,
    FakeRegistry,
    FakeVerifier,
    answer,
    credential,
    plan_for,
    shown_names,
)

pytestmark = pytest.mark.asyncio


@pytest.fixture
def verifier() -> FakeVerifier:
    return FakeVerifier(FakeClock(T0))


@pytest.fixture
def registry() -> FakeRegistry:
    return FakeRegistry()


async def present(verifier: FakeVerifier, registry: FakeRegistry,
                  plan: Plan | None = None) -> tuple[PresentationResult, str]:
    holder = Ed25519PrivateKey.generate()
    token = credential(holder)
    plan = plan or await plan_for(verifier, registry)
    result = await send(plan, copies={"cred-1": (token, holder)}, session=verifier.http,
                        registry=registry.client(), clock=verifier.clock)
    return result, token


async def failed(verifier: FakeVerifier, registry: FakeRegistry, code: str) -> SentError:
    with pytest.raises(SentError) as err:
        await present(verifier, registry)
    assert err.value.code == code, repr(err.value)
    assert list(err.value.sent) == ["id_card"] and list(err.value.used) == ["cred-1"]
    assert shown_names(err.value.sent["id_card"][0]) == {"age_over_18"}
    return err.value


def posted_once(verifier: FakeVerifier) -> None:
    assert [r.url for r in verifier.transport.requests if r.method == "POST"] == [RESPONSE_URI]


async def test_an_empty_json_object_completes_without_a_receipt(
        verifier: FakeVerifier, registry: FakeRegistry) -> None:
    verifier.overrides[("POST", "/response")] = lambda _: answer({})
    result, token = await present(verifier, registry)
    assert result.receipt is None and result.receipt_jwt is None and result.accepted is None
    assert result.redirect_uri is None and result.reasons == []
    assert result.used == {"cred-1": token}
    assert shown_names(result.sent["id_card"][0]) == {"age_over_18"}
    posted_once(verifier)


async def test_unknown_members_are_ignored_and_the_redirect_is_returned_not_followed(
        verifier: FakeVerifier, registry: FakeRegistry) -> None:
    redirect = "https://client.example.org/cb#response_code=091535f699ea575c7937fa5f0f454aee"
    verifier.overrides[("POST", "/response")] = lambda _: answer(
        {"redirect_uri": redirect, "vendor_status": {"ok": True}, "x": [1, 2]})
    result, _ = await present(verifier, registry)
    assert result.receipt is None and result.redirect_uri == redirect
    assert [r.url for r in verifier.transport.requests][-1] == RESPONSE_URI  # not followed


async def test_a_keten_receipt_still_comes_with_the_redirect(
        verifier: FakeVerifier, registry: FakeRegistry) -> None:
    keten = verifier.response

    def with_redirect(request: Request) -> Response:
        import json
        body = json.loads(keten(request).body)
        return answer({**body, "redirect_uri": "https://bibliotheek.keten.example/done"})

    verifier.overrides[("POST", "/response")] = with_redirect
    result, _ = await present(verifier, registry)
    assert result.accepted is True and result.receipt is not None
    assert result.redirect_uri == "https://bibliotheek.keten.example/done"


@pytest.mark.parametrize("body", [b"OK", b"<html>thanks</html>", b"[]", b'"done"', b""],
                         ids=["text", "html", "array", "string", "empty"])
async def test_a_200_that_is_not_a_json_object_fails_after_the_data_left(
        verifier: FakeVerifier, registry: FakeRegistry, body: bytes) -> None:
    verifier.overrides[("POST", "/response")] = lambda _: Response(200, body, {})
    with pytest.raises(SentError) as err:
        await present(verifier, registry)
    assert err.value.answered and err.value.receipt_jwt is None
    assert err.value.code.startswith(("json.", "oid4vp.")), err.value.code
    assert shown_names(err.value.sent["id_card"][0]) == {"age_over_18"}
    posted_once(verifier)


async def test_a_receipt_that_does_not_verify_fails_after_the_data_left_and_is_kept(
        verifier: FakeVerifier, registry: FakeRegistry) -> None:
    verifier.receipt_key = ATTACKER
    err = await failed(verifier, registry, "jose.bad_signature")
    assert err.receipt_jwt is not None and err.receipt_jwt.count(".") == 2


async def test_a_receipt_for_another_vp_token_fails_after_the_data_left(
        verifier: FakeVerifier, registry: FakeRegistry) -> None:
    verifier.receipt_vp_token = '{"id_card":["something else"]}'
    err = await failed(verifier, registry, "oid4vp.receipt_mismatch")
    assert err.receipt_jwt is not None


async def test_an_http_error_after_posting_says_what_left(
        verifier: FakeVerifier, registry: FakeRegistry) -> None:
    verifier.overrides[("POST", "/response")] = lambda _: answer(
        {"error": "invalid_request"}, 400)
    err = await failed(verifier, registry, "oid4vp.response_refused")
    assert err.answered and "400" in err.detail


async def test_a_lost_connection_after_posting_may_have_delivered(
        verifier: FakeVerifier, registry: FakeRegistry) -> None:
    def down(request: Request) -> Any:
        raise UnreachableError(f"{request.url}: connection reset")

    verifier.overrides[("POST", "/response")] = down
    err = await failed(verifier, registry, "oid4vp.response_unavailable")
    assert err.answered is False
