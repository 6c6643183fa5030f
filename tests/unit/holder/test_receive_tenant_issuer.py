"""A credential issuer whose identifier has a path (a tenant of a hosted issuer).

Its metadata is only where OpenID4VCI 1.0 §12.2.2 puts it (the well-known segment between
host and path), and so is its authorization server metadata (RFC 8414 §3.1); the wallet must
find both there and complete the pre-authorized code flow.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, cast
from urllib.parse import urlsplit

import base58
import pytest

from registry.client import KeyNotValidError, RegistryClient
from ssiwallet.core.jws import parse_compact
from ssiwallet.core.keys import Ed25519PrivateKey, Ed25519PublicKey
from ssiwallet.core.oid4vci import PRE_AUTH_GRANT, CredentialOffer
from ssiwallet.core.statuslist import StatusRef
from ssiwallet.core.vc import IssuerKeyRef, issue_vc
from ssiwallet.holder.receive import receive
from ssiwallet.infra.clock import FakeClock
from ssiwallet.infra.http import Http, MockTransport, Request, Response

pytestmark = pytest.mark.asyncio

T0 = 1_790_000_000
HOST = "https://hosted-issuer.example"
ISSUER_URL = f"{HOST}/tenants/gent"
ISSUER_DID = "did:keten:" + base58.b58encode(bytes(range(16))).decode()
KID = ISSUER_DID + "#key-1"
VCT = "https://keten.example/vct/identity"
KEY = Ed25519PrivateKey(bytes([11]) * 32)


def answer(obj: object, status: int = 200) -> Response:
    return Response(status, json.dumps(obj).encode(), {"content-type": "application/json"})


class Registry:
    base_url = "https://registry.example"

    async def issuer_keys(self, refs: Iterable[IssuerKeyRef]) -> dict[str, Ed25519PublicKey]:
        out = {}
        for ref in refs:
            if ref.kid != KID:
                raise KeyNotValidError(ref.kid)
            out[ref.kid] = KEY.public_key
        return out

    async def accredited_on_day(self, issuer: str, vct: str, iat: int) -> bool:
        return (issuer, vct) == (ISSUER_DID, VCT)


def tenant_issuer(clock: FakeClock) -> MockTransport:
    def handle(request: Request) -> Response:
        path = urlsplit(request.url).path
        route = (request.method, path)
        if route == ("GET", "/.well-known/openid-credential-issuer/tenants/gent"):
            return answer({
                "credential_issuer": ISSUER_URL,
                "credential_endpoint": f"{ISSUER_URL}/credential",
                "credential_configurations_supported": {
                    "identity": {"format": "dc+sd-jwt", "vct": VCT}}})
        if route == ("GET", "/.well-known/oauth-authorization-server/tenants/gent"):
            return answer({"issuer": ISSUER_URL, "token_endpoint": f"{ISSUER_URL}/token",
                           "grant_types_supported": [PRE_AUTH_GRANT]})
        if route == ("POST", "/tenants/gent/token"):
            return answer({"access_token": "at-0123456789", "token_type": "Bearer"})
        if route == ("POST", "/tenants/gent/credential"):
            body: dict[str, Any] = json.loads(request.body or b"")
            jwk = parse_compact(body["proofs"]["jwt"][0]).header["jwk"]
            token = issue_vc(issuer=ISSUER_DID, kid=KID, key=KEY, vct=VCT,
                             claims={"given_name": "Noor"}, holder_jwk=jwk, now=clock(),
                             status=StatusRef(3, "https://registry.example/status/g"))
            return answer({"credentials": [{"credential": token.compact()}]})
        return answer({"error": "not_found", "error_description": path}, 404)

    return MockTransport(handle)


async def test_an_issuer_with_a_path_is_found_at_its_well_known_uris() -> None:
    clock = FakeClock(T0)
    transport = tenant_issuer(clock)
    got = await receive(CredentialOffer(ISSUER_URL, ("identity",), "code-0123456789", None),
                        tx_code=None, session=Http(transport),
                        registry=cast(RegistryClient, Registry()), copies=1, clock=clock)
    assert got.issuer_url == ISSUER_URL and got.claims == {"given_name": "Noor"}
    assert [r.url for r in transport.requests][:2] == [
        f"{HOST}/.well-known/openid-credential-issuer/tenants/gent",
        f"{HOST}/.well-known/oauth-authorization-server/tenants/gent"]
