"""The registry's DID resolution endpoint as generic resolvers call it.

W3C DID Resolution, HTTP(S) binding, and the DIF Universal Resolver driver contract:
``Accept`` chooses between the resolution result and the bare DID document, and an
unsupported one is 406 ``representationNotSupported``; ``versionId`` selects a version; a
DID of another method is ``methodNotSupported``; a DID URL with a fragment (sent
percent-encoded, ``%23``) is dereferenced to that verification method.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from registry.ledger.didketen import multikey
from registry.ledger.resolve import rfc3339

if TYPE_CHECKING:
    from tests.support.services import RegistryFactory, RegistryNode

pytestmark = pytest.mark.asyncio

RESULT = 'application/ld+json;profile="https://w3id.org/did-resolution"'


async def get(reg: RegistryNode, path: str, accept: str | None = None
              ) -> tuple[int, Any, str, str]:
    """(status, parsed body, full Content-Type header, Vary header)."""
    headers = {} if accept is None else {"Accept": accept}
    async with reg.session.get(reg.url + path, headers=headers) as resp:
        raw = await resp.read()
        assert resp.status != 500, raw[:300]
        return (resp.status, json.loads(raw), resp.headers.get("Content-Type", ""),
                resp.headers.get("Vary", ""))


async def test_accept_chooses_the_representation(registry_node: RegistryFactory) -> None:
    reg = await registry_node()
    did = reg.steward.did
    path = f"/1.0/identifiers/{did}"
    status, result, ctype, vary = await get(reg, path)
    assert (status, ctype) == (200, RESULT) and "Accept" in vary
    assert set(result) >= {"didDocument", "didDocumentMetadata", "didResolutionMetadata"}
    for accept in (RESULT, "application/ld+json; profile=\"https://w3id.org/did-resolution\"",
                   "*/*", "text/html, */*;q=0.1"):
        status, body, ctype, _ = await get(reg, path, accept)
        assert (status, body, ctype) == (200, result, RESULT), accept
    status, body, ctype, _ = await get(reg, path, "application/did-resolution")
    assert (status, body, ctype) == (200, result, "application/did-resolution")
    for media in ("application/did+ld+json", "application/did+json"):
        status, doc, ctype, _ = await get(reg, path, media)
        assert (status, ctype) == (200, media)
        assert doc == result["didDocument"] and doc["id"] == did
    status, doc, ctype, _ = await get(
        reg, path, f"{RESULT};q=0.5, application/did+ld+json;q=0.9")
    assert (status, ctype, doc) == (200, "application/did+ld+json", result["didDocument"])


@pytest.mark.parametrize("accept", ["text/html", "application/xml",
                                    'application/ld+json;profile="https://example.org/x"'])
async def test_an_unsupported_accept_is_406(registry_node: RegistryFactory,
                                            accept: str) -> None:
    reg = await registry_node()
    status, body, ctype, _ = await get(reg, f"/1.0/identifiers/{reg.steward.did}", accept)
    assert (status, ctype) == (406, RESULT)
    assert body["didResolutionMetadata"]["error"] == "representationNotSupported"
    assert body["didDocument"] is None


async def test_version_id_selects_that_version(registry_node: RegistryFactory) -> None:
    reg = await registry_node()
    issuer = await reg.new_did("Gemeente Gent")
    t1 = reg.clock()
    first = (await reg.get(f"/1.0/identifiers/{issuer.did}"))[1]["didDocumentMetadata"]
    key1 = multikey(issuer.key.public_key)
    t2 = reg.clock.advance(100)
    status, rotation = await reg.post(issuer.rotate_tx(reg.chain, t2))
    assert status == 201
    reg.clock.advance(100)

    path = f"/1.0/identifiers/{issuer.did}"
    status, old, _, _ = await get(reg, f"{path}?versionId={first['versionId']}")
    assert status == 200
    assert old["didResolutionMetadata"]["versionTime"] == rfc3339(t1)
    assert [m["publicKeyMultibase"] for m in old["didDocument"]["verificationMethod"]] == [key1]
    assert old["didDocumentMetadata"]["versionId"] == first["versionId"]
    assert old["didDocumentMetadata"]["nextVersionId"] == rotation["id"]
    status, new, _, _ = await get(reg, f"{path}?versionId={rotation['id']}")
    assert status == 200 and new["didDocumentMetadata"]["versionId"] == rotation["id"]
    assert [m["id"] for m in new["didDocument"]["verificationMethod"]] == [
        f"{issuer.did}#key-2"]

    status, body, _, _ = await get(reg, f"{path}?versionId=no-such-version")
    assert (status, body["didResolutionMetadata"]["error"]) == (404, "notFound")
    assert body["error"] == "registry.version_not_found"
    status, body, _, _ = await get(reg, f"{path}?versionId={rotation['id']}&versionTime={t1}")
    assert (status, body["didResolutionMetadata"]["error"]) == (400, "invalidOptions")
    assert "not both" in body["detail"]


@pytest.mark.parametrize("did", ["did:web:issuer.example", "did:example:123",
                                 "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
                                 "did:ebsi:zvHWX359A3CvfJnCYaAiAde"])
async def test_a_did_of_another_method_is_method_not_supported(
        registry_node: RegistryFactory, did: str) -> None:
    reg = await registry_node()
    status, body, ctype, _ = await get(reg, f"/1.0/identifiers/{did}")
    assert (status, ctype) == (501, RESULT)
    assert body["didResolutionMetadata"]["error"] == "methodNotSupported"
    assert body["error"] == "registry.method_not_supported"


@pytest.mark.parametrize("text", ["did:keten:0OIl0OIl0OIl0OIl0OIl", "did:keten:", "x",
                                  "did:Web:x", "did:web:"])
async def test_what_is_not_a_did_stays_invalid_did(registry_node: RegistryFactory,
                                                   text: str) -> None:
    reg = await registry_node()
    status, body, _, _ = await get(reg, f"/1.0/identifiers/{text}")
    assert (status, body["didResolutionMetadata"]["error"]) == (400, "invalidDid")


async def test_a_did_url_with_a_fragment_is_dereferenced(registry_node: RegistryFactory
                                                         ) -> None:
    reg = await registry_node()
    issuer = await reg.new_did("Gemeente Gent")
    t1 = reg.clock()
    key1 = multikey(issuer.key.public_key)
    t2 = reg.clock.advance(100)
    assert (await reg.post(issuer.rotate_tx(reg.chain, t2)))[0] == 201
    key2 = multikey(issuer.key.public_key)

    path = f"/1.0/identifiers/{issuer.did}%23key-2"
    status, method, ctype, _ = await get(reg, path, "application/did+ld+json")
    assert (status, ctype) == (200, "application/did+ld+json")
    assert method == {"@context": ["https://www.w3.org/ns/did/v1",
                                   "https://w3id.org/security/multikey/v1"],
                      "id": f"{issuer.did}#key-2", "type": "Multikey",
                      "controller": issuer.did, "publicKeyMultibase": key2}
    status, result, ctype, _ = await get(reg, path)
    assert (status, ctype) == (200, RESULT)
    assert result["contentStream"] == method
    assert result["dereferencingMetadata"]["contentType"] == "application/did+ld+json"
    assert result["contentMetadata"]["versionId"]

    # key-1 was rotated away: not in today's document, but in the one of its time
    old = f"/1.0/identifiers/{issuer.did}%23key-1"
    status, body, _, _ = await get(reg, old, "application/did+ld+json")
    assert (status, body["dereferencingMetadata"]["error"]) == (404, "notFound")
    assert "versionTime" in body["detail"]
    status, method, _, _ = await get(reg, f"{old}?versionTime={t1}", "application/did+ld+json")
    assert status == 200 and method["publicKeyMultibase"] == key1


async def test_the_registry_client_still_reads_its_answers(registry_node: RegistryFactory
                                                           ) -> None:
    """The default answer is still the resolution result the project's clients read."""
    reg = await registry_node()
    status, body = await reg.get(f"/1.0/identifiers/{reg.steward.did}")
    assert status == 200 and body["didDocument"]["id"] == reg.steward.did
