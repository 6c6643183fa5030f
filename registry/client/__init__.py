"""What wallets, issuers and verifiers import to use a registry: every answer checked.

:class:`RegistryClient` pins a genesis, verifies checkpoints against the witness quorum and
consistency with the last one seen, and answers the questions the other parts ask (an
issuer's key on a day, accreditations, verifier registrations, schemas, status lists).
"""

from registry.client.client import RegistryClient
from registry.client.types import (
    CheckpointStore,
    ClientError,
    FileCheckpointStore,
    Genesis,
    KeyNotValidError,
    NotAccreditedError,
    RegistryUnavailableError,
    RemoteError,
    Resolution,
    TrustPolicy,
    UntrustedResponseError,
)

__all__ = ["CheckpointStore", "ClientError", "FileCheckpointStore", "Genesis", "KeyNotValidError",
           "NotAccreditedError", "RegistryClient", "RegistryUnavailableError", "RemoteError",
           "Resolution", "TrustPolicy", "UntrustedResponseError"]
