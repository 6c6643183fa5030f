"""SECURITY-TESTS 35: a transaction that is expensive to check is refused cheaply.

The costly check is a schema's validation against the Draft 2020-12 metaschema. It runs only
after the author and signature verified, within bounds (nodes, depth, characters, CPU
time), in a worker thread and once per transaction; every test counts the calls to the
metaschema validator instead of timing them.
"""

from __future__ import annotations

import json
import threading
from typing import TYPE_CHECKING, Any

import jsonschema
import pytest

from registry.author import Controller, genesis_block
from registry.ledger.chain import Chain
from registry.ledger.fields import JsonSchemaDoc, SchemaTooComplexError
from registry.ledger.rules import apply_tx, authenticate
from registry.ledger.tx import check_costly, parse_tx
from ssiwallet.core.keys import Ed25519PrivateKey
from ssiwallet.errors import SsiError

if TYPE_CHECKING:
    from tests.support.services import RegistryFactory, RegistryNode

T = 1_790_000_000
CHAIN = "registry.keten.example/test"
DISPLAY = {"nl": "Kostbaar", "en": "Costly"}


def costly_schema() -> dict[str, Any]:
    """~21 KB within the bounds (~600 nodes), each subschema validated by the metaschema."""
    return {"type": "object",
            "properties": {f"claim_{i:03d}_{'x' * 40}": {"type": "string"} for i in range(300)}}


def publish_body(schema: Any, vct: str = "urn:keten:vct:costly:1") -> dict[str, Any]:
    return {"vct": vct, "schema": schema, "display": DISPLAY}


class MetaschemaCalls:
    """Counts (and notes the thread of) every metaschema validation."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.threads: list[int] = []
        original = jsonschema.Draft202012Validator.check_schema.__func__

        def counted(cls: Any, schema: Any, *args: Any, **kwargs: Any) -> None:
            self.threads.append(threading.get_ident())
            original(cls, schema, *args, **kwargs)

        monkeypatch.setattr(jsonschema.Draft202012Validator, "check_schema",
                            classmethod(counted))

    @property
    def count(self) -> int:
        return len(self.threads)


@pytest.fixture
def metaschema(monkeypatch: pytest.MonkeyPatch) -> MetaschemaCalls:
    return MetaschemaCalls(monkeypatch)


def test_costly_schema_is_big_enough_to_matter() -> None:
    data = json.dumps(costly_schema()).encode()
    assert 20_000 < len(data) < 24_000


# --- the ledger: the order of checks ----------------------------------------------------------


def ledger() -> tuple[Chain, Controller]:
    steward = Controller.new("Steward")
    header, txs = genesis_block(CHAIN, "Test registry", [steward], Ed25519PrivateKey.generate(),
                                [], 0, T)
    return Chain.from_genesis(header.data, txs), steward


def test_parse_defers_the_metaschema_and_apply_runs_it_after_the_signature(
        metaschema: MetaschemaCalls) -> None:
    chain, steward = ledger()
    stranger = Controller.new("Stranger")
    data = stranger.sign(CHAIN, "schema.publish", publish_body(costly_schema()), T)
    tx = parse_tx(data, defer_costly=True)
    assert tx.deferred and metaschema.count == 0
    state = chain.state.fork()
    for check in (lambda: authenticate(state, tx, T), lambda: apply_tx(state, tx, T)):
        with pytest.raises(SsiError) as exc:
            check()
        assert exc.value.code == "registry.unknown_did"
    assert metaschema.count == 0

    honest = parse_tx(steward.sign(CHAIN, "schema.publish", publish_body(costly_schema()), T),
                      defer_costly=True)
    authenticate(state, honest, T)
    assert metaschema.count == 0
    checked = check_costly(honest)
    assert not checked.deferred and metaschema.count == 1
    assert check_costly(checked) is checked and metaschema.count == 1
    apply_tx(state, checked, T)  # already checked: not validated again
    assert metaschema.count == 1
    assert state.schemas["urn:keten:vct:costly:1"][0].schema == costly_schema()


def test_a_replayed_block_checks_signatures_before_the_metaschema(
        metaschema: MetaschemaCalls) -> None:
    chain, steward = ledger()
    invalid = {"type": "nonsense"}
    data = steward.sign(CHAIN, "schema.publish", publish_body(invalid), T)
    with pytest.raises(SsiError) as exc:  # the full check (what a client library does)
        parse_tx(data)
    assert exc.value.code == "registry.tx_malformed" and metaschema.count == 1
    tx = parse_tx(data, defer_costly=True)
    with pytest.raises(SsiError) as exc:  # the sequencer's rules still refuse it
        apply_tx(chain.state.fork(), tx, T)
    assert exc.value.code == "registry.tx_malformed" and metaschema.count == 2


@pytest.mark.parametrize(("schema", "what"), [
    ({"type": "object", "properties": {"a": {"enum": list(range(3000))}}}, "nodes"),
    ({"type": "string", "enum": [[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]}, "deeper"),
    ({"type": "object", "required": ["x"] * 1200}, "nodes"),
])
def test_bounds_are_checked_without_the_metaschema(schema: dict[str, Any], what: str,
                                                   metaschema: MetaschemaCalls) -> None:
    with pytest.raises(SchemaTooComplexError) as exc:
        JsonSchemaDoc().check(schema, "schema")
    assert exc.value.code == "registry.schema_too_complex" and what in exc.value.detail
    assert metaschema.count == 0


def nested_properties(depth: int) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(depth):
        schema = {"type": "object", "properties": {"a": schema}}
    return schema


def test_real_credential_schemas_fit_the_bounds() -> None:
    from ssiwallet.core import credtype_schemas

    for name in ("IDENTITY_SCHEMA", "DIPLOMA_SCHEMA", "COMPETENCE_SCHEMA"):
        JsonSchemaDoc().check(json.loads(json.dumps(getattr(credtype_schemas, name))), name)
    JsonSchemaDoc().check(nested_properties(9), "schema")  # 18 levels of objects
    JsonSchemaDoc().check(costly_schema(), "schema")
    with pytest.raises(SchemaTooComplexError):
        JsonSchemaDoc().check(nested_properties(10), "schema")


# --- the node over HTTP -----------------------------------------------------------------------


async def post(reg: RegistryNode, data: bytes) -> tuple[int, str]:
    status, body = await reg.post(data)
    return status, body["error"] if status >= 400 else "created"


@pytest.mark.asyncio
async def test_unauthenticated_costly_transactions_never_reach_the_metaschema(
        registry_node: RegistryFactory, metaschema: MetaschemaCalls) -> None:
    reg = await registry_node()
    issuer = await reg.new_did("Gemeente Gent")
    stranger = Controller.new("Stranger")
    body = publish_body(costly_schema())
    seq = reg.steward.seq
    forged = json.loads(reg.sign(reg.steward, "schema.publish", body))
    forged["proofs"][0]["sig"] = forged["proofs"][0]["sig"][:-2] + (
        "AA" if not forged["proofs"][0]["sig"].endswith("AA") else "BA")
    impostor = json.loads(stranger.sign(reg.chain, "schema.publish", body, reg.clock()))
    impostor["author"] = str(reg.steward.did)  # the steward's DID, the stranger's signature
    impostor["proofs"][0]["kid"] = f"{reg.steward.did}#key-1"
    impostor["seq"] = forged["seq"]
    cases = [
        (stranger.sign(reg.chain, "schema.publish", body, reg.clock()), 422,
         "registry.unknown_did"),
        (json.dumps(forged).encode(), 403, "registry.bad_tx_signature"),
        (json.dumps(impostor).encode(), 403, "registry.bad_tx_signature"),
        (reg.sign(issuer, "schema.publish", body), 403, "registry.not_steward"),
        (reg.steward.sign("another.example/chain", "schema.publish", body, reg.clock()), 409,
         "registry.wrong_chain"),
    ]
    for data, status, code in cases:
        assert len(data) > 20_000
        assert await post(reg, data) == (status, code)
    assert metaschema.count == 0  # not once, for any of them

    # a steward's costly transaction is checked once, in a worker thread, then accepted
    reg.steward.seq = seq
    assert await post(reg, reg.sign(reg.steward, "schema.publish", body)) == (201, "created")
    assert metaschema.count == 1
    assert metaschema.threads[0] != threading.get_ident()  # not on the event loop
    status, published = await reg.get("/schemas/urn:keten:vct:costly:1")
    assert status == 200 and published["schema"] == costly_schema()

    # a steward's invalid schema keeps its code
    bad = reg.sign(reg.steward, "schema.publish", publish_body({"type": "nonsense"}, "urn:x:y"))
    assert await post(reg, bad) == (400, "registry.tx_malformed")
    assert metaschema.count == 2


@pytest.mark.asyncio
async def test_a_stewards_too_complex_schema_is_refused_by_its_bounds(
        registry_node: RegistryFactory, metaschema: MetaschemaCalls) -> None:
    reg = await registry_node()
    huge = {"type": "object", "properties": {"level": {"enum": list(range(2500))}}}
    deep = nested_properties(15)  # within strict JSON's 64 levels, beyond the schema's 20
    for schema in (huge, deep):
        data = reg.sign(reg.steward, "schema.publish", publish_body(schema))
        assert await post(reg, data) == (400, "registry.schema_too_complex")
    assert metaschema.count == 0
    assert (await reg.health())["size"] == reg.node.chain.size


@pytest.mark.asyncio
async def test_the_cpu_budget_refuses_what_takes_too_long(
        registry_node: RegistryFactory, metaschema: MetaschemaCalls) -> None:
    reg = await registry_node()
    reg.node.costly_budget = 0.0  # every check "takes too long"
    data = reg.sign(reg.steward, "schema.publish", publish_body(costly_schema()))
    assert await post(reg, data) == (400, "registry.schema_too_complex")
    assert metaschema.count == 1
    reg.node.costly_budget = 5.0
    assert await post(reg, data) == (201, "created")
