"""Strict base64url without padding (RFC 7515 §2, RFC 4648 §5).

Only the canonical encoding of a byte string is accepted: no ``=``, no ``+`` or ``/``, no
whitespace, and no non-zero trailing bits. Otherwise two strings decode to the same bytes,
and a disclosure re-encoded by an attacker would hash differently from the one the issuer
signed while still "decoding fine".
"""

from __future__ import annotations

import binascii

from ssiwallet.errors import InputError

_ALPHABET_BYTES = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_PADDING = {0: b"", 2: b"==", 3: b"="}
_TO_STANDARD = bytes.maketrans(b"-_", b"+/")
_TO_URL = bytes.maketrans(b"+/", b"-_")
_B64U = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
# A final character carries 4 (length % 4 == 2) or 2 (== 3) padding bits, which must be 0.
_CANONICAL_LAST = {2: frozenset(_B64U[::16]), 3: frozenset(_B64U[::4])}


def b64u_encode(data: bytes) -> str:
    return binascii.b2a_base64(data, newline=False).rstrip(b"=").translate(_TO_URL).decode()


def b64u_decode(text: str, *, what: str = "value") -> bytes:
    """Decode canonical unpadded base64url or raise ``b64.*``."""
    if not isinstance(text, str):
        raise InputError(f"{what} must be a base64url string", code="b64.invalid")
    try:
        raw = text.encode("ascii")
    except UnicodeEncodeError:
        raw = b"\x80"  # any byte outside the alphabet
    if raw.translate(None, _ALPHABET_BYTES):
        raise InputError(f"{what} has characters outside base64url", code="b64.alphabet")
    tail = len(raw) % 4
    if tail == 1:
        raise InputError(f"{what} has an impossible length", code="b64.length")
    if tail and text[-1] not in _CANONICAL_LAST[tail]:
        raise InputError(f"{what} is not canonical base64url", code="b64.non_canonical")
    try:
        return binascii.a2b_base64(raw.translate(_TO_STANDARD) + _PADDING[tail])
    except (binascii.Error, ValueError):
        raise InputError(f"{what} is not base64url", code="b64.invalid") from None
