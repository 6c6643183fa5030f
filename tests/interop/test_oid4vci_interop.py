"""The issuer's OpenID4VCI documents next to the specification's, and its credentials in the
hands of the PyPI ``sd-jwt`` reference implementation.

The shapes (``data/oid4vci/shapes.json``) are JSON Schemas written from the parameter
definitions of OpenID4VCI 1.0; each is first shown to accept the specification's own
example, so a schema that drifted from the spec fails here before it judges our documents.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from jsonschema import Draft202012Validator
from jwcrypto.jwk import JWK
from sd_jwt.verifier import SDJWTVerifier

from ssiwallet.core.keys import Ed25519PrivateKey
from ssiwallet.core.oid4vci import PRE_AUTH_GRANT, make_proof, parse_offer, parse_offer_uri

pytestmark = pytest.mark.interop

DATA = Path(__file__).parent / "data" / "oid4vci"
SHAPES = json.loads((DATA / "shapes.json").read_text())
DIPLOMA = {"holder_name": "Lotte Verstraete", "title": "Graduaat programmeren",
           "eqf_level": 5, "field_of_study": "Informatica", "awarded_on": "2025-06-30",
           "institution": "Hogeschool Gent"}


def _check(shape: str, document: object) -> None:
    validator = Draft202012Validator(SHAPES[shape])
    problems = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]
    assert not problems, problems


@pytest.mark.parametrize(("shape", "example"), [
    ("issuer_metadata", "credential_issuer_metadata_sd_jwt_long.json"),
    ("credential_offer", "credential_offer_pre-authz_code.json"),
])
def test_shapes_accept_the_specification_examples(shape: str, example: str) -> None:
    _check(shape, json.loads((DATA / example).read_text()))


def test_the_specification_offer_parses() -> None:
    offer = parse_offer(json.loads((DATA / "credential_offer_pre-authz_code.json").read_text()))
    assert offer.pre_authorized_code == "adhjhdjajkdkhjhdj"
    assert offer.tx_code is not None and offer.tx_code.input_mode == "numeric"


@pytest.mark.asyncio
async def test_issuer_documents_and_credentials_in_the_reference(
        registry_node: Any, issuer_service: Any) -> None:
    reg = await registry_node()
    school = await issuer_service(reg, batch_size=3)
    created = await school.offer(DIPLOMA)
    _check("credential_offer", created["credential_offer"])
    offer = parse_offer_uri(created["offer_uri"])
    assert not isinstance(offer, str)
    async with aiohttp.ClientSession() as http:
        async with http.get(school.url + "/.well-known/openid-credential-issuer") as resp:
            metadata = await resp.json()
        async with http.get(school.url + "/.well-known/oauth-authorization-server") as resp:
            as_meta = await resp.json()
        _check("issuer_metadata", metadata)
        _check("authorization_server_metadata", as_meta)
        async with http.post(as_meta["token_endpoint"], data={
                "grant_type": PRE_AUTH_GRANT, "pre-authorized_code": offer.pre_authorized_code,
                "tx_code": created["tx_code"]}) as resp:
            token = await resp.json()
        async with http.post(metadata["nonce_endpoint"]) as resp:
            nonce = (await resp.json())["c_nonce"]
        keys = [Ed25519PrivateKey.generate() for _ in range(3)]
        request = {"credential_configuration_id": offer.configuration_ids[0],
                   "proofs": {"jwt": [make_proof(k, aud=school.url, nonce=nonce,
                                                 iat=reg.clock()) for k in keys]}}
        async with http.post(metadata["credential_endpoint"], json=request, headers={
                "Authorization": f"Bearer {token['access_token']}"}) as resp:
            assert resp.status == 200
            answer = await resp.json()
    _check("credential_response", answer)
    issuer_jwk = JWK(**school.controller.key.public_key.to_jwk())

    def issuer_key(iss: str, header: dict[str, Any]) -> JWK:
        assert iss == school.did and header["kid"] == school.controller.kid
        assert header["typ"] == "dc+sd-jwt"
        return issuer_jwk

    for item, key in zip(answer["credentials"], keys, strict=True):
        claims = SDJWTVerifier(item["credential"], issuer_key).get_verified_payload()
        assert {k: claims[k] for k in DIPLOMA} == DIPLOMA
        assert claims["cnf"]["jwk"] == key.public_key.to_jwk()
        assert claims["vct"] == "urn:keten:vct:diploma:1"
        assert set(claims["status"]["status_list"]) == {"idx", "uri"}
