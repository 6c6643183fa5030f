"""The C2SP ``tlog-witness`` decision core: cosign a checkpoint only if it extends the last one.

A witness remembers, per log origin, the latest checkpoint it cosigned (size and root). A log
asks for a cosignature by sending ``old <size>``, a consistency proof from that size, a blank
line and the new signed checkpoint. The witness cosigns only when the log signed it, ``old``
is exactly the size it stored and the proof shows the new tree extends the stored one; so
two witnesses that each cosigned a tree head can never have cosigned two forks, and a client
requiring k of n cosignatures cannot be shown a private fork unless k witnesses collude.

Status codes are the spec's: unknown origin 404, no valid trusted log signature 403, bad
request (syntax, ``old`` above the checkpoint size) 400, ``old`` not the stored size 409 (the
body is the stored size), failed consistency 422. A validly signed checkpoint that contradicts
the stored one (smaller, or the same size with another root, or a proof that fails) is
returned as :class:`Evidence` on the error so the caller can keep it: it is the log's own
signature on a misbehaviour.

Pure: no I/O, no clock. The caller reads the stored state, calls :meth:`Witness.decide` and
stores the new state atomically (see ``witness_store`` and ``witness_http``).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from registry.errors import ProofError, RegistryError
from registry.tlog.checkpoint import BadCheckpointError, Checkpoint, CosignatureSigner, cosign
from registry.tlog.merkle import EMPTY_ROOT, HASH_SIZE, verify_consistency
from registry.tlog.note import (
    BadNoteError,
    BadSignatureError,
    NoteSignature,
    NoteVerifier,
    UnknownKeyError,
    b64decode_strict,
    b64encode,
    open_note_signatures,
    parse_note,
)

__all__ = [
    "MAX_PROOF_LINES",
    "MAX_STORED_SIZE",
    "Accepted",
    "AddCheckpointRequest",
    "Evidence",
    "LogState",
    "SignedCheckpoint",
    "Witness",
    "WitnessBadProof",
    "WitnessBadRequest",
    "WitnessConfig",
    "WitnessConflict",
    "WitnessError",
    "WitnessFork",
    "WitnessForbidden",
    "WitnessKeyError",
    "WitnessUnavailable",
    "WitnessUnknownLog",
    "format_add_checkpoint",
    "origin_hash",
    "parse_add_checkpoint",
]

MAX_PROOF_LINES = 63
"""The spec's bound on consistency proof lines (a proof for sizes below 2^64)."""
MAX_STORED_SIZE = (1 << 63) - 1
"""Largest tree size a witness records: SQLite integers are signed 64-bit, and no real log
comes near it, so larger sizes are refused as a bad request rather than stored lossily."""

_OLD_LINE = re.compile(r"old (0|[1-9][0-9]{0,19})")


class WitnessError(RegistryError):
    """Root of the witness's refusals; ``evidence`` is set when the refusal proves something.

    Error tree (all under ``RegistryError``)::

        WitnessError          registry.witness_error           500
        ├── WitnessBadRequest registry.witness_bad_request     400  syntax, old > size
        ├── WitnessUnknownLog registry.witness_unknown_log     404  origin not configured
        ├── WitnessForbidden  registry.witness_forbidden       403  no valid trusted log sig
        ├── WitnessConflict   registry.witness_conflict        409  old != stored size
        ├── WitnessBadProof   registry.witness_bad_proof       422  consistency not shown
        │   └── WitnessFork   registry.witness_fork            422  same size, other root
        ├── WitnessUnavailable registry.witness_unavailable    502  (client) witness failed
        └── WitnessKeyError   registry.witness_key             500  key file unusable
    """

    code = "registry.witness_error"

    def __init__(
        self, detail: str, *, code: str | None = None, evidence: Evidence | None = None
    ) -> None:
        super().__init__(detail, code=code)
        self.evidence = evidence


class WitnessBadRequest(WitnessError):
    code = "registry.witness_bad_request"


class WitnessUnknownLog(WitnessError):
    """The checkpoint's origin is not a log this witness is configured for (spec: 404)."""

    code = "registry.witness_unknown_log"


class WitnessForbidden(WitnessError):
    """No signature by a trusted log key, or one by a trusted key fails (spec: 403)."""

    code = "registry.witness_forbidden"


class WitnessConflict(WitnessError):
    """``old`` is not the size this witness last cosigned; ``size`` is that stored size.

    The HTTP answer is the bare size (``text/x.tlog.size``), so a log can fetch a proof from
    that size and retry.
    """

    code = "registry.witness_conflict"

    def __init__(self, size: int, detail: str = "", *, evidence: Evidence | None = None) -> None:
        super().__init__(detail or f"witness holds size {size}", evidence=evidence)
        self.size = size


class WitnessBadProof(WitnessError):
    """The consistency from the stored checkpoint to the new one is not shown (spec: 422)."""

    code = "registry.witness_bad_proof"


class WitnessFork(WitnessBadProof):
    """Same size as the stored checkpoint but another root: two log-signed forks (422)."""

    code = "registry.witness_fork"


class WitnessUnavailable(WitnessError):
    """Client side: the witness did not answer, or answered something unusable."""

    code = "registry.witness_unavailable"

    def __init__(self, detail: str, *, http_status: int | None = None) -> None:
        super().__init__(detail)
        self.http_status = http_status


class WitnessKeyError(WitnessError):
    """The witness key file is missing its parts, for another name, or readable by others."""

    code = "registry.witness_key"


@dataclass(frozen=True)
class LogState:
    """What a witness keeps per log: the latest cosigned size and root, and that note.

    ``note`` is the checkpoint with the log signatures the witness verified plus its own
    cosignature: what the spec's monitoring endpoint serves, and the stored half of any
    evidence.
    """

    size: int
    root_hash: bytes
    note: str

    def __post_init__(self) -> None:
        if type(self.size) is not int or not 0 <= self.size <= MAX_STORED_SIZE:
            raise ValueError(f"stored size {self.size!r} outside [0, 2^63)")
        if not isinstance(self.root_hash, bytes) or len(self.root_hash) != HASH_SIZE:
            raise ValueError("stored root hash must be 32 bytes")


@dataclass(frozen=True)
class Evidence:
    """A validly log-signed checkpoint that contradicts the one the witness cosigned.

    ``kind`` is ``fork`` (same size, other root: proof of a split view on its own),
    ``rollback`` (smaller than the stored size: a replay or a late request, or a fork; kept
    because only the log can have signed it) or ``bad_proof`` (bigger, but no valid proof
    from the stored tree: a fork or a broken log).
    """

    origin: str
    kind: str
    stored_note: str
    submitted_note: str
    detail: str


@dataclass(frozen=True)
class AddCheckpointRequest:
    """A parsed ``add-checkpoint`` body: old size, proof hashes, the signed checkpoint note."""

    old_size: int
    proof: tuple[bytes, ...]
    checkpoint_note: str


@dataclass(frozen=True)
class SignedCheckpoint:
    """A checkpoint whose log signature(s) the witness verified."""

    checkpoint: Checkpoint
    log_signatures: tuple[NoteSignature, ...]
    note: str

    @property
    def origin(self) -> str:
        return self.checkpoint.origin


@dataclass(frozen=True)
class Accepted:
    """The outcome of a cosigned request: the state to store, and the lines to answer with."""

    origin: str
    state: LogState
    cosignatures: str


def origin_hash(origin: str) -> str:
    """Lowercase hex SHA-256 of an origin: the key of the spec's monitoring URL."""
    return hashlib.sha256(origin.encode("utf-8")).hexdigest()


def format_add_checkpoint(old_size: int, proof: Sequence[bytes], checkpoint_note: str) -> bytes:
    """The ``add-checkpoint`` request body a log sends (see :func:`parse_add_checkpoint`)."""
    if type(old_size) is not int or old_size < 0:
        raise ValueError("old size must be a non-negative integer")
    if len(proof) > MAX_PROOF_LINES or any(len(h) != HASH_SIZE for h in proof):
        raise ValueError(f"proof must be at most {MAX_PROOF_LINES} hashes of 32 bytes")
    lines = [f"old {old_size}", *(b64encode(h) for h in proof), ""]
    return ("".join(line + "\n" for line in lines) + checkpoint_note).encode("utf-8")


def parse_add_checkpoint(body: bytes) -> AddCheckpointRequest:
    """Parse an ``add-checkpoint`` body exactly as the spec lays it out.

    ``old <decimal>`` (no leading zeros), up to 63 canonical base64 hashes of 32 bytes, an
    empty line, then the note. Every line ends in ``\\n``; anything else is a 400, decided
    before a signature is checked.

    Raises:
        WitnessBadRequest: the body does not follow that layout.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise WitnessBadRequest("request body is not UTF-8") from None
    old_line, sep, rest = text.partition("\n")
    match = _OLD_LINE.fullmatch(old_line)
    if not sep or match is None:
        raise WitnessBadRequest("first line must be 'old <size>' in decimal, no leading zeros")
    old_size = int(match.group(1))
    if old_size > MAX_STORED_SIZE:
        raise WitnessBadRequest("old size beyond what this witness stores")
    proof: list[bytes] = []
    while True:
        line, sep, rest = rest.partition("\n")
        if not sep:
            raise WitnessBadRequest("no empty line between the proof and the checkpoint")
        if not line:
            break
        if len(proof) == MAX_PROOF_LINES:
            raise WitnessBadRequest(f"more than {MAX_PROOF_LINES} consistency proof lines")
        digest = b64decode_strict(line, "consistency proof line", WitnessBadRequest)
        if len(digest) != HASH_SIZE:
            raise WitnessBadRequest("consistency proof line is not a 32-byte hash")
        proof.append(digest)
    return AddCheckpointRequest(old_size, tuple(proof), rest)


@dataclass(frozen=True)
class WitnessConfig:
    """Everything a witness service needs: its key, the logs it follows, where it stores.

    ``logs`` maps each origin (the registry chain id) to the vkeys of the log keys trusted
    for it; they are parsed here, so a bad vkey fails at start-up, not on the first request.
    """

    key: CosignatureSigner
    logs: Mapping[str, Sequence[str]]
    db_path: Path
    verifiers: Mapping[str, tuple[NoteVerifier, ...]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        parsed: dict[str, tuple[NoteVerifier, ...]] = {}
        for origin, vkeys in self.logs.items():
            Checkpoint(origin, 0, EMPTY_ROOT)  # the origin must be a valid checkpoint line
            if isinstance(vkeys, str) or not vkeys:
                raise BadNoteError(f"log {origin!r} needs a list of one or more vkeys")
            parsed[origin] = tuple(NoteVerifier.from_vkey(v) for v in vkeys)
        object.__setattr__(self, "verifiers", parsed)

    def witness(self) -> Witness:
        return Witness(self.key, self.verifiers)


class Witness:
    """The decision core: which checkpoints to cosign, given the stored state per origin.

    Args:
        signer: the witness's own cosignature key (its name is the witness name).
        logs: origin → the log keys trusted for that origin.
    """

    def __init__(
        self, signer: CosignatureSigner, logs: Mapping[str, Sequence[NoteVerifier]]
    ) -> None:
        self.signer = signer
        self.logs = {origin: tuple(keys) for origin, keys in logs.items()}

    def open_checkpoint(self, request: AddCheckpointRequest) -> SignedCheckpoint:
        """Check the note is a checkpoint of a known log, signed by one of its keys.

        The origin is read from the unverified text only to choose the keys; nothing else
        from it is used before the signature is checked.

        Raises:
            WitnessBadRequest: the note or its checkpoint body is malformed.
            WitnessUnknownLog: the origin is not configured (404).
            WitnessForbidden: no trusted signature, or a trusted one that fails (403).
        """
        try:
            text, _ = parse_note(request.checkpoint_note)
            origin = Checkpoint.parse(text).origin
        except (BadNoteError, BadCheckpointError) as exc:
            raise WitnessBadRequest(f"checkpoint note: {exc.detail}") from None
        keys = self.logs.get(origin)
        if keys is None:
            raise WitnessUnknownLog(f"unknown log origin {origin!r}")
        try:
            text, verified = open_note_signatures(request.checkpoint_note, keys)
        except (UnknownKeyError, BadSignatureError) as exc:
            raise WitnessForbidden(exc.detail) from None
        checkpoint = Checkpoint.parse(text)
        if checkpoint.size > MAX_STORED_SIZE:
            raise WitnessBadRequest("checkpoint size beyond what this witness stores")
        sigs = tuple(sig for _, sig in verified)
        return SignedCheckpoint(checkpoint, sigs, request.checkpoint_note)

    def decide(
        self,
        request: AddCheckpointRequest,
        signed: SignedCheckpoint,
        stored: LogState | None,
        now: int,
    ) -> Accepted:
        """Cosign ``signed`` if it extends ``stored``, in the order the spec lists the checks.

        Args:
            request: the parsed request (old size and proof).
            signed: the result of :meth:`open_checkpoint` on that request.
            stored: what the witness holds for the origin (None: never cosigned).
            now: POSIX seconds for the cosignature; must be positive (the spec forbids 0).

        Raises:
            WitnessBadRequest: ``old`` is above the checkpoint size.
            WitnessConflict: ``old`` is not the stored size (carries the stored size).
            WitnessBadProof: the proof does not lead from the stored root to the new one,
                a proof came with ``old 0``, or an empty tree has another root.
            WitnessFork: same size as stored, another root.
        """
        if type(now) is not int or now <= 0:
            raise ValueError("cosignature time must be a positive integer")
        cp, old = signed.checkpoint, request.old_size
        stored_size = 0 if stored is None else stored.size
        evidence = self._evidence(signed, stored)
        if old > cp.size:
            raise WitnessBadRequest(f"old size {old} above checkpoint size {cp.size}",
                                    evidence=evidence)
        if old != stored_size:
            raise WitnessConflict(stored_size, evidence=evidence)
        if cp.size == 0 and cp.root_hash != EMPTY_ROOT:
            raise WitnessBadProof("a tree of size 0 must have the empty root")
        if stored is None or old == 0:
            if request.proof:
                raise WitnessBadProof("no consistency proof may come with old size 0")
        elif old == cp.size:
            if request.proof:
                raise WitnessBadProof("no consistency proof may come for equal sizes")
            if evidence is not None:
                raise WitnessFork(evidence.detail, evidence=evidence)
        else:
            try:
                verify_consistency(old, cp.size, stored.root_hash, cp.root_hash, request.proof)
            except ProofError as exc:
                proof_evidence = Evidence(
                    cp.origin, "bad_proof", stored.note, signed.note,
                    f"no valid proof from size {old} to {cp.size}: {exc.detail}",
                )
                raise WitnessBadProof(exc.detail, evidence=proof_evidence) from None
        line = cosign(cp, self.signer, now)
        log_lines = "".join(sig.line() for sig in signed.log_signatures)
        note = cp.body() + "\n" + log_lines + line
        return Accepted(cp.origin, LogState(cp.size, cp.root_hash, note), line)

    @staticmethod
    def _evidence(signed: SignedCheckpoint, stored: LogState | None) -> Evidence | None:
        """The evidence a log-signed checkpoint gives against the stored one, whatever ``old``."""
        cp = signed.checkpoint
        if stored is None:
            return None
        if cp.size < stored.size:
            return Evidence(cp.origin, "rollback", stored.note, signed.note,
                            f"size {cp.size} below the cosigned size {stored.size}")
        if cp.size == stored.size and cp.root_hash != stored.root_hash:
            return Evidence(cp.origin, "fork", stored.note, signed.note,
                            f"two roots for size {cp.size}")
        return None
