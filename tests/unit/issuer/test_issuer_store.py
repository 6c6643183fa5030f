"""issuer.store: secrets kept only as hashes, claims sealed under a secret, and the tables of
offers, tokens, nonces, status indices and credentials (a real SQLite file)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from issuer.errors import IssuerError
from issuer.store import (
    CredentialRecord,
    IssuerStore,
    OfferRecord,
    open_claims,
    seal_claims,
    secret_hash,
)

NOW = 1_790_000_000
CLAIMS = {"given_name": "Noor", "address": {"locality": "Gent"}, "n": [1, 2.5, None, True]}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[IssuerStore]:
    opened = IssuerStore(tmp_path / "issuer.db")
    try:
        yield opened
    finally:
        opened.close()


def offer(offer_id: str = "o1", *, expires: int = NOW + 600, state: str = "open",
          sealed: bytes | None = b"sealed") -> OfferRecord:
    return OfferRecord(id=offer_id, pin_hash=b"p" * 32, config_id="identity_dc_sd_jwt",
                       vct="urn:keten:vct:identity:1", sealed=sealed, created=NOW,
                       expires=expires, attempts=0, state=state)


# --- hashes and sealing --------------------------------------------------------------------


def test_secret_hash_is_domain_separated_and_length_prefixed() -> None:
    assert len(secret_hash("d", "x")) == 32
    assert secret_hash("d", "x") == secret_hash("d", "x")
    assert secret_hash("d", "x") != secret_hash("e", "x")
    assert secret_hash("d", "ab", "c") != secret_hash("d", "a", "bc")
    assert secret_hash("d", "ab") != secret_hash("d", "a", "b")
    assert secret_hash("d", "é") != secret_hash("d", "e")


def test_claims_open_only_with_their_secret() -> None:
    sealed = seal_claims(CLAIMS, "the-code")
    assert b"Noor" not in sealed and b"Gent" not in sealed
    assert seal_claims(CLAIMS, "the-code") != sealed  # a fresh nonce every time
    assert open_claims(sealed, "the-code") == CLAIMS
    for secret, data in (("another-code", sealed), ("the-code", sealed[:-1]),
                         ("the-code", b""), ("the-code", bytes(40))):
        with pytest.raises(IssuerError) as err:
            open_claims(data, secret)
        assert err.value.code == "issuer.claims_unreadable"


def test_sealed_non_objects_are_refused() -> None:
    import json

    import nacl.secret
    import nacl.utils

    box = nacl.secret.SecretBox(secret_hash("keten/issuer/claims-key", "k"))
    sealed = bytes(box.encrypt(json.dumps([1, 2]).encode(), nacl.utils.random(24)))
    with pytest.raises(IssuerError) as err:
        open_claims(sealed, "k")
    assert err.value.code == "issuer.claims_unreadable"


# --- offers and tokens ---------------------------------------------------------------------


def test_offers_by_id_and_by_code_hash(store: IssuerStore) -> None:
    store.add_offer(offer("o1"), b"c1")
    store.add_offer(offer("o2"), b"c2")
    assert store.offer("o1") == offer("o1")
    assert store.offer_by_code(b"c2") == offer("o2")
    assert store.offer("nope") is None and store.offer_by_code(b"nope") is None
    assert {o.id for o in store.offers()} == {"o1", "o2"}
    with pytest.raises(sqlite3.IntegrityError):  # one code, one offer
        store.add_offer(offer("o3"), b"c1")


def test_update_offer_and_counts(store: IssuerStore) -> None:
    store.add_offer(offer("o1"), b"c1")
    store.add_offer(offer("o2"), b"c2")
    with store.transaction():
        store.update_offer("o1", attempts=3, state="locked", sealed=None, pin_hash=None)
    changed = store.offer("o1")
    assert changed is not None
    assert (changed.attempts, changed.state, changed.sealed, changed.pin_hash) == (
        3, "locked", None, None)
    assert store.counts() == {"offers_locked": 1, "offers_open": 1, "credentials": 0}


def test_expiry_forgets_claims_tokens_and_nonces(store: IssuerStore) -> None:
    store.add_offer(offer("old", expires=NOW), b"c1")
    store.add_offer(offer("redeemed", expires=NOW - 1, state="redeemed"), b"c2")
    store.add_offer(offer("done", expires=NOW - 1, state="issued", sealed=None), b"c3")
    store.add_offer(offer("fresh", expires=NOW + 1), b"c4")
    with store.transaction():
        store.add_token(b"t-old", "redeemed", NOW)
        store.add_token(b"t-new", "fresh", NOW + 60)
        assert store.use_nonce(b"n-old", NOW)
        assert store.use_nonce(b"n-new", NOW + 60)
    assert store.expire_offers(NOW) == 2  # open and redeemed ones only
    for offer_id in ("old", "redeemed"):
        record = store.offer(offer_id)
        assert record is not None
        assert (record.state, record.sealed, record.pin_hash) == ("expired", None, None)
    done, fresh = store.offer("done"), store.offer("fresh")
    assert done is not None and done.state == "issued"
    assert fresh is not None and fresh.state == "open" and fresh.sealed == b"sealed"
    assert store.token(b"t-old") is None and store.token(b"t-new") == ("fresh", NOW + 60)
    with store.transaction():
        assert store.use_nonce(b"n-old", NOW + 60)  # forgotten, so usable again
        assert not store.use_nonce(b"n-new", NOW + 60)


def test_tokens_are_deleted_one_by_one(store: IssuerStore) -> None:
    store.add_offer(offer("o1"), b"c1")
    with store.transaction():
        store.add_token(b"t1", "o1", NOW + 600)
        store.delete_token(b"t1")
    assert store.token(b"t1") is None


# --- status lists and credentials ----------------------------------------------------------


def test_status_indices_are_taken_once(store: IssuerStore) -> None:
    store.add_status_list("main", 1024, NOW)
    store.add_status_list("main", 4096, NOW + 1)  # already there: unchanged
    store.add_status_list("second", 64, NOW + 2)
    assert store.status_lists() == [("main", 1024), ("second", 64)]
    with store.transaction():
        assert store.claim_index("main", 7)
        assert not store.claim_index("main", 7)
        assert store.claim_index("second", 7)
    assert store.used_indices("main") == 1 and store.used_indices("other") == 0


def test_credentials_and_their_status(store: IssuerStore) -> None:
    records = [CredentialRecord(id=f"cred-{n}", offer_id="o1", vct="urn:keten:vct:identity:1",
                                list_id="main", indices=[n, n + 10], issued=NOW + n,
                                expires=None if n else NOW + 86400, status=0,
                                status_changed=None) for n in range(3)]
    with store.transaction():
        for record in records:
            store.add_credential(record)
    assert store.credential("cred-1") == records[1]
    assert store.credential("nope") is None
    assert [c.id for c in store.credentials()] == ["cred-2", "cred-1", "cred-0"]  # newest first
    assert [c.id for c in store.credentials(limit=1, offset=1)] == ["cred-1"]
    store.set_status("cred-0", 1, NOW + 99)
    changed = store.credential("cred-0")
    assert changed is not None and (changed.status, changed.status_changed) == (1, NOW + 99)
    assert changed.to_json()["id"] == "cred-0"
    assert store.counts()["credentials"] == 3


# --- the file ------------------------------------------------------------------------------


def test_what_was_committed_survives_a_reopen(tmp_path: Path) -> None:
    path = tmp_path / "issuer.db"
    first = IssuerStore(path)
    first.add_offer(offer("o1"), b"c1")
    first.close()
    again = IssuerStore(path)
    try:
        assert again.offer("o1") == offer("o1")
    finally:
        again.close()


def test_another_schema_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "issuer.db"
    IssuerStore(path).close()
    with closing(sqlite3.connect(path)) as raw, raw:
        raw.execute("UPDATE meta SET value = '99' WHERE key = 'schema'")
    with pytest.raises(IssuerError) as err:
        IssuerStore(path)
    assert err.value.code == "issuer.storage"


def test_an_in_memory_store_works_for_tests(tmp_path: Path) -> None:
    memory = IssuerStore(":memory:")
    try:
        memory.add_offer(offer("o1"), b"c1")
        assert memory.offer("o1") == offer("o1")
    finally:
        memory.close()
