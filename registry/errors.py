"""The exception tree of the ``registry`` package (the did:keten node, its log and witnesses).

It hangs under the project-wide root so one error middleware can map every package alike;
each error carries a stable ``code`` (``registry.<reason>``)::

    SsiError                        ssi.*                  (ssiwallet.errors)
    └── RegistryError               registry.error
        ├── ProofError              registry.invalid_proof  Merkle inclusion / consistency
        │                                                   proofs and their inputs
        ├── BadNoteError            registry.bad_note       C2SP signed-note syntax (note.py)
        ├── BadSignatureError       registry.bad_signature  a known key's signature fails
        ├── UnknownKeyError         registry.unknown_key    no signature by a trusted key
        ├── BadCheckpointError      registry.bad_checkpoint checkpoint body (checkpoint.py)
        ├── WitnessQuorumError      registry.witness_quorum too few witness cosignatures
        └── CheckpointStaleError    registry.checkpoint_stale newest cosignature too old

``ProofError`` is raised with a more specific code where the reason is worth telling apart:

    registry.proof_bad_hash_length   a leaf hash, root or proof element is not 32 bytes
    registry.proof_bad_index         leaf index outside ``[0, tree_size)``, or a negative size
    registry.proof_bad_size          old tree size larger than the new one
    registry.proof_wrong_length      proof has more or fewer elements than the sizes require
    registry.proof_root_mismatch     the proof does not lead to the claimed root(s)
"""

from __future__ import annotations

from typing import ClassVar

from ssiwallet.errors import SsiError

__all__ = ["ProofError", "RegistryError"]


class RegistryError(SsiError):
    """Root of every error raised by the registry package.

    ``status`` is the HTTP status a service answers with when this error reaches a client.
    """

    code = "registry.error"
    status: ClassVar[int] = 400


class ProofError(RegistryError):
    """A Merkle proof, or the sizes, hashes and roots given with it, does not verify."""

    code = "registry.invalid_proof"
    status = 422
