"""Transaction shapes, canonical bytes and the "no personal data" guarantee (registry/tx.py).

Every transaction type accepts one valid body and refuses everything else a client could
send: unknown or missing members, wrong JSON types, oversized text and lists, control
characters, malformed DIDs and keys, non-canonical stored bytes, oversized transactions and
the JSON tricks (duplicate names, NaN) that make two parsers disagree.
"""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from registry.ledger.didketen import KetenDid, commitment, multikey
from registry.ledger.fields import KIND_OF_LEAF, JsonSchemaDoc, TxMalformedError
from registry.ledger.tx import (
    BODIES,
    ENVELOPE,
    MAX_TX_BYTES,
    TX_DOMAIN,
    canonical,
    parse_tx,
    sign_tx,
    unsigned_tx,
)
from registry.node.http import STATUSES
from registry.tlog.note import NoteSigner
from ssiwallet.core.b64 import b64u_encode
from ssiwallet.core.keys import Ed25519PrivateKey
from ssiwallet.errors import SsiError
from ssiwallet.infra.web import status_for

T = 1_790_000_000
CHAIN = "registry.keten.example/test"
VCT = "urn:keten:vct:identity:1"
SIGNER = Ed25519PrivateKey(bytes(range(32)))
KEY = multikey(SIGNER.public_key)
NEXT = commitment(multikey(Ed25519PrivateKey(bytes(range(1, 33))).public_key))
DID = "did:keten:WmkehT2urfFDsZDiHwsnsS"
OTHER_DID = "did:keten:VvQSLEH9Fh1VDQWXJrZTzm"
KID = f"{DID}#key-1"
WITNESS = NoteSigner("witness.example/w1", Ed25519PrivateKey(bytes(range(2, 34))))
SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "age_over_18": {"type": "boolean", "description": "at least 18 years old"},
        "birthdate": {"type": "string", "format": "date"},
        "eqf_level": {"type": "integer", "minimum": 1, "maximum": 8, "enum": [5, 6, 7, 8]},
    },
    "required": ["age_over_18"],
    "additionalProperties": False,
}

VALID: dict[str, dict[str, Any]] = {
    "genesis": {"name": "Test registry", "stewards": [DID, OTHER_DID], "sequencer": KEY,
                "witnesses": [{"name": WITNESS.name, "vkey": WITNESS.verifier.vkey()}],
                "quorum": 1},
    "did.create": {"key": KEY, "next": NEXT, "name": "Gemeente Gent"},
    "did.rotate": {"key": KEY, "next": NEXT, "compromised_since": T - 100},
    "did.deactivate": {"did": DID},
    "key.compromised": {"did": DID, "key": 1, "since": T},
    "accreditation.grant": {"issuer": DID, "vcts": [VCT, "https://vct.example/diploma"],
                            "valid_from": T, "valid_until": None},
    "accreditation.revoke": {"accreditation": "ab" * 32, "since": T},
    "verifier.register": {
        "verifier": DID, "purpose": {"nl": "Leeftijdscontrole aan de bar", "en": "Age check"},
        "credentials": [{"vct": VCT, "claims": [["age_over_18"], ["address", "locality"]]}],
        "valid_until": T + 86400,
    },
    "verifier.revoke": {"verifier": DID},
    "schema.publish": {"vct": VCT, "schema": SCHEMA,
                       "display": {"nl": "Identiteit", "en": "Identity"}},
    "status.list.create": {"name": "revocation", "bits": 1, "size": 1024},
    "status.update": {"list": f"{KetenDid(DID).method_id}.revocation", "indices": [0, 7],
                      "value": 1},
}
OPTIONAL = {("did.rotate", "compromised_since"), ("accreditation.revoke", "since")}
TYPES = sorted(BODIES)


def test_every_type_has_a_valid_body() -> None:
    assert set(VALID) == set(BODIES)


def unsigned(tx_type: str, body: dict[str, Any], **envelope: Any) -> dict[str, Any]:
    if tx_type == "genesis":
        obj = unsigned_tx(CHAIN, tx_type, None, None, T, body)
    else:
        obj = unsigned_tx(CHAIN, tx_type, DID, 3, T, body)
    obj.update(envelope)
    return obj


def signed(tx_type: str, body: dict[str, Any], **envelope: Any) -> dict[str, Any]:
    """The transaction as a JSON object, signed unless it is a genesis."""
    obj = unsigned(tx_type, body, **envelope)
    if tx_type == "genesis":
        return obj
    result: dict[str, Any] = json.loads(sign_tx(obj, [(KID, SIGNER)]))
    return result


def raw(obj: Any) -> bytes:
    """Plain (non-canonical, ASCII-escaped) JSON bytes, as any client might send."""
    return json.dumps(obj).encode()


def refused(data: Any, *, code: str = "registry.tx_malformed", **kwargs: Any) -> TxMalformedError:
    with pytest.raises(TxMalformedError) as exc:
        parse_tx(data, **kwargs)
    assert exc.value.code == code
    assert status_for(exc.value, STATUSES) == 400  # the node answers 400
    return exc.value


# --- valid transactions --------------------------------------------------------------------


@pytest.mark.parametrize("tx_type", TYPES)
def test_valid_body_is_accepted(tx_type: str) -> None:
    obj = signed(tx_type, VALID[tx_type])
    for data in (obj, raw(obj), canonical(obj)):
        tx = parse_tx(data)
        assert tx.type == tx_type and tx.chain == CHAIN and tx.time == T
        assert tx.body == VALID[tx_type]
        assert tx.data == canonical(obj) == rfc8785.dumps(obj)
        assert tx.id == hashlib.sha256(tx.data).hexdigest()
        assert tx.to_json() == obj
        unsigned_part = {k: v for k, v in obj.items() if k != "proofs"}
        assert tx.signing_input == TX_DOMAIN + rfc8785.dumps(unsigned_part)
    again = parse_tx(tx.data, require_canonical=True)
    assert again == tx
    if tx_type == "genesis":
        assert tx.author is None and tx.seq is None and tx.proofs == ()
    else:
        assert tx.author == DID and tx.seq == 3
        assert [p.kid for p in tx.proofs] == [KID]
        assert SIGNER.public_key.verify(tx.signing_input, tx.proofs[0].sig)


@pytest.mark.parametrize(("tx_type", "member"), sorted(OPTIONAL))
def test_optional_members_may_be_left_out(tx_type: str, member: str) -> None:
    body = {k: v for k, v in VALID[tx_type].items() if k != member}
    assert parse_tx(signed(tx_type, body)).body == body


# --- closed shapes ------------------------------------------------------------------------


@pytest.mark.parametrize("tx_type", TYPES)
def test_unknown_body_member_is_refused(tx_type: str) -> None:
    error = refused(raw(signed(tx_type, {**VALID[tx_type], "birthdate": "1990-01-01"})))
    assert "birthdate" in error.detail


@pytest.mark.parametrize("tx_type", TYPES)
def test_unknown_envelope_member_is_refused(tx_type: str) -> None:
    refused(raw({**signed(tx_type, VALID[tx_type]), "note": "hello"}))


@pytest.mark.parametrize(
    ("tx_type", "member"),
    [(t, m) for t in TYPES for m in VALID[t] if (t, m) not in OPTIONAL],
)
def test_missing_body_member_is_refused(tx_type: str, member: str) -> None:
    body = {k: v for k, v in VALID[tx_type].items() if k != member}
    assert member in refused(raw(signed(tx_type, body))).detail


@pytest.mark.parametrize("member", ["v", "chain", "type", "time", "body", "author", "seq",
                                    "proofs"])
def test_missing_envelope_member_is_refused(member: str) -> None:
    obj = signed("did.create", VALID["did.create"])
    del obj[member]
    refused(raw(obj))


@pytest.mark.parametrize("member", ["author", "seq", "proofs"])
def test_genesis_carries_no_author_seq_or_proofs(member: str) -> None:
    extra = {"author": DID, "seq": 0,
             "proofs": [{"kid": KID, "sig": b64u_encode(SIGNER.sign(b"x"))}]}
    refused(raw({**signed("genesis", VALID["genesis"]), member: extra[member]}))


@pytest.mark.parametrize("bad_type", ["did.Create", "genesis2", "", 1, None, "did.create "])
def test_unknown_type_is_refused(bad_type: object) -> None:
    refused(raw({**signed("did.create", VALID["did.create"]), "type": bad_type}))


def test_version_must_be_1() -> None:
    for v in (0, 2, "1", 1.0, True):
        refused(raw({**signed("did.create", VALID["did.create"]), "v": v}))


@pytest.mark.parametrize("body", [None, [], "x", 1])
def test_body_must_be_an_object(body: object) -> None:
    refused(raw({**signed("did.create", VALID["did.create"]), "body": body}))


@pytest.mark.parametrize("data", [b"[]", b'"tx"', b"1", b"null", b"", b"{", b"\xff\xfe"])
def test_not_a_json_object_is_refused(data: bytes) -> None:
    refused(data)


# --- integers -----------------------------------------------------------------------------

INT_FIELDS = [
    ("genesis", ("quorum",)),
    ("did.rotate", ("compromised_since",)),
    ("key.compromised", ("key",)),
    ("key.compromised", ("since",)),
    ("accreditation.grant", ("valid_from",)),
    ("accreditation.grant", ("valid_until",)),
    ("accreditation.revoke", ("since",)),
    ("verifier.register", ("valid_until",)),
    ("status.list.create", ("bits",)),
    ("status.list.create", ("size",)),
    ("status.update", ("value",)),
    ("status.update", ("indices", 0)),
]


def with_value(obj: Any, path: tuple[Any, ...], value: Any) -> Any:
    obj = copy.deepcopy(obj)
    target = obj
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return obj


@pytest.mark.parametrize(("tx_type", "path"), INT_FIELDS)
def test_integer_fields_refuse_floats_bools_and_out_of_range(
    tx_type: str, path: tuple[Any, ...]
) -> None:
    for bad in (1.0, 1.5, True, False, "1", -1, 1 << 53, [1], {"n": 1}):
        refused(raw(signed(tx_type, with_value(VALID[tx_type], path, bad))))


@pytest.mark.parametrize("member", ["time", "seq"])
@pytest.mark.parametrize("bad", [1.0, True, "1", -1, 1 << 53, None])
def test_envelope_integers_refuse_floats_bools_and_out_of_range(member: str, bad: object) -> None:
    refused(raw({**signed("did.create", VALID["did.create"]), member: bad}))


def test_float_spelling_of_an_integer_is_refused_from_bytes() -> None:
    data = canonical(signed("key.compromised", VALID["key.compromised"]))
    for spelling in (b'"key":1.0', b'"key":1e0', b'"key":1E0'):
        refused(data.replace(b'"key":1', spelling))


def test_nullable_only_where_declared() -> None:
    assert parse_tx(signed("accreditation.grant", VALID["accreditation.grant"])).body[
        "valid_until"] is None
    refused(raw(signed("accreditation.grant", {**VALID["accreditation.grant"],
                                               "valid_from": None})))
    refused(raw(signed("key.compromised", {**VALID["key.compromised"], "since": None})))


def test_integer_bounds_of_status_fields() -> None:
    ok = VALID["status.list.create"]
    parse_tx(signed("status.list.create", {**ok, "bits": 8, "size": 1 << 20}))
    for member, bad in [("bits", 0), ("bits", 9), ("size", 7), ("size", (1 << 20) + 1)]:
        refused(raw(signed("status.list.create", {**ok, member: bad})))
    refused(raw(signed("status.update", {**VALID["status.update"], "value": 256})))
    refused(raw(signed("status.update", {**VALID["status.update"], "indices": [1 << 20]})))


# --- strings and lists --------------------------------------------------------------------

TEXT_FIELDS = [
    ("genesis", ("name",)),
    ("did.create", ("name",)),
    ("verifier.register", ("purpose", "nl")),
    ("verifier.register", ("purpose", "en")),
    ("schema.publish", ("display", "nl")),
    ("schema.publish", ("display", "en")),
]


@pytest.mark.parametrize(("tx_type", "path"), TEXT_FIELDS)
def test_text_is_bounded(tx_type: str, path: tuple[str, ...]) -> None:
    body = VALID[tx_type]
    parse_tx(signed(tx_type, with_value(body, path, "é" * 200)))
    refused(raw(signed(tx_type, with_value(body, path, "é" * 201))))
    refused(raw(signed(tx_type, with_value(body, path, ""))))
    refused(raw(signed(tx_type, with_value(body, path, 5))))
    refused(raw(signed(tx_type, with_value(body, path, None))))


@pytest.mark.parametrize(("tx_type", "path"), TEXT_FIELDS)
def test_text_refuses_control_characters(tx_type: str, path: tuple[str, ...]) -> None:
    for char in ("\x00", "\n", "\r", "\t", "\x1b", "\x1f", "\x7f", "\x85", "\x9f"):
        obj = signed(tx_type, with_value(VALID[tx_type], path, f"Gemeente{char}Gent"))
        refused(raw(obj))  # escaped in JSON
        refused(obj)  # as a parsed object


def test_text_refuses_lone_surrogates() -> None:
    obj = signed("did.create", VALID["did.create"])
    data = raw(obj).replace(b'"Gemeente Gent"', b'"Gemeente \\ud800 Gent"')
    assert b"\\ud800" in data
    refused(data)
    with_surrogate = with_value(obj, ("body", "name"), "Gemeente \ud800 Gent")
    refused(with_surrogate)


def test_text_accepts_non_ascii_and_other_unicode() -> None:
    name = "Stad Brussel / Ville de Bruxelles — Ω 東京 \U0001f3db \u2028"
    tx = parse_tx(raw(signed("did.create", {**VALID["did.create"], "name": name})))
    assert tx.body["name"] == name
    assert tx.data == rfc8785.dumps(tx.to_json())
    assert name.encode() in tx.data  # UTF-8, not \u escapes


@pytest.mark.parametrize(
    ("tx_type", "path", "item", "limit"),
    [
        ("genesis", ("stewards",), None, 32),
        ("genesis", ("witnesses",), None, 16),
        ("accreditation.grant", ("vcts",), None, 32),
        ("verifier.register", ("credentials",), None, 16),
        ("verifier.register", ("credentials", 0, "claims"), None, 64),
        ("verifier.register", ("credentials", 0, "claims", 0), "x", 8),
        ("status.update", ("indices",), None, 10_000),
    ],
)
def test_lists_are_bounded(tx_type: str, path: tuple[Any, ...], item: Any, limit: int) -> None:
    def items(n: int) -> list[Any]:
        if item is not None:
            return [item] * n  # a claim path may repeat a name
        if path[-1] == "stewards":
            return [f"did:keten:{'1' * 16}{b58(i)}" for i in range(n)]
        if path[-1] == "witnesses":
            return [{"name": f"w{i}", "vkey": VALID["genesis"]["witnesses"][0]["vkey"]}
                    for i in range(n)]
        if path[-1] == "vcts":
            return [f"urn:keten:vct:t{i}" for i in range(n)]
        if path[-1] == "credentials":
            return [{"vct": f"urn:keten:vct:t{i}", "claims": [["a"]]} for i in range(n)]
        if path[-1] == "claims":
            return [[f"c{i}"] for i in range(n)]
        return list(range(n))

    body = VALID[tx_type]
    parse_tx(signed(tx_type, with_value(body, path, items(limit))))
    refused(raw(signed(tx_type, with_value(body, path, items(limit + 1)))))


def b58(i: int) -> str:
    alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
    return alphabet[i // 58] + alphabet[i % 58]


@pytest.mark.parametrize(
    ("tx_type", "path", "value"),
    [
        ("genesis", ("stewards",), []),
        ("genesis", ("stewards",), [DID, DID]),
        ("accreditation.grant", ("vcts",), []),
        ("accreditation.grant", ("vcts",), [VCT, VCT]),
        ("verifier.register", ("credentials",), []),
        ("verifier.register", ("credentials", 0, "claims"), []),
        ("verifier.register", ("credentials", 0, "claims", 0), []),
        ("status.update", ("indices",), []),
        ("status.update", ("indices",), [3, 3]),
        ("accreditation.grant", ("vcts",), VCT),
    ],
)
def test_lists_refuse_empty_duplicate_or_non_lists(
    tx_type: str, path: tuple[Any, ...], value: Any
) -> None:
    refused(raw(signed(tx_type, with_value(VALID[tx_type], path, value))))


def test_proofs_are_bounded_and_well_formed() -> None:
    obj = signed("did.create", VALID["did.create"])
    proof = obj["proofs"][0]
    refused(raw({**obj, "proofs": []}))
    others = [{"kid": f"{DID}#key-{i}", "sig": proof["sig"]} for i in range(2, 6)]
    parse_tx(raw({**obj, "proofs": [proof, *others[:3]]}))
    refused(raw({**obj, "proofs": [proof, *others]}))
    refused(raw({**obj, "proofs": [proof, proof]}))
    for kid in (DID, f"{DID}#key-0", f"{DID}#keys-1", f"{DID}#key-1234567",
                "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK#key-1"):
        refused(raw({**obj, "proofs": [{**proof, "kid": kid}]}))
    for sig in (proof["sig"][:-1], proof["sig"] + "A", proof["sig"][:-1] + "=",
                proof["sig"][:-1] + "+", 5, None):
        refused(raw({**obj, "proofs": [{**proof, "sig": sig}]}))
    refused(raw({**obj, "proofs": [{**proof, "alg": "EdDSA"}]}))


def test_signature_with_non_zero_trailing_bits_is_refused() -> None:
    """Two spellings of one signature would give one transaction two ids."""
    obj = signed("did.create", VALID["did.create"])
    sig = obj["proofs"][0]["sig"]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(sig[-1])
    assert last % 16 == 0  # 86 characters: the last one carries 4 zero bits
    twin = sig[:-1] + alphabet[last + 1]
    refused(raw({**obj, "proofs": [{**obj["proofs"][0], "sig": twin}]}))


# --- identifiers --------------------------------------------------------------------------

BAD_DIDS = [
    "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
    "did:keten:",
    "did:keten:short",
    "did:keten:" + "1" * 25,
    "did:keten:0OIl0OIl0OIl0OIl0O",  # not base58
    "did:Keten:WmkehT2urfFDsZDiHwsnsS",
    DID + "\n",
    " " + DID,
    DID + "#key-1",
    DID + "/path",
    DID.encode().hex(),
]
DID_FIELDS = [
    ("genesis", ("stewards", 0)),
    ("did.deactivate", ("did",)),
    ("key.compromised", ("did",)),
    ("accreditation.grant", ("issuer",)),
    ("verifier.register", ("verifier",)),
    ("verifier.revoke", ("verifier",)),
]


@pytest.mark.parametrize(("tx_type", "path"), DID_FIELDS)
def test_bad_dids_are_refused(tx_type: str, path: tuple[Any, ...]) -> None:
    for bad in BAD_DIDS:
        refused(raw(signed(tx_type, with_value(VALID[tx_type], path, bad))))


@pytest.mark.parametrize("bad", BAD_DIDS)
def test_bad_author_is_refused(bad: str) -> None:
    refused(raw({**signed("did.create", VALID["did.create"]), "author": bad}))


BAD_KEYS = [
    "z6Mk",
    KEY[:-1] if len(KEY) == 48 else KEY[:-2],
    KEY + "11",
    "zDnaerDaTF5BXEavCrfRZEk316dpbLsfPDZ3WJ5hRTPFU2169",  # P-256 did:key fingerprint
    "u" + KEY[1:],
    KEY.replace("z6Mk", "z6MK"),
    KEY[:10] + "0" + KEY[11:],
    f"did:key:{KEY}",
    "",
]


@pytest.mark.parametrize("tx_type", ["did.create", "did.rotate"])
def test_bad_multikeys_are_refused(tx_type: str) -> None:
    for bad in BAD_KEYS:
        refused(raw(signed(tx_type, {**VALID[tx_type], "key": bad})))


def test_bad_sequencer_key_is_refused() -> None:
    for bad in BAD_KEYS:
        refused(raw(signed("genesis", {**VALID["genesis"], "sequencer": bad})))


@pytest.mark.parametrize("bad", ["", "A" * 42, "A" * 44, "A" * 42 + "=", "A" * 42 + "+",
                                 "A" * 42 + "/"])
def test_bad_commitments_are_refused(bad: str) -> None:
    refused(raw(signed("did.create", {**VALID["did.create"], "next": bad})))


@pytest.mark.parametrize("bad", ["", "vct", "http://vct.example/x", "urn:keten", "URN:x:y",
                                 "urn:keten:vct id", "https://vct.example/a b",
                                 "https://vct.example/\u00e9", "urn:keten:vct:\n"])
def test_bad_vcts_are_refused(bad: str) -> None:
    refused(raw(signed("accreditation.grant", {**VALID["accreditation.grant"], "vcts": [bad]})))
    refused(raw(signed("schema.publish", {**VALID["schema.publish"], "vct": bad})))


@pytest.mark.parametrize("bad", ["", "1age", "age over 18", "a" * 65, "é", "age\n"])
def test_bad_claim_names_are_refused(bad: str) -> None:
    refused(raw(signed("verifier.register", with_value(
        VALID["verifier.register"], ("credentials", 0, "claims", 0, 0), bad))))


@pytest.mark.parametrize("bad", ["AB" * 32, "ab" * 31, "ab" * 33, "g" * 64])
def test_bad_accreditation_ids_are_refused(bad: str) -> None:
    refused(raw(signed("accreditation.revoke", {"accreditation": bad})))


@pytest.mark.parametrize("bad", ["revocation", ".revocation", "WmkehT2urfFDsZDiHwsnsS.",
                                 "WmkehT2urfFDsZDiHwsnsS.Revocation",
                                 "WmkehT2urfFDsZDiHwsnsS.-x", f"{DID}.revocation"])
def test_bad_status_list_ids_are_refused(bad: str) -> None:
    refused(raw(signed("status.update", {**VALID["status.update"], "list": bad})))


@pytest.mark.parametrize("bad", ["", "Revocation", "-x", "a" * 33, "a.b", "a b"])
def test_bad_status_list_names_are_refused(bad: str) -> None:
    refused(raw(signed("status.list.create", {**VALID["status.list.create"], "name": bad})))


@pytest.mark.parametrize("bad", ["", "Registry.example", "registry.example/", "/x", "a b",
                                 "a/b/c/d/e/f/g", "registry.example\n", 5])
def test_bad_chain_ids_are_refused(bad: object) -> None:
    refused(raw({**signed("did.create", VALID["did.create"]), "chain": bad}))


@pytest.mark.parametrize("vkey", ["", "w1", "w1+01234567", "w1+0123456+AAAA",
                                  "w 1+01234567+" + "A" * 44, "w1+0123456G+" + "A" * 44])
def test_bad_witness_vkeys_are_refused(vkey: str) -> None:
    body = with_value(VALID["genesis"], ("witnesses", 0, "vkey"), vkey)
    refused(raw(signed("genesis", body)))


# --- bytes on the wire and in storage -----------------------------------------------------


def test_non_canonical_stored_bytes_are_refused_when_canonical_is_required() -> None:
    obj = signed("did.create", VALID["did.create"])
    good = canonical(obj)
    assert parse_tx(good, require_canonical=True).data == good
    variants = [
        json.dumps(obj).encode(),  # spaces
        json.dumps(obj, sort_keys=True, indent=1).encode(),
        json.dumps(dict(reversed(list(obj.items()))), separators=(",", ":")).encode(),
        good.replace(b'"Gemeente Gent"', b'"Gemeente \\u0047ent"'),  # escaped "G"
        good.replace(b'"seq":3', b'"seq":3 '),
        good + b"\n",
        b" " + good,
    ]
    for data in variants:
        assert data != good
        tx = parse_tx(data)  # a client may send these...
        assert tx.data == good and tx.id == hashlib.sha256(good).hexdigest()
        refused(data, require_canonical=True, code="registry.tx_not_canonical")  # ...storage not


def test_non_ascii_is_stored_as_utf8_not_escaped() -> None:
    obj = signed("did.create", {**VALID["did.create"], "name": "Gemeente Gánt"})
    escaped = json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()
    assert b"\\u00e1" in escaped
    refused(escaped, require_canonical=True, code="registry.tx_not_canonical")
    assert parse_tx(escaped).data == rfc8785.dumps(obj)


def test_oversized_transactions_are_refused() -> None:
    obj = signed("did.create", VALID["did.create"])
    padded = canonical(obj)[:-1] + b" " * (MAX_TX_BYTES - len(canonical(obj))) + b"}"
    assert len(padded) == MAX_TX_BYTES
    parse_tx(padded)
    refused(padded[:-1] + b" }")  # one byte more
    big_schema = {**SCHEMA, "description": "x" * MAX_TX_BYTES}
    refused(signed("schema.publish", {**VALID["schema.publish"], "schema": big_schema}))
    refused(raw(signed("schema.publish", {**VALID["schema.publish"], "schema": big_schema})))


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (b'"seq":3', b'"seq":3,"seq":4'),  # duplicate member name
        (b'"seq":3', b'"seq":3,"seq":3'),  # even with the same value
        (b'"name":"Gemeente Gent"', b'"name":"Gemeente Gent","name":"x"'),
        (b'"time":1790000000', b'"time":NaN'),
        (b'"time":1790000000', b'"time":Infinity'),
        (b'"time":1790000000', b'"time":-Infinity'),
        (b'"time":1790000000', b'"time":1e999'),
        (b'"time":1790000000', b'"time":' + b"1" * 50),
        (b'"time":1790000000', b'"time":01790000000'),
        (b'"time":1790000000', b'"time":0x10'),
        (b'"name":"Gemeente Gent"', b"\"name\":'Gemeente Gent'"),
        (b'"name":"Gemeente Gent"', b'"name":"Gemeente Gent",'),
        (b'"name":"Gemeente Gent"', b'"name":"Gemeente \xc3 Gent"'),  # invalid UTF-8
        (b'"name":"Gemeente Gent"', b'"name":"Gemeente \xed\xa0\x80 Gent"'),  # UTF-8 surrogate
    ],
)
def test_strict_json(old: bytes, new: bytes) -> None:
    data = canonical(signed("did.create", VALID["did.create"]))
    assert old in data
    refused(data.replace(old, new, 1))


def test_deeply_nested_schema_is_refused() -> None:
    data = canonical(signed("schema.publish", VALID["schema.publish"]))
    deep = b'{"not":' * 100 + b"{}" + b"}" * 100
    refused(data.replace(b'"schema":{', b'"schema":{"allOf":[' + deep + b"],", 1))


def test_parse_errors_are_registry_errors_not_crashes() -> None:
    """Whatever the input, parse_tx raises TxMalformedError (never a bare Python error)."""
    for data in (b"\x00", b"{}" * 3, b'{"type":"did.create"}', b'{"type":"genesis","body":1}'):
        with pytest.raises(TxMalformedError):
            parse_tx(data)


def test_schema_with_numbers_outside_jcs_is_refused_not_a_crash() -> None:
    """JCS (I-JSON) has no form for integers beyond 2**53: refuse, do not raise ValueError."""
    schema = {"type": "integer", "maximum": 9007199254740993}
    obj = unsigned("schema.publish", {**VALID["schema.publish"], "schema": schema})
    with pytest.raises(TxMalformedError):
        sign_tx(obj, [(KID, SIGNER)])
    refused(raw({**obj, "proofs": [{"kid": KID, "sig": "A" * 86}]}))
    nan = {"type": "number", "maximum": float("nan")}
    refused({**obj, "body": {**obj["body"], "schema": nan},  # only from a parsed object
             "proofs": [{"kid": KID, "sig": "A" * 86}]})


# --- canonical form -----------------------------------------------------------------------

TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=200)
INT = st.integers(min_value=0, max_value=(1 << 53) - 1)


@st.composite
def transactions(draw: st.DrawFn) -> dict[str, Any]:
    tx_type = draw(st.sampled_from(["did.create", "verifier.register", "accreditation.grant",
                                    "status.update", "key.compromised", "genesis",
                                    "schema.publish"]))
    body = copy.deepcopy(VALID[tx_type])
    if tx_type == "did.create":
        body["name"] = draw(TEXT)
    elif tx_type == "genesis":
        body["name"] = draw(TEXT)
    elif tx_type == "verifier.register":
        body["purpose"] = {"nl": draw(TEXT), "en": draw(TEXT)}
        body["valid_until"] = draw(st.none() | INT)
    elif tx_type == "accreditation.grant":
        body["valid_from"] = draw(INT)
        body["valid_until"] = draw(st.none() | INT)
    elif tx_type == "status.update":
        body["indices"] = draw(st.lists(st.integers(0, (1 << 20) - 1), min_size=1,
                                        max_size=50, unique=True))
        body["value"] = draw(st.integers(0, 255))
    elif tx_type == "key.compromised":
        body["key"] = draw(st.integers(1, 999_999))
        body["since"] = draw(INT)
    elif tx_type == "schema.publish":
        names = draw(st.lists(st.text(min_size=1, max_size=8), max_size=6, unique=True))
        body["schema"] = {"type": "object", "title": draw(TEXT),
                          "properties": {n: {"type": "string", "description": draw(TEXT)}
                                         for n in names}}
        body["display"] = {"nl": draw(TEXT), "en": draw(TEXT)}
    obj = unsigned(tx_type, body, time=draw(INT))
    if tx_type != "genesis":
        obj["seq"] = draw(INT)
    return obj


@settings(max_examples=100, deadline=None)
@given(transactions())
def test_canonical_is_rfc8785(obj: dict[str, Any]) -> None:
    assert canonical(obj) == rfc8785.dumps(obj)
    if obj["type"] == "genesis":
        data = raw(obj)
    else:
        data = sign_tx(obj, [(KID, SIGNER)])
        assert data == rfc8785.dumps(json.loads(data))
    tx = parse_tx(data)
    assert tx.data == rfc8785.dumps(tx.to_json())
    assert parse_tx(tx.data, require_canonical=True).id == tx.id
    unsigned_part = {k: v for k, v in tx.to_json().items() if k != "proofs"}
    assert tx.signing_input == TX_DOMAIN + rfc8785.dumps(unsigned_part)


def test_canonical_sorts_astral_member_names_by_utf16() -> None:
    """JCS orders names by UTF-16 code units: U+1F600 (D83D…) sorts before U+FF5A."""
    schema = {"type": "object", "properties": {"\uff5a": {}, "\U0001f600": {}, "z": {}}}
    obj = unsigned("schema.publish", {**VALID["schema.publish"], "schema": schema})
    data = canonical(obj)
    assert data == rfc8785.dumps(obj)
    assert data.index("\U0001f600".encode()) < data.index("\uff5a".encode())


# --- no personal data ---------------------------------------------------------------------


def leaves(schema: dict[str, Any], path: str) -> list[tuple[str, dict[str, Any]]]:
    """Every leaf (a node with ``x-kind``) of a body schema; checks every object is closed."""
    if schema.get("type") == "array":
        return leaves(schema["items"], f"{path}[]")
    if "x-kind" in schema:
        return [(path, schema)]
    assert schema.get("type") == "object", f"{path}: neither leaf, list nor object"
    assert schema.get("additionalProperties") is False, f"{path}: object is not closed"
    assert set(schema["required"]) <= set(schema["properties"])
    found = []
    for name, sub in schema["properties"].items():
        found += leaves(sub, f"{path}.{name}")
    return found


def test_no_transaction_has_room_for_personal_data() -> None:
    """Every leaf of every transaction body is of a kind that cannot hold a person's data.

    The kinds, and why none of them can carry a citizen's data:

    - ``did``: a did:keten identifier. Only organisations get one: each is created by a
      steward-endorsed ``did.create``; citizens use did:key/holder keys off the chain.
    - ``public-key``: an Ed25519 Multikey or a witness's note verifier key: 32 random-looking
      bytes in a fixed syntax, nothing one can write a name or a birthdate in.
    - ``digest``: a SHA-256 (key commitment, transaction id) in fixed hex/base64url syntax.
    - ``credential-type``: a vct URI naming a *type* of credential, not an instance.
    - ``claim-name``: the name of a claim a verifier may ask for (``age_over_18``), at most
      64 identifier characters; the claim's *value* never reaches the chain.
    - ``identifier``: a chain id, a status list name/id or a witness key name, each a
      narrow pattern for machine identifiers of the registry and its organisations.
    - ``integer``: times, key numbers, list sizes, status indices and values. A status
      index points into an issuer's list; which credential (and so which person) it belongs
      to is known only to the issuer and the holder.
    - ``organisation-text``: bounded (200 characters), control-character-free text in the
      name of an organisation (``did.create``, genesis), a verifier's purpose or a credential
      type's display name. Every such transaction is signed by a steward (or endorsed by
      one), who answers for it being about an organisation or a purpose.
    - ``json-schema``: a credential type's JSON Schema, published by a steward, restricted to
      an allow-list of keywords: the annotations that carry sample *values* (``examples``,
      ``default``, ``const``) are refused anywhere in the schema (see below), so it
      describes the shape of claims, never a holder's claim values. (What remains free
      there: ``title``/``description``/``enum``/``pattern`` strings, bounded only by the
      64 KiB transaction; only a steward may publish one, and answers for it.)
    """
    schemas: dict[str, Any] = {"envelope": ENVELOPE.schema()}
    from registry.ledger.tx import body_schemas

    schemas.update(body_schemas())
    assert set(schemas) == set(BODIES) | {"envelope"}
    seen: set[str] = set()
    for tx_type, schema in schemas.items():
        found = leaves(schema, tx_type)
        assert found, tx_type
        for path, leaf in found:
            assert leaf["x-kind"] in KIND_OF_LEAF, f"{path}: kind {leaf['x-kind']!r}"
            seen.add(leaf["x-kind"])
            if leaf.get("type") == "string":
                assert leaf["maxLength"] <= 300, path
            if leaf["x-kind"] == "organisation-text":
                assert leaf["maxLength"] <= 200, path
            if leaf["x-kind"] == "json-schema":
                assert path == "schema.publish.schema"
    assert seen == KIND_OF_LEAF  # no kind is declared without a use


def test_body_schemas_are_themselves_valid_json_schema() -> None:
    from jsonschema import Draft202012Validator

    from registry.ledger.tx import body_schemas

    for tx_type, schema in body_schemas().items():
        Draft202012Validator.check_schema(schema)
        validator = Draft202012Validator(schema)
        assert validator.is_valid(VALID[tx_type]), tx_type
        assert not validator.is_valid({**VALID[tx_type], "birthdate": "1990-01-01"})


FORBIDDEN = ["examples", "default", "const"]


@pytest.mark.parametrize("keyword", FORBIDDEN)
@pytest.mark.parametrize(
    "place",
    [
        lambda s: s,
        lambda s: {"type": "object", "properties": {"name": s}},
        lambda s: {"type": "object", "properties": {"a": {"type": "object",
                                                          "properties": {"b": s}}}},
        lambda s: {"type": "array", "items": s},
        lambda s: {"allOf": [{"type": "object"}, s]},
        lambda s: {"anyOf": [s]},
        lambda s: {"oneOf": [s]},
        lambda s: {"not": s},
        lambda s: {"$defs": {"x": s}, "$ref": "#/$defs/x"},
        lambda s: {"type": "object", "additionalProperties": s},
        lambda s: {"type": "object", "propertyNames": s},
    ],
)
def test_schema_refuses_value_carrying_annotations_anywhere(keyword: str, place: Any) -> None:
    value: Any = ["Jan Janssens"] if keyword == "examples" else "Jan Janssens"
    schema = place({"type": "string", keyword: value})
    with pytest.raises(TxMalformedError) as exc:
        JsonSchemaDoc().check(schema, "schema")
    assert keyword in exc.value.detail
    refused(raw(signed("schema.publish", {**VALID["schema.publish"], "schema": schema})))


@pytest.mark.parametrize("keyword", ["if", "then", "patternProperties", "prefixItems",
                                     "x-example", "$comment", "contentMediaType",
                                     "dependentSchemas", "unevaluatedProperties"])
def test_schema_refuses_keywords_off_the_allow_list(keyword: str) -> None:
    with pytest.raises(TxMalformedError):
        JsonSchemaDoc().check({"type": "object", "properties": {"a": {keyword: {}}}}, "s")


def test_schema_allows_properties_named_like_forbidden_keywords() -> None:
    schema = {"type": "object", "properties": {k: {"type": "string"} for k in FORBIDDEN},
              "required": FORBIDDEN}
    assert JsonSchemaDoc().check(schema, "schema") == schema


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "nonsense"},
        {"type": "object", "properties": []},
        {"type": "object", "properties": {"a": 5}},
        {"required": "name"},
        {"minimum": "1"},
        {"maxLength": -1},
        {"enum": "x"},
        {"pattern": 5},
        {"items": [{"type": "string"}]},
        [],
        "object",
        None,
        True,
    ],
)
def test_schema_refuses_invalid_schemas(schema: Any) -> None:
    with pytest.raises(TxMalformedError):
        JsonSchemaDoc().check(schema, "schema")


def test_schema_node_count_is_bounded() -> None:
    small = {"type": "object", "properties": {f"p{i}": {"type": "string"} for i in range(100)}}
    JsonSchemaDoc().check(small, "schema")
    big = {"type": "object", "properties": {f"p{i}": {"type": "string"} for i in range(2001)}}
    with pytest.raises(TxMalformedError) as exc:
        JsonSchemaDoc().check(big, "schema")
    assert "nodes" in exc.value.detail


def test_all_errors_are_ssi_errors_with_a_code() -> None:
    error = refused(b"[]")
    assert isinstance(error, SsiError)
    assert error.to_json()["error"] == "registry.tx_malformed"
