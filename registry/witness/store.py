"""Durable witness state: the latest cosigned checkpoint per log, evidence, the witness key.

SQLite (WAL, ``synchronous=FULL``) rather than write-temp-and-rename files: the
compare-and-swap is one conditional ``UPDATE`` inside a ``BEGIN IMMEDIATE`` transaction that
other processes on the same file respect too (a rename gives atomicity but no
compare-and-swap across processes), evidence needs an append-only, deduplicated table, and
the registry node already relies on the same setup. Every commit is fsynced before the call
returns, so the witness never answers with a cosignature it could forget after a crash (the
spec: persist before responding).

The stored size never decreases, checked three times over: the caller's decision (the pure
``Witness`` core), the conditional update here (it only applies if the row still holds the
state the decision was based on), and a trigger that aborts any update shrinking the size or
changing the root at equal size.

The witness key file is one line, in the style of Go's ``note`` signer keys::

    PRIVATE+KEY+<name>+<hex key ID>+<base64(0x04 ‖ 32-byte Ed25519 seed)>
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from registry.errors import RegistryError
from registry.tlog.checkpoint import CosignatureSigner
from registry.tlog.note import b64decode_strict, b64encode, key_id_for
from registry.witness.decide import Evidence, LogState, WitnessKeyError
from ssiwallet.core.keys import Ed25519PrivateKey
from ssiwallet.errors import SsiError
from ssiwallet.infra.files import create_exclusive
from ssiwallet.infra.sqlite import connect, make_durable, write_transaction

__all__ = [
    "MAX_EVIDENCE_PER_ORIGIN",
    "StoredEvidence",
    "WitnessStore",
    "WitnessStoreError",
    "format_witness_key",
    "load_or_create_witness_key",
    "load_witness_key",
]

SCHEMA_VERSION = 1
MAX_EVIDENCE_PER_ORIGIN = 10_000
"""Evidence rows kept per log besides forks: anyone can replay old signed checkpoints, so
``rollback``/``bad_proof`` rows are capped; ``fork`` rows are proof of misbehaviour and kept."""

_SCHEMA = (
    """CREATE TABLE log_state (
        origin TEXT PRIMARY KEY,
        size INTEGER NOT NULL CHECK (size >= 0),
        root_hash BLOB NOT NULL CHECK (length(root_hash) = 32),
        note TEXT NOT NULL,
        updated_at INTEGER NOT NULL
    ) STRICT""",
    """CREATE TRIGGER log_state_never_shrinks BEFORE UPDATE ON log_state
       WHEN NEW.size < OLD.size OR (NEW.size = OLD.size AND NEW.root_hash != OLD.root_hash)
       BEGIN SELECT RAISE(ABORT, 'witness state would shrink or fork'); END""",
    """CREATE TABLE evidence (
        id INTEGER PRIMARY KEY,
        origin TEXT NOT NULL,
        kind TEXT NOT NULL,
        stored_note TEXT NOT NULL,
        submitted_note TEXT NOT NULL,
        detail TEXT NOT NULL,
        received_at INTEGER NOT NULL,
        digest BLOB NOT NULL UNIQUE
    ) STRICT""",
    "CREATE INDEX evidence_origin ON evidence (origin, kind)",
)
_KEY_PREFIX = "PRIVATE+KEY+"


class WitnessStoreError(RegistryError):
    """The witness database failed or is not a witness database (the request is not cosigned)."""

    code = "registry.witness_store"


@dataclass(frozen=True)
class StoredEvidence:
    """One evidence row as kept: the two signed notes and when the second one arrived."""

    id: int
    evidence: Evidence
    received_at: int


class WitnessStore:
    """Per-origin :class:`LogState` and evidence in one SQLite file.

    One connection used across threads under a lock (the HTTP layer calls it through
    ``asyncio.to_thread``); every write is one ``BEGIN IMMEDIATE`` … ``COMMIT``.
    """

    def __init__(self, path: str | Path, *, busy_timeout: float = 5.0) -> None:
        self._lock = threading.Lock()
        self._closed = False
        try:
            self._conn = connect(path, busy_timeout=busy_timeout)
        except sqlite3.Error as exc:
            raise WitnessStoreError(f"cannot open witness database: {exc}") from exc
        try:
            self._setup()
        except BaseException as exc:
            self._conn.close()
            self._closed = True
            if isinstance(exc, sqlite3.Error):
                raise WitnessStoreError(f"cannot open witness database: {exc}") from exc
            raise

    def _setup(self) -> None:
        c = self._conn
        refused = make_durable(c)
        if refused is not None:
            raise WitnessStoreError(f"cannot use WAL journal (got {refused!r}); need a file path")
        with self._write():
            version = c.execute("PRAGMA user_version").fetchone()[0]
            if version == 0:
                if c.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
                    raise WitnessStoreError("a SQLite file that is not a witness database")
                for statement in _SCHEMA:
                    c.execute(statement)
                c.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            elif version != SCHEMA_VERSION:
                raise WitnessStoreError(f"unknown witness database version {version}")

    def close(self) -> None:
        """Close the connection; later calls raise :class:`WitnessStoreError`."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._conn.close()

    def __enter__(self) -> WitnessStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _op(self) -> Iterator[sqlite3.Connection]:
        """Serialise access and keep raw ``sqlite3`` errors out of the public API."""
        with self._lock:
            if self._closed:
                raise WitnessStoreError("witness database is closed")
            try:
                yield self._conn
            except sqlite3.Error as exc:
                raise WitnessStoreError(f"witness database failure: {exc}") from exc

    def _write(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        return write_transaction(self._conn)

    def get(self, origin: str) -> LogState | None:
        """The latest cosigned state for ``origin``, or None if never cosigned."""
        with self._op() as c:
            row = c.execute(
                "SELECT size, root_hash, note FROM log_state WHERE origin = ?", (origin,)
            ).fetchone()
        if row is None:
            return None
        try:
            return LogState(int(row[0]), bytes(row[1]), str(row[2]))
        except ValueError as exc:
            raise WitnessStoreError(f"stored state for {origin!r} is corrupt: {exc}") from exc

    def compare_and_swap(
        self, origin: str, expected: LogState | None, new: LogState, now: int
    ) -> bool:
        """Store ``new`` only if ``origin`` still holds ``expected`` (None: no row yet).

        Returns False, changing nothing, when another writer got there first; the caller then
        answers 409 with the current size. Committed and fsynced before returning True.

        Raises:
            ValueError: ``new`` would shrink the size or fork at equal size (a caller bug).
            WitnessStoreError: the database failed.
        """
        if expected is not None and (
            new.size < expected.size
            or (new.size == expected.size and new.root_hash != expected.root_hash)
        ):
            raise ValueError("a witness state may only grow")
        with self._op(), self._write() as c:
            if expected is None:
                cur = c.execute(
                    "INSERT INTO log_state (origin, size, root_hash, note, updated_at)"
                    " VALUES (?, ?, ?, ?, ?) ON CONFLICT (origin) DO NOTHING",
                    (origin, new.size, new.root_hash, new.note, now),
                )
            else:
                cur = c.execute(
                    "UPDATE log_state SET size = ?, root_hash = ?, note = ?, updated_at = ?"
                    " WHERE origin = ? AND size = ? AND root_hash = ?",
                    (new.size, new.root_hash, new.note, now,
                     origin, expected.size, expected.root_hash),
                )
            return cur.rowcount == 1

    def add_evidence(self, evidence: Evidence, now: int) -> bool:
        """Keep a refused checkpoint next to the stored one; False if already kept or capped.

        Deduplicated by (origin, kind, submitted note), so replaying one signed checkpoint
        many times adds one row.
        """
        digest = hashlib.sha256(
            "\n\n".join((evidence.origin, evidence.kind, evidence.submitted_note)).encode()
        ).digest()
        with self._op(), self._write() as c:
            if evidence.kind != "fork":
                (count,) = c.execute(
                    "SELECT count(*) FROM evidence WHERE origin = ? AND kind != 'fork'",
                    (evidence.origin,),
                ).fetchone()
                if count >= MAX_EVIDENCE_PER_ORIGIN:
                    return False
            cur = c.execute(
                "INSERT INTO evidence (origin, kind, stored_note, submitted_note, detail,"
                " received_at, digest) VALUES (?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (digest) DO NOTHING",
                (evidence.origin, evidence.kind, evidence.stored_note,
                 evidence.submitted_note, evidence.detail, now, digest),
            )
            return cur.rowcount == 1

    def evidence(self, limit: int = 100) -> list[StoredEvidence]:
        """The newest ``limit`` evidence rows, newest first."""
        if type(limit) is not int or limit < 0:
            raise ValueError("limit must be a non-negative integer")
        with self._op() as c:
            rows = c.execute(
                "SELECT id, origin, kind, stored_note, submitted_note, detail, received_at"
                " FROM evidence ORDER BY id DESC LIMIT ?", (limit,),
            ).fetchall()
        return [
            StoredEvidence(int(r[0]), Evidence(r[1], r[2], r[3], r[4], r[5]), int(r[6]))
            for r in rows
        ]


def format_witness_key(signer: CosignatureSigner) -> str:
    """The key file line for ``signer`` (see the module docstring)."""
    material = bytes([signer.sig_type]) + signer.private_key.seed
    return f"{_KEY_PREFIX}{signer.name}+{signer.key_id:08x}+{b64encode(material)}\n"


def load_witness_key(path: Path, name: str) -> CosignatureSigner:
    """Read the witness key at ``path``, insisting it is for ``name`` and private to us.

    Raises:
        FileNotFoundError: there is no file at ``path``.
        WitnessKeyError: unreadable, group/world accessible, malformed or for another name.
    """
    fd = os.open(path, os.O_RDONLY)
    try:
        if os.fstat(fd).st_mode & 0o077:
            raise WitnessKeyError(f"witness key {path} is accessible by group or others")
        raw = os.read(fd, 4097)
    finally:
        os.close(fd)
    try:
        line = raw.decode("ascii")
    except UnicodeDecodeError:
        raise WitnessKeyError(f"witness key {path} is not ASCII text") from None
    if not line.startswith(_KEY_PREFIX) or not line.endswith("\n") or line.count("\n") != 1:
        raise WitnessKeyError(f"witness key {path} is not one PRIVATE+KEY line")
    parts = line[len(_KEY_PREFIX):-1].split("+", 2)
    if len(parts) != 3:
        raise WitnessKeyError(f"witness key {path} must be PRIVATE+KEY+<name>+<id>+<key>")
    key_name, hex_id, key_b64 = parts
    if key_name != name:
        raise WitnessKeyError(f"witness key {path} is for {key_name!r}, not {name!r}")
    try:
        material = b64decode_strict(key_b64, "witness key")
        if len(material) != 33 or material[0] != CosignatureSigner.sig_type:
            raise WitnessKeyError("not an Ed25519 cosignature (0x04) key")
        signer = CosignatureSigner(name, Ed25519PrivateKey(material[1:]))
    except SsiError as exc:
        raise WitnessKeyError(f"witness key {path}: {exc.detail}") from None
    public = signer.private_key.public_key.raw
    if hex_id != f"{key_id_for(name, signer.sig_type, public):08x}":
        raise WitnessKeyError(f"witness key {path} has a key ID that does not match its key")
    return signer


def load_or_create_witness_key(path: Path, name: str) -> CosignatureSigner:
    """Load the witness key at ``path``, creating a fresh one (mode 0600) if there is none.

    Creation writes a temporary file, fsyncs it and hard-links it into place, which fails if
    another process created the key meanwhile: the key is never half-written and two
    processes never end up with different keys. Print ``signer.verifier.vkey()`` to
    configure clients.

    Raises:
        WitnessKeyError: the existing file is unusable (see :func:`load_witness_key`).
        BadNoteError: ``name`` cannot be a note key name.
    """
    with contextlib.suppress(FileNotFoundError):
        return load_witness_key(path, name)
    signer = CosignatureSigner(name, Ed25519PrivateKey.generate())
    create_exclusive(path, format_witness_key(signer), secret=True)  # a racing creator wins
    return load_witness_key(path, name)
