"""Registry transactions: their closed shapes, canonical bytes, ids and signatures.

A transaction is a JSON object::

    {"v": 1, "chain": "<chain id>", "type": "did.rotate", "author": "did:keten:…",
     "seq": 3, "time": 1790000000, "body": {…},
     "proofs": [{"kid": "did:keten:…#key-2", "sig": "<base64url Ed25519>"}]}

Each proof signs ``keten/tx/v1\\n`` + JCS(the transaction without ``proofs``) (RFC 8785), so
the chain id (``chain``) and the author's sequence number (``seq``) are in the signed bytes:
a transaction cannot be replayed on this chain nor carried to another one. The stored form,
and the Merkle leaf, is JCS of the whole transaction; its id is the hex SHA-256 of those bytes.
The genesis transaction has no author, sequence number or proofs: the genesis block's
sequencer signature covers it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import rfc8785

from registry.ledger.didketen import KetenDid
from registry.ledger.fields import (
    CLAIM_NAME,
    DID,
    DIGEST,
    MULTIKEY,
    TX_ID,
    VCT,
    Int,
    JsonSchemaDoc,
    ListOf,
    Obj,
    Pattern,
    Text,
    TxMalformedError,
)
from ssiwallet.core import strictjson
from ssiwallet.core.b64 import b64u_decode, b64u_encode
from ssiwallet.core.keys import Ed25519PrivateKey
from ssiwallet.core.values import STATUS_LIST_ID_REGEX
from ssiwallet.errors import SsiError

__all__ = [
    "BODIES", "CHAIN_ID", "ENVELOPE", "LIST_ID_REGEX", "TX_DOMAIN", "Proof", "Tx", "canonical",
    "check_costly", "parse_tx",
    "sign_tx", "tx_id", "unsigned_tx",
]

TX_VERSION = 1
TX_DOMAIN = b"keten/tx/v1\n"
MAX_TX_BYTES = 64 * 1024

CHAIN_ID = Pattern(r"[a-z0-9][a-z0-9.-]{0,62}(?:/[a-z0-9][a-z0-9._-]{0,62}){0,4}",
                   "a chain id (a C2SP origin such as registry.example/keten)",
                   max_length=128, leaf_kind="identifier")
_TIME = Int()
_LOCALIZED = Obj({"nl": Text(), "en": Text()})
_CLAIM_PATH = ListOf(CLAIM_NAME, min_items=1, max_items=8, unique=False)
_LIST_NAME = Pattern(r"[a-z0-9][a-z0-9-]{0,31}", "a status list name", leaf_kind="identifier")
LIST_ID_REGEX = STATUS_LIST_ID_REGEX
"""A status list id: ``<issuer method-specific id>.<name>`` (:class:`StatusListId`)."""
_LIST_ID = Pattern(LIST_ID_REGEX,
                   "a status list id (<issuer method id>.<name>)", leaf_kind="identifier")
_WITNESS = Obj({"name": Pattern(r"[\x21-\x2a\x2c-\x7e]{1,100}", "a witness key name"),
                "vkey": Pattern(r"[\x21-\x2a\x2c-\x7e]{1,100}\+[0-9a-f]{8}\+[A-Za-z0-9+/=]{40,}",
                                "a C2SP note verifier key", max_length=300,
                                leaf_kind="public-key")})

_SCHEMA_DOC = JsonSchemaDoc()

BODIES: dict[str, Obj] = {
    "genesis": Obj({
        "name": Text(),
        "stewards": ListOf(DID, min_items=1, max_items=32),
        "sequencer": MULTIKEY,
        "witnesses": ListOf(_WITNESS, max_items=16),
        "quorum": Int(maximum=16),
    }),
    "did.create": Obj({"key": MULTIKEY, "next": DIGEST, "name": Text()}),
    "did.rotate": Obj({"key": MULTIKEY, "next": DIGEST, "compromised_since": _TIME},
                      optional=frozenset({"compromised_since"})),
    "did.deactivate": Obj({"did": DID}),
    "key.compromised": Obj({"did": DID, "key": Int(minimum=1, maximum=999_999),
                            "since": _TIME}),
    "accreditation.grant": Obj({
        "issuer": DID, "vcts": ListOf(VCT, min_items=1, max_items=32),
        "valid_from": _TIME, "valid_until": Int(nullable=True),
    }),
    "accreditation.revoke": Obj({"accreditation": TX_ID, "since": _TIME},
                                optional=frozenset({"since"})),
    "verifier.register": Obj({
        "verifier": DID, "purpose": _LOCALIZED,
        "credentials": ListOf(Obj({"vct": VCT, "claims": ListOf(_CLAIM_PATH, min_items=1)}),
                              min_items=1, max_items=16),
        "valid_until": Int(nullable=True),
    }),
    "verifier.revoke": Obj({"verifier": DID}),
    "schema.publish": Obj({"vct": VCT, "schema": _SCHEMA_DOC, "display": _LOCALIZED}),
    "status.list.create": Obj({
        "name": _LIST_NAME, "bits": Int(minimum=1, maximum=8),
        "size": Int(minimum=8, maximum=1 << 20),
    }),
    "status.update": Obj({
        "list": _LIST_ID, "indices": ListOf(Int(maximum=(1 << 20) - 1), min_items=1,
                                            max_items=10_000),
        "value": Int(maximum=255),
    }),
}

_PROOF = Obj({"kid": Pattern(r"did:keten:[1-9A-HJ-NP-Za-km-z]{16,24}#key-[1-9][0-9]{0,5}",
                             "a did:keten key id", leaf_kind="did"),
              "sig": Pattern(r"[A-Za-z0-9_-]{86}", "a base64url Ed25519 signature",
                             leaf_kind="digest")})
ENVELOPE = Obj({
    "v": Int(minimum=TX_VERSION, maximum=TX_VERSION), "chain": CHAIN_ID,
    "type": Pattern("|".join(t.replace(".", r"\.") for t in BODIES), "a transaction type",
                    max_length=32),
    "author": DID, "seq": Int(), "time": _TIME,
    "body": Obj({}),  # replaced by the type's body rule in parse_tx
    "proofs": ListOf(_PROOF, min_items=1, max_items=4),
}, optional=frozenset({"author", "seq", "proofs"}))
_ENVELOPE_KEYS = ENVELOPE.fields.keys() - {"body"}

# What parse_tx(..., defer_costly=True) checks: the same shapes, but a schema only within
# its bounds (cheap); its metaschema validation is left to check_costly.
_CHEAP_BODIES: dict[str, Obj] = {
    **BODIES,
    "schema.publish": Obj({**BODIES["schema.publish"].fields,
                           "schema": JsonSchemaDoc(metaschema=False)}),
}
_COSTLY = frozenset(name for name, rule in BODIES.items() if rule != _CHEAP_BODIES[name])
"""Types with a body check costly enough to run only after the author's signature verified."""


def canonical(obj: Mapping[str, Any]) -> bytes:
    """RFC 8785 (JCS) bytes of a transaction or a block header.

    Shapes checked by :mod:`registry.ledger.fields` hold only integers, strings, lists and objects
    with ASCII member names, for which sorted, compact ``json.dumps`` *is* JCS; that costs a
    fifth of the general encoder, which only schemas (free JSON Schema members) still need.
    """
    try:
        if obj.get("type") == "schema.publish":
            return bytes(rfc8785.dumps(obj))
        return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                          allow_nan=False).encode("utf-8")
    except (rfc8785.CanonicalizationError, UnicodeEncodeError, ValueError) as exc:
        # JCS has no form for integers beyond 2**53, non-finite floats or lone surrogates
        # (a schema may hold any JSON number; a parsed object may hold any str).
        raise TxMalformedError(f"no canonical (JCS) form: {exc}") from None


@dataclass(frozen=True, slots=True)
class Proof:
    """One signature on a transaction, by the key ``kid`` names."""

    kid: str
    sig: bytes


@dataclass(frozen=True, slots=True)
class Tx:
    """A transaction whose shape is checked (not yet its signatures or its rules)."""

    chain: str
    type: str
    author: KetenDid | None
    seq: int | None
    time: int
    body: dict[str, Any]
    proofs: tuple[Proof, ...]
    data: bytes
    """The canonical bytes: the Merkle leaf and what is stored."""
    id: str
    signing_input: bytes
    deferred: bool = False
    """The body's costly checks are still to run (:func:`check_costly`): parsed with
    ``defer_costly``; :func:`registry.ledger.rules.apply_tx` runs them after the signature."""

    def to_json(self) -> dict[str, Any]:
        """The transaction as a JSON object (as it was signed)."""
        result: dict[str, Any] = strictjson.loads(self.data)
        return result


def unsigned_tx(chain: str, tx_type: str, author: str | None, seq: int | None, time: int,
                body: Mapping[str, Any]) -> dict[str, Any]:
    """Build the unsigned form of a transaction (shape checked when it is parsed)."""
    tx: dict[str, Any] = {"v": TX_VERSION, "chain": chain, "type": tx_type, "time": time,
                          "body": dict(body)}
    if author is not None:
        tx["author"] = author
    if seq is not None:
        tx["seq"] = seq
    return tx


def sign_tx(unsigned: Mapping[str, Any], signers: Sequence[tuple[str, Ed25519PrivateKey]]
            ) -> bytes:
    """Sign a transaction with each (kid, key), in order; return its canonical bytes."""
    payload = {k: v for k, v in unsigned.items() if k != "proofs"}
    message = TX_DOMAIN + canonical(payload)
    proofs = [{"kid": kid, "sig": b64u_encode(key.sign(message))} for kid, key in signers]
    return canonical({**payload, "proofs": proofs})


def tx_id(data: bytes) -> str:
    """A transaction's id: the hex SHA-256 of its canonical bytes."""
    return hashlib.sha256(data).hexdigest()


def parse_tx(data: bytes | Mapping[str, Any], *, require_canonical: bool = False,
             defer_costly: bool = False) -> Tx:
    """Check a transaction's shape and compute its canonical bytes, id and signing input.

    ``data`` may be bytes (strict JSON) or an already parsed object. With
    ``require_canonical`` (replaying stored transactions) the bytes must already be JCS.
    With ``defer_costly`` (what a node does with what it is sent, and a replay) only the
    cheap checks run, all linear in the at most 64 KiB of input: a schema's bounds but not
    its metaschema validation, which :func:`check_costly` (or ``apply_tx``, after the
    author's signature) does; the transaction is then marked ``deferred``.

    Raises:
        TxMalformedError: bad JSON, unknown members, wrong types, or non-canonical bytes.
    """
    if isinstance(data, bytes | bytearray):
        if len(data) > MAX_TX_BYTES:
            raise TxMalformedError(f"transaction larger than {MAX_TX_BYTES} bytes")
        try:
            obj = strictjson.loads_object(bytes(data), what="transaction")
        except SsiError as exc:
            raise TxMalformedError(f"transaction is not strict JSON: {exc.detail}") from None
    else:
        obj = dict(data)
    if not isinstance(obj.get("type"), str) or obj["type"] not in BODIES:
        raise TxMalformedError(f"unknown transaction type {str(obj.get('type'))[:40]!r}")
    tx_type = obj["type"]
    envelope = {k: v for k, v in obj.items() if k != "body"}
    checked = ENVELOPE.check({**envelope, "body": {}}, "")
    body = (_CHEAP_BODIES if defer_costly else BODIES)[tx_type].check(obj.get("body"), "body")
    is_genesis = tx_type == "genesis"
    for name in ("author", "seq", "proofs"):
        if (name in obj) == is_genesis:
            raise TxMalformedError(
                f"{name!r} must be {'absent from' if is_genesis else 'present in'} a {tx_type}"
            )
    full = {**{k: checked[k] for k in _ENVELOPE_KEYS if k in checked}, "body": body}
    encoded = canonical(full)
    if require_canonical and isinstance(data, bytes | bytearray) and encoded != bytes(data):
        raise TxMalformedError("stored transaction is not in canonical (JCS) form",
                               code="registry.tx_not_canonical")
    if len(encoded) > MAX_TX_BYTES:
        raise TxMalformedError(f"transaction larger than {MAX_TX_BYTES} bytes")
    try:
        proofs = tuple(Proof(p["kid"], b64u_decode(p["sig"], what="signature"))
                       for p in checked.get("proofs", ()))
    except SsiError as exc:  # e.g. non-zero trailing bits: one signature, two spellings
        raise TxMalformedError(f"proofs: {exc.detail}") from None
    unsigned = {k: v for k, v in full.items() if k != "proofs"}
    return Tx(
        chain=checked["chain"], type=tx_type,
        author=KetenDid(checked["author"]) if "author" in checked else None,
        seq=checked.get("seq"), time=checked["time"], body=body, proofs=proofs,
        data=encoded, id=tx_id(encoded),
        signing_input=TX_DOMAIN + canonical(unsigned),
        deferred=defer_costly and tx_type in _COSTLY,
    )


def check_costly(tx: Tx) -> Tx:
    """Run the body checks ``parse_tx(..., defer_costly=True)`` left out; ``tx`` marked done.

    Only for a transaction whose author's signature already verified (the check may cost
    tens of milliseconds of CPU; its bounds were checked when it was parsed). A node runs it
    off its event loop.

    Raises:
        TxMalformedError: e.g. a schema that is not valid Draft 2020-12.
    """
    if not tx.deferred:
        return tx
    if tx.type == "schema.publish":
        _SCHEMA_DOC.check_metaschema(tx.body["schema"], "body.schema")
    return replace(tx, deferred=False)


def body_schemas() -> dict[str, dict[str, Any]]:
    """Every transaction body's JSON Schema, by type (for documentation and tests)."""
    return {name: rule.schema() for name, rule in BODIES.items()}
