"""I-JSON (RFC 7493) parsing for everything that arrives from outside.

Python's ``json`` module accepts duplicate member names (last one wins), ``NaN``,
``Infinity``, lone surrogates in strings and unbounded nesting. Each of these has been used
to make two parsers disagree about one token, so every external JSON goes through
:func:`loads`, which refuses them with a stable code.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from ssiwallet.errors import InputError

MAX_BYTES = 1 << 20  # 1 MiB: far above any credential, request or transaction we handle
MAX_DEPTH = 64
# Integers beyond I-JSON's safe range are still exact in Python, but digit strings this long
# are a denial-of-service vector (quadratic int parsing) and never meaningful here.
MAX_NUMBER_CHARS = 40


_ESCAPED_SURROGATE = re.compile(r"\\u[dD][89abcdefABCDEF]")


def _maybe_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)  # built in C; a repeated name shows as a shorter dict
    if len(obj) != len(pairs):
        seen: set[str] = set()
        dup = next(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        raise InputError(f"duplicate member name {dup!r}", code="json.duplicate_key")
    return obj


def _constant(name: str) -> Any:
    raise InputError(f"{name} is not JSON", code="json.non_finite")


def _parse_int(text: str) -> int:
    if len(text) > MAX_NUMBER_CHARS:
        raise InputError("number too long", code="json.number_too_long")
    return int(text)


def _parse_float(text: str) -> float:
    if len(text) > MAX_NUMBER_CHARS:
        raise InputError("number too long", code="json.number_too_long")
    value = float(text)
    if not math.isfinite(value):
        raise InputError(f"number {text!r} overflows", code="json.non_finite")
    return value


def _check_depth_and_strings(text: str) -> None:
    """Reject over-deep nesting before the recursive parser sees it, and lone surrogates."""
    depth = 0
    in_string = False
    escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
            elif "\ud800" <= ch <= "\udfff":
                raise InputError("lone surrogate in string", code="json.lone_surrogate")
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                raise InputError(f"nesting deeper than {MAX_DEPTH}", code="json.too_deep")
        elif ch in "]}":
            depth -= 1


def _check_surrogates(value: Any) -> None:
    """Escaped surrogates (``"\\ud800"``) only appear after decoding: check decoded strings."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise InputError("lone surrogate in string", code="json.lone_surrogate") from None
        elif isinstance(item, dict):
            for k, v in item.items():
                stack.append(k)
                stack.append(v)
        elif isinstance(item, list):
            stack.extend(item)


_DECODER = json.JSONDecoder(object_pairs_hook=_pairs, parse_constant=_constant,
                            parse_int=_parse_int, parse_float=_parse_float)


def loads(data: str | bytes, *, max_bytes: int = MAX_BYTES) -> Any:
    """Parse ``data`` as I-JSON or raise :class:`InputError` with a ``json.*`` code."""
    if type(data) is bytes or isinstance(data, bytes | bytearray):
        if len(data) > max_bytes:
            raise InputError(f"JSON larger than {max_bytes} bytes", code="json.too_large")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise InputError("JSON is not UTF-8", code="json.not_utf8") from None
        literal_surrogates = False  # strict UTF-8 decoding never yields a lone surrogate
    elif isinstance(data, str):
        text = data
        if len(text) > max_bytes:
            raise InputError(f"JSON larger than {max_bytes} bytes", code="json.too_large")
        literal_surrogates = _maybe_surrogate(text)
    else:
        raise InputError("JSON input must be text or bytes", code="json.invalid")
    # The scans are pure Python; skip them when the text cannot possibly trip them.
    if literal_surrogates or text.count("{") + text.count("[") > MAX_DEPTH:
        _check_depth_and_strings(text)
    try:
        value = _DECODER.decode(text)
    except InputError:
        raise
    except (ValueError, RecursionError) as exc:
        raise InputError(f"malformed JSON: {exc}", code="json.malformed") from None
    if "\\u" in text and _ESCAPED_SURROGATE.search(text):
        _check_surrogates(value)
    return value


def loads_object(data: str | bytes, *, what: str = "JSON", max_bytes: int = MAX_BYTES
                 ) -> dict[str, Any]:
    """Parse ``data`` and require a JSON object at the top."""
    value = loads(data, max_bytes=max_bytes)
    if not isinstance(value, dict):
        raise InputError(f"{what} must be a JSON object", code="json.not_object")
    return value


_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def dumps(value: Any) -> str:
    """Compact JSON for tokens we produce (no spaces; non-ASCII kept as UTF-8)."""
    return _ENCODER.encode(value)
