"""RegistryClient against real registry nodes on loopback.

Trust anchors (genesis pin), facts as of a time (keys across rotation, compromise and
deactivation; accreditation revocation), status list caching, checkpoint tracking with
consistency proofs, forks and rollbacks, witness quorum and freshness, and failing closed
when the registry cannot be reached (SECURITY-TESTS 23-25).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestServer, unused_port
from pytest_aiohttp import AiohttpServer

from registry.author import Controller, genesis_block
from registry.client.client import (
    ClientError,
    FileCheckpointStore,
    KeyNotValidError,
    NotAccreditedError,
    RegistryClient,
    RegistryUnavailableError,
    RemoteError,
    TrustPolicy,
    UntrustedResponseError,
)
from registry.node.app import ServiceOptions, build_app
from registry.node.node import Node
from registry.node.storage import SqliteStorage, StoredBlock
from registry.tlog.checkpoint import CosignatureSigner
from registry.tlog.note import NoteVerifier
from registry.witness.decide import WitnessConfig
from registry.witness.http import create_witness_app
from ssiwallet.core.keys import Ed25519PrivateKey
from ssiwallet.core.vc import DAY, IssuerKeyRef, issue_vc, keys_named, verify_vc
from ssiwallet.errors import VcError
from tests.support.clock import FakeClock

pytestmark = pytest.mark.asyncio

CHAIN = "registry.keten.example/client"
VCT = "urn:keten:vct:identity:1"
T0 = 1_790_035_200 - 300  # five minutes before a UTC midnight: credentials issued after it
# carry iat = that midnight, which the issuer's DID (created at T0) already covers.


class Clients:
    """Makes clients whose requests are recorded (path per request) and closes them all."""

    def __init__(self) -> None:
        self.made: list[tuple[RegistryClient, aiohttp.ClientSession]] = []
        self.requests: dict[int, list[str]] = {}

    def new(self, url: str, **kwargs: Any) -> RegistryClient:
        paths: list[str] = []

        async def on_start(_s: aiohttp.ClientSession, _c: Any,
                           params: aiohttp.TraceRequestStartParams) -> None:
            paths.append(params.url.path)

        trace = aiohttp.TraceConfig()
        trace.on_request_start.append(on_start)
        session = aiohttp.ClientSession(trace_configs=[trace])
        client = RegistryClient(url, session=session, **kwargs)
        self.made.append((client, session))
        self.requests[id(client)] = paths
        return client

    def paths(self, client: RegistryClient) -> list[str]:
        return self.requests[id(client)]


@pytest_asyncio.fixture
async def clients() -> AsyncIterator[Clients]:
    made = Clients()
    yield made
    for client, session in made.made:
        await client.close()
        await session.close()


class Chain:
    """A genesis of our own, so two nodes can share it (forks) and servers can be stopped."""

    def __init__(self, clock: FakeClock, witnesses: list[CosignatureSigner] | None = None,
                 quorum: int = 0) -> None:
        self.clock, self.steward = clock, Controller.new("Steward")
        self.sequencer = Ed25519PrivateKey.generate()
        self.witnesses = witnesses or []
        self.header, self.txs = genesis_block(
            CHAIN, "Client test", [self.steward], self.sequencer,
            [(w.name, w.verifier.vkey()) for w in self.witnesses], quorum, clock())

    async def serve(self, aiohttp_server: AiohttpServer, db: Path,
                    options: ServiceOptions | None = None) -> tuple[TestServer, str]:
        storage = SqliteStorage(db)
        storage.append_block(StoredBlock(0, self.header.hash, self.header.data, 0, len(self.txs)),
                             [(hashlib.sha256(t).hexdigest(), t) for t in self.txs], "")
        node = Node.open(storage, self.sequencer, clock=self.clock)
        server = await aiohttp_server(build_app(node, options or ServiceOptions()))
        return server, f"http://{server.host}:{server.port}"


async def new_did(client: RegistryClient, clock: FakeClock, steward: Controller,
                  name: str = "Gemeente Gent") -> Controller:
    controller = Controller.new(name)
    await client.submit(controller.create_tx((await client.genesis()).chain_id, clock(), steward))
    return controller


async def accredited_issuer(client: RegistryClient, clock: FakeClock, steward: Controller,
                            *, with_list: bool = False) -> tuple[Controller, str, str]:
    """An issuer accredited for VCT from now on; (issuer, accreditation id, status uri)."""
    issuer = await new_did(client, clock, steward)
    grant = await client.submit_signed(steward, "accreditation.grant", {
        "issuer": issuer.did, "vcts": [VCT], "valid_from": clock(), "valid_until": None})
    uri = f"{client.base_url}/status/{issuer.did.method_id}.main"
    if with_list:
        await client.submit_signed(issuer, "status.list.create",
                                   {"name": "main", "bits": 1, "size": 1024})
    return issuer, str(grant["id"]), uri


async def cosigned(client: RegistryClient) -> None:
    """Wait (briefly) until the node's newest checkpoint carries the quorum."""
    for _ in range(200):
        try:
            await client.checkpoint()
            return
        except UntrustedResponseError as exc:
            if exc.code != "registry.witness_quorum":
                raise
            await asyncio.sleep(0.02)
    raise AssertionError("witness cosignatures never arrived")


# --- genesis, submission, resolution -----------------------------------------------------------


async def test_genesis_pin_accepted_and_wrong_pin_refused(
        registry_node: Any, clients: Clients) -> None:
    reg = await registry_node(clock=FakeClock(T0))
    client = clients.new(reg.url, policy=TrustPolicy(genesis_hash=reg.genesis_hash))
    genesis = await client.genesis()
    assert (genesis.hash, genesis.chain_id, genesis.quorum) == (reg.genesis_hash, reg.chain, 0)
    assert genesis.sequencer == reg.sequencer.public_key
    assert genesis.log_verifier.vkey() == reg.log_verifier.vkey()

    wrong = clients.new(reg.url, policy=TrustPolicy(genesis_hash="00" * 32))
    for call in (wrong.genesis, lambda: wrong.accredited(reg.steward.did, VCT, reg.clock())):
        with pytest.raises(UntrustedResponseError) as err:
            await call()
        assert err.value.code == "registry.genesis_mismatch"
    assert clients.paths(wrong) == ["/genesis", "/genesis"]  # nothing else was asked


async def test_submit_maps_server_errors_to_remote_error_codes(
        registry_node: Any, clients: Clients) -> None:
    reg = await registry_node(clock=FakeClock(T0))
    client, steward = clients.new(reg.url, clock=reg.clock), reg.steward
    issuer = Controller.new("VDAB")
    receipt = await client.submit(issuer.create_tx(reg.chain, reg.clock(), steward))
    assert set(receipt) == {"id", "index", "height"}
    body = {"issuer": issuer.did, "vcts": [VCT], "valid_from": T0, "valid_until": None}
    steward.seq = await client.sequence(steward.did)
    first = steward.sign(reg.chain, "accreditation.grant", body, reg.clock())
    assert (await client.submit(first))["id"] == (await client.submit(first))["id"]  # idempotent
    steward.seq -= 1
    replay = steward.sign(reg.chain, "accreditation.grant", {**body, "valid_from": T0 + 1},
                          reg.clock())
    with pytest.raises(RemoteError) as err:
        await client.submit(replay)
    assert (err.value.code, err.value.http_status) == ("registry.replayed", 409)
    steward.seq += 5
    with pytest.raises(RemoteError) as err:
        await client.submit(steward.sign(reg.chain, "accreditation.grant", body, reg.clock()))
    assert (err.value.code, err.value.http_status) == ("registry.seq_gap", 409)
    with pytest.raises(RemoteError) as err:
        await client.submit(b"{")
    assert (err.value.code, err.value.http_status) == ("registry.tx_malformed", 400)
    # submit_signed re-reads the sequence number, so a confused local counter heals.
    await client.submit_signed(steward, "accreditation.grant", {**body, "valid_from": T0 + 2})
    assert await client.sequence(steward.did) == steward.seq


async def test_issuer_key_across_rotation_compromise_and_deactivation(
        registry_node: Any, clients: Clients) -> None:
    clock = FakeClock(T0)
    reg = await registry_node(clock=clock)
    client = clients.new(reg.url, clock=clock)
    issuer = await new_did(client, clock, reg.steward)
    t0, key1, kid1 = clock(), issuer.key.public_key, issuer.kid
    t1 = clock.advance(100)
    await client.submit(issuer.rotate_tx(reg.chain, t1))
    key2, kid2 = issuer.key.public_key, issuer.kid

    doc = (await client.resolve(issuer.did, t0 + 50)).document
    assert [m["id"] for m in doc["verificationMethod"]] == [kid1]
    assert [m["id"] for m in (await client.resolve(issuer.did)).document[
        "verificationMethod"]] == [kid2]
    assert await client.issuer_key(kid1, t0 + 50) == key1
    assert await client.issuer_key(kid2, t1 + 10) == key2
    for kid, at, why in ((kid1, t1 + 10, "rotated away"), (kid2, t0 + 50, "not yet valid"),
                         (kid1, t0 - 10, "did not exist"), ("did:key:z6Mk#0", t0, "not a")):
        with pytest.raises(KeyNotValidError, match=why) as err:
            await client.issuer_key(kid, at)
        assert err.value.code == "registry.key_not_valid"

    clock.advance(100)  # key-1 leaked: everything it signed from t0 + 20 on is void
    await client.submit_signed(issuer, "key.compromised",
                               {"did": issuer.did, "key": 1, "since": t0 + 20})
    assert await client.issuer_key(kid1, t0 + 10) == key1
    with pytest.raises(KeyNotValidError, match="compromised"):
        await client.issuer_key(kid1, t0 + 50)

    t3 = clock.advance(100)
    await client.submit_signed(issuer, "did.deactivate", {"did": issuer.did})
    assert await client.issuer_key(kid2, t3 - 10) == key2
    with pytest.raises(KeyNotValidError, match="deactivated"):
        await client.issuer_key(kid2, t3 + 10)


async def test_issuer_keys_of_the_named_kids_feed_verify_vc(
        registry_node: Any, clients: Clients) -> None:
    clock = FakeClock(T0)
    reg = await registry_node(clock=clock)
    client = clients.new(reg.url, clock=clock)
    issuer = await new_did(client, clock, reg.steward)
    other = await new_did(client, clock, reg.steward, "Elsewhere")
    clock.advance(600)  # past midnight: iat (rounded to the day) is after the DID's creation
    holder = Ed25519PrivateKey.generate().public_key.to_jwk()
    token = issue_vc(issuer=issuer.did, kid=issuer.kid, key=issuer.key, vct=VCT,
                     claims={"age_over_18": True}, holder_jwk=holder, now=clock(),
                     validity=30 * DAY).compact()
    refs = keys_named(token)
    assert refs == (IssuerKeyRef(issuer.did, issuer.kid, clock() - clock() % DAY),)
    keys = await client.issuer_keys(refs)
    assert keys == {issuer.kid: issuer.key.public_key}
    vc = verify_vc(token, keys=keys, now=clock(), key_binding=None, expect_kb=False)
    assert (vc.iss, vc.kid, vc.disclosed) == (issuer.did, issuer.kid, {"age_over_18": True})
    with pytest.raises(VcError) as err:  # nothing is looked up behind the caller's back
        verify_vc(token, keys={}, now=clock(), key_binding=None, expect_kb=False)
    assert err.value.code == "vc.key_not_given"
    with pytest.raises(KeyNotValidError):  # a day before the issuer's DID existed
        await client.issuer_keys([IssuerKeyRef(issuer.did, issuer.kid, refs[0].iat - 2 * DAY)])
    forged = issue_vc(issuer=issuer.did, kid=other.kid, key=other.key, vct=VCT,
                      claims={"age_over_18": True}, holder_jwk=holder, now=clock()).compact()
    with pytest.raises(VcError) as err:  # a kid of another DID is never asked for
        keys_named(forged)
    assert err.value.code == "issuer.kid_mismatch"


# --- registry facts ------------------------------------------------------------------------------


async def test_accreditation_before_and_after_revocation(
        registry_node: Any, clients: Clients) -> None:
    clock = FakeClock(T0)
    reg = await registry_node(clock=clock)
    client = clients.new(reg.url, clock=clock)
    issuer, grant, _ = await accredited_issuer(client, clock, reg.steward)
    t0 = clock()
    clock.advance(100)
    await client.submit_signed(reg.steward, "accreditation.revoke",
                               {"accreditation": grant, "since": t0 + 50})
    assert await client.accredited(issuer.did, VCT, t0 + 10) is True
    await client.require_accredited(issuer.did, VCT, t0 + 10)
    for who, at, vct in ((issuer.did, t0 + 60, VCT), (issuer.did, t0 - 10, VCT),
                         (issuer.did, t0 + 10, "urn:keten:vct:diploma:1"),
                         ("did:web:gent.be", t0 + 10, VCT)):
        assert await client.accredited(who, vct, at) is False
        with pytest.raises(NotAccreditedError) as err:
            await client.require_accredited(who, vct, at)
        assert err.value.code == "registry.not_accredited"


async def test_verifier_registration_and_schema_lookup(
        registry_node: Any, clients: Clients) -> None:
    clock = FakeClock(T0)
    reg = await registry_node(clock=clock)
    client = clients.new(reg.url, clock=clock)
    bar = await new_did(client, clock, reg.steward, "Café De Zwaan")
    assert await client.verifier(bar.did) is None
    await client.submit_signed(reg.steward, "verifier.register", {
        "verifier": bar.did, "purpose": {"nl": "Leeftijd controleren", "en": "Age check"},
        "credentials": [{"vct": VCT, "claims": [["age_over_18"]]}], "valid_until": None})
    registration = await client.verifier(bar.did)
    assert registration is not None and registration["active"] is True
    assert registration["credentials"] == [{"vct": VCT, "claims": [["age_over_18"]]}]

    assert await client.schema(VCT) is None
    schema = {"type": "object", "properties": {"age_over_18": {"type": "boolean"}}}
    await client.submit_signed(reg.steward, "schema.publish", {
        "vct": VCT, "schema": schema, "display": {"nl": "Identiteit", "en": "Identity"}})
    published = await client.schema(VCT)
    assert published is not None and (published["schema"], published["version"]) == (schema, 1)


async def test_status_list_cached_within_ttl_and_refetched_after(
        registry_node: Any, clients: Clients) -> None:
    clock = FakeClock(T0)
    reg = await registry_node(clock=clock)
    client = clients.new(reg.url, clock=clock)
    issuer, _, uri = await accredited_issuer(client, clock, reg.steward, with_list=True)
    ref = {"status_list": {"idx": 5, "uri": uri}}

    def fetches() -> int:
        return clients.paths(client).count(uri[len(reg.url):])

    assert await client.status_of_ref(ref) == 0 and fetches() == 1
    await client.submit_signed(issuer, "status.update",
                               {"list": uri.rsplit("/", 1)[1], "indices": [5], "value": 1})
    clock.advance(299)  # within the node's ttl (300 s): the cached token still answers
    assert await client.status_of_ref(ref) == 0 and fetches() == 1
    clock.advance(2)
    assert await client.status_of_ref(ref) == 1 and fetches() == 2
    token = await client.status(uri)
    assert token.sub == uri and token.ttl == 300 and fetches() == 2


async def test_status_uri_elsewhere_is_refused_without_fetching(
        registry_node: Any, clients: Clients) -> None:
    reg = await registry_node(clock=FakeClock(T0))
    client = clients.new(reg.url)
    list_id = "DeaGa1k9Jj8LwGCASaygKZ.main"
    for uri in ("http://evil.example/status/" + list_id,
                reg.url.replace("127.0.0.1", "127.0.0.1@evil.example") + "/status/" + list_id,
                reg.url + ".evil.example/status/" + list_id,
                reg.url + "/status/../genesis", reg.url + f"/status/{list_id}?x=1",
                "https" + reg.url[4:] + "/status/" + list_id):
        with pytest.raises(ClientError) as err:
            await client.status_of_ref({"status_list": {"idx": 0, "uri": uri}})
        assert err.value.code == "registry.status_uri_refused"
    assert clients.paths(client) == []


# --- checkpoints, forks, witnesses ---------------------------------------------------------------


async def test_checkpoint_grows_consistently_and_proves_inclusion(
        registry_node: Any, clients: Clients, tmp_path: Path) -> None:
    clock = FakeClock(T0)
    reg = await registry_node(clock=clock)
    store = FileCheckpointStore(tmp_path / "checkpoint")
    client = clients.new(reg.url, clock=clock, checkpoint_store=store)
    first = await client.checkpoint()
    receipt = await client.submit(Controller.new("School").create_tx(reg.chain, clock(),
                                                                     reg.steward))
    grown = await client.checkpoint()
    assert grown.size == first.size + 1
    assert clients.paths(client).count("/proofs/consistency") == 1
    assert await client.verify_inclusion(receipt["id"]) == receipt["index"]
    assert store.load() == client.tracked_note
    restarted = clients.new(reg.url, clock=clock, checkpoint_store=store)
    await restarted.genesis()
    assert restarted.tracked == grown  # kept across restarts: the anchor for the next proof


async def test_fork_and_rollback_are_refused(
        aiohttp_server: AiohttpServer, clients: Clients, tmp_path: Path) -> None:
    clock = FakeClock(T0)
    chain = Chain(clock)
    _, url_a = await chain.serve(aiohttp_server, tmp_path / "a.db")
    _, url_b = await chain.serve(aiohttp_server, tmp_path / "b.db")  # same genesis and key
    store = FileCheckpointStore(tmp_path / "checkpoint")
    a = clients.new(url_a, clock=clock, checkpoint_store=store)
    b = clients.new(url_b, clock=clock, checkpoint_store=store)
    await new_did(a, clock, chain.steward, "Shown to verifier A")
    await new_did(a, clock, chain.steward, "Also on A")
    seen = await a.checkpoint()
    await new_did(b, clock, chain.steward, "Shown to verifier B")  # B is one tx behind A

    async def refused(code: str, call: Callable[[], Any]) -> None:
        with pytest.raises(UntrustedResponseError) as err:
            await call()
        assert err.value.code == code
        assert b.tracked == seen and store.load() == a.tracked_note

    await refused("registry.rollback", b.checkpoint)
    await refused("registry.stale_response", lambda: b.resolve(chain.steward.did))
    await new_did(b, clock, chain.steward, "B catches up")  # same size as A, another root
    await refused("registry.fork_detected", b.checkpoint)
    await new_did(b, clock, chain.steward, "B runs ahead")  # no consistency proof can exist
    await refused("registry.fork_detected", b.checkpoint)
    assert await a.checkpoint() == seen


async def test_witness_quorum_and_max_age(
        registry_node: Any, clients: Clients) -> None:
    clock = FakeClock(T0)
    reg = await registry_node(witnesses=3, quorum=2, cosign_interval=0.05, clock=clock)
    client = clients.new(reg.url, clock=clock,
                         policy=TrustPolicy(genesis_hash=reg.genesis_hash, max_age=60))
    await cosigned(client)
    assert (await client.genesis()).quorum == 2
    assert client.tracked_note.count("\n\u2014 ") >= 3  # the log's signature and >= 2 witnesses
    size = client.tracked.size if client.tracked else 0
    await client.submit(Controller.new("School").create_tx(reg.chain, clock(), reg.steward))
    for _ in range(200):
        await cosigned(client)
        if client.tracked and client.tracked.size > size:
            break
        await asyncio.sleep(0.02)
    assert client.tracked is not None and client.tracked.size == size + 1

    strangers = [CosignatureSigner(f"w.example/{n}", Ed25519PrivateKey.generate())
                 for n in ("x", "y")]
    picky = clients.new(reg.url, clock=clock, policy=TrustPolicy(
        quorum=2, witnesses=[reg.witnesses[0].verifier.vkey()]
        + [s.verifier.vkey() for s in strangers]))
    with pytest.raises(UntrustedResponseError) as err:
        await picky.checkpoint()
    assert err.value.code == "registry.witness_quorum"

    # Checkpoints withheld: the newest cosignatures the node can show are old (SECURITY 24).
    late = clients.new(reg.url, clock=lambda: clock() + 1000, policy=TrustPolicy(max_age=60))
    with pytest.raises(UntrustedResponseError) as err:
        await late.checkpoint()
    assert err.value.code == "registry.checkpoint_stale"
    with pytest.raises(ClientError) as bad:
        await clients.new(reg.url, policy=TrustPolicy(quorum=4)).genesis()
    assert bad.value.code == "registry.bad_policy"


async def test_unreachable_registry_fails_closed_under_max_age(
        aiohttp_server: AiohttpServer, clients: Clients, tmp_path: Path) -> None:
    clock = FakeClock(T0)
    signers = [CosignatureSigner(f"w.example/{i}", Ed25519PrivateKey.generate()) for i in (1, 2)]
    chain = Chain(clock, signers, quorum=1)
    log_vkey = NoteVerifier(CHAIN, chain.sequencer.public_key).vkey()
    urls = {}
    for i, signer in enumerate(signers):
        config = WitnessConfig(signer, {CHAIN: [log_vkey]}, tmp_path / f"w{i}.db")
        server = await aiohttp_server(create_witness_app(config, clock=clock))
        urls[signer.name] = f"http://{server.host}:{server.port}"
    node_server, url = await chain.serve(aiohttp_server, tmp_path / "r.db", ServiceOptions(
        witnesses=urls, cosign_interval=0.05))
    client = clients.new(url, clock=clock, policy=TrustPolicy(max_age=60))
    await cosigned(client)
    issuer, _, uri = await accredited_issuer(client, clock, chain.steward, with_list=True)
    assert await client.status_of_ref({"status_list": {"idx": 1, "uri": uri}}) == 0
    assert await client.accredited(issuer.did, VCT, clock())

    await node_server.close()  # the registry goes away (or is cut off to hide a revocation)
    clock.advance(61)  # the status token is still within its ttl, the checkpoint is not fresh
    with pytest.raises(RegistryUnavailableError) as err:
        await client.status_of_ref({"status_list": {"idx": 1, "uri": uri}})
    assert err.value.code == "registry.unavailable"
    with pytest.raises(RegistryUnavailableError):
        await client.accredited(issuer.did, VCT, clock())


async def test_hostile_or_absent_transport(
        aiohttp_server: AiohttpServer, registry_node: Any, clients: Clients) -> None:
    reg = await registry_node(clock=FakeClock(T0))
    async with aiohttp.ClientSession() as session, session.get(reg.url + "/genesis") as resp:
        genesis = await resp.json()
    tampered = {**genesis, "txs": [{**genesis["txs"][0], "time": genesis["txs"][0]["time"] + 1},
                                   *genesis["txs"][1:]]}

    async def redirect(_: web.Request) -> web.Response:
        raise web.HTTPFound(reg.url + "/genesis")

    async def huge(_: web.Request) -> web.Response:
        return web.Response(body=b" " * (9 << 20), content_type="application/json")

    async def forged(_: web.Request) -> web.Response:
        return web.json_response(tampered)

    for handler, error, code in ((redirect, RemoteError, "http.302"),
                                 (huge, RegistryUnavailableError, "registry.unavailable"),
                                 (forged, UntrustedResponseError, "registry.untrusted")):
        app = web.Application()
        app.router.add_get("/genesis", handler)
        server = await aiohttp_server(app)
        with pytest.raises(error) as err:
            await clients.new(f"http://{server.host}:{server.port}").genesis()
        assert err.value.code == code
    with pytest.raises(RegistryUnavailableError):
        await clients.new(f"http://127.0.0.1:{unused_port()}", timeout=2).genesis()


async def test_issuance_day_rule_for_keys_and_accreditations(
        registry_node: Any, clients: Clients) -> None:
    """A credential's ``iat`` is the start of its UTC day; the key and the accreditation
    count if they held at some moment of that day and were not withdrawn before it ended."""
    day = DAY * (T0 // DAY + 1)  # the registry starts the day before; all happens on `day`
    clock = FakeClock(day + 3600)
    reg = await registry_node(clock=clock)
    client = clients.new(reg.url, clock=clock)
    school = await new_did(client, clock, reg.steward, "Hogeschool Gent")
    kid1, key1 = school.kid, school.key.public_key
    vct = "urn:keten:vct:diploma:1"
    grant = await client.submit_signed(reg.steward, "accreditation.grant", {
        "issuer": school.did, "vcts": [vct], "valid_from": clock(), "valid_until": None})
    # created and accredited at 01:00, so the instant rule fails for iat = 00:00 ...
    with pytest.raises(KeyNotValidError):
        await client.issuer_key(kid1, day)
    assert not await client.accredited(school.did, vct, day)
    # ... and the issuance-day rule accepts
    assert await client.issuer_key_on_day(kid1, day) == key1
    assert await client.accredited_on_day(school.did, vct, day)
    assert not await client.accredited_on_day(school.did, "urn:keten:vct:identity:1", day)
    with pytest.raises(KeyNotValidError, match="did not exist"):
        await client.issuer_key_on_day(kid1, day - DAY)

    # a rotation at 05:00: key-1 still counts for that day, key-2 too; key-1 not the next day
    clock.advance(4 * 3600)
    await client.submit(school.rotate_tx(reg.chain, clock()))
    assert await client.issuer_key_on_day(kid1, day) == key1
    assert await client.issuer_key_on_day(school.kid, day) == school.key.public_key
    with pytest.raises(KeyNotValidError, match="rotated away"):
        await client.issuer_key_on_day(kid1, day + DAY)

    # at 11:00 key-1 is found compromised from 10:00 that day: the whole day fails closed
    clock.advance(6 * 3600)
    await client.submit_signed(school, "key.compromised",
                               {"did": school.did, "key": 1, "since": day + 10 * 3600})
    with pytest.raises(KeyNotValidError, match="compromised"):
        await client.issuer_key_on_day(kid1, day)

    # at 21:00 the accreditation is revoked from 20:00: it no longer vouches for that day
    clock.advance(10 * 3600)
    await client.submit_signed(reg.steward, "accreditation.revoke",
                               {"accreditation": grant["id"], "since": day + 20 * 3600})
    assert not await client.accredited_on_day(school.did, vct, day)
    assert await client.accredited_on_day(school.did, vct, day - DAY) is False
