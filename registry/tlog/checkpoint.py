"""Checkpoints (C2SP ``tlog-checkpoint``) and witness cosignatures (``tlog-cosignature``).

A checkpoint is the note text ``<origin>\\n<size>\\n<base64 root>\\n[extension lines]``
that the Keten node signs after each block. Witnesses add ``cosignature/v1`` lines: an
Ed25519 signature over ``cosignature/v1\\ntime <t>\\n<checkpoint>`` whose note-line bytes
are the 8-byte big-endian timestamp followed by the signature. A client that requires the
log's signature plus k witness cosignatures, recent enough, knows that k independent parties
saw this same tree head, so the log cannot show it a private fork (a split view).

Pure: the current time is a parameter of :func:`verify_checkpoint`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from registry.errors import RegistryError
from registry.tlog.note import (
    SIG_TYPE_COSIGNATURE_V1,
    BadNoteError,
    NamedPrivateKey,
    NamedPublicKey,
    NoteSignature,
    UnknownKeyError,
    Verifier,
    b64decode_strict,
    b64encode,
    check_note_text,
    open_note_signatures,
    parse_note,
)

MAX_TREE_SIZE = (1 << 64) - 1
MAX_TIMESTAMP = (1 << 63) - 1
_DECIMAL = re.compile(r"0|[1-9][0-9]*")
_COSIGNATURE_HEADER = b"cosignature/v1\n"


class BadCheckpointError(RegistryError):
    code = "registry.bad_checkpoint"


class WitnessQuorumError(RegistryError):
    """Fewer distinct trusted witnesses cosigned than the policy requires."""

    code = "registry.witness_quorum"


class CheckpointStaleError(RegistryError):
    """No cosignature is recent enough: the log may be hiding newer tree heads."""

    code = "registry.checkpoint_stale"


def _bad(detail: str) -> BadCheckpointError:
    return BadCheckpointError(detail)


@dataclass(frozen=True)
class Checkpoint:
    """A tree head: origin (the chain id), tree size and RFC 6962 root hash.

    Constructing one validates it, so a ``Checkpoint`` always formats to a body that
    :meth:`parse` reads back to the same value.
    """

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for line in (self.origin, *self.extensions):
            if not isinstance(line, str) or not line:
                raise _bad("origin and extension lines must be non-empty strings")
            if any(c < " " for c in line):
                raise _bad("checkpoint line contains a newline or control character")
        if type(self.size) is not int or not 0 <= self.size <= MAX_TREE_SIZE:
            raise _bad("tree size must be an integer in [0, 2^64)")
        if not isinstance(self.root_hash, bytes) or len(self.root_hash) != 32:
            raise _bad("root hash must be 32 bytes")

    def body(self) -> str:
        """The note text to sign (ends with a newline)."""
        lines = [self.origin, str(self.size), b64encode(self.root_hash), *self.extensions]
        return "".join(line + "\n" for line in lines)

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        """Parse a checkpoint body strictly: one spelling per tree head."""
        try:
            check_note_text(text)
        except BadNoteError as exc:
            raise _bad(f"checkpoint body: {exc.detail}") from None
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise _bad("checkpoint needs origin, size and root hash lines")
        origin, size, root, *extensions = lines
        if not _DECIMAL.fullmatch(size):
            raise _bad("tree size must be decimal without sign or leading zeros")
        root_hash = b64decode_strict(root, "root hash", BadCheckpointError)
        return cls(origin, int(size), root_hash, tuple(extensions))


def _as_body(checkpoint: Checkpoint | str) -> str:
    if isinstance(checkpoint, Checkpoint):
        return checkpoint.body()
    return Checkpoint.parse(checkpoint).body()


def _check_timestamp(timestamp: int) -> int:
    if type(timestamp) is not int or not 0 <= timestamp <= MAX_TIMESTAMP:
        raise BadNoteError("cosignature timestamp must be an integer in [0, 2^63)")
    return timestamp


def cosigned_message(checkpoint_body: str, timestamp: int) -> bytes:
    """The bytes a cosignature/v1 signs: header, time line, then the whole checkpoint."""
    time_line = f"time {_check_timestamp(timestamp)}\n".encode()
    return _COSIGNATURE_HEADER + time_line + checkpoint_body.encode("utf-8")


@dataclass(frozen=True)
class CosignatureSigner(NamedPrivateKey):
    """A witness's Ed25519 cosigning key (signature type 0x04) under its name."""

    sig_type: ClassVar[int] = SIG_TYPE_COSIGNATURE_V1

    @property
    def verifier(self) -> CosignatureVerifier:
        return CosignatureVerifier(self.name, self.private_key.public_key)


@dataclass(frozen=True)
class CosignatureVerifier(NamedPublicKey):
    """A trusted witness key (signature type 0x04); also a note :class:`Verifier`."""

    sig_type: ClassVar[int] = SIG_TYPE_COSIGNATURE_V1

    def verify(self, text: bytes, signature: bytes) -> bool:
        """Verify ``timestamp ‖ signature`` over ``text`` (the checkpoint body)."""
        if len(signature) != 72:
            return False
        timestamp = int.from_bytes(signature[:8], "big")
        if timestamp > MAX_TIMESTAMP:
            return False
        time_line = f"time {timestamp}\n".encode()
        return self.public_key.verify(_COSIGNATURE_HEADER + time_line + text, signature[8:])

    def verify_line(self, checkpoint: Checkpoint | str, line: str) -> int:
        """Verify one cosignature line over a checkpoint and return its timestamp.

        Raises:
            UnknownKeyError: the line is not from this witness key.
            BadSignatureError: it is, but the signature does not verify.
        """
        body = _as_body(checkpoint)
        note = body + "\n" + (line if line.endswith("\n") else line + "\n")
        _, signatures = parse_note(note)
        if len(signatures) != 1 or (signatures[0].name, signatures[0].key_id) != (
            self.name, self.key_id
        ):
            raise UnknownKeyError(f"line is not one cosignature by {self.name!r}")
        open_note_signatures(note, [self])
        return cosignature_timestamp(signatures[0])


def cosignature_timestamp(signature: NoteSignature) -> int:
    """The timestamp inside a cosignature/v1 signature (only meaningful once verified)."""
    if len(signature.signature) != 72:
        raise BadNoteError("cosignature/v1 signature must be 8 + 64 bytes")
    return int.from_bytes(signature.signature[:8], "big")


def cosign(checkpoint: Checkpoint | str, signer: CosignatureSigner, timestamp: int) -> str:
    """Cosign a checkpoint at ``timestamp``; return the signature line (with newline).

    The body is parsed first: a witness must never put its name on text that is not a
    checkpoint, whatever else it was asked to sign.
    """
    body = _as_body(checkpoint)
    signed = signer.private_key.sign(cosigned_message(body, timestamp))
    blob = timestamp.to_bytes(8, "big") + signed
    return NoteSignature(signer.name, signer.key_id, blob).line()


def verify_checkpoint(
    note: str | bytes,
    log_verifier: Verifier,
    witness_verifiers: Sequence[CosignatureVerifier],
    quorum: int,
    now: int | None = None,
    max_age: int | None = None,
    *,
    origin: str | None = None,
) -> tuple[Checkpoint, dict[str, int]]:
    """Verify a cosigned checkpoint against a client's trust policy.

    Requires the log's own signature, ``quorum`` distinct witnesses (by name) with valid
    cosignatures and, when ``now`` and ``max_age`` are given, at least ``max(quorum, 1)``
    witnesses whose newest cosignature is no older than ``max_age`` seconds. Returns the
    checkpoint and each witness's newest timestamp.

    Raises:
        BadNoteError, BadSignatureError, UnknownKeyError: see ``open_note_signatures``;
            ``UnknownKeyError`` also when the log did not sign.
        BadCheckpointError: the text is not a checkpoint (or not for ``origin``).
        WitnessQuorumError: too few witnesses cosigned.
        CheckpointStaleError: every cosignature is older than ``max_age``.
        ValueError: the policy itself is inconsistent (a programming error).
    """
    witness_names = {w.name for w in witness_verifiers}
    if not 0 <= quorum <= len(witness_names):
        raise ValueError(f"quorum {quorum} cannot be met by {len(witness_names)} witnesses")
    if (now is None) != (max_age is None):
        raise ValueError("give both now and max_age, or neither")
    text, verified = open_note_signatures(note, [log_verifier, *witness_verifiers])
    if not any(v is log_verifier for v, _ in verified):
        raise UnknownKeyError(f"checkpoint is not signed by the log key {log_verifier.name!r}")
    checkpoint = Checkpoint.parse(text)
    if origin is not None and checkpoint.origin != origin:
        raise _bad(f"checkpoint origin {checkpoint.origin!r} is not {origin!r}")
    cosigned: dict[str, int] = {}
    for verifier, sig in verified:
        if verifier is log_verifier or not isinstance(verifier, CosignatureVerifier):
            continue
        timestamp = cosignature_timestamp(sig)
        cosigned[sig.name] = max(timestamp, cosigned.get(sig.name, timestamp))
    if len(cosigned) < quorum:
        raise WitnessQuorumError(f"{len(cosigned)} witness cosignatures, {quorum} required")
    if now is not None and max_age is not None:
        # The quorum-th newest cosignature must be fresh: one witness with a fast clock
        # cannot on its own make a withheld (stale) tree head look current.
        newest = sorted(cosigned.values(), reverse=True)
        if not newest or newest[max(quorum, 1) - 1] < now - max_age:
            raise CheckpointStaleError(
                f"fewer than {max(quorum, 1)} cosignatures newer than {max_age}s"
            )
    return checkpoint, cosigned
