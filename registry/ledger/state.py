"""The registry's state, derived from the chain: DIDs with their key history, accreditations,
verifier registrations, schemas and status lists. Public facts about organisations only.

Records are immutable; the state maps are ``ChainMap`` layers so a block can be applied to a
:meth:`State.fork` and either absorbed once it is durably stored or simply dropped: a failed
append never leaves half a block in memory. Time-dependent questions ("which key was active
at ``iat``?", "was this issuer accredited then?") take the time as a parameter.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from registry.ledger.didketen import KetenDid, key_fragment
from ssiwallet.core.keys import Ed25519PublicKey

__all__ = [
    "Accreditation", "DidRecord", "KeyEntry", "SchemaRecord", "State", "StatusListRecord",
    "VerifierRegistration",
]


@dataclass(frozen=True, slots=True)
class KeyEntry:
    """The N-th key of a DID and when it was the DID's key (block times, seconds)."""

    number: int
    multikey: str
    key: Ed25519PublicKey
    valid_from: int
    valid_until: int | None = None
    compromised_since: int | None = None

    def active_at(self, at: int) -> bool:
        """Current at ``at`` and not compromised at or before it."""
        if self.compromised_since is not None and self.compromised_since <= at:
            return False
        return self.valid_from <= at and (self.valid_until is None or at < self.valid_until)

    def to_json(self, did: str) -> dict[str, Any]:
        return {"id": f"{did}#{key_fragment(self.number)}", "publicKeyMultibase": self.multikey,
                "validFrom": self.valid_from, "validUntil": self.valid_until,
                "compromisedSince": self.compromised_since}


@dataclass(frozen=True, slots=True)
class DidRecord:
    """A DID's whole history as the chain recorded it."""

    did: KetenDid
    name: str
    keys: tuple[KeyEntry, ...]
    next_commitment: str
    seq: int
    """The sequence number the DID's next transaction must carry."""
    created: int
    updated: int
    deactivated: int | None = None
    versions: tuple[tuple[int, str], ...] = ()
    """(block time, tx id) of every transaction that changed this DID's document."""

    @property
    def current(self) -> KeyEntry:
        return self.keys[-1]

    def key(self, number: int) -> KeyEntry | None:
        return self.keys[number - 1] if 1 <= number <= len(self.keys) else None

    def existed_at(self, at: int) -> bool:
        return self.created <= at

    def deactivated_at(self, at: int) -> bool:
        return self.deactivated is not None and self.deactivated <= at


@dataclass(frozen=True, slots=True)
class Accreditation:
    """A steward's statement that ``issuer`` may issue ``vcts`` within a validity window."""

    id: str
    issuer: str
    vcts: tuple[str, ...]
    valid_from: int
    valid_until: int | None
    granted_by: str
    granted_at: int
    revoked_since: int | None = None

    def covers(self, vct: str, at: int) -> bool:
        """Whether this accreditation vouched for ``vct`` at time ``at``."""
        if vct not in self.vcts or at < self.valid_from:
            return False
        if self.valid_until is not None and at >= self.valid_until:
            return False
        return self.revoked_since is None or at < self.revoked_since

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "issuer": self.issuer, "vcts": list(self.vcts),
                "validFrom": self.valid_from, "validUntil": self.valid_until,
                "grantedBy": self.granted_by, "grantedAt": self.granted_at,
                "revokedSince": self.revoked_since}


@dataclass(frozen=True, slots=True)
class VerifierRegistration:
    """Which claims of which credential types a verifier may ask for, and why."""

    verifier: str
    purpose: Mapping[str, str]
    credentials: tuple[tuple[str, tuple[tuple[str, ...], ...]], ...]
    valid_until: int | None
    registered_at: int
    registered_by: str
    tx: str
    revoked_at: int | None = None

    def active_at(self, at: int) -> bool:
        if at < self.registered_at or (self.revoked_at is not None and at >= self.revoked_at):
            return False
        return self.valid_until is None or at < self.valid_until

    def allows(self, vct: str, path: tuple[str, ...]) -> bool:
        """Whether asking for the claim at ``path`` of ``vct`` is within the registration."""
        return any(v == vct and path in claims for v, claims in self.credentials)

    def to_json(self) -> dict[str, Any]:
        return {"verifier": self.verifier, "purpose": dict(self.purpose),
                "credentials": [{"vct": v, "claims": [list(p) for p in c]}
                                for v, c in self.credentials],
                "validUntil": self.valid_until, "registeredAt": self.registered_at,
                "registeredBy": self.registered_by, "tx": self.tx, "revokedAt": self.revoked_at}


@dataclass(frozen=True, slots=True)
class SchemaRecord:
    """One published version of a credential type's schema and display names."""

    vct: str
    version: int
    schema: Mapping[str, Any]
    display: Mapping[str, Mapping[str, str]]
    published_at: int
    tx: str

    def to_json(self) -> dict[str, Any]:
        return {"vct": self.vct, "version": self.version, "schema": self.schema,
                "display": self.display, "publishedAt": self.published_at, "tx": self.tx}


@dataclass(frozen=True, slots=True)
class StatusListRecord:
    """A Token Status List kept on the chain: only changed entries are stored.

    Entries live in layers, newest first, one per update: an update costs its own size, not
    the list's (copying a list with 10⁵ revoked entries on every update would make a busy
    issuer quadratic). Every :data:`_MAX_LAYERS` updates the layers are folded into one.
    """

    id: str
    issuer: str
    bits: int
    size: int
    layers: tuple[Mapping[int, int], ...]
    created: int
    updated: int
    updated_height: int

    def get(self, index: int) -> int:
        for layer in self.layers:
            if index in layer:
                return layer[index]
        return 0

    def _merged(self) -> dict[int, int]:
        merged: dict[int, int] = {}
        for layer in reversed(self.layers):
            merged.update(layer)
        return {i: v for i, v in merged.items() if v}

    @property
    def values(self) -> Mapping[int, int]:
        """Every non-zero entry (index → status value), by index."""
        return MappingProxyType(dict(sorted(self._merged().items())))

    def with_values(self, indices: list[int], value: int, at: int, height: int
                    ) -> StatusListRecord:
        update = MappingProxyType(dict.fromkeys(indices, value))
        layers: tuple[Mapping[int, int], ...] = (update, *self.layers)
        record = StatusListRecord(self.id, self.issuer, self.bits, self.size, layers,
                                  self.created, at, height)
        if len(layers) > _MAX_LAYERS:
            record = StatusListRecord(self.id, self.issuer, self.bits, self.size,
                                      (MappingProxyType(record._merged()),), self.created,
                                      at, height)
        return record


_MAX_LAYERS = 32


def _layer() -> ChainMap[str, Any]:
    return ChainMap({})


@dataclass
class State:
    """Everything derived from the chain so far (see the module docstring)."""

    chain: str
    name: str
    stewards: frozenset[str]
    sequencer: Ed25519PublicKey
    witnesses: tuple[tuple[str, str], ...]
    quorum: int
    height: int = -1
    time: int = 0
    size: int = 0
    dids: ChainMap[str, DidRecord] = field(default_factory=_layer)
    accreditations: ChainMap[str, Accreditation] = field(default_factory=_layer)
    by_issuer: ChainMap[str, tuple[str, ...]] = field(default_factory=_layer)
    verifiers: ChainMap[str, VerifierRegistration] = field(default_factory=_layer)
    schemas: ChainMap[str, tuple[SchemaRecord, ...]] = field(default_factory=_layer)
    status_lists: ChainMap[str, StatusListRecord] = field(default_factory=_layer)

    _MAPS = ("dids", "accreditations", "by_issuer", "verifiers", "schemas", "status_lists")

    def fork(self) -> State:
        """A copy-on-write child: writes go to a new layer, reads fall through."""
        child = State(self.chain, self.name, self.stewards, self.sequencer, self.witnesses,
                      self.quorum, self.height, self.time, self.size)
        for name in self._MAPS:
            setattr(child, name, getattr(self, name).new_child())
        return child

    def absorb(self, child: State) -> None:
        """Take over a child's writes (after its block was stored)."""
        for name in self._MAPS:
            getattr(self, name).maps[0].update(getattr(child, name).maps[0])
        self.height, self.time, self.size = child.height, child.time, child.size

    def accreditations_of(self, issuer: str) -> list[Accreditation]:
        return [self.accreditations[i] for i in self.by_issuer.get(issuer, ())]

    def accredited(self, issuer: str, vct: str, at: int) -> Accreditation | None:
        """The accreditation that covered ``issuer`` for ``vct`` at ``at``, if any."""
        for acc in self.accreditations_of(issuer):
            if acc.covers(vct, at):
                return acc
        return None

    def accredited_for_anything(self, issuer: str, at: int) -> bool:
        return any(acc.covers(v, at) for acc in self.accreditations_of(issuer) for v in acc.vcts)

    def schema(self, vct: str, at: int | None = None) -> SchemaRecord | None:
        """The newest schema version of ``vct`` (published at or before ``at``)."""
        for record in reversed(self.schemas.get(vct, ())):
            if at is None or record.published_at <= at:
                return record
        return None
