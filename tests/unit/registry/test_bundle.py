"""Proof bundles (registry/tlog/bundle.py): a record of every kind proven against a real,
witness-cosigned checkpoint, and refused when one byte of any part changes, when the
checkpoint is stale, short of cosignatures or signed by another key, or older than one the
verifier holds; malformed bundles raise only our errors.
"""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from registry.errors import RegistryError
from registry.ledger.bundle import (
    HEADER_LEAF_DOMAIN,
    MAX_BUNDLE_BYTES,
    Bundle,
    BundleError,
    VerifiedRecord,
    header_bytes,
    header_leaf_hash,
    parse_bundle,
    verify_bundle,
)
from registry.ledger.commitment import record_json, state_map
from registry.tlog.checkpoint import Checkpoint, CosignatureSigner, cosign
from registry.tlog.merkle import inclusion_proof, leaf_hash, root
from registry.tlog.note import NoteSigner, sign_note
from registry.tlog.statemap import StateKey, StateProof, state_key
from ssiwallet.core.b64 import b64u_decode, b64u_encode
from ssiwallet.core.keys import Ed25519PrivateKey
from ssiwallet.errors import SsiError
from tests.unit.registry.state_world import C, World, build_world, keys_of, tamper

NOW = 1_800_000_000
MAX_AGE = 600
WITNESSES = [CosignatureSigner(f"witness.example/w{i}", Ed25519PrivateKey.generate())
             for i in (1, 2, 3)]


@dataclass
class Log:
    """The node's log as issue 14 will have it: each block's transactions, then its header
    (carrying the state root) as the block's last leaf; a cosigned checkpoint per block."""

    world: World
    leaves: list[bytes] = field(default_factory=list)
    copied: int = 0  # transactions of the chain already in ``leaves``

    @property
    def signer(self) -> NoteSigner:
        return NoteSigner(C, self.world.seq_key)

    def publish(self, at: int = NOW, cosigners: Sequence[CosignatureSigner] = WITNESSES
                ) -> Published:
        tree = self.world.chain.tree
        self.leaves += [tree.leaf(i) for i in range(self.copied, tree.size)]
        self.copied = tree.size
        m = state_map(self.world.state)
        head = self.world.chain.head
        header = {"v": 1, "chain": C, "height": head.height, "time": head.time,
                  "prev": head.prev, "state_root": m.root().hex()}
        self.leaves.append(header_leaf_hash(header_bytes(header)))
        size = len(self.leaves)
        body = Checkpoint(C, size, root(self.leaves)).body()
        note = sign_note(body, [self.signer]) + "".join(cosign(body, w, at) for w in cosigners)
        return Published(self, m, header, size, note, tuple(inclusion_proof(
            self.leaves, size - 1, size)))


@dataclass
class Published:
    log: Log
    map: Any
    header: dict[str, Any]
    size: int
    note: str
    header_proof: tuple[bytes, ...]

    def bundle(self, key: StateKey) -> Bundle:
        return Bundle(key, record_json(self.log.world.state, key), self.map.prove(key),
                      self.header, self.header_proof, self.size, self.note)


def verify(bundle: Any, **policy: Any) -> VerifiedRecord:
    args: dict[str, Any] = {
        "log_verifier": NoteSigner(C, WORLD.seq_key).verifier,
        "witnesses": [w.verifier for w in WITNESSES], "quorum": 3, "now": NOW + 60,
        "max_age": MAX_AGE, "origin": C}
    args.update(policy)
    return verify_bundle(bundle, **args)


def refused(bundle: Any, **policy: Any) -> str:
    with pytest.raises(SsiError) as exc:
        verify(bundle, **policy)
    assert isinstance(exc.value, RegistryError), exc.value
    return exc.value.code


WORLD = build_world()
PUBLISHED = Log(WORLD).publish()
KEYS = keys_of(WORLD)
ABSENT = {"no did": state_key("did", "did:keten:11111111111111111"),
          "no chunk": state_key("status_chunk", WORLD.revocation, 9),
          "no schema": state_key("schema", "urn:keten:vct:none"),
          "governance": state_key("governance", "genesis")}


# --- what verifies ------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(KEYS))
def test_a_record_of_every_kind_verifies(name: str) -> None:
    key = KEYS[name]
    bundle = PUBLISHED.bundle(key)
    for form in (bundle, bundle.dumps(), bundle.dumps().decode(), bundle.to_json()):
        proven = verify(form, key=key, min_size=PUBLISHED.size)
        assert proven.key == key and proven.present
        assert proven.record == record_json(WORLD.state, key)
        assert proven.checkpoint.size == PUBLISHED.size and proven.fresh_at == NOW
        assert proven.state_root.hex() == PUBLISHED.header["state_root"]
        assert set(proven.cosigned) == {w.name for w in WITNESSES}
    assert parse_bundle(bundle.dumps()) == bundle


@pytest.mark.parametrize("name", sorted(ABSENT))
def test_an_absence_verifies(name: str) -> None:
    bundle = PUBLISHED.bundle(ABSENT[name])
    assert bundle.record is None and bundle.to_json()["record"] is None
    proven = verify(bundle.dumps())
    assert not proven.present and proven.record is None


def test_the_header_leaf_is_domain_separated() -> None:
    data = header_bytes(PUBLISHED.header)
    assert data.startswith(b"{") and HEADER_LEAF_DOMAIN == b"keten/header/v1\n"
    assert header_leaf_hash(data) == leaf_hash(b"keten/header/v1\n" + data) != leaf_hash(data)
    assert PUBLISHED.log.leaves[-1] == header_leaf_hash(data)


def test_a_lower_quorum_needs_fewer_cosignatures() -> None:
    log = Log(WORLD)
    two = log.publish(cosigners=WITNESSES[:2]).bundle(KEYS["did"])
    assert verify(two, quorum=2).fresh_at == NOW
    assert refused(two) == "registry.witness_quorum"
    # a freshness bound needs at least one cosignature, whatever the quorum
    assert refused(two, quorum=0, witnesses=[]) == "registry.checkpoint_stale"


# --- what is refused ----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["chunk", "did", "verifier", "no chunk"])
def test_flipping_any_byte_is_refused(name: str) -> None:
    """Every bit-0 flip of every byte of the bundle's JSON, with every cosignature needed."""
    key = KEYS.get(name) or ABSENT[name]
    data = PUBLISHED.bundle(key).dumps()
    codes: set[str] = set()
    for i in range(len(data)):
        flipped = bytearray(data)
        flipped[i] ^= 1
        codes.add(refused(bytes(flipped), key=key))
    assert {"registry.malformed_bundle", "registry.bad_signature",
            "registry.header_not_in_log", "registry.witness_quorum"} <= codes
    assert codes & {"registry.proof_root_mismatch", "registry.record_key_mismatch"}


@pytest.mark.parametrize("name", sorted(KEYS))
def test_one_changed_record_value_is_refused(name: str) -> None:
    bundle = PUBLISHED.bundle(KEYS[name])
    assert bundle.record is not None
    for bad in tamper(name, dict(bundle.record)):
        assert refused(replace(bundle, record=bad)) == "registry.proof_root_mismatch"
    assert refused(replace(bundle, record=None)) == "registry.proof_root_mismatch"


def flip(data: bytes, at: int = 0) -> bytes:
    out = bytearray(data)
    out[at] ^= 1
    return bytes(out)


def test_each_part_changed_gives_its_code() -> None:
    b = PUBLISHED.bundle(KEYS["chunk"])
    p = b.state_proof
    assert refused(replace(b, state_proof=StateProof(
        p.bitmap, (flip(p.siblings[0]), *p.siblings[1:])))) == "registry.proof_root_mismatch"
    assert refused(replace(b, state_proof=PUBLISHED.bundle(KEYS["did"]).state_proof)) in {
        "registry.proof_root_mismatch", "registry.proof_wrong_leaf"}
    state_root = b.header["state_root"]
    other_root = ("0" if state_root[0] != "0" else "1") + state_root[1:]
    assert refused(replace(b, header={**b.header, "state_root": other_root})
                   ) == "registry.header_not_in_log"
    assert refused(replace(b, header={**b.header, "height": 1})) == "registry.header_not_in_log"
    assert refused(replace(b, header={**b.header, "extra": 1})) == "registry.header_not_in_log"
    hp = b.header_proof
    assert refused(replace(b, header_proof=(flip(hp[0], 31), *hp[1:]))
                   ) == "registry.header_not_in_log"
    assert refused(replace(b, header_proof=hp[:-1])) == "registry.header_not_in_log"
    assert refused(replace(b, size=b.size - 1)) == "registry.header_not_in_log"
    # the checkpoint: its body, the log's signature, one cosignature
    body, sigs = b.checkpoint.split("\n\n")
    lines = body.split("\n")
    lines[1] = str(int(lines[1]) + 1)
    assert refused(replace(b, checkpoint="\n".join(lines) + "\n\n" + sigs)
                   ) == "registry.bad_signature"
    sig_lines = sigs.splitlines(keepends=True)
    for n in range(len(sig_lines)):
        name, blob = sig_lines[n].split(" ")[1:]
        raw = bytearray(base64.b64decode(blob))
        raw[-1] ^= 1
        changed = [*sig_lines]
        changed[n] = f"— {name} {base64.b64encode(bytes(raw)).decode()}\n"
        assert refused(replace(b, checkpoint=body + "\n\n" + "".join(changed))
                       ) == "registry.bad_signature"
    # a cosignature left out
    assert refused(replace(b, checkpoint=body + "\n\n" + "".join(sig_lines[:-1]))
                   ) == "registry.witness_quorum"
    assert refused(b, key=KEYS["did"]) == "registry.bundle_wrong_key"


def test_a_bundle_claiming_another_record_is_refused() -> None:
    b = PUBLISHED.bundle(KEYS["accreditation"])
    other = PUBLISHED.bundle(KEYS["revoked"])
    assert refused(replace(b, record=other.record)) == "registry.record_key_mismatch"
    assert refused(replace(other, key=b.key)) == "registry.record_key_mismatch"
    absent = PUBLISHED.bundle(ABSENT["no did"])
    assert refused(replace(absent, record={**dict(b.record or {}), "id": "x"})
                   ) == "registry.record_key_mismatch"


def test_policy_refusals() -> None:
    b = PUBLISHED.bundle(KEYS["did"])
    assert refused(b, now=NOW + MAX_AGE + 1) == "registry.checkpoint_stale"
    assert verify(b, now=NOW + MAX_AGE).fresh_at == NOW
    stranger = NoteSigner(C, Ed25519PrivateKey.generate()).verifier
    assert refused(b, log_verifier=stranger) == "registry.unknown_key"
    others = [CosignatureSigner(w.name, Ed25519PrivateKey.generate()).verifier
              for w in WITNESSES]
    assert refused(b, witnesses=others) == "registry.witness_quorum"
    assert refused(b, origin="registry.keten.example/other") == "registry.bad_checkpoint"
    assert refused(b, min_size=PUBLISHED.size + 1) == "registry.bundle_too_old"
    old = Log(WORLD).publish(at=NOW - MAX_AGE - 100).bundle(KEYS["did"])
    assert refused(old) == "registry.checkpoint_stale"


def test_an_old_bundle_cannot_hide_a_later_revocation() -> None:
    world = build_world()
    log = Log(world)
    key = state_key("status_chunk", world.revocation, 0)
    before = log.publish().bundle(key)
    world.update(world.gent, world.revocation, [9], 1)
    after = log.publish(at=NOW + 30).bundle(key)
    old, new = verify(before, log_verifier=log.signer.verifier), verify(
        after, log_verifier=log.signer.verifier, now=NOW + 60)
    assert old.record is not None and new.record is not None
    assert b64u_decode(old.record["data"])[1] & 2 == 0 < b64u_decode(new.record["data"])[1] & 2
    assert refused(before, log_verifier=log.signer.verifier, min_size=new.checkpoint.size
                   ) == "registry.bundle_too_old"


# --- malformed ----------------------------------------------------------------------------


def test_malformed_bundles_by_hand() -> None:
    good = PUBLISHED.bundle(KEYS["did"]).to_json()
    cases: list[Any] = [b"", b"[]", b"{", "null", 5, [], {}, {**good, "extra": 1},
                        b"x" * (MAX_BUNDLE_BYTES + 1)]
    for name in good:
        cases.append({k: v for k, v in good.items() if k != name})
    for name, value in [("v", 2), ("v", True), ("v", "1"), ("key", {"kind": "did"}),
                        ("key", {"kind": "nope", "parts": ["x"]}),
                        ("key", {"kind": "did", "parts": ["a", "b"]}),
                        ("key", {"kind": "status_chunk", "parts": ["a", True]}),
                        ("key", {"kind": "status_chunk", "parts": ["a", -1]}),
                        ("key", {"kind": "did", "parts": [""]}), ("record", []),
                        ("record", "x"), ("state_proof", {}), ("state_proof", None),
                        ("header", {}), ("header", {"state_root": "AB" * 32}),
                        ("header", {"state_root": "ab" * 31}), ("header", []),
                        ("header", {"state_root": "ab" * 32, "x": "y" * 20000}),
                        ("header_proof", {"index": 0, "size": 2, "hashes": []}),
                        ("header_proof", {"index": -1, "size": 0, "hashes": []}),
                        ("header_proof", {"index": 0, "size": 1, "hashes": ["AA"]}),
                        ("header_proof", {"index": 0, "size": 1, "hashes": ["A" * 44]}),
                        ("header_proof", {"index": 0, "size": 1, "hashes": [None]}),
                        ("header_proof", {"index": 0, "size": 1, "hashes": {}}),
                        ("header_proof", {"index": 0, "size": 1}),
                        ("header_proof", {"index": 0, "size": 1,
                                          "hashes": [b64u_encode(bytes(32))] * 65}),
                        ("checkpoint", 5), ("checkpoint", "not a note"),
                        ("checkpoint", "x\n\n— a AAAAAAA=\n"),
                        ("checkpoint", "x" * 70000)]:
        cases.append({**good, name: value})
    for case in cases:
        data = json.dumps(case).encode() if not isinstance(case, bytes) else case
        for form in (case, data):
            with pytest.raises(BundleError) as exc:
                parse_bundle(form)
            assert exc.value.code == "registry.malformed_bundle"
    with pytest.raises(BundleError):
        parse_bundle('{"v": 1, "v": 1}')


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=12)
GOOD = PUBLISHED.bundle(KEYS["chunk"]).to_json()


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*prefix, i))
    return out


PATHS = _paths(GOOD)[1:]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(PATHS), JSON, st.booleans())
def test_a_changed_member_raises_only_our_errors(path: tuple[Any, ...], value: Any,
                                                 drop: bool) -> None:
    bundle = copy.deepcopy(GOOD)
    target = bundle
    for step in path[:-1]:
        target = target[step]
    if drop and isinstance(target, dict):
        del target[path[-1]]
    else:
        target[path[-1]] = value
    try:
        verify(bundle)
    except SsiError as exc:
        assert isinstance(exc, RegistryError) and exc.code.startswith("registry.")
    else:
        assert bundle == GOOD or value == _get(GOOD, path)


def _get(value: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        value = value[step]
    return value


@settings(max_examples=300, deadline=None)
@given(JSON | st.binary(max_size=200) | st.text(max_size=200))
def test_random_input_raises_only_malformed_bundle(value: Any) -> None:
    with pytest.raises(BundleError):
        parse_bundle(value)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 10_000), st.binary(min_size=1, max_size=3))
def test_spliced_bytes_raise_only_our_errors(at: int, junk: bytes) -> None:
    data = PUBLISHED.bundle(KEYS["schema"]).dumps()
    at %= len(data)
    spliced = data[:at] + junk + data[at + len(junk):]
    if spliced == data:
        return
    with pytest.raises(SsiError) as exc:
        verify(spliced)
    assert isinstance(exc.value, RegistryError)
