"""A registry state holding every kind of record, built through the real chain rules.

Shared by the state-commitment and proof-bundle tests: a steward, two issuers (one rotated
with a compromised key, one accredited, revoked and deactivated), a registered verifier, a
schema with two versions and two status lists (1 bit over four chunks, 2 bits over two),
with entries set and reset. Every block goes through :meth:`Chain.prepare` and
:meth:`Chain.commit`, and :attr:`World.blocks` keeps each block's state before and after.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from registry.author import Controller, genesis_block
from registry.ledger.chain import Chain, Pending
from registry.ledger.state import State
from registry.ledger.tx import parse_tx
from registry.tlog.statemap import StateKey, state_key
from ssiwallet.core.b64 import b64u_decode, b64u_encode
from ssiwallet.core.keys import Ed25519PrivateKey

T = 1_790_000_000
C = "registry.keten.example/test"
VCT = "urn:keten:vct:identity:1"
DIPLOMA = "https://vct.example/diploma"
SCHEMA = {"type": "object", "properties": {"age_over_18": {"type": "boolean"},
                                           "naam": {"type": "string", "title": "Naam — é"},
                                           "score": {"type": "number", "maximum": 9.5}}}


class World:
    """The chain, the controllers by role, and the ids of what they made."""

    gent: Controller  # an accredited issuer with two status lists, rotated
    school: Controller  # accredited, revoked, deactivated
    library: Controller  # a registered verifier
    accreditation: str
    revoked: str
    revocation: str  # 1 bit, 8192 entries: four chunks
    suspension: str  # 2 bits, 2048 entries: two chunks

    def __init__(self, on_block: Callable[[State, Pending], None] | None = None) -> None:
        self.seq_key = Ed25519PrivateKey.generate()
        self.steward = Controller.new("Steward One")
        header, txs = genesis_block(C, "Test registry", [self.steward], self.seq_key, [], 0, T)
        self.chain = Chain.from_genesis(header.data, txs)
        self.now = T
        self.on_block = on_block

    @property
    def state(self) -> State:
        return self.chain.state

    def block(self, *items: bytes) -> Pending:
        self.now += 10
        pending, rejected = self.chain.prepare([parse_tx(d) for d in items], self.now,
                                               self.seq_key)
        assert not rejected, [(r.error.code, r.error.detail) for r in rejected]
        assert pending is not None
        if self.on_block is not None:
            self.on_block(self.chain.state, pending)
        self.chain.commit(pending)
        return pending

    def sign(self, author: Controller, tx_type: str, body: dict[str, Any]) -> bytes:
        return author.sign(C, tx_type, body, self.now)

    def grant(self, issuer: Controller, vcts: list[str]) -> str:
        data = self.sign(self.steward, "accreditation.grant", {
            "issuer": issuer.did, "vcts": vcts, "valid_from": T, "valid_until": T + 10**8})
        self.block(data)
        return parse_tx(data).id

    def update(self, issuer: Controller, list_id: str, indices: list[int], value: int) -> None:
        self.block(self.sign(issuer, "status.update",
                             {"list": list_id, "indices": indices, "value": value}))


def build_world(on_block: Callable[[State, Pending], None] | None = None) -> World:
    w = World(on_block)
    w.gent = gent = Controller.new("Gemeente Gent")
    w.school = school = Controller.new("Hogeschool")
    w.library = library = Controller.new("Bibliotheek")
    w.block(gent.create_tx(C, w.now, w.steward), school.create_tx(C, w.now, w.steward),
            library.create_tx(C, w.now, w.steward))
    w.accreditation = w.grant(gent, [VCT, DIPLOMA])
    w.revoked = w.grant(school, [DIPLOMA])
    w.block(w.sign(w.steward, "schema.publish", {
        "vct": VCT, "schema": SCHEMA, "display": {"nl": "Identiteit", "en": "Identity"}}))
    w.block(w.sign(gent, "status.list.create", {"name": "revocation", "bits": 1,
                                                "size": 8192}),
            w.sign(gent, "status.list.create", {"name": "suspension", "bits": 2,
                                                "size": 2048}))
    w.revocation = f"{gent.did.method_id}.revocation"
    w.suspension = f"{gent.did.method_id}.suspension"
    w.block(w.sign(w.steward, "verifier.register", {
        "verifier": library.did, "purpose": {"nl": "Lenen", "en": "Borrowing"},
        "credentials": [{"vct": VCT, "claims": [["age_over_18"], ["address", "city"]]}],
        "valid_until": None}))
    w.update(gent, w.revocation, [1, 5, 3000, 8191], 1)
    w.update(gent, w.revocation, [5], 0)
    w.update(gent, w.suspension, [7, 1500], 2)
    w.block(gent.rotate_tx(C, w.now, compromised_since=T + 15))
    w.block(w.sign(w.steward, "schema.publish", {
        "vct": VCT, "schema": {**SCHEMA, "required": ["naam"]},
        "display": {"nl": "Identiteit 2", "en": "Identity 2"}}))
    w.block(w.sign(w.steward, "accreditation.revoke", {"accreditation": w.revoked}))
    w.block(w.sign(school, "did.deactivate", {"did": school.did}))
    w.update(gent, w.revocation, [2047, 2048], 1)
    return w


def keys_of(w: World) -> dict[str, StateKey]:
    """A key of each kind (two DIDs, two accreditations, two status lists)."""
    g: Any = w
    return {
        "did": state_key("did", str(g.gent.did)),
        "deactivated": state_key("did", str(g.school.did)),
        "accreditation": state_key("accreditation", g.accreditation),
        "revoked": state_key("accreditation", g.revoked),
        "verifier": state_key("verifier", str(g.library.did)),
        "schema": state_key("schema", VCT),
        "chunk": state_key("status_chunk", g.revocation, 1),
        "chunk2": state_key("status_chunk", g.suspension, 0),
    }


def tamper(kind: str, record: dict[str, Any]) -> list[dict[str, Any]]:
    """Copies of ``record`` with one value changed each."""
    out: list[dict[str, Any]] = []

    def edit(change: Any) -> None:
        r = copy.deepcopy(record)
        change(r)
        assert r != record
        out.append(r)

    if kind in ("did", "deactivated"):
        edit(lambda r: r["keys"][0].update(validUntil=(r["keys"][0]["validUntil"] or 0) + 1))
        edit(lambda r: r["keys"][0].update(validFrom=r["keys"][0]["validFrom"] - 1))
        edit(lambda r: r["keys"][0].update(
            compromisedSince=None if r["keys"][0]["compromisedSince"] else 1))
        edit(lambda r: r["keys"][-1].update(multikey=_other_last(r["keys"][-1]["multikey"])))
        edit(lambda r: r["keys"].pop() if len(r["keys"]) > 1 else r["keys"].append({}))
        edit(lambda r: r.update(deactivated=1 if r["deactivated"] is None else None))
    elif kind in ("accreditation", "revoked"):
        edit(lambda r: r["vcts"].__setitem__(0, r["vcts"][0] + "x"))
        edit(lambda r: r.update(validUntil=None))
        edit(lambda r: r.update(revokedSince=None if r["revokedSince"] else 5))
        edit(lambda r: r.update(issuer=r["grantedBy"]))
    elif kind == "verifier":
        edit(lambda r: r["credentials"][0]["claims"].append(["naam"]))
        edit(lambda r: r["credentials"][0]["claims"][1].__setitem__(1, "street"))
        edit(lambda r: r["purpose"].update(en="Anything"))
        edit(lambda r: r.update(revokedAt=1))
    elif kind == "schema":
        edit(lambda r: r["versions"][0]["schema"]["properties"]["score"].update(maximum=9.6))
        edit(lambda r: r["versions"][1]["display"].update(nl="X"))
        edit(lambda r: r["versions"].pop())
    else:
        data = bytearray(b64u_decode(record["data"]))
        for byte, mask in ((0, 2), (0, 4), (len(data) - 1, 0x80)):
            flipped = bytearray(data)
            flipped[byte] ^= mask
            edit(lambda r, f=bytes(flipped): r.update(data=b64u_encode(f)))
        edit(lambda r: r.update(bits=r["bits"] * 2))
    edit(lambda r: r.update(extra=True))
    return out


def _other_last(text: str) -> str:
    """``text`` with its last character changed (never to itself: a random key may end in x)."""
    return text[:-1] + ("y" if text.endswith("x") else "x")
