"""One function per parser: ``bytes`` in, the parser's answer or an ``SsiError`` out.

A target decodes its input the way the project receives it (text, a JSON object through
strictjson, a form body, a file) and calls the parser; it does not catch anything itself.
The engines (:mod:`fuzz.engine`) call :func:`run_one`, which lets ``SsiError`` pass and
re-raises anything else as a finding.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import tempfile
from collections.abc import Callable, Coroutine, Mapping
from functools import cache
from pathlib import Path
from typing import Any, TypeVar, cast

from aiohttp import web

from fuzz.fixtures import (
    AUD,
    CLIENT_ID,
    HOLDER_KEY,
    ISSUER_DID,
    ISSUER_KEY,
    ISSUER_KID,
    ISSUER_URL,
    NONCE,
    NOW,
    STATUS_URI,
    VERIFIER_DID,
    VERIFIER_KEY,
    VERIFIER_KID,
)
from ssiwallet.errors import SsiError

T = TypeVar("T")
Target = Callable[[bytes], object]
TARGETS: dict[str, Target] = {}


def target(name: str) -> Callable[[Target], Target]:
    def register(fn: Target) -> Target:
        TARGETS[name] = fn
        return fn
    return register


MODULES = [
    "issuer.config",
    "issuer.offers",
    "issuer.store",
    "registry.ledger.bundle",
    "registry.ledger.tx",
    "registry.tlog.checkpoint",
    "registry.tlog.note",
    "registry.tlog.statemap",
    "ssiwallet.core",
    "ssiwallet.core.b64",
    "ssiwallet.core.claimpath",
    "ssiwallet.core.dcql",
    "ssiwallet.core.oid4vci",
    "ssiwallet.core.oid4vp",
    "ssiwallet.core.receipt",
    "ssiwallet.core.sdjwt",
    "ssiwallet.core.sdjwt.holder",
    "ssiwallet.core.sdjwt.verify",
    "ssiwallet.core.statuslist",
    "ssiwallet.core.values",
    "ssiwallet.core.vc",
    "ssiwallet.holder.receive",
    "ssiwallet.infra.http",
    "ssiwallet.infra.web",
    "verifier.config",
]


def preload() -> None:
    """Import every module the targets use (atheris instruments what is imported here)."""
    for module in MODULES:
        importlib.import_module(module)


def run_one(name: str, data: bytes) -> None:
    """Run target ``name`` on ``data``: an ``SsiError`` is an answer, anything else raises."""
    with contextlib.suppress(SsiError):  # our own typed refusal is a correct answer
        TARGETS[name](data)


def text(data: bytes) -> str:
    """Input as text, as a URL, header or decoded body arrives (invalid UTF-8 replaced)."""
    return data.decode("utf-8", "replace")


def json_of(data: bytes) -> Any:
    """Input as JSON the way every service reads it (strictjson); an InputError is fine."""
    from ssiwallet.core import strictjson

    return strictjson.loads(data)


def sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine that never waits on I/O (the fakes below answer at once)."""
    loop = _loop()
    return loop.run_until_complete(coro)


@cache
def _loop() -> asyncio.AbstractEventLoop:
    return asyncio.new_event_loop()


# --- core --------------------------------------------------------------------------------


@target("strictjson")
def t_strictjson(data: bytes) -> object:
    from ssiwallet.core import strictjson

    value = strictjson.loads(data)
    strictjson.dumps(value)
    return strictjson.loads_object(text(data))


@target("b64url")
def t_b64url(data: bytes) -> object:
    from ssiwallet.core.b64 import b64u_decode, b64u_encode

    raw = b64u_decode(text(data))
    assert b64u_decode(b64u_encode(raw)) == raw
    return raw


@target("jws")
def t_jws(data: bytes) -> object:
    from ssiwallet.core import jws

    parsed = jws.parse_compact(text(data))
    jws.refuse_header_keys(parsed)
    jws.verify(parsed, ISSUER_KEY.public_key)
    return parsed.payload_json("payload")


def _vc_keys() -> dict[str, Any]:
    return {ISSUER_KID: ISSUER_KEY.public_key}


@target("sdjwt_issued")
def t_sdjwt_issued(data: bytes) -> object:
    """What a wallet does with a credential it receives: parse, look, verify as holder."""
    from ssiwallet.core.sdjwt import serialize
    from ssiwallet.core.sdjwt.holder import holder_view
    from ssiwallet.core.vc import keys_named, verify_vc

    sd = serialize.parse(text(data))
    keys_named(sd)
    holder_view(sd)
    return verify_vc(sd, keys=_vc_keys(), now=NOW, key_binding=None, expect_kb=False)


@target("sdjwt_presented")
def t_sdjwt_presented(data: bytes) -> object:
    """What a verifier does with a presentation (compact or JSON)."""
    from ssiwallet.core.sdjwt.verify import KeyBindingPolicy
    from ssiwallet.core.vc import keys_named, verify_vc

    value = text(data)
    keys_named(value)
    return verify_vc(value, keys=_vc_keys(), now=NOW,
                     key_binding=KeyBindingPolicy(nonce=NONCE, aud=AUD))


@target("kb_jwt")
def t_kb_jwt(data: bytes) -> object:
    """The KB-JWT alone, after a real presentation whose ``sd_hash`` the seeds carry."""
    from ssiwallet.core.sdjwt.verify import KeyBindingPolicy
    from ssiwallet.core.vc import verify_vc

    presentation = _kb_base() + text(data)
    return verify_vc(presentation, keys=_vc_keys(), now=NOW,
                     key_binding=KeyBindingPolicy(nonce=NONCE, aud=AUD))


@cache
def _kb_base() -> str:
    return (Path(__file__).resolve().parent / "kb_presentation.txt").read_text()


@target("dcql")
def t_dcql(data: bytes) -> object:
    from ssiwallet.core.dcql import parse_query_json

    return parse_query_json(data)


@target("claimpath")
def t_claimpath(data: bytes) -> object:
    from ssiwallet.core.claimpath import ClaimPath

    value = json_of(data)
    ClaimPath.parse(value, mdoc=True)
    return ClaimPath.parse(value)


@target("values")
def t_values(data: bytes) -> object:
    from ssiwallet.core.values import DidUrl, HttpOrigin, StatusListId, Vct

    value = text(data)
    out: list[object] = []
    for kind in (HttpOrigin, DidUrl, Vct, StatusListId):
        with contextlib.suppress(SsiError):  # a refused value is a correct answer
            out.append(kind(value))
    return out


# --- OpenID4VCI --------------------------------------------------------------------------


@target("oid4vci_offer")
def t_oid4vci_offer(data: bytes) -> object:
    from ssiwallet.core.oid4vci import parse_offer

    offer = parse_offer(json_of(data))
    return parse_offer(offer.to_json()), offer.to_uri()


@target("oid4vci_offer_uri")
def t_oid4vci_offer_uri(data: bytes) -> object:
    from ssiwallet.core.oid4vci import issuer_metadata_url, parse_offer_uri

    offer = parse_offer_uri(text(data))
    if isinstance(offer, str):
        return offer
    return issuer_metadata_url(offer.credential_issuer)


@target("oid4vci_metadata")
def t_oid4vci_metadata(data: bytes) -> object:
    from ssiwallet.core.oid4vci import authorization_server_metadata_url, parse_issuer_metadata

    obj = json_of(data)
    expected = obj.get("credential_issuer") if isinstance(obj, dict) else None
    meta = parse_issuer_metadata(obj, expected_issuer=expected if isinstance(
        expected, str) else ISSUER_URL)
    authorization_server_metadata_url(meta.credential_issuer)
    return meta


@target("oid4vci_credential_request")
def t_oid4vci_credential_request(data: bytes) -> object:
    from ssiwallet.core.oid4vci import verify_proofs

    body = json_of(data)
    proofs = body.get("proofs") if isinstance(body, dict) else body
    return verify_proofs(proofs, aud=ISSUER_URL, now=NOW, batch_size=10)


@cache
def _desk() -> Any:
    from issuer.config import load_config, render_config
    from issuer.offers import OfferDesk
    from issuer.store import IssuerStore

    folder = Path(tempfile.mkdtemp(prefix="keten-fuzz-"))
    config_text, token = render_config(profile="municipality", public_url=ISSUER_URL,
                                       port=8443, registry_url="https://registry.example",
                                       genesis_hash=None)
    (folder / "admin-token").write_text(token)
    (folder / "issuer.toml").write_text(config_text)
    return OfferDesk(load_config(folder / "issuer.toml"), IssuerStore(":memory:"))


class FakeRequest:
    """What :func:`ssiwallet.infra.web.form_body` reads of an aiohttp request."""

    def __init__(self, body: bytes,
                 content_type: str = "application/x-www-form-urlencoded") -> None:
        self.body = body
        self.content_type = content_type

    async def read(self) -> bytes:
        return self.body


def form_of(data: bytes) -> dict[str, str]:
    from ssiwallet.infra.web import form_body

    return sync(form_body(cast(web.Request, FakeRequest(data))))


@target("oid4vci_token_request")
def t_oid4vci_token_request(data: bytes) -> object:
    return _desk().token(form_of(data), now=NOW)


@target("oid4vci_receive")
def t_oid4vci_receive(data: bytes) -> object:
    """The wallet's side of issuance against an issuer whose every answer is the input:
    issuer and server metadata, token, nonce and credential responses (or raw bodies)."""
    from ssiwallet.core.oid4vci import CredentialOffer
    from ssiwallet.holder.receive import receive
    from ssiwallet.infra.http import Http, MockTransport, Request, Response

    doc = json_of(data)
    answers: Mapping[str, Any] = doc if isinstance(doc, dict) else {}

    def handler(request: Request) -> Response:
        path = request.url.split("/")[-1]
        step = {"openid-credential-issuer": "metadata",
                "oauth-authorization-server": "as_metadata"}.get(path, path)
        answer = answers.get(step, doc)
        from ssiwallet.core import strictjson

        status = 200
        if isinstance(answer, dict) and isinstance(answer.get("_status"), int):
            status = answer["_status"]
        body = answer.encode() if isinstance(answer, str) else strictjson.dumps(
            answer).encode()
        return Response(status, body, {"content-type": "application/json"}, request.url)

    class NoRegistry:
        base_url = STATUS_URI.split("/status/")[0]

        async def issuer_keys(self, refs: object) -> dict[str, Any]:
            return _vc_keys()

    offer = CredentialOffer(ISSUER_URL, ("identity",), "c" * 40, None)
    return sync(receive(offer, tx_code=None, session=Http(MockTransport(handler)),
                        registry=cast(Any, NoRegistry()), copies=1, clock=lambda: NOW))


# --- OpenID4VP ---------------------------------------------------------------------------


@target("oid4vp_request_uri")
def t_oid4vp_request_uri(data: bytes) -> object:
    from ssiwallet.core.oid4vp import parse_request_uri

    return parse_request_uri(text(data))


@target("oid4vp_request_object")
def t_oid4vp_request_object(data: bytes) -> object:
    from ssiwallet.core.oid4vp import parse_request_object, verify_request_object

    obj = parse_request_object(text(data), expected_client_id=CLIENT_ID)
    return verify_request_object(obj, VERIFIER_KEY.public_key, now=NOW)


@target("oid4vp_response")
def t_oid4vp_response(data: bytes) -> object:
    from ssiwallet.core import receipt as rc

    form = form_of(data)
    if rc.is_error_response(form):
        return rc.parse_error_response(form)
    return rc.parse_response(form)


@target("oid4vp_post_answer")
def t_oid4vp_post_answer(data: bytes) -> object:
    from ssiwallet.core.receipt import parse_post_answer

    return parse_post_answer(data)


@target("receipt")
def t_receipt(data: bytes) -> object:
    from ssiwallet.core.receipt import parse_receipt

    return parse_receipt(text(data))


@target("form_body")
def t_form_body(data: bytes) -> object:
    return form_of(data)


# --- status lists ------------------------------------------------------------------------


@target("status_list_token")
def t_status_list_token(data: bytes) -> object:
    from ssiwallet.core.statuslist import status_of, verify_status_list_token

    token = verify_status_list_token(text(data), key=ISSUER_KEY.public_key,
                                     expected_sub=STATUS_URI, now=NOW)
    return [status_of(token, i) for i in (0, 3, 63)]


@target("status_reference")
def t_status_reference(data: bytes) -> object:
    from ssiwallet.core.statuslist import parse_status_reference

    return parse_status_reference(json_of(data))


# --- registry ----------------------------------------------------------------------------


@target("tx")
def t_tx(data: bytes) -> object:
    from registry.ledger.tx import check_costly, parse_tx

    tx = parse_tx(data, defer_costly=True)
    parse_tx(data, require_canonical=True)
    return check_costly(tx)


@target("note")
def t_note(data: bytes) -> object:
    from registry.tlog.checkpoint import Checkpoint
    from registry.tlog.note import parse_note

    body, _signatures = parse_note(data)
    return Checkpoint.parse(body)


@target("checkpoint")
def t_checkpoint(data: bytes) -> object:
    from registry.tlog.checkpoint import Checkpoint

    return Checkpoint.parse(text(data))


@target("bundle")
def t_bundle(data: bytes) -> object:
    from registry.ledger.bundle import parse_bundle

    bundle = parse_bundle(data)
    return parse_bundle(bundle.to_json())


@target("state_proof")
def t_state_proof(data: bytes) -> object:
    from registry.tlog.statemap import StateProof

    return StateProof.from_json(json_of(data))


# --- configuration files -----------------------------------------------------------------


@cache
def _config_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="keten-fuzz-config-"))


@target("issuer_config")
def t_issuer_config(data: bytes) -> object:
    from issuer.config import load_config

    folder = _config_dir()
    (folder / "admin-token").write_text("a" * 43)
    path = folder / "issuer.toml"
    path.write_bytes(data)
    return load_config(path)


@target("verifier_config")
def t_verifier_config(data: bytes) -> object:
    from verifier.config import load_config

    path = _config_dir() / "verifier.toml"
    path.write_bytes(data)
    return load_config(path)


_unused = (HOLDER_KEY, ISSUER_DID, VERIFIER_DID, VERIFIER_KID)  # the seeds' other names
