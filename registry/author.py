"""The private side of a did:keten DID: its keys and the transactions it signs.

A :class:`Controller` holds the current signing key, the *next* key it committed to, and the
sequence number its next transaction must carry. Issuers, verifiers and stewards use it (via
the CLIs and the client) to author transactions; the registry never sees a private key.
Its JSON form is a secret and is written with mode 0600 by :func:`save_controller`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from registry.block import BlockHeader
from registry.chain import Chain
from registry.didketen import KetenDid, commitment, did_from_inception, multikey
from registry.errors import RegistryError
from registry.tx import parse_tx, sign_tx, unsigned_tx
from ssiwallet.core import strictjson
from ssiwallet.core.b64 import b64u_decode, b64u_encode
from ssiwallet.core.keys import Ed25519PrivateKey
from ssiwallet.errors import SsiError

__all__ = ["Controller", "ControllerFile", "endorse", "genesis_block", "load_controller",
           "save_controller"]


class KeyFileError(RegistryError):
    """A controller key file that cannot be read."""

    code = "registry.bad_key_file"


@dataclass
class Controller:
    """A DID's private keys and sequence number (see the module docstring)."""

    did: KetenDid
    name: str
    key: Ed25519PrivateKey
    key_number: int
    next_key: Ed25519PrivateKey
    seq: int = 0

    @classmethod
    def new(cls, name: str) -> Controller:
        """Fresh keys and the self-certifying DID of their inception."""
        key, next_key = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
        return cls(did_from_inception(cls._inception(name, key, next_key)), name, key, 1,
                   next_key)

    @staticmethod
    def _inception(name: str, key: Ed25519PrivateKey, next_key: Ed25519PrivateKey
                   ) -> dict[str, Any]:
        return {"key": multikey(key.public_key), "next": commitment(multikey(next_key.public_key)),
                "name": name}

    @property
    def kid(self) -> str:
        """The key id of the current key (``did:keten:…#key-N``)."""
        return f"{self.did}#key-{self.key_number}"

    def sign(self, chain: str, tx_type: str, body: dict[str, Any], time: int) -> bytes:
        """Sign a transaction as this DID's author with the next sequence number."""
        data = sign_tx(unsigned_tx(chain, tx_type, self.did, self.seq, time, body),
                       [(self.kid, self.key)])
        self.seq += 1
        return data

    def create_tx(self, chain: str, time: int, endorser: Controller | None) -> bytes:
        """The ``did.create`` (endorsed by a steward unless this is a genesis steward)."""
        if self.key_number != 1:
            raise KeyFileError("only a DID's first key can create it", code="registry.bad_state")
        unsigned = unsigned_tx(chain, "did.create", self.did, 0, time,
                               self._inception(self.name, self.key, self.next_key))
        signers = [(self.kid, self.key)]
        if endorser is not None:
            signers.append((endorser.kid, endorser.key))
        self.seq = 1
        return sign_tx(unsigned, signers)

    def rotate_tx(self, chain: str, time: int, *, compromised_since: int | None = None
                  ) -> bytes:
        """Reveal the committed next key, commit to a fresh one, and switch to it locally."""
        following = Ed25519PrivateKey.generate()
        body: dict[str, Any] = {"key": multikey(self.next_key.public_key),
                                "next": commitment(multikey(following.public_key))}
        if compromised_since is not None:
            body["compromised_since"] = compromised_since
        kid = f"{self.did}#key-{self.key_number + 1}"
        data = sign_tx(unsigned_tx(chain, "did.rotate", self.did, self.seq, time, body),
                       [(kid, self.next_key)])
        self.key, self.next_key = self.next_key, following
        self.key_number += 1
        self.seq += 1
        return data

    def to_json(self) -> dict[str, Any]:
        return {"did": str(self.did), "name": self.name, "key": b64u_encode(self.key.seed),
                "key_number": self.key_number, "next_key": b64u_encode(self.next_key.seed),
                "seq": self.seq}

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> Controller:
        try:
            return cls(KetenDid(obj["did"]), str(obj["name"]),
                       Ed25519PrivateKey(b64u_decode(obj["key"])), int(obj["key_number"]),
                       Ed25519PrivateKey(b64u_decode(obj["next_key"])), int(obj["seq"]))
        except (KeyError, TypeError, ValueError, SsiError) as exc:
            raise KeyFileError(f"not a controller key file: {exc}") from None


def save_controller(controller: Controller, path: Path) -> None:
    """Write a key file atomically, readable by its owner only."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(strictjson.dumps(controller.to_json()))
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def load_controller(path: Path) -> Controller:
    """Read a key file written by :func:`save_controller`."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise KeyFileError(f"cannot read {path}: {exc.strerror}") from None
    try:
        return Controller.from_json(strictjson.loads_object(data, what="key file"))
    except SsiError as exc:
        raise KeyFileError(f"{path}: {exc.detail}") from None


class ControllerFile:
    """A key file a running service signs with, re-read when it changes on disk.

    The service never writes it: a rotation (``ssi-issuer rotate-key``, ``ssi-registry
    rotate``) rewrites the file once the registry accepted it, and the next signature uses the
    new key. Sequence numbers are read from the registry before each transaction, so the
    file never needs to track them.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._mtime: int | None = None
        self._controller = self._load()

    def _load(self) -> Controller:
        try:
            self._mtime = self.path.stat().st_mtime_ns
        except OSError as exc:
            raise KeyFileError(f"cannot read {self.path}: {exc.strerror}") from None
        return load_controller(self.path)

    @property
    def controller(self) -> Controller:
        """The DID's current keys (re-read if the file changed since the last read)."""
        try:
            changed = self.path.stat().st_mtime_ns != self._mtime
        except OSError:
            changed = False  # keep the key we have; the registry judges its signatures
        if changed:
            self._controller = self._load()
        return self._controller


def genesis_block(chain: str, name: str, stewards: list[Controller],
                  sequencer: Ed25519PrivateKey, witnesses: list[tuple[str, str]], quorum: int,
                  time: int) -> tuple[BlockHeader, list[bytes]]:
    """Block 0 of a new registry: its parameters and its stewards' self-signed DIDs.

    ``witnesses`` are (name, C2SP vkey) pairs; ``quorum`` is how many of them the chain
    recommends clients require.
    """
    body = {"name": name, "stewards": [str(s.did) for s in stewards],
            "sequencer": multikey(sequencer.public_key),
            "witnesses": [{"name": n, "vkey": v} for n, v in witnesses], "quorum": quorum}
    genesis_tx = parse_tx(unsigned_tx(chain, "genesis", None, None, time, body)).data
    steward_txs = [s.create_tx(chain, time, None) for s in stewards]
    return Chain.genesis_block(genesis_tx, steward_txs, time, sequencer)


def endorse(request: bytes, steward: Controller) -> bytes:
    """Add a steward's endorsement to a ``did.create`` request the new DID signed itself.

    The steward signs the same bytes as the requester, so the request cannot be altered
    between the two signatures.

    Raises:
        TxMalformedError: not a transaction; KeyFileError: not a did.create, or already
            carrying more than the requester's own proof.
    """
    tx = parse_tx(request)
    if tx.type != "did.create" or len(tx.proofs) != 1:
        raise KeyFileError("an endorsement request is a did.create signed by its DID only",
                           code="registry.bad_request_file")
    obj = tx.to_json()
    obj["proofs"].append({"kid": steward.kid,
                          "sig": b64u_encode(steward.key.sign(tx.signing_input))})
    return parse_tx(obj).data
