"""The exception tree of the ``registry`` package (the did:keten node, its log and witnesses).

It hangs under the project-wide root so one error middleware can map every package alike;
each error carries a stable ``code`` (``registry.<reason>``); the third column is the HTTP
status the services' tables give it at their edge (:data:`registry.node.http.STATUSES`,
:data:`registry.witness.http.STATUSES`), never the error itself::

    SsiError                         ssi.*                       (ssiwallet.errors)
    └── RegistryError                registry.error          400
        ├── ProofError               registry.invalid_proof  422  Merkle proofs (merkle, tree)
        ├── BadNoteError             registry.bad_note       400  C2SP signed-note syntax (note)
        ├── BadSignatureError        registry.bad_signature  400  a known key's signature fails
        ├── UnknownKeyError          registry.unknown_key    400  no signature by a trusted key
        ├── BadCheckpointError       registry.bad_checkpoint 400  checkpoint body (checkpoint)
        ├── WitnessQuorumError       registry.witness_quorum 400  too few witness cosignatures
        ├── CheckpointStaleError     registry.checkpoint_stale 400 cosignatures too old
        ├── DidUrlError              registry.invalid_did    400  did:keten ids, keys (didketen)
        ├── TxMalformedError         registry.tx_malformed   400  transaction shape (fields, tx)
        ├── TxRejectedError          registry.tx_rejected    422  names nothing known (rules)
        │   ├── TxForbiddenError     registry.forbidden      403  wrong signer, not a steward, …
        │   └── TxConflictError      registry.conflict       409  replayed, cross-chain, exists
        ├── BlockError               registry.bad_block      422  a block that does not extend
        │                                                         the chain; ``.height`` (block)
        ├── DidNotFoundError         registry.did_not_found  404  (resolve)
        ├── StorageError             registry.storage_error  503  storage_full / _conflict /
        │                                                         _version / _corrupt (storage)
        ├── NodeHaltedError          registry.node_halted    503  storage altered under the node
        ├── NotSequencerError        registry.not_sequencer  503  a mirror takes no transactions
        ├── ForkError                registry.fork_detected  502  upstream disagrees (sync)
        ├── UpstreamError            registry.upstream_error 502  upstream unreachable (sync)
        ├── KeyFileError             registry.bad_key_file   400  controller key files (author)
        ├── WitnessError             registry.witness_*           the witness (witness)
        │   ├── WitnessBadRequest    …_bad_request 400, WitnessUnknownLog …_unknown_log 404,
        │   ├── WitnessForbidden     …_forbidden 403, WitnessConflict …_conflict 409 (+ size),
        │   ├── WitnessBadProof      …_bad_proof 422 (WitnessFork …_fork), WitnessKeyError,
        │   └── WitnessUnavailable   …_unavailable 502 (a witness seen from the node)
        └── WitnessStoreError        registry.witness_store  503  (witness_store)

Chain-rule refusals carry a precise code, e.g. ``registry.not_steward``,
``registry.not_next_key``, ``registry.commitment_mismatch``, ``registry.replayed``,
``registry.wrong_chain``, ``registry.did_deactivated`` (see ``rules.py``).

``ProofError`` is raised with a more specific code where the reason is worth telling apart:

    registry.proof_bad_hash_length   a leaf hash, root or proof element is not 32 bytes
    registry.proof_bad_index         leaf index outside ``[0, tree_size)``, or a negative size
    registry.proof_bad_size          old tree size larger than the new one
    registry.proof_wrong_length      proof has more or fewer elements than the sizes require
    registry.proof_root_mismatch     the proof does not lead to the claimed root(s)
"""

from __future__ import annotations

from ssiwallet.errors import SsiError

__all__ = ["ProofError", "RegistryError"]


class RegistryError(SsiError):
    """Root of every error raised by the registry package.

    An error says what went wrong (its ``code``); which HTTP status a service answers with is
    the service's own table, at its edge (e.g. :data:`registry.node.http.STATUSES`).
    """

    code = "registry.error"


class ProofError(RegistryError):
    """A Merkle proof, or the sizes, hashes and roots given with it, does not verify."""

    code = "registry.invalid_proof"
