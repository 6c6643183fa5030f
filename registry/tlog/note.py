"""Signed notes (C2SP ``signed-note``): the envelope of every Keten checkpoint.

A note is a UTF-8 text ending in a newline, a blank line, and one or more lines
``— <key name> <base64(key ID ‖ signature)>``. The text is only meaningful once a signature
from a *trusted* key has been verified, so :func:`open_note` is the only way to get it back
out of a note: it ignores signatures from unknown keys (witnesses a client does not know,
rotated log keys), refuses a note whose known signatures do not all verify, and refuses a
note with no verified signature at all.

Parsing is strict (canonical base64, fixed-size lowercase hex key IDs, no control
characters, bounded size): a note that two parsers could read differently, or that makes a
verifier do unbounded work, is refused before any signature is checked.

Pure: no I/O, no clock. Keys are passed in as :class:`NoteSigner` / verifier objects.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import ClassVar, Protocol, Self

from registry.errors import RegistryError
from ssiwallet.core.keys import Ed25519PrivateKey, Ed25519PublicKey

MAX_NOTE_SIZE = 1 << 20
"""Largest note (UTF-8 bytes) we parse; the spec asks verifiers to bound the work per note."""
MAX_SIGNATURES = 100
"""Most signature lines per note; the spec requires accepting at least 16."""

SIG_TYPE_ED25519 = 0x01
SIG_TYPE_COSIGNATURE_V1 = 0x04

_EM_DASH_PREFIX = "\u2014 "
_HEX_KEY_ID = re.compile(r"[0-9a-f]{8}")


class BadNoteError(RegistryError):
    """The note, key name or vkey is malformed (not a question of signatures)."""

    code = "registry.bad_note"


class BadSignatureError(RegistryError):
    """A signature from a key we know failed to verify: the whole note is refused."""

    code = "registry.bad_signature"


class UnknownKeyError(RegistryError):
    """No signature on the note is from a key we trust (or the one we require is missing)."""

    code = "registry.unknown_key"


class Signer(Protocol):
    """Anything that can add one signature line to a note."""

    @property
    def name(self) -> str: ...

    @property
    def key_id(self) -> int: ...

    def sign(self, text: bytes) -> bytes: ...


class Verifier(Protocol):
    """Anything that verifies signature lines carrying its (name, key ID)."""

    @property
    def name(self) -> str: ...

    @property
    def key_id(self) -> int: ...

    def verify(self, text: bytes, signature: bytes) -> bool: ...


def check_key_name(name: str) -> str:
    """Refuse names a note line or vkey could not carry unambiguously (spaces, ``+``)."""
    if not isinstance(name, str) or not name:
        raise BadNoteError("key name must be a non-empty string")
    if "+" in name or any(c.isspace() for c in name) or _has_control(name):
        raise BadNoteError(f"key name {name!r} contains a space, '+' or control character")
    return name


def key_id_for(name: str, sig_type: int, public_key: bytes) -> int:
    """The recommended key ID: SHA-256(name ‖ 0x0A ‖ type ‖ public key)[:4], big-endian.

    Binding name and type into the ID lets one key serve several roles without one role's
    signature being read as another's.
    """
    digest = hashlib.sha256(name.encode() + b"\n" + bytes([sig_type]) + public_key).digest()
    return int.from_bytes(digest[:4], "big")


def b64decode_strict(text: str, what: str, error: type[RegistryError] = BadNoteError) -> bytes:
    """Decode canonical padded standard base64 (RFC 4648 §4) or raise ``error``.

    Non-canonical forms (non-zero padding bits, missing padding) are refused so that one
    note has exactly one spelling.
    """
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except ValueError:  # binascii.Error and UnicodeEncodeError are both ValueErrors
        raise error(f"{what} is not valid base64") from None
    if base64.b64encode(raw).decode("ascii") != text:
        raise error(f"{what} is not canonical base64")
    return raw


def b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _has_control(text: str) -> bool:
    return any(c < " " and c != "\n" for c in text)


def check_note_text(text: str) -> str:
    """Refuse a note text the spec forbids: no final newline, control characters, too big."""
    if not isinstance(text, str) or not text.endswith("\n"):
        raise BadNoteError("note text must be a string ending in a newline")
    if _has_control(text):
        raise BadNoteError("note text contains a control character other than newline")
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError:
        raise BadNoteError("note text is not valid UTF-8 (lone surrogate)") from None
    if size > MAX_NOTE_SIZE:
        raise BadNoteError(f"note text exceeds {MAX_NOTE_SIZE} bytes")
    return text


@dataclass(frozen=True)
class NamedPrivateKey:
    """An Ed25519 private key under a note key name, for one signature type."""

    sig_type: ClassVar[int] = SIG_TYPE_ED25519
    name: str
    private_key: Ed25519PrivateKey

    def __post_init__(self) -> None:
        check_key_name(self.name)

    @property
    def key_id(self) -> int:
        return key_id_for(self.name, self.sig_type, self.private_key.public_key.raw)


@dataclass(frozen=True)
class NamedPublicKey:
    """An Ed25519 public key under a note key name, for one signature type."""

    sig_type: ClassVar[int] = SIG_TYPE_ED25519
    name: str
    public_key: Ed25519PublicKey

    def __post_init__(self) -> None:
        check_key_name(self.name)

    @property
    def key_id(self) -> int:
        return key_id_for(self.name, self.sig_type, self.public_key.raw)

    @classmethod
    def from_vkey(cls, vkey: str) -> Self:
        """Parse ``<name>+<hex key ID>+<base64(type ‖ public key)>`` of this type."""
        name, raw = parse_vkey(vkey, cls.sig_type)
        return cls(name, Ed25519PublicKey(raw))

    def vkey(self) -> str:
        return format_vkey(self.name, self.sig_type, self.public_key.raw)


@dataclass(frozen=True)
class NoteSigner(NamedPrivateKey):
    """An Ed25519 note signer (signature type 0x01) under a key name."""

    @property
    def verifier(self) -> NoteVerifier:
        return NoteVerifier(self.name, self.private_key.public_key)

    def sign(self, text: bytes) -> bytes:
        return self.private_key.sign(text)


@dataclass(frozen=True)
class NoteVerifier(NamedPublicKey):
    """An Ed25519 note verifier (signature type 0x01), usually read from a vkey."""

    def verify(self, text: bytes, signature: bytes) -> bool:
        return self.public_key.verify(text, signature)


def format_vkey(name: str, sig_type: int, public_key: bytes) -> str:
    key_id = key_id_for(name, sig_type, public_key)
    return f"{name}+{key_id:08x}+{b64encode(bytes([sig_type]) + public_key)}"


def parse_vkey(vkey: str, sig_type: int) -> tuple[str, bytes]:
    """Parse a 32-byte-key vkey of ``sig_type``; return (name, public key).

    The key ID in the vkey must be the one computed from name, type and key: an ID that
    does not match would make the verifier silently ignore every signature of its key.
    """
    if not isinstance(vkey, str):
        raise BadNoteError("vkey must be a string")
    parts = vkey.split("+", 2)  # the base64 part may itself contain '+'
    if len(parts) != 3:
        raise BadNoteError("vkey must be <name>+<key id>+<key>")
    name, hex_id, key_b64 = parts
    check_key_name(name)
    if not _HEX_KEY_ID.fullmatch(hex_id):
        raise BadNoteError("vkey key ID must be 8 lowercase hex digits")
    material = b64decode_strict(key_b64, "vkey key")
    if len(material) != 33 or material[0] != sig_type:
        raise BadNoteError(f"vkey is not a signature type 0x{sig_type:02x} Ed25519 key")
    public_key = material[1:]
    if int(hex_id, 16) != key_id_for(name, sig_type, public_key):
        raise BadNoteError("vkey key ID does not match its name and key")
    return name, public_key


@dataclass(frozen=True)
class NoteSignature:
    """One parsed signature line (key ID split off the signature bytes)."""

    name: str
    key_id: int
    signature: bytes

    def line(self) -> str:
        blob = self.key_id.to_bytes(4, "big") + self.signature
        return f"{_EM_DASH_PREFIX}{self.name} {b64encode(blob)}\n"


def signature_line(signer: Signer, text: str) -> str:
    """Sign ``text`` with ``signer`` and return the ``— name base64`` line (with newline)."""
    check_note_text(text)
    return NoteSignature(signer.name, signer.key_id, signer.sign(text.encode())).line()


def sign_note(text: str, signers: Sequence[Signer]) -> str:
    """Sign ``text`` with every signer and return the note."""
    check_note_text(text)
    if not signers or len(signers) > MAX_SIGNATURES:
        raise BadNoteError(f"a note needs 1 to {MAX_SIGNATURES} signers")
    if len({(s.name, s.key_id) for s in signers}) != len(signers):
        raise BadNoteError("two signers share a key name and key ID")
    note = text + "\n" + "".join(signature_line(s, text) for s in signers)
    if len(note.encode("utf-8")) > MAX_NOTE_SIZE:  # never emit a note we would refuse to open
        raise BadNoteError(f"signed note would exceed {MAX_NOTE_SIZE} bytes")
    return note


def parse_note(note: str | bytes) -> tuple[str, list[NoteSignature]]:
    """Split a note into its text and signature lines **without verifying anything**.

    Useful to inspect or extend a note; never trust the text this returns.
    """
    if isinstance(note, bytes):
        if len(note) > MAX_NOTE_SIZE:
            raise BadNoteError(f"note exceeds {MAX_NOTE_SIZE} bytes")
        try:
            note = note.decode("utf-8")
        except UnicodeDecodeError:
            raise BadNoteError("note is not valid UTF-8") from None
    if not isinstance(note, str):
        raise BadNoteError("note must be text")
    if _has_control(note):
        raise BadNoteError("note contains a control character other than newline")
    try:
        size = len(note.encode("utf-8"))
    except UnicodeEncodeError:
        raise BadNoteError("note is not valid UTF-8 (lone surrogate)") from None
    if size > MAX_NOTE_SIZE:
        raise BadNoteError(f"note exceeds {MAX_NOTE_SIZE} bytes")
    split = note.rfind("\n\n")
    if split < 0:
        raise BadNoteError("note has no blank line before its signatures")
    text, block = note[: split + 1], note[split + 2 :]
    if not block.endswith("\n"):
        raise BadNoteError("note does not end with a signature line and newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise BadNoteError(f"note has more than {MAX_SIGNATURES} signatures")
    signatures = [_parse_signature_line(line) for line in lines]
    if len({(s.name, s.key_id) for s in signatures}) != len(signatures):
        raise BadNoteError("note has two signatures with the same key name and key ID")
    return text, signatures


def _parse_signature_line(line: str) -> NoteSignature:
    if not line.startswith(_EM_DASH_PREFIX):
        raise BadNoteError("signature line does not start with an em dash and a space")
    fields = line[len(_EM_DASH_PREFIX) :].split(" ")
    if len(fields) != 2:
        raise BadNoteError("signature line must be '— <key name> <signature>'")
    name, blob_b64 = fields
    check_key_name(name)
    blob = b64decode_strict(blob_b64, "signature")
    if len(blob) < 5:
        raise BadNoteError("signature is shorter than a key ID and one byte")
    return NoteSignature(name, int.from_bytes(blob[:4], "big"), blob[4:])


def _index(verifiers: Iterable[Verifier]) -> dict[tuple[str, int], Verifier]:
    index: dict[tuple[str, int], Verifier] = {}
    for verifier in verifiers:
        key = (verifier.name, verifier.key_id)
        if key in index and index[key] != verifier:
            raise ValueError(f"two different verifiers for key {key[0]!r}/{key[1]:08x}")
        index[key] = verifier
    return index


def open_note_signatures(
    note: str | bytes, verifiers: Iterable[Verifier]
) -> tuple[str, list[tuple[Verifier, NoteSignature]]]:
    """Verify a note; return its text and each verified (verifier, signature) pair.

    Signatures whose (name, key ID) match no verifier are ignored, as the spec demands; a
    known signature that fails refuses the whole note (the spec's SHOULD: a bad signature
    from a key we trust means tampering or a broken signer, never something to skip).

    Raises:
        BadNoteError: the note is malformed.
        BadSignatureError: a signature from a known key does not verify.
        UnknownKeyError: no signature is from a known key.
    """
    text, signatures = parse_note(note)
    index = _index(verifiers)
    message = text.encode("utf-8")
    verified: list[tuple[Verifier, NoteSignature]] = []
    for sig in signatures:
        verifier = index.get((sig.name, sig.key_id))
        if verifier is None:
            continue
        if not verifier.verify(message, sig.signature):
            raise BadSignatureError(f"signature by {sig.name!r} ({sig.key_id:08x}) is invalid")
        verified.append((verifier, sig))
    if not verified:
        raise UnknownKeyError("note has no signature from a known key")
    return text, verified


def open_note(note: str | bytes, verifiers: Iterable[Verifier]) -> tuple[str, list[str]]:
    """Verify a note and return its text and the names of the keys that signed it.

    See :func:`open_note_signatures` for the rules and errors.
    """
    text, verified = open_note_signatures(note, verifiers)
    return text, [sig.name for _, sig in verified]
