"""The sealed file format used by the wallet and its backups.

A file is a fixed header followed by one ``SecretBox`` (XSalsa20-Poly1305)::

    magic(8) version(u16) opslimit(u32) memlimit(u64) salt(16) generation(u64)
    wrapped data key: nonce(24) + box(32 + 16)
    body: nonce(24) + box(sha256(header) + payload)

The passphrase gives a key through Argon2id (``nacl.pwhash``) with the stored parameters,
which are checked against a floor and a ceiling *before* any derivation, so a file cannot
make the wallet spend 64 GiB. That key unwraps a random data key; the data key seals the
payload. The body starts with the hash of the header, so every byte of the file is
authenticated: a flipped bit anywhere gives :class:`~ssiwallet.errors.UnlockError`, the same
error a wrong passphrase gives. Every seal draws a fresh random nonce.

Files are replaced atomically (write a sibling, fsync, rename, fsync the directory): after a
crash at any point the path holds the complete old or the complete new file.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass, field

import nacl.exceptions
import nacl.pwhash
import nacl.secret
import nacl.utils

from ssiwallet.errors import KdfParamsError, UnlockError, WalletFormatError

__all__ = ["BACKUP_MAGIC", "WALLET_MAGIC", "Header", "KdfParams", "Keys", "open_sealed",
           "read_header", "seal"]

WALLET_MAGIC = b"KETENWL\x00"
BACKUP_MAGIC = b"KETENBK\x00"
VERSION = 1
_FIXED = struct.Struct(">8sHIQ16sQ")
_WRAPPED = nacl.secret.SecretBox.NONCE_SIZE + nacl.secret.SecretBox.KEY_SIZE + \
    nacl.secret.SecretBox.MACBYTES
HEADER_SIZE = _FIXED.size + _WRAPPED
_DIGEST = 32


@dataclass(frozen=True)
class KdfParams:
    """Argon2id cost parameters, bounded both ways.

    The floor keeps a stolen file expensive to guess at; the ceiling keeps a hostile file
    from exhausting the machine. ``DEFAULT`` takes about half a second on a laptop core.
    """

    opslimit: int
    memlimit: int

    FLOOR_OPS = nacl.pwhash.argon2id.OPSLIMIT_INTERACTIVE  # 2
    FLOOR_MEM = nacl.pwhash.argon2id.MEMLIMIT_INTERACTIVE  # 64 MiB
    CEIL_OPS = 10
    CEIL_MEM = 1 << 30  # 1 GiB

    def check(self) -> KdfParams:
        """Refuse parameters outside the bounds (before anything is derived)."""
        if not (self.FLOOR_OPS <= self.opslimit <= self.CEIL_OPS
                and self.FLOOR_MEM <= self.memlimit <= self.CEIL_MEM):
            raise KdfParamsError(
                f"key-derivation parameters out of bounds (opslimit {self.opslimit}, "
                f"memlimit {self.memlimit} bytes); allowed {self.FLOOR_OPS}-{self.CEIL_OPS} "
                f"and {self.FLOOR_MEM >> 20}-{self.CEIL_MEM >> 20} MiB")
        return self

    def derive(self, passphrase: str, salt: bytes) -> bytes:
        self.check()
        return bytes(nacl.pwhash.argon2id.kdf(
            nacl.secret.SecretBox.KEY_SIZE, passphrase.encode("utf-8"), salt,
            opslimit=self.opslimit, memlimit=self.memlimit))


DEFAULT_KDF = KdfParams(nacl.pwhash.argon2id.OPSLIMIT_MODERATE,
                        nacl.pwhash.argon2id.MEMLIMIT_MODERATE)
FAST_KDF = KdfParams(KdfParams.FLOOR_OPS, KdfParams.FLOOR_MEM)
"""The floor: for tests and for the demo's throwaway wallets."""


@dataclass(frozen=True)
class Header:
    """The clear part of a sealed file (authenticated by the body)."""

    magic: bytes
    version: int
    kdf: KdfParams
    salt: bytes
    generation: int
    wrapped: bytes

    def pack(self) -> bytes:
        return _FIXED.pack(self.magic, self.version, self.kdf.opslimit, self.kdf.memlimit,
                           self.salt, self.generation) + self.wrapped


@dataclass(frozen=True)
class Keys:
    """What an unlocked file needs to be sealed again: parameters, salt, wrapped and data key."""

    kdf: KdfParams
    salt: bytes
    wrapped: bytes
    data_key: bytes = field(repr=False)

    @classmethod
    def new(cls, passphrase: str, kdf: KdfParams) -> Keys:
        """A fresh data key wrapped under a key from ``passphrase`` and a fresh salt."""
        salt = nacl.utils.random(nacl.pwhash.argon2id.SALTBYTES)
        data_key = nacl.utils.random(nacl.secret.SecretBox.KEY_SIZE)
        wrapped = bytes(nacl.secret.SecretBox(kdf.derive(passphrase, salt)).encrypt(data_key))
        return cls(kdf, salt, wrapped, data_key)


def read_header(blob: bytes, magic: bytes) -> Header:
    """Parse the clear header; refuse unknown versions and out-of-bounds parameters."""
    if len(blob) < HEADER_SIZE + nacl.secret.SecretBox.NONCE_SIZE + \
            nacl.secret.SecretBox.MACBYTES + _DIGEST:
        raise UnlockError()
    found, version, ops, mem, salt, generation = _FIXED.unpack_from(blob)
    if found != magic:
        raise UnlockError()
    if version != VERSION:
        raise WalletFormatError(f"file format version {version} is not supported "
                                f"(this Keten reads version {VERSION})")
    kdf = KdfParams(ops, mem).check()
    return Header(found, version, kdf, salt, generation, blob[_FIXED.size:HEADER_SIZE])


def seal(magic: bytes, keys: Keys, generation: int, payload: bytes) -> bytes:
    """The sealed file for ``payload`` (a fresh nonce every time)."""
    header = Header(magic, VERSION, keys.kdf, keys.salt, generation, keys.wrapped).pack()
    box = nacl.secret.SecretBox(keys.data_key)
    return header + bytes(box.encrypt(hashlib.sha256(header).digest() + payload))


def open_sealed(blob: bytes, magic: bytes, passphrase: str | None = None,
                keys: Keys | None = None) -> tuple[Header, Keys, bytes]:
    """Open a sealed file with the passphrase (or with keys already unlocked).

    Raises:
        UnlockError: wrong passphrase or any damage, one message for both;
            ``KdfParamsError`` / ``WalletFormatError`` before any derivation.
    """
    header = read_header(blob, magic)
    try:
        if keys is None or keys.salt != header.salt or keys.wrapped != header.wrapped or \
                keys.kdf != header.kdf:
            if passphrase is None:
                raise UnlockError()
            pass_key = header.kdf.derive(passphrase, header.salt)
            data_key = nacl.secret.SecretBox(pass_key).decrypt(header.wrapped)
            keys = Keys(header.kdf, header.salt, header.wrapped, bytes(data_key))
        plain = nacl.secret.SecretBox(keys.data_key).decrypt(blob[HEADER_SIZE:])
    except nacl.exceptions.CryptoError:
        raise UnlockError() from None
    if plain[:_DIGEST] != hashlib.sha256(blob[:HEADER_SIZE]).digest():
        raise UnlockError()
    return header, keys, plain[_DIGEST:]
