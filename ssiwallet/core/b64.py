"""Strict base64url without padding (RFC 7515 §2, RFC 4648 §5).

Only the canonical encoding of a byte string is accepted: no ``=``, no ``+`` or ``/``, no
whitespace, and no non-zero trailing bits. Otherwise two strings decode to the same bytes,
and a disclosure re-encoded by an attacker would hash differently from the one the issuer
signed while still "decoding fine".
"""

from __future__ import annotations

import base64
import binascii
import re

from ssiwallet.errors import InputError

_ALPHABET = re.compile(r"[A-Za-z0-9_-]*")


def b64u_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64u_decode(text: str, *, what: str = "value") -> bytes:
    """Decode canonical unpadded base64url or raise ``b64.*``."""
    if not isinstance(text, str):
        raise InputError(f"{what} must be a base64url string", code="b64.invalid")
    if not _ALPHABET.fullmatch(text):
        raise InputError(f"{what} has characters outside base64url", code="b64.alphabet")
    if len(text) % 4 == 1:
        raise InputError(f"{what} has an impossible length", code="b64.length")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise InputError(f"{what} is not base64url", code="b64.invalid") from None
    if b64u_encode(data) != text:
        raise InputError(f"{what} is not canonical base64url", code="b64.non_canonical")
    return data
