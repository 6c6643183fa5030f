"""The issuer's database: offers in flight, issued credentials, status indices in use.

Data minimisation is built into the storage format rather than left to a cleanup job:

* A pre-authorized code, its PIN and an access token are never stored, only their hashes.
* An offer's claims are stored **encrypted** (XSalsa20-Poly1305) under a key derived from
  the pre-authorized code; at the token endpoint they are re-encrypted under a key derived
  from the access token. The issuer can read them only while the wallet is presenting one
  of these secrets, and an old page in the WAL or a free list holds nothing readable.
* The ciphertext is deleted when the credentials are issued, when the offer expires or is
  locked after too many wrong PINs (``secure_delete`` zeroes the freed bytes as well).
  What stays is the credential id, vct, status list and indices, and dates.

Every change is one ``BEGIN IMMEDIATE`` transaction in WAL with ``synchronous=FULL``: an
acknowledged offer or issuance survives a crash, and a refused request changes nothing.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nacl.exceptions
import nacl.secret
import nacl.utils

from issuer.errors import IssuerError
from ssiwallet.infra.sqlite import connect, make_durable, write_transaction

__all__ = ["CredentialRecord", "IssuerStore", "OfferRecord", "open_claims", "seal_claims",
           "secret_hash"]

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS offers (
    id TEXT PRIMARY KEY,
    code_hash BLOB NOT NULL UNIQUE,
    pin_hash BLOB,
    config_id TEXT NOT NULL,
    vct TEXT NOT NULL,
    sealed BLOB,
    created INTEGER NOT NULL,
    expires INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tokens (
    token_hash BLOB PRIMARY KEY,
    offer_id TEXT NOT NULL REFERENCES offers(id),
    expires INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS used_nonces (nonce_hash BLOB PRIMARY KEY, expires INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS credentials (
    id TEXT PRIMARY KEY,
    offer_id TEXT NOT NULL,
    vct TEXT NOT NULL,
    list_id TEXT NOT NULL,
    indices TEXT NOT NULL,
    issued INTEGER NOT NULL,
    expires INTEGER,
    status INTEGER NOT NULL DEFAULT 0,
    status_changed INTEGER
);
CREATE TABLE IF NOT EXISTS status_indices (
    list_id TEXT NOT NULL, idx INTEGER NOT NULL, PRIMARY KEY (list_id, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS status_lists (
    list_id TEXT PRIMARY KEY, size INTEGER NOT NULL, created INTEGER NOT NULL
);
"""


def secret_hash(domain: str, *parts: str) -> bytes:
    """A domain-separated SHA-256 over secrets (codes, PINs, tokens), for lookup only."""
    h = hashlib.sha256(domain.encode())
    for part in parts:
        data = part.encode("utf-8")
        h.update(len(data).to_bytes(4, "big") + data)
    return h.digest()


def _box(secret: str) -> nacl.secret.SecretBox:
    return nacl.secret.SecretBox(secret_hash("keten/issuer/claims-key", secret))


def seal_claims(claims: dict[str, Any], secret: str) -> bytes:
    """Encrypt an offer's claims under a key only ``secret`` (code or token) unlocks."""
    data = json.dumps(claims, separators=(",", ":"), ensure_ascii=False).encode()
    return bytes(_box(secret).encrypt(data, nacl.utils.random(24)))


def open_claims(sealed: bytes, secret: str) -> dict[str, Any]:
    """Decrypt claims sealed by :func:`seal_claims`."""
    try:
        value = json.loads(_box(secret).decrypt(sealed))
    except (nacl.exceptions.CryptoError, ValueError):
        raise IssuerError("stored claims do not open with this secret",
                          code="issuer.claims_unreadable") from None
    if not isinstance(value, dict):
        raise IssuerError("stored claims are not an object", code="issuer.claims_unreadable")
    return value


@dataclass(frozen=True)
class OfferRecord:
    id: str
    pin_hash: bytes | None
    config_id: str
    vct: str
    sealed: bytes | None
    created: int
    expires: int
    attempts: int
    state: str  # open | redeemed | issued | expired | locked


@dataclass(frozen=True)
class CredentialRecord:
    id: str
    offer_id: str
    vct: str
    list_id: str
    indices: list[int]
    issued: int
    expires: int | None
    status: int
    status_changed: int | None

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "offer": self.offer_id, "vct": self.vct, "list": self.list_id,
                "indices": self.indices, "copies": len(self.indices), "issued": self.issued,
                "expires": self.expires, "status": self.status,
                "status_changed": self.status_changed}


_OFFER_COLS = "id, pin_hash, config_id, vct, sealed, created, expires, attempts, state"
_CRED_COLS = "id, offer_id, vct, list_id, indices, issued, expires, status, status_changed"


def _credential(row: tuple[Any, ...]) -> CredentialRecord:
    return CredentialRecord(row[0], row[1], row[2], row[3], json.loads(row[4]), *row[5:])


class IssuerStore:
    """SQLite store of one issuer (see the module docstring). Not thread-safe: one event loop."""

    def __init__(self, path: Path | str) -> None:
        self.conn = connect(path)
        try:
            self.conn.execute("PRAGMA secure_delete = ON")
            refused = make_durable(self.conn) if str(path) != ":memory:" else None
            if refused is not None:
                raise IssuerError(f"the database refused WAL mode ({refused})",
                                  code="issuer.storage")
            self.conn.executescript(_SCHEMA)  # idempotent; its own transaction
            with write_transaction(self.conn):
                row = self.conn.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
                if row is None:
                    self.conn.execute("INSERT INTO meta VALUES ('schema', ?)",
                                      (str(SCHEMA_VERSION),))
                elif row[0] != str(SCHEMA_VERSION):
                    raise IssuerError(f"database schema {row[0]} is not {SCHEMA_VERSION}",
                                      code="issuer.storage")
        except BaseException:
            self.conn.close()
            raise

    def close(self) -> None:
        self.conn.close()

    def transaction(self) -> Any:
        """One durable write transaction (``with store.transaction(): ...``)."""
        return write_transaction(self.conn)

    # ------------------------------------------------------------------ offers

    def add_offer(self, offer: OfferRecord, code_hash: bytes) -> None:
        with self.transaction():
            self.conn.execute(f"INSERT INTO offers ({_OFFER_COLS}, code_hash) "
                              "VALUES (?,?,?,?,?,?,?,?,?,?)",
                              (offer.id, offer.pin_hash, offer.config_id, offer.vct,
                               offer.sealed, offer.created, offer.expires, offer.attempts,
                               offer.state, code_hash))

    def offer_by_code(self, code_hash: bytes) -> OfferRecord | None:
        row = self.conn.execute(f"SELECT {_OFFER_COLS} FROM offers WHERE code_hash = ?",
                                (code_hash,)).fetchone()
        return OfferRecord(*row) if row else None

    def offer(self, offer_id: str) -> OfferRecord | None:
        row = self.conn.execute(f"SELECT {_OFFER_COLS} FROM offers WHERE id = ?",
                                (offer_id,)).fetchone()
        return OfferRecord(*row) if row else None

    def offers(self, limit: int = 100) -> list[OfferRecord]:
        rows = self.conn.execute(f"SELECT {_OFFER_COLS} FROM offers ORDER BY created DESC "
                                 "LIMIT ?", (limit,)).fetchall()
        return [OfferRecord(*row) for row in rows]

    def update_offer(self, offer_id: str, **values: Any) -> None:
        """Set columns of one offer (names from this module only, never from input)."""
        sets = ", ".join(f"{name} = ?" for name in values)
        self.conn.execute(f"UPDATE offers SET {sets} WHERE id = ?", (*values.values(), offer_id))

    def expire_offers(self, now: int) -> int:
        """Forget the claims of every offer past its expiry; how many were expired."""
        with self.transaction():
            cur = self.conn.execute(
                "UPDATE offers SET sealed = NULL, pin_hash = NULL, state = 'expired' "
                "WHERE expires <= ? AND state IN ('open', 'redeemed')", (now,))
            self.conn.execute("DELETE FROM tokens WHERE expires <= ?", (now,))
            self.conn.execute("DELETE FROM used_nonces WHERE expires <= ?", (now,))
            return cur.rowcount

    # ------------------------------------------------------------------ tokens and nonces

    def add_token(self, token_hash: bytes, offer_id: str, expires: int) -> None:
        self.conn.execute("INSERT INTO tokens VALUES (?, ?, ?)", (token_hash, offer_id, expires))

    def token(self, token_hash: bytes) -> tuple[str, int] | None:
        row = self.conn.execute("SELECT offer_id, expires FROM tokens WHERE token_hash = ?",
                                (token_hash,)).fetchone()
        return (row[0], row[1]) if row else None

    def delete_token(self, token_hash: bytes) -> None:
        self.conn.execute("DELETE FROM tokens WHERE token_hash = ?", (token_hash,))

    def use_nonce(self, nonce_hash: bytes, expires: int) -> bool:
        """Record a c_nonce as used; False if it already was."""
        cur = self.conn.execute("INSERT OR IGNORE INTO used_nonces VALUES (?, ?)",
                                (nonce_hash, expires))
        return cur.rowcount == 1

    # ------------------------------------------------------------------ status lists

    def status_lists(self) -> list[tuple[str, int]]:
        return [(r[0], r[1]) for r in self.conn.execute(
            "SELECT list_id, size FROM status_lists ORDER BY created, list_id")]

    def add_status_list(self, list_id: str, size: int, created: int) -> None:
        with self.transaction():
            self.conn.execute("INSERT OR IGNORE INTO status_lists VALUES (?, ?, ?)",
                              (list_id, size, created))

    def used_indices(self, list_id: str) -> int:
        return int(self.conn.execute("SELECT count(*) FROM status_indices WHERE list_id = ?",
                                     (list_id,)).fetchone()[0])

    def claim_index(self, list_id: str, idx: int) -> bool:
        """Take a status index for a copy; False if it was already taken."""
        cur = self.conn.execute("INSERT OR IGNORE INTO status_indices VALUES (?, ?)",
                                (list_id, idx))
        return cur.rowcount == 1

    # ------------------------------------------------------------------ credentials

    def add_credential(self, record: CredentialRecord) -> None:
        self.conn.execute(f"INSERT INTO credentials ({_CRED_COLS}) VALUES (?,?,?,?,?,?,?,?,?)",
                          (record.id, record.offer_id, record.vct, record.list_id,
                           json.dumps(record.indices), record.issued, record.expires,
                           record.status, record.status_changed))

    def credential(self, credential_id: str) -> CredentialRecord | None:
        row = self.conn.execute(f"SELECT {_CRED_COLS} FROM credentials WHERE id = ?",
                                (credential_id,)).fetchone()
        return _credential(row) if row else None

    def credentials(self, limit: int = 100, offset: int = 0) -> list[CredentialRecord]:
        rows = self.conn.execute(f"SELECT {_CRED_COLS} FROM credentials "
                                 "ORDER BY issued DESC, id LIMIT ? OFFSET ?", (limit, offset))
        return [_credential(row) for row in rows]

    def set_status(self, credential_id: str, status: int, at: int) -> None:
        with self.transaction():
            self.conn.execute("UPDATE credentials SET status = ?, status_changed = ? "
                              "WHERE id = ?", (status, at, credential_id))

    def counts(self) -> dict[str, int]:
        rows = self.conn.execute("SELECT state, count(*) FROM offers GROUP BY state")
        out = {f"offers_{state}": n for state, n in rows}
        out["credentials"] = int(self.conn.execute(
            "SELECT count(*) FROM credentials").fetchone()[0])
        return out
