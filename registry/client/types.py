"""Errors, trust policy and value types of :mod:`registry.client.client`.

Everything here is plain data or a pure helper; the network side lives in
:mod:`registry.client.trust` and :mod:`registry.client.client`, which re-exports the public names.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from registry.errors import RegistryError
from registry.tlog.checkpoint import CosignatureVerifier
from registry.tlog.note import NoteVerifier
from ssiwallet.core import strictjson
from ssiwallet.core.keys import Ed25519PublicKey
from ssiwallet.errors import SsiError
from ssiwallet.infra.files import write_atomic

__all__ = [
    "CheckpointStore", "ClientError", "FileCheckpointStore", "Genesis", "KeyNotValidError",
    "NotAccreditedError", "RELAYED_STATUSES", "RegistryUnavailableError", "RemoteError",
    "Resolution", "TrustPolicy", "UntrustedResponseError",
]

_CODE = re.compile(r"[a-z][a-z0-9_]*(\.[a-z0-9_]+){1,3}")


class ClientError(RegistryError):
    """Root of the client's errors: no trustworthy answer could be had from the registry."""

    code = "registry.client_error"


class RemoteError(ClientError):
    """The node answered with an error: its ``code``, ``detail`` and ``http_status``."""

    def __init__(self, detail: str, *, code: str, http_status: int) -> None:
        super().__init__(detail, code=code)
        self.http_status = http_status


class RegistryUnavailableError(ClientError):
    """No answer (connection, timeout, oversized body): callers must fail closed."""

    code = "registry.unavailable"


class UntrustedResponseError(ClientError):
    """An answer that does not verify; ``code`` names why when the reason is worth telling.

    ``registry.genesis_mismatch``, ``registry.witness_quorum``, ``registry.checkpoint_stale``,
    ``registry.fork_detected``, ``registry.rollback``, ``registry.stale_response``; anything
    else (bad signature, malformed answer) keeps ``registry.untrusted``.
    """

    code = "registry.untrusted"


class KeyNotValidError(ClientError):
    """The kid was not an active, uncompromised key of a live DID at the time asked for."""

    code = "registry.key_not_valid"


class NotAccreditedError(ClientError):
    """The issuer was not accredited for the credential type at the time asked for."""

    code = "registry.not_accredited"


@dataclass(frozen=True)
class TrustPolicy:
    """What the caller requires before believing a node.

    Attributes:
        genesis_hash: hex sha256 of block 0's header; ``None`` trusts the first one seen.
        quorum: witness cosignatures required; ``None`` uses the genesis recommendation.
        max_age: seconds the quorum-th newest cosignature may be old; needs witnesses,
            since only they timestamp a tree head (``None``: freshness is not required).
        witnesses: witness vkeys to trust; ``None`` uses those named in genesis.
    """

    genesis_hash: str | None = None
    quorum: int | None = None
    max_age: int | None = None
    witnesses: list[str] | None = None


@dataclass(frozen=True)
class Genesis:
    """The trust anchors read from a validated block 0."""

    hash: str
    chain_id: str
    sequencer: Ed25519PublicKey
    log_verifier: NoteVerifier
    witnesses: tuple[CosignatureVerifier, ...]
    quorum: int


@dataclass(frozen=True)
class Resolution:
    """A DID resolution result (DIF Universal Resolver shape)."""

    document: dict[str, Any]
    metadata: dict[str, Any]
    raw: dict[str, Any]


class CheckpointStore(Protocol):
    """Keeps the last verified checkpoint note across restarts (fork/rollback protection)."""

    def load(self) -> str | None: ...

    def save(self, note: str) -> None: ...


@dataclass(frozen=True)
class FileCheckpointStore:
    """A checkpoint note in a file, replaced atomically so a crash never leaves half a note."""

    path: Path

    def load(self) -> str | None:
        try:
            return self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None

    def save(self, note: str) -> None:
        write_atomic(self.path, note)


def _untrusted(detail: str, code: str | None = None) -> UntrustedResponseError:
    return UntrustedResponseError(detail, code=code)


def _remote_error(status: int, body: bytes) -> RemoteError:
    code, detail = f"http.{status}", body[:200].decode("utf-8", "replace")
    with contextlib.suppress(SsiError):
        obj = strictjson.loads(body)
        if isinstance(obj, dict) and isinstance(obj.get("error"), str) and _CODE.fullmatch(
                obj["error"]):
            code, detail = obj["error"], str(obj.get("detail", ""))[:500]
    return RemoteError(detail, code=code, http_status=status)


RELAYED_STATUSES: dict[str | type[SsiError], int] = {
    ClientError: 502, RegistryUnavailableError: 503, KeyNotValidError: 422,
    NotAccreditedError: 422,
}
"""How a service that relays a registry client's refusal answers it (a row of its status
table, :data:`ssiwallet.infra.web.StatusTable`): the registry failed (502, 503), or what it
proved makes the request unacceptable (422)."""
