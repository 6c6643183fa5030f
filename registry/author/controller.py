"""The private side of a did:keten DID: its keys and the transactions it signs.

A :class:`Controller` holds the current signing key, the *next* key it committed to, and the
sequence number its next transaction must carry. Issuers, verifiers and stewards use it (via
the CLIs and the client) to author transactions; the registry never sees a private key.
Its JSON form is a secret, kept in a key file (:mod:`registry.author.keyfile`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from registry.errors import RegistryError
from registry.ledger.didketen import KetenDid, commitment, did_from_inception, multikey
from registry.ledger.tx import sign_tx, unsigned_tx
from ssiwallet.core.b64 import b64u_decode, b64u_encode
from ssiwallet.core.keys import Ed25519PrivateKey
from ssiwallet.errors import SsiError

__all__ = ["Controller", "KeyFileError"]


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

