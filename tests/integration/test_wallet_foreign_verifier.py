"""The wallet with verifiers that are not Keten's: no receipt, an unreadable answer, a Keten
receipt that does not verify, a verifier the registry does not list.

The registry and the municipality are real (loopback); the verifier is a small OpenID4VP 1.0
verifier written here, as another implementation would be: a signed request object by
reference (its DID on the registry, so that the wallet can check the signature), and at its
``response_uri`` an answer as §8.2 allows (``200``, a JSON object, ``redirect_uri``
optional, its own members) or a broken one. Every disclosure that left must be in the
history, receipt or not; ``ssiwallet present --yes`` to an unregistered verifier sends
nothing unless ``--allow-unregistered``.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from aiohttp import web

from registry.author import Controller
from ssiwallet.core.oid4vp import build_request_object, build_request_uri, client_id_for
from ssiwallet.holder.present import SentError
from ssiwallet.wallet.records import NO_RECEIPT
from ssiwallet.wallet.sealed import FAST_KDF
from ssiwallet.wallet.wallet import Wallet
from tests.e2e.test_wallet_cli import Timeline
from tests.e2e.test_wallet_cli import wallet as run_wallet
from tests.integration.test_verifier_service import IDENTITY
from tests.support.services import registration_body

pytestmark = pytest.mark.asyncio

PASS = "correct horse"
REDIRECT = "https://rp.example.org/done#response_code=091535f699ea575c7937fa5f0f454aee"
Answer = Callable[[dict[str, str]], web.Response]


def no_receipt(_: dict[str, str]) -> web.Response:
    return web.json_response({"redirect_uri": REDIRECT, "status": "received",
                              "transaction": {"id": 7}})


@dataclass
class ForeignVerifier:
    """An OpenID4VP verifier of another make, with a DID on the registry."""

    controller: Controller
    vct: str
    answer: Answer = no_receipt
    url: str = ""
    posted: list[dict[str, str]] = field(default_factory=list)
    clock: Callable[[], int] = int

    @property
    def did(self) -> str:
        return str(self.controller.did)

    def link(self) -> str:
        return build_request_uri(client_id=client_id_for(self.did),
                                 request_uri=f"{self.url}/request/{secrets.token_hex(8)}")

    async def request(self, _: web.Request) -> web.Response:
        token = build_request_object(
            client_id=client_id_for(self.did), nonce=secrets.token_urlsafe(24),
            state=secrets.token_urlsafe(24),
            dcql_query={"credentials": [{"id": "id_card", "format": "dc+sd-jwt",
                                         "meta": {"vct_values": [self.vct]},
                                         "claims": [{"path": ["age_over_18"]}]}]},
            response_uri=f"{self.url}/response", now=self.clock(), lifetime=300,
            key=self.controller.key, kid=self.controller.kid)
        return web.Response(body=token.encode(), content_type="application/oauth-authz-req+jwt")

    async def response(self, request: web.Request) -> web.Response:
        form = {k: v[0] for k, v in parse_qs((await request.read()).decode()).items()}
        self.posted.append(form)
        return self.answer(form)


@pytest.fixture
def foreign(registry_node: Any, issuer_service: Any, aiohttp_server: Any, tmp_path: Path
            ) -> Callable[..., Any]:
    """``await foreign(registered=...)``: (registry, wallet home, verifier, card id)."""

    async def make(*, registered: bool) -> tuple[Any, Wallet, ForeignVerifier, Any]:
        reg = await registry_node()
        town = await issuer_service(reg, profile="municipality", batch_size=3)
        home = tmp_path / "wallet"
        wallet = Wallet.create(home, PASS, registry_url=reg.url,
                               genesis_hash=reg.genesis_hash, kdf=FAST_KDF, clock=reg.clock)
        offer = await town.offer(IDENTITY)
        card = await wallet.receive(offer["offer_uri"], pin=offer["tx_code"], copies=3)
        controller = await reg.new_did("Other Verifier Ltd")
        if registered:
            await reg.submit(reg.steward, "verifier.register",
                             registration_body(str(controller.did), ["age18"]))
        verifier = ForeignVerifier(controller, card.vct, clock=reg.clock)
        app = web.Application()
        app.router.add_get("/request/{sid}", verifier.request)
        app.router.add_post("/response", verifier.response)
        server = await aiohttp_server(app)
        verifier.url = f"http://{server.host}:{server.port}"
        return reg, wallet, verifier, card

    return make


async def test_a_verifier_without_receipts_completes_and_the_history_says_so(
        foreign: Any) -> None:
    _, wallet, verifier, card = await foreign(registered=True)
    plan = await wallet.prepare(verifier.link())
    assert plan.registered and plan.satisfiable
    entry = await wallet.present(plan)
    assert len(verifier.posted) == 1 and "vp_token" in verifier.posted[0]
    assert (entry.outcome, entry.receipt, entry.receipt_status) == ("sent", None, "none")
    assert entry.redirect_uri == REDIRECT and entry.receipt_note == NO_RECEIPT
    assert entry.disclosed == {card.id: [["age_over_18"]]}
    [kept] = wallet.history()
    assert (kept.id, kept.outcome, kept.verifier) == (entry.id, "sent", verifier.did)
    assert kept.to_json()["receipt_status"] == "none"
    assert kept.to_json()["receipt_note"] == NO_RECEIPT
    assert kept.redirect_uri is None  # shown once, not kept
    assert wallet.card(card.id).copies_left == 2


@pytest.mark.parametrize("body", [b"thank you", b"[1, 2]"], ids=["text", "array"])
async def test_an_unreadable_answer_is_an_error_and_the_disclosure_is_kept(
        foreign: Any, body: bytes) -> None:
    _, wallet, verifier, card = await foreign(registered=True)
    verifier.answer = lambda _: web.Response(body=body, content_type="application/json")
    plan = await wallet.prepare(verifier.link())
    with pytest.raises(SentError) as err:
        await wallet.present(plan)
    assert "the history keeps what left" in err.value.detail
    [kept] = wallet.history()
    assert kept.outcome == "sent, answer unreadable" and kept.receipt_status == "none"
    assert kept.disclosed == {card.id: [["age_over_18"]]} and kept.reasons == [err.value.code]


async def test_a_keten_receipt_that_does_not_verify_is_an_error_and_is_kept(
        foreign: Any) -> None:
    _, wallet, verifier, card = await foreign(registered=True)
    forged = "eyJhbGciOiJFZERTQSJ9.eyJpc3MiOiJ4In0.c2ln"
    verifier.answer = lambda _: web.json_response({"keten_receipt": forged})
    plan = await wallet.prepare(verifier.link())
    with pytest.raises(SentError):
        await wallet.present(plan)
    [kept] = wallet.history()
    assert kept.outcome == "sent, receipt invalid" and kept.receipt_status == "invalid"
    assert kept.receipt_jwt == forged and kept.receipt is None
    assert kept.disclosed == {card.id: [["age_over_18"]]}


async def test_an_http_error_after_sending_keeps_the_disclosure(foreign: Any) -> None:
    _, wallet, verifier, _ = await foreign(registered=True)
    verifier.answer = lambda _: web.json_response({"error": "invalid_request"}, status=400)
    with pytest.raises(SentError):
        await wallet.present(await wallet.prepare(verifier.link()))
    assert [h.outcome for h in wallet.history()] == ["sent, verifier error"]


async def test_a_verifier_the_registry_does_not_list_is_unregistered(foreign: Any) -> None:
    _, wallet, verifier, _ = await foreign(registered=False)
    plan = await wallet.prepare(verifier.link())
    assert plan.registered is False and plan.satisfiable and verifier.posted == []


@pytest.mark.slow
async def test_the_cli_refuses_yes_alone_for_an_unregistered_verifier_and_says_no_receipt(
        foreign: Any) -> None:
    reg, wallet, verifier, card = await foreign(registered=False)
    wallet.close()
    home = wallet.store.home
    t = Timeline(reg.clock)
    env = {"SSIWALLET_PASSPHRASE": PASS}

    status, doc, _ = await run_wallet(t, home, "present", verifier.link(), "--yes", env=env)
    assert (status, doc["error"]) == (1, "wallet.unregistered_verifier"), doc
    assert "--allow-unregistered" in doc["detail"] and verifier.posted == []

    status, doc, err = await run_wallet(t, home, "present", verifier.link(), "--yes",
                                        "--allow-unregistered", env=env)
    assert status == 0, (doc, err)
    assert (doc["outcome"], doc["receipt"], doc["receipt_status"]) == ("sent", None, "none")
    assert doc["receipt_note"] == NO_RECEIPT and doc["redirect_uri"] == REDIRECT
    assert doc["registered"] is False and len(verifier.posted) == 1

    status, words, _ = await run_wallet(t, home, "present", verifier.link(), "--yes",
                                        "--allow-unregistered", env=env, json_out=False)
    assert status == 0, words
    assert "NOT a registered verifier" in words and "registry does not list" in words
    assert NO_RECEIPT in words and REDIRECT in words

    status, doc, _ = await run_wallet(t, home, "history", env=env)
    assert [h["receipt_status"] for h in doc["history"]] == ["none", "none"]
    assert all(h["disclosed"] == {card.id: [["age_over_18"]]} for h in doc["history"])
    status, words, _ = await run_wallet(t, home, "history", env=env, json_out=False)
    assert words.count(NO_RECEIPT) == 2
