"""The registry node over real HTTP on loopback: every route, a DID's life, authorization,
and a mirror and two witnesses following a live sequencer.

Each node is a fresh genesis in ``tmp_path`` served by ``registry.node.app.build_app`` (see
``registry_node`` in ``conftest.py``); its clock only moves when a test advances it, so block
times, ``versionTime`` and status token times are exact. Every request goes through a helper
that fails the test on a 500.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import sqlite3
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import pydid
import pytest

from registry.author import Controller, endorse
from registry.ledger.didketen import commitment, multikey
from registry.ledger.resolve import rfc3339
from registry.ledger.tx import canonical, sign_tx, unsigned_tx
from registry.tlog.checkpoint import Checkpoint, verify_checkpoint
from registry.tlog.merkle import leaf_hash, verify_consistency, verify_inclusion
from registry.tlog.note import NoteVerifier, open_note
from registry.witness.decide import origin_hash
from ssiwallet.core.keys import Ed25519PrivateKey
from ssiwallet.core.statuslist import status_of, verify_status_list_token
from ssiwallet.errors import SsiError

if TYPE_CHECKING:
    from tests.support.services import MirrorFactory, RegistryFactory, RegistryNode

pytestmark = pytest.mark.asyncio

VCT = "urn:keten:vct:identity:1"
OTHER_VCT = "urn:keten:vct:diploma:1"
SCHEMA = {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
          "properties": {"given_name": {"type": "string"}}, "required": ["given_name"]}
DISPLAY = {"nl": "Identiteit", "en": "Identity"}


def b64(value: str) -> bytes:
    return base64.b64decode(value, validate=True)


async def checkpoint_of(reg: RegistryNode) -> tuple[Checkpoint, str]:
    status, note = await reg.get("/checkpoint")
    assert status == 200, note
    text, _ = open_note(note, [reg.log_verifier])
    return Checkpoint.parse(text), note


async def resolution(reg: RegistryNode, did: str, version_time: int | str | None = None
                     ) -> tuple[int, dict[str, Any]]:
    query = "" if version_time is None else f"?versionTime={version_time}"
    status, body = await reg.get(f"/1.0/identifiers/{did}{query}")
    assert isinstance(body, dict), body
    return status, body


async def kids_at(reg: RegistryNode, did: str, at: int) -> list[str]:
    status, body = await resolution(reg, did, at)
    assert status == 200, body
    return [m["id"] for m in body["didDocument"]["verificationMethod"]]


async def snapshot(reg: RegistryNode, *dids: str) -> tuple[Any, ...]:
    """What a refused transaction must leave unchanged: the tree head and the documents."""
    health = await reg.health()
    docs = [await resolution(reg, d) for d in dids]
    return health["height"], health["size"], health, docs, await checkpoint_of(reg)


async def expect_refused(reg: RegistryNode, tx: bytes, status: int, code: str, *dids: str
                         ) -> None:
    before = await snapshot(reg, *dids)
    got, body = await reg.post(tx)
    assert (got, body["error"]) == (status, code), body
    assert isinstance(body["detail"], str)
    assert await snapshot(reg, *dids) == before


async def wait_for(condition: Callable[[], Awaitable[bool]], timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await condition():
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


# --- every route --------------------------------------------------------------------------


async def test_health_and_genesis(registry_node: RegistryFactory) -> None:
    reg = await registry_node(stewards=2, witnesses=2, quorum=1, serve_witnesses=False)
    health = await reg.health()
    assert health == {"status": "ok", "chain": reg.chain, "height": 0, "size": 3,
                      "genesis": reg.genesis_hash, "sequencer": True, "halted": None}
    status, genesis = await reg.get("/genesis")
    assert status == 200
    assert genesis["hash"] == reg.genesis_hash
    assert hashlib.sha256(canonical(genesis["header"])).hexdigest() == reg.genesis_hash
    assert genesis["header"]["height"] == 0 and genesis["chain"] == reg.chain
    assert genesis["sequencer"] == multikey(reg.sequencer.public_key)
    assert genesis["log_vkey"] == reg.log_verifier.vkey()
    assert genesis["witnesses"] == [{"name": w.name, "vkey": w.verifier.vkey()}
                                    for w in reg.witnesses]
    assert genesis["quorum"] == 1
    assert [t["type"] for t in genesis["txs"]] == ["genesis", "did.create", "did.create"]
    assert [t["author"] for t in genesis["txs"][1:]] == [str(s.did) for s in reg.stewards]


async def test_post_tx_receipt_idempotent_and_get_tx(registry_node: RegistryFactory) -> None:
    reg = await registry_node()
    issuer = Controller.new("Gemeente Gent")
    tx = issuer.create_tx(reg.chain, reg.clock(), reg.steward)
    status, receipt = await reg.post(tx)
    assert status == 201
    assert receipt == {"id": hashlib.sha256(tx).hexdigest(), "index": 2, "height": 1}
    after = await reg.health()
    assert (after["height"], after["size"]) == (1, 3)

    # the same bytes again (a client retrying after a timeout): the same receipt, no new block
    reg.clock.advance(30)
    assert await reg.post(tx) == (201, receipt)
    # ... and so is the same transaction spelled differently (it is canonicalised first)
    spelled = json.dumps(json.loads(tx), indent=1, sort_keys=False).encode()
    assert spelled != tx
    assert await reg.post(spelled) == (201, receipt)
    assert await reg.health() == after

    status, stored = await reg.get(f"/txs/{receipt['id']}")
    assert status == 200
    assert stored == {**receipt, "tx": json.loads(tx)}
    for missing in ("0" * 64, "nope"):
        status, body = await reg.get(f"/txs/{missing}")
        assert (status, body["error"]) == (404, "registry.not_found")


async def test_concurrent_resubmissions_of_the_same_bytes_all_get_the_receipt(
        registry_node: RegistryFactory) -> None:
    reg = await registry_node()
    tx = Controller.new("Gemeente Gent").create_tx(reg.chain, reg.clock(), reg.steward)
    answers = await asyncio.gather(*(reg.post(tx) for _ in range(3)))
    assert (await reg.health())["size"] == 3
    assert answers == [(201, {"id": hashlib.sha256(tx).hexdigest(), "index": 2,
                              "height": 1})] * 3


async def test_blocks_paging_and_bounds(registry_node: RegistryFactory) -> None:
    reg = await registry_node()
    for i in range(5):
        await reg.new_did(f"Org {i}")
    status, page = await reg.get("/blocks")
    assert status == 200 and page["height"] == 5
    blocks = page["blocks"]
    assert [b["header"]["height"] for b in blocks] == list(range(6))
    for prev, block in zip(blocks, blocks[1:], strict=False):
        assert block["header"]["prev"] == prev["hash"]
        assert hashlib.sha256(canonical(block["header"])).hexdigest() == block["hash"]
        assert block["header"]["txs"] == len(block["txs"]) == 1

    status, page = await reg.get("/blocks?from=2&limit=2")
    assert status == 200
    assert [b["header"]["height"] for b in page["blocks"]] == [2, 3]
    assert page["blocks"] == blocks[2:4]
    for start in (5, 6, 10**6):
        status, page = await reg.get(f"/blocks?from={start}&limit=100")
        assert status == 200 and page["blocks"] == blocks[start:]
    status, page = await reg.get("/blocks?limit=0")
    assert status in (200, 400) and (status == 400 or len(page["blocks"]) <= 1)

    for query in ("limit=101", "limit=1000", "from=-1", "limit=-5", "from=abc", "limit=1.5",
                  "from=99999999999999999999", "from=", "limit=%2B3"):
        status, body = await reg.get(f"/blocks?{query}")
        assert (status, body["error"]) == (400, "registry.bad_parameter"), query


async def test_checkpoint_and_proofs_verify(registry_node: RegistryFactory) -> None:
    reg = await registry_node()
    txs: list[bytes] = []
    old, _ = await checkpoint_of(reg)
    assert (old.origin, old.size) == (reg.chain, 2)
    for i in range(6):
        c = Controller.new(f"Org {i}")
        txs.append(c.create_tx(reg.chain, reg.clock(), reg.steward))
        assert (await reg.post(txs[-1]))[0] == 201
        if i == 2:
            middle, _ = await checkpoint_of(reg)
    status, note, ctype = await reg.request("GET", "/checkpoint")
    assert (status, ctype) == (200, "text/plain")
    cp, _ = await checkpoint_of(reg)
    assert cp.size == (await reg.health())["size"] == 8
    # not signed by another key of the same name
    with pytest.raises(SsiError):
        open_note(note, [NoteVerifier(reg.chain, Ed25519PrivateKey.generate().public_key)])

    for tx in txs:
        tx_id = hashlib.sha256(tx).hexdigest()
        status, proof = await reg.get(f"/proofs/inclusion?tx={tx_id}")
        assert status == 200 and proof["size"] == cp.size and proof["tx"] == tx_id
        assert b64(proof["leaf_hash"]) == leaf_hash(tx)
        verify_inclusion(leaf_hash(tx), proof["index"], cp.size,
                         [b64(h) for h in proof["proof"]], cp.root_hash)
    # against an older tree head
    first = hashlib.sha256(txs[0]).hexdigest()
    status, proof = await reg.get(f"/proofs/inclusion?tx={first}&size={middle.size}")
    assert status == 200
    verify_inclusion(leaf_hash(txs[0]), proof["index"], middle.size,
                     [b64(h) for h in proof["proof"]], middle.root_hash)

    for a, b in ((old, cp), (middle, cp), (old, middle), (cp, cp)):
        status, proof = await reg.get(f"/proofs/consistency?from={a.size}&to={b.size}")
        assert status == 200 and (proof["from"], proof["to"]) == (a.size, b.size)
        verify_consistency(a.size, b.size, a.root_hash, b.root_hash,
                           [b64(h) for h in proof["proof"]])
    status, proof = await reg.get(f"/proofs/consistency?from={old.size}")
    assert status == 200 and proof["to"] == cp.size

    bad = [
        ("/proofs/inclusion", 404, "registry.not_found"),
        ("/proofs/inclusion?tx=" + "0" * 64, 404, "registry.not_found"),
        (f"/proofs/inclusion?tx={first}&size={cp.size + 1}", 400, "registry.proof_bad_size"),
        (f"/proofs/inclusion?tx={first}&size=x", 400, "registry.bad_parameter"),
        (f"/proofs/inclusion?tx={first}&size=-1", 400, "registry.bad_parameter"),
        ("/proofs/consistency", 400, "registry.bad_parameter"),
        ("/proofs/consistency?from=x&to=3", 400, "registry.bad_parameter"),
        (f"/proofs/consistency?from=3&to={cp.size + 1}", 400, "registry.proof_bad_size"),
        ("/proofs/consistency?from=5&to=3", 400, "registry.proof_bad_size"),
    ]
    for path, want_status, code in bad:
        status, body = await reg.get(path)
        assert (status, body["error"]) == (want_status, code), path


async def test_inclusion_proof_for_a_size_that_does_not_contain_the_tx(
        registry_node: RegistryFactory) -> None:
    """Leaf 2 is not in the tree of size 1 (nor 0, nor 2): a 4xx with a code, not a 500."""
    reg = await registry_node()
    await reg.new_did("Gemeente Gent")
    status, body = await reg.get("/blocks?from=1&limit=1")
    tx_id = hashlib.sha256(canonical(body["blocks"][0]["txs"][0])).hexdigest()
    for size in (0, 1, 2):
        status, body = await reg.get(f"/proofs/inclusion?tx={tx_id}&size={size}")
        assert (status, body["error"]) == (422, "registry.proof_bad_index"), (size, body)


async def test_did_resolution_shape_and_errors(registry_node: RegistryFactory) -> None:
    reg = await registry_node()
    t0 = reg.clock()
    steward = reg.steward
    status, body, ctype = await reg.request("GET", f"/1.0/identifiers/{steward.did}")
    assert (status, ctype) == (200, "application/ld+json")  # profile: did-resolution
    doc, meta, res = body["didDocument"], body["didDocumentMetadata"], \
        body["didResolutionMetadata"]
    pydid.DIDDocument.deserialize(doc)
    assert doc["id"] == steward.did
    assert doc["verificationMethod"] == [{
        "id": steward.kid, "type": "Multikey", "controller": steward.did,
        "publicKeyMultibase": multikey(steward.key.public_key)}]
    assert doc["assertionMethod"] == doc["authentication"] == [steward.kid]
    assert res == {"contentType": "application/did+ld+json", "versionTime": rfc3339(t0)}
    assert meta["created"] == meta["updated"] == rfc3339(t0)
    assert meta["deactivated"] is False and meta["steward"] is True
    assert meta["name"] == "Steward 1" and meta["sequence"] == 1
    assert (meta["chainHeight"], meta["chainSize"]) == (0, 2)
    assert meta["keyHistory"] == [{"id": steward.kid,
                                   "publicKeyMultibase": multikey(steward.key.public_key),
                                   "validFrom": t0, "validUntil": None,
                                   "compromisedSince": None}]

    # versionTime: RFC 3339 (Z or an offset) and Unix seconds name the same instant
    reg.clock.advance(100)
    issuer = await reg.new_did("Gemeente Gent")
    created = reg.clock()
    reg.clock.advance(100)
    answers = [await resolution(reg, issuer.did, v) for v in
               (created, rfc3339(created), rfc3339(created).replace("Z", "%2B00:00"),
                rfc3339(created + 3600).replace("Z", "%2B01:00"))]
    assert all(a == answers[0] for a in answers)
    assert answers[0][0] == 200
    assert answers[0][1]["didResolutionMetadata"]["versionTime"] == rfc3339(created)
    assert answers[0][1]["didDocumentMetadata"]["steward"] is False

    # created after versionTime → notFound; unknown → notFound; not a DID → invalidDid
    # (a DID of another method is methodNotSupported: tests/integration/
    # test_did_resolution_http.py)
    for did, when in ((issuer.did, created - 1), (issuer.did, rfc3339(created - 1)),
                      (Controller.new("Nobody").did, None)):
        status, body = await resolution(reg, did, when)
        assert status == 404, body
        assert body["didResolutionMetadata"]["error"] == "notFound"
        assert body["didDocument"] is None and body["error"] == "registry.did_not_found"
    for text in ("did:keten:0OIl0OIl0OIl0OIl0OIl", "did:keten:", "x"):
        status, body = await resolution(reg, text)
        assert status == 400, (text, body)
        assert body["didResolutionMetadata"]["error"] == "invalidDid"
    for when in ("yesterday", "2026-01-01T00:00:00", "2026-13-01T00:00:00Z", "-5"):
        status, body = await resolution(reg, issuer.did, when)
        assert status == 400, (when, body)
        assert body["didResolutionMetadata"]["error"] == "invalidOptions"


async def test_accreditations_verifiers_and_schemas(registry_node: RegistryFactory) -> None:
    reg = await registry_node()
    t0 = reg.clock()
    issuer = await reg.new_did("Gemeente Gent")
    verifier = await reg.new_did("Bibliotheek Gent")
    grant = await reg.submit(reg.steward, "accreditation.grant", {
        "issuer": issuer.did, "vcts": [VCT], "valid_from": t0 + 10, "valid_until": t0 + 1000})

    base = f"/accreditations?issuer={issuer.did}"
    status, body = await reg.get(f"{base}&vct={VCT}&at={t0 + 10}")
    assert status == 200
    assert body["accredited"] is True and body["vct"] == VCT and body["at"] == t0 + 10
    assert [a["id"] for a in body["accreditations"]] == [grant["id"]]
    assert body["accreditations"][0]["grantedBy"] == reg.steward.did
    for at, want in ((t0 + 9, False), (t0 + 999, True), (t0 + 1000, False)):
        status, body = await reg.get(f"{base}&vct={VCT}&at={at}")
        assert (status, body["accredited"]) == (200, want), at
    status, body = await reg.get(f"{base}&vct={OTHER_VCT}&at={t0 + 10}")
    assert (status, body["accredited"], body["accreditations"]) == (200, False, [])
    status, body = await reg.get(base)  # no vct: all records, no verdict
    assert status == 200 and "accredited" not in body and len(body["accreditations"]) == 1
    status, body = await reg.get(f"/accreditations?issuer={verifier.did}&vct={VCT}")
    assert (status, body["accredited"], body["accreditations"]) == (200, False, [])
    for query, code in (("", "registry.bad_parameter"), ("?issuer=nope", "registry.invalid_did"),
                        (f"?issuer={issuer.did}&at=soon", "registry.bad_parameter")):
        status, body = await reg.get(f"/accreditations{query}")
        assert (status, body["error"]) == (400, code), query

    # verifiers
    registration = {"verifier": verifier.did,
                    "purpose": {"nl": "Lidmaatschap", "en": "Membership"},
                    "credentials": [{"vct": VCT, "claims": [["given_name"],
                                                            ["address", "locality"]]}],
                    "valid_until": None}
    reg_receipt = await reg.submit(reg.steward, "verifier.register", registration)
    status, body = await reg.get(f"/verifiers/{verifier.did}")
    assert status == 200
    assert body["verifier"] == verifier.did and body["name"] == "Bibliotheek Gent"
    assert body["active"] is True and body["tx"] == reg_receipt["id"]
    assert body["purpose"] == registration["purpose"]
    assert body["credentials"] == registration["credentials"]
    status, body = await reg.get(f"/verifiers/{issuer.did}")
    assert (status, body["error"]) == (404, "registry.not_found")
    status, body = await reg.get("/verifiers/did:example:1")
    assert (status, body["error"]) == (400, "registry.invalid_did")

    # schemas: versions, ?version=, urn: and https: types
    first = await reg.submit(reg.steward, "schema.publish",
                             {"vct": VCT, "schema": SCHEMA, "display": DISPLAY})
    second_schema = {**SCHEMA, "required": []}
    await reg.submit(reg.steward, "schema.publish",
                     {"vct": VCT, "schema": second_schema, "display": DISPLAY})
    status, body = await reg.get(f"/schemas/{VCT}")
    assert status == 200
    assert (body["vct"], body["version"], body["versions"]) == (VCT, 2, 2)
    assert body["schema"] == second_schema and body["display"] == DISPLAY
    status, body = await reg.get(f"/schemas/{VCT}?version=1")
    assert (status, body["version"], body["tx"], body["schema"]) == (200, 1, first["id"], SCHEMA)
    for path in (f"/schemas/{VCT}?version=3", f"/schemas/{VCT}?version=0",
                 f"/schemas/{OTHER_VCT}"):
        status, body = await reg.get(path)
        assert (status, body["error"]) == (404, "registry.not_found"), path
    status, body = await reg.get(f"/schemas/{VCT}?version=x")
    assert (status, body["error"]) == (400, "registry.bad_parameter")
    https_vct = "https://credentials.example.org/vct/diploma"
    await reg.submit(reg.steward, "schema.publish",
                     {"vct": https_vct, "schema": SCHEMA, "display": DISPLAY})
    status, body = await reg.get("/schemas/https%3A%2F%2Fcredentials.example.org%2Fvct%2Fdiploma")
    assert (status, body.get("vct")) == (200, https_vct), body


async def test_status_list_token(registry_node: RegistryFactory) -> None:
    reg = await registry_node()
    t0 = reg.clock()
    issuer = await reg.new_did("Gemeente Gent")
    await reg.submit(reg.steward, "accreditation.grant", {
        "issuer": issuer.did, "vcts": [VCT], "valid_from": t0, "valid_until": None})
    await reg.submit(issuer, "status.list.create", {"name": "main", "bits": 2, "size": 1024})
    list_id = f"{issuer.did.method_id}.main"
    path = f"/status/{list_id}"

    async def token() -> Any:
        status, text, ctype = await reg.request("GET", path)
        assert (status, ctype) == (200, "application/statuslist+jwt"), text
        verified = verify_status_list_token(text, key=reg.sequencer.public_key,
                                            expected_sub=reg.url + path, now=reg.clock())
        assert verified.ttl is not None and verified.ttl > 0
        assert verified.extra["keten_height"] == (await reg.health())["height"]
        return verified

    first = await token()
    assert first.iat == reg.clock() and first.status_list.size == 1024
    assert [status_of(first, i) for i in (0, 5, 7, 1023)] == [0, 0, 0, 0]
    reg.clock.advance(60)
    await reg.submit(issuer, "status.update", {"list": list_id, "indices": [5, 7], "value": 1})
    await reg.submit(issuer, "status.update", {"list": list_id, "indices": [7], "value": 3})
    second = await token()
    assert [status_of(second, i) for i in (0, 5, 7, 1023)] == [0, 1, 3, 0]
    assert second.extra["keten_height"] == first.extra["keten_height"] + 2
    await reg.submit(issuer, "status.update", {"list": list_id, "indices": [5], "value": 0})
    assert [status_of(await token(), i) for i in (5, 7)] == [0, 3]

    # a token is bound to the URL it was fetched from: another list's URL does not match
    status, text = await reg.get(path)
    with pytest.raises(SsiError):
        verify_status_list_token(text, key=reg.sequencer.public_key,
                                 expected_sub=f"{reg.url}/status/{list_id}x", now=reg.clock())
    async with reg.session.get(reg.url + path) as resp:
        assert "max-age=" in resp.headers.get("Cache-Control", "")

    status, body = await reg.get(f"/status/{issuer.did.method_id}.other")
    assert (status, body["error"]) == (404, "registry.not_found")
    for bad in ("nope", "did:keten:x.main", f"{issuer.did.method_id}.UPPER"):
        status, body = await reg.get(f"/status/{bad}")
        assert (status, body["error"]) == (400, "registry.bad_parameter"), bad


async def test_http_errors_are_json(registry_node: RegistryFactory) -> None:
    reg = await registry_node()
    before = await reg.health()
    status, body = await reg.get("/nope")
    assert (status, body["error"]) == (404, "http.not_found")
    status, body, _ = await reg.request("GET", "/txs")
    assert (status, body["error"]) == (405, "http.method_not_allowed")
    status, body, _ = await reg.request("DELETE", "/health")
    assert (status, body["error"]) == (405, "http.method_not_allowed")
    status, body = await reg.post(b"x" * ((1 << 20) + 1))
    assert (status, body["error"]) == (413, "http.body_too_large")
    big = Controller.new("Big")
    too_big_tx = json.loads(big.create_tx(reg.chain, reg.clock(), reg.steward))
    too_big_tx["pad"] = "x" * 70_000
    for data in (b"{", b"", b"[]", b"null", b'{"type": "did.create"}', b"\xff\xfe",
                 b'{"a": 1, "a": 2}', json.dumps(too_big_tx).encode(),
                 b'{"v": 1, "type": "genesis"}'):
        status, body = await reg.post(data)
        assert (status, body["error"]) == (400, "registry.tx_malformed"), data[:40]
    assert await reg.health() == before


# --- a DID's life -------------------------------------------------------------------------


async def test_create_by_endorsed_request_and_rotation_history(
        registry_node: RegistryFactory) -> None:
    reg = await registry_node()
    issuer = Controller.new("Gemeente Gent")
    request = issuer.create_tx(reg.chain, reg.clock(), None)
    status, body = await reg.post(request)  # not endorsed: refused
    assert (status, body["error"]) == (403, "registry.not_endorsed")
    status, receipt = await reg.post(endorse(request, reg.steward))
    assert status == 201
    t1 = reg.clock()
    key1 = multikey(issuer.key.public_key)

    t2 = reg.clock.advance(100)
    status, rotation = await reg.post(issuer.rotate_tx(reg.chain, t2))
    assert status == 201
    key2 = multikey(issuer.key.public_key)
    reg.clock.advance(100)

    assert await kids_at(reg, issuer.did, t1) == [f"{issuer.did}#key-1"]
    assert await kids_at(reg, issuer.did, t2 - 1) == [f"{issuer.did}#key-1"]
    assert await kids_at(reg, issuer.did, t2) == [f"{issuer.did}#key-2"]
    _, now = await resolution(reg, issuer.did)
    assert [m["publicKeyMultibase"] for m in now["didDocument"]["verificationMethod"]] == [key2]
    meta = now["didDocumentMetadata"]
    assert meta["keyHistory"] == [
        {"id": f"{issuer.did}#key-1", "publicKeyMultibase": key1, "validFrom": t1,
         "validUntil": t2, "compromisedSince": None},
        {"id": f"{issuer.did}#key-2", "publicKeyMultibase": key2, "validFrom": t2,
         "validUntil": None, "compromisedSince": None}]
    assert meta["versionId"] == rotation["id"] and meta["updated"] == rfc3339(t2)
    _, then = await resolution(reg, issuer.did, t1)
    assert then["didDocumentMetadata"]["versionId"] == receipt["id"]
    assert then["didDocumentMetadata"]["nextVersionId"] == rotation["id"]
    assert (meta["sequence"], then["didDocumentMetadata"]["sequence"]) == (2, 2)


async def test_key_compromised(registry_node: RegistryFactory) -> None:
    reg = await registry_node()
    issuer = await reg.new_did("Gemeente Gent")
    t1 = reg.clock()
    t2 = reg.clock.advance(100)
    assert (await reg.post(issuer.rotate_tx(reg.chain, t2)))[0] == 201
    reg.clock.advance(100)
    # the DID itself (with key-2) reports key-1 stolen since t1 + 50
    await reg.submit(issuer, "key.compromised", {"did": issuer.did, "key": 1, "since": t1 + 50})
    assert await kids_at(reg, issuer.did, t1 + 49) == [f"{issuer.did}#key-1"]
    assert await kids_at(reg, issuer.did, t1 + 50) == []
    assert await kids_at(reg, issuer.did, t2 - 1) == []
    assert await kids_at(reg, issuer.did, t2) == [f"{issuer.did}#key-2"]
    _, body = await resolution(reg, issuer.did, t1)
    history = body["didDocumentMetadata"]["keyHistory"]
    assert [k["compromisedSince"] for k in history] == [t1 + 50, None]

    # a steward reports the current key stolen from now on: it signs nothing more,
    # but the committed next key can still rotate the DID back into use
    t3 = reg.clock.advance(100)
    await reg.submit(reg.steward, "key.compromised", {"did": issuer.did, "key": 2, "since": t3})
    assert await kids_at(reg, issuer.did, t3 - 1) == [f"{issuer.did}#key-2"]
    assert await kids_at(reg, issuer.did, t3) == []
    await expect_refused(reg, reg.sign(issuer, "did.deactivate", {"did": issuer.did}), 403,
                         "registry.key_compromised", issuer.did)
    issuer.seq -= 1
    t4 = reg.clock.advance(10)
    assert (await reg.post(issuer.rotate_tx(reg.chain, t4)))[0] == 201
    assert await kids_at(reg, issuer.did, t4) == [f"{issuer.did}#key-3"]
    _, body = await resolution(reg, issuer.did)
    assert [k["compromisedSince"] for k in body["didDocumentMetadata"]["keyHistory"]] == [
        t1 + 50, t3, None]


async def test_deactivation(registry_node: RegistryFactory) -> None:
    reg = await registry_node()
    issuer = await reg.new_did("Gemeente Gent")
    t1 = reg.clock()
    t2 = reg.clock.advance(100)
    await reg.submit(issuer, "did.deactivate", {"did": issuer.did})
    reg.clock.advance(10)
    status, body = await resolution(reg, issuer.did)
    assert status == 200
    meta = body["didDocumentMetadata"]
    assert meta["deactivated"] is True and meta["deactivatedAt"] == rfc3339(t2)
    assert body["didDocument"]["verificationMethod"] == []
    assert "assertionMethod" not in body["didDocument"]
    status, before = await resolution(reg, issuer.did, t1)
    assert before["didDocumentMetadata"]["deactivated"] is False
    assert await kids_at(reg, issuer.did, t1) == [f"{issuer.did}#key-1"]

    # nothing more by it, nor about it
    await expect_refused(reg, reg.sign(issuer, "key.compromised",
                                       {"did": issuer.did, "key": 1, "since": t1}),
                         403, "registry.did_deactivated", issuer.did)
    issuer.seq -= 1
    await expect_refused(reg, issuer.rotate_tx(reg.chain, reg.clock()), 403,
                         "registry.did_deactivated", issuer.did)
    await expect_refused(reg, reg.sign(reg.steward, "accreditation.grant", {
        "issuer": issuer.did, "vcts": [VCT], "valid_from": t1, "valid_until": None}),
        403, "registry.did_deactivated", issuer.did)
    reg.steward.seq -= 1
    # a DID endorsed by a deactivated DID is refused too
    other = Controller.new("Other")
    await expect_refused(reg, other.create_tx(reg.chain, reg.clock(), issuer), 403,
                         "registry.not_steward", issuer.did)


async def test_accreditation_revoked_since(registry_node: RegistryFactory) -> None:
    reg = await registry_node()
    t0 = reg.clock()
    issuer = await reg.new_did("Gemeente Gent")
    grant = await reg.submit(reg.steward, "accreditation.grant", {
        "issuer": issuer.did, "vcts": [VCT, OTHER_VCT], "valid_from": t0, "valid_until": None})
    reg.clock.advance(100)
    await reg.submit(reg.steward, "accreditation.revoke",
                     {"accreditation": grant["id"], "since": t0 + 50})
    base = f"/accreditations?issuer={issuer.did}&vct={VCT}"
    for at, want in ((t0 - 1, False), (t0, True), (t0 + 49, True), (t0 + 50, False),
                     (t0 + 100, False)):
        status, body = await reg.get(f"{base}&at={at}")
        assert (status, body["accredited"]) == (200, want), at
    status, body = await reg.get(base)
    assert body["accredited"] is False
    assert body["accreditations"][0]["revokedSince"] == t0 + 50
    await expect_refused(reg, reg.sign(reg.steward, "accreditation.revoke",
                                       {"accreditation": grant["id"]}),
                         409, "registry.already_revoked", issuer.did)
    reg.steward.seq -= 1
    # with no accreditation left, the issuer cannot open a status list
    await expect_refused(reg, reg.sign(issuer, "status.list.create",
                                       {"name": "main", "bits": 1, "size": 8}),
                         403, "registry.not_accredited", issuer.did)


# --- authorization over HTTP: refused, and nothing changed ---------------------------------


async def test_rotation_by_a_non_controller_is_refused(registry_node: RegistryFactory) -> None:
    reg = await registry_node()
    victim = await reg.new_did("Gemeente Gent")
    attacker = await reg.new_did("Mallory BV")
    body = {"key": multikey(attacker.next_key.public_key),
            "next": commitment(multikey(Ed25519PrivateKey.generate().public_key))}
    unsigned = unsigned_tx(reg.chain, "did.rotate", victim.did, victim.seq, reg.clock(), body)
    for kid, key in ((f"{victim.did}#key-2", attacker.next_key),
                     (attacker.kid, attacker.key),
                     (f"{victim.did}#key-1", attacker.key)):
        tx = sign_tx(unsigned, [(kid, key)])
        before = await snapshot(reg, victim.did, attacker.did)
        status, answer = await reg.post(tx)
        assert status == 403 and answer["error"].startswith("registry."), answer
        assert await snapshot(reg, victim.did, attacker.did) == before
    # a rotation of someone else's DID signed as the attacker's own DID
    await expect_refused(reg, sign_tx(unsigned_tx(
        reg.chain, "did.rotate", victim.did, victim.seq, reg.clock(),
        {"key": multikey(victim.next_key.public_key),
         "next": commitment(multikey(attacker.key.public_key))}),
        [(attacker.kid, attacker.key)]), 403, "registry.not_next_key", victim.did)


async def test_rotation_signed_with_the_superseded_key_is_refused(
        registry_node: RegistryFactory) -> None:
    reg = await registry_node()
    victim = await reg.new_did("Gemeente Gent")
    superseded, old_kid = victim.key, victim.kid
    assert (await reg.post(victim.rotate_tx(reg.chain, reg.clock())))[0] == 201
    body = {"key": multikey(victim.next_key.public_key),
            "next": commitment(multikey(Ed25519PrivateKey.generate().public_key))}
    tx = sign_tx(unsigned_tx(reg.chain, "did.rotate", victim.did, victim.seq, reg.clock(),
                             body), [(old_kid, superseded)])
    await expect_refused(reg, tx, 403, "registry.not_next_key", victim.did)
    # and the superseded key signs nothing else either
    tx = sign_tx(unsigned_tx(reg.chain, "did.deactivate", victim.did, victim.seq, reg.clock(),
                             {"did": victim.did}), [(old_kid, superseded)])
    await expect_refused(reg, tx, 403, "registry.not_current_key", victim.did)


async def test_accreditation_by_a_non_steward_is_refused(registry_node: RegistryFactory) -> None:
    reg = await registry_node()
    issuer = await reg.new_did("Gemeente Gent")
    tx = reg.sign(issuer, "accreditation.grant", {
        "issuer": issuer.did, "vcts": [VCT], "valid_from": reg.clock(), "valid_until": None})
    await expect_refused(reg, tx, 403, "registry.not_steward", issuer.did)
    status, body = await reg.get(f"/accreditations?issuer={issuer.did}&vct={VCT}")
    assert (status, body["accredited"], body["accreditations"]) == (200, False, [])
    # nor may it endorse a new DID
    await expect_refused(reg, Controller.new("X").create_tx(reg.chain, reg.clock(), issuer),
                         403, "registry.not_steward", issuer.did)


async def test_replayed_sequence_number_is_refused(registry_node: RegistryFactory) -> None:
    reg = await registry_node()
    issuer = await reg.new_did("Gemeente Gent")
    other = await reg.new_did("Gemeente Brugge")
    steward = reg.steward
    first = reg.sign(steward, "accreditation.grant", {
        "issuer": issuer.did, "vcts": [VCT], "valid_from": reg.clock(), "valid_until": None})
    assert (await reg.post(first))[0] == 201
    await reg.submit(steward, "accreditation.grant", {
        "issuer": other.did, "vcts": [VCT], "valid_from": reg.clock(), "valid_until": None})
    # seq 1 (and 2) are used: a new transaction signed with seq 1 is a replay
    steward.seq = 1
    replay = reg.sign(steward, "accreditation.grant", {
        "issuer": other.did, "vcts": [OTHER_VCT], "valid_from": reg.clock(),
        "valid_until": None})
    await expect_refused(reg, replay, 409, "registry.replayed", steward.did, other.did)
    # a gap is refused as well
    steward.seq = 7
    await expect_refused(reg, reg.sign(steward, "accreditation.grant", {
        "issuer": other.did, "vcts": [OTHER_VCT], "valid_from": reg.clock(),
        "valid_until": None}), 409, "registry.seq_gap", steward.did)
    # the original bytes are not a replay: the node answers with their receipt
    before = await snapshot(reg, steward.did)
    status, receipt = await reg.post(first)
    assert status == 201 and receipt["id"] == hashlib.sha256(first).hexdigest()
    assert await snapshot(reg, steward.did) == before


async def test_a_transaction_for_another_chain_is_refused(registry_node: RegistryFactory
                                                          ) -> None:
    here = await registry_node()
    there = await registry_node(chain="registry.keten.example/other")
    assert here.genesis_hash != there.genesis_hash
    issuer = Controller.new("Gemeente Gent")
    tx = issuer.create_tx(here.chain, here.clock(), here.steward)
    await expect_refused(there, tx, 409, "registry.wrong_chain", there.steward.did)
    assert (await here.post(tx))[0] == 201
    grant = here.sign(here.steward, "accreditation.grant", {
        "issuer": issuer.did, "vcts": [VCT], "valid_from": here.clock(), "valid_until": None})
    await expect_refused(there, grant, 409, "registry.wrong_chain", there.steward.did)
    status, body = await resolution(there, issuer.did)
    assert status == 404
    assert (await here.post(grant))[0] == 201


# --- a tampered store halts the node --------------------------------------------------------


async def test_storage_altered_under_a_running_node_halts_it(
        registry_node: RegistryFactory) -> None:
    reg = await registry_node()
    await reg.new_did("Gemeente Gent")
    status, page = await reg.get("/blocks?from=1&limit=1")
    tx_id = hashlib.sha256(canonical(page["blocks"][0]["txs"][0])).hexdigest()
    with sqlite3.connect(reg.db_path) as db:
        data = bytearray(db.execute("SELECT data FROM txs WHERE id = ?", (tx_id,)).fetchone()[0])
        data[len(data) // 2] ^= 0x01
        db.execute("UPDATE txs SET data = ? WHERE id = ?", (bytes(data), tx_id))
    db.close()
    status, body = await reg.get(f"/txs/{tx_id}")
    assert (status, body["error"]) == (503, "registry.node_halted")
    status, body = await reg.get("/health")
    assert status == 503 and body["status"] == "halted" and body["halted"]
    for path in ("/blocks", "/checkpoint", "/genesis"):
        status, body = await reg.get(path)
        assert (status, body["error"]) == (503, "registry.node_halted"), path
    other = Controller.new("Other")
    status, body = await reg.post(other.create_tx(reg.chain, reg.clock(), reg.steward))
    assert (status, body["error"]) == (503, "registry.node_halted")


async def halted_node(registry_node: RegistryFactory) -> tuple[RegistryNode, Controller, str]:
    """A node with a DID, an accreditation, a verifier, a schema and a status list, whose
    stored accreditation was then overwritten on disk and read back (so the node halted)."""
    reg = await registry_node()
    issuer = await reg.new_did("Gemeente Gent")
    grant = await reg.submit(reg.steward, "accreditation.grant", {
        "issuer": issuer.did, "vcts": [VCT], "valid_from": reg.clock(), "valid_until": None})
    await reg.submit(reg.steward, "verifier.register", {
        "verifier": issuer.did, "purpose": {"nl": "x", "en": "x"},
        "credentials": [{"vct": VCT, "claims": [["given_name"]]}], "valid_until": None})
    await reg.submit(reg.steward, "schema.publish",
                     {"vct": VCT, "schema": SCHEMA, "display": DISPLAY})
    await reg.submit(issuer, "status.list.create", {"name": "main", "bits": 1, "size": 8})
    with sqlite3.connect(reg.db_path) as db:
        db.execute("UPDATE txs SET data = CAST(? AS BLOB) WHERE id = ?", (b"{}", grant["id"]))
    db.close()
    status, body = await reg.get(f"/txs/{grant['id']}")
    assert (status, body["error"]) == (503, "registry.node_halted")
    return reg, issuer, grant["id"]


async def test_a_halted_node_signs_no_status_list_token(registry_node: RegistryFactory) -> None:
    reg, issuer, _ = await halted_node(registry_node)
    status, body = await reg.get(f"/status/{issuer.did.method_id}.main")
    assert status == 503, str(body)[:60]
    assert body["error"] == "registry.node_halted"


async def test_a_halted_node_answers_503_on_every_route(registry_node: RegistryFactory) -> None:
    reg, issuer, grant_id = await halted_node(registry_node)
    paths = [f"/1.0/identifiers/{issuer.did}", f"/accreditations?issuer={issuer.did}",
             f"/verifiers/{issuer.did}", f"/schemas/{VCT}", f"/proofs/inclusion?tx={grant_id}",
             "/proofs/consistency?from=1"]
    answers = {p: (await reg.get(p))[0] for p in paths}
    assert answers == dict.fromkeys(paths, 503)


@pytest.mark.parametrize("when", ["999999999999", "9999-12-31T23:59:59-01:00"])
async def test_version_time_beyond_year_9999_is_not_a_500(registry_node: RegistryFactory,
                                                          when: str) -> None:
    reg = await registry_node()
    status, body = await resolution(reg, reg.steward.did, when.replace("+", "%2B"))
    assert status in (200, 400, 404) and "didResolutionMetadata" in body


@pytest.mark.parametrize("path", [
    "/blocks?from=%C2%B2", "/blocks?limit=%C2%B9", "/proofs/consistency?from=%C2%B2",
    "/accreditations?issuer={did}&at=%C2%B2", "/schemas/{vct}?version=%C2%B9",
    "/1.0/identifiers/{did}?versionTime=%C2%B2",
])
async def test_non_ascii_digits_in_integer_parameters_are_a_400(
        registry_node: RegistryFactory, path: str) -> None:
    reg = await registry_node()
    await reg.submit(reg.steward, "schema.publish",
                     {"vct": VCT, "schema": SCHEMA, "display": DISPLAY})
    status, body = await reg.get(path.format(did=reg.steward.did, vct=VCT))
    assert status == 400, body


# --- a mirror and two witnesses follow a live sequencer --------------------------------------


async def test_mirror_and_witnesses_follow_a_live_node(registry_node: RegistryFactory,
                                                       registry_mirror: MirrorFactory) -> None:
    reg = await registry_node(witnesses=2, quorum=2, cosign_interval=0.1)
    assert len(reg.witness_urls) == 2
    mirror = await registry_mirror(reg, follow_interval=0.05)
    t0 = reg.clock()

    orgs = [Controller.new(f"Org {i}") for i in range(12)]
    answers = await asyncio.gather(
        *(reg.post(o.create_tx(reg.chain, reg.clock(), reg.steward)) for o in orgs[:6]))
    assert [s for s, _ in answers] == [201] * 6
    for org in orgs[6:]:
        assert (await reg.post(org.create_tx(reg.chain, reg.clock(), reg.steward)))[0] == 201
        await asyncio.sleep(0.02)
    for org in orgs[:4]:
        await reg.submit(reg.steward, "accreditation.grant", {
            "issuer": org.did, "vcts": [VCT], "valid_from": t0, "valid_until": None})
    reg.clock.advance(5)
    rotations = await asyncio.gather(
        *(reg.post(o.rotate_tx(reg.chain, reg.clock())) for o in orgs[4:8]))
    assert [s for s, _ in rotations] == [201] * 4
    await reg.submit(orgs[0], "status.list.create", {"name": "main", "bits": 1, "size": 64})

    verifiers = [w.verifier for w in reg.witnesses]
    target = await reg.health()

    async def caught_up() -> bool:
        status, health = await mirror.get("/health")
        if status != 200 or health["size"] != target["size"]:
            return False
        status, mirror_note = await mirror.get("/checkpoint")
        if status != 200 or Checkpoint.parse(open_note(mirror_note, [reg.log_verifier])[0]
                                             ).size != target["size"]:
            return False
        _, note = await reg.get("/checkpoint")
        try:
            checkpoint, cosigned = verify_checkpoint(note, reg.log_verifier, verifiers, 2)
        except SsiError:
            return False
        return checkpoint.size == target["size"] and len(cosigned) == 2

    await wait_for(caught_up)
    _, note = await reg.get("/checkpoint")
    checkpoint, cosigned = verify_checkpoint(note, reg.log_verifier, verifiers, quorum=2)
    assert set(cosigned) == {w.name for w in reg.witnesses}
    assert (checkpoint.origin, checkpoint.size) == (reg.chain, target["size"])
    mirror_health = await mirror.health()
    assert {k: mirror_health[k] for k in ("chain", "height", "size", "genesis")} == \
        {k: target[k] for k in ("chain", "height", "size", "genesis")}
    assert mirror_health["sequencer"] is False
    # the mirror serves the sequencer's signed tree head for the same tree
    _, mirror_note = await mirror.get("/checkpoint")
    mirror_cp, _ = open_note(mirror_note, [reg.log_verifier])
    assert Checkpoint.parse(mirror_cp) == checkpoint
    # each witness's monitoring endpoint shows what it cosigned
    for url in reg.witness_urls:
        async with reg.session.get(f"{url}/{origin_hash(reg.chain)}/checkpoint") as resp:
            assert resp.status == 200
            witnessed = await resp.text()
        assert Checkpoint.parse(witnessed.split("\n\n")[0] + "\n").size == checkpoint.size

    for did in [reg.steward.did, *(o.did for o in orgs), Controller.new("Nobody").did]:
        for when in (None, t0, reg.clock()):
            assert await resolution(mirror, did, when) == await resolution(reg, did, when)
    _, page = await reg.get("/blocks?from=3&limit=1")
    tx_id = hashlib.sha256(canonical(page["blocks"][0]["txs"][0])).hexdigest()
    for path in ("/blocks?from=0&limit=100", f"/accreditations?issuer={orgs[0].did}&vct={VCT}",
                 "/genesis", f"/txs/{tx_id}", f"/proofs/inclusion?tx={tx_id}&size=5",
                 f"/proofs/consistency?from=3&to={checkpoint.size}"):
        assert await mirror.get(path) == await reg.get(path), path
    # a mirror accepts no transactions and signs no status lists
    status, body = await mirror.post(Controller.new("Late").create_tx(
        reg.chain, reg.clock(), reg.steward))
    assert (status, body["error"]) == (503, "registry.not_sequencer")
    status, body = await mirror.get(f"/status/{orgs[0].did.method_id}.main")
    assert (status, body["error"]) == (503, "registry.not_sequencer")

    # it keeps following
    late = await reg.new_did("Late Org")
    size = (await reg.health())["size"]

    async def mirrored() -> bool:
        return (await mirror.health())["size"] == size

    await wait_for(mirrored)
    assert await resolution(mirror, late.did) == await resolution(reg, late.did)
