"""Structure-aware mutations of a seed: inside JSON, inside the base64url segments of a
compact JWS or SD-JWT, inside URL query values, by lines of a note, or plain bytes."""

from __future__ import annotations

import base64
import json
import random
from typing import Any
from urllib.parse import parse_qsl, urlencode

INTERESTING: list[Any] = [
    None, True, False, 0, -1, 1, 2**31, 2**63, -(2**64), 10**400, 1.5, 1e308, "", "a",
    "x" * 5000, "\u0000", "\ud800", "é", "[::1]", "http://[::1", "https://[", "http://a:99999",
    "https://user@host/", "did:keten:", "urn:", "~", ".", "%zz", [], {}, [[[[[]]]]],
    {"": None}, ["a", None, 0], {"_sd": ["x"]}, {"...": "x"},
]
SEPARATORS = (".", "~", "&", "=", "\n", "/", ":", "#", "?")


def mutate(data: bytes, rng: random.Random, max_size: int = 1 << 16) -> bytes:
    """One to three mutations of ``data``, each chosen by what the data looks like."""
    for _ in range(rng.randint(1, 3)):
        try:
            data = _once(data, rng)
        except UnicodeError:  # a lone surrogate has no UTF-8 spelling: mutate the bytes
            data = _bytes(data, rng)
    return data[:max_size]


def _once(data: bytes, rng: random.Random) -> bytes:
    text = data.decode("utf-8", "surrogateescape")
    options = [_bytes]
    stripped = text.strip()
    if stripped[:1] in ("{", "["):
        options += [_json] * 4
    if "." in text and (text.startswith("ey") or "~" in text):
        options += [_segments] * 4
    if "?" in text or ("=" in text and "&" in text):
        options += [_query] * 3
    if "\n" in text:
        options += [_lines] * 2
    return rng.choice(options)(data, rng)


def _bytes(data: bytes, rng: random.Random) -> bytes:
    b = bytearray(data)
    op = rng.randrange(6)
    pos = rng.randrange(len(b) + 1)
    if op == 0 and b:
        b[min(pos, len(b) - 1)] ^= 1 << rng.randrange(8)
    elif op == 1:
        b[pos:pos] = bytes([rng.randrange(256)])
    elif op == 2 and b:
        del b[pos:pos + rng.randint(1, 16)]
    elif op == 3 and b:
        start = rng.randrange(len(b))
        b[pos:pos] = b[start:start + rng.randint(1, 64)]
    elif op == 4:
        b[pos:pos] = rng.choice(SEPARATORS).encode()
    else:
        b[pos:pos] = rng.choice([b"\xff", b"\x00", b"\xed\xa0\x80", b"%", b"\\u", b"[", b"]"])
    return bytes(b)


def _json(data: bytes, rng: random.Random) -> bytes:
    try:
        value = json.loads(data)
    except (ValueError, RecursionError):
        return _bytes(data, rng)
    value = mutate_value(value, rng)
    try:
        out = json.dumps(value, ensure_ascii=rng.random() < 0.5)
    except (ValueError, RecursionError):
        return _bytes(data, rng)
    if rng.random() < 0.1 and out.startswith("{\""):  # a member spelled twice
        key = out[1:].split("\"", 2)[1]
        out = "{\"" + key + "\": 0, " + out[1:]
    return out.encode("utf-8", "surrogatepass")


def mutate_value(value: Any, rng: random.Random, depth: int = 0) -> Any:
    """Replace, delete, duplicate or retype one node of a JSON value."""
    if isinstance(value, dict) and value and rng.random() < 0.75 and depth < 30:
        key = rng.choice(list(value))
        op = rng.randrange(5)
        out = dict(value)
        if op == 0:
            del out[key]
        elif op == 1:
            out[key + rng.choice(["", "_", "x"])] = rng.choice(INTERESTING)
        else:
            out[key] = mutate_value(out[key], rng, depth + 1)
        return out
    if isinstance(value, list) and value and rng.random() < 0.75 and depth < 30:
        i = rng.randrange(len(value))
        out_list = list(value)
        op = rng.randrange(4)
        if op == 0:
            del out_list[i]
        elif op == 1:
            out_list.insert(i, out_list[i])
        else:
            out_list[i] = mutate_value(out_list[i], rng, depth + 1)
        return out_list
    if isinstance(value, str) and value and rng.random() < 0.5:
        if value.startswith("ey") and "." in value:
            return _segments(value.encode(), rng).decode("utf-8", "replace")
        i = rng.randrange(len(value) + 1)
        return value[:i] + str(rng.choice(INTERESTING[:20])) + value[i:]
    if isinstance(value, int) and not isinstance(value, bool) and rng.random() < 0.5:
        return value + rng.choice([-1, 1, -value - 1, 2**32, 2**64])
    return rng.choice(INTERESTING)


def _b64d(segment: str) -> bytes | None:
    try:
        return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except ValueError:
        return None


def _b64e(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _segments(data: bytes, rng: random.Random) -> bytes:
    """Mutate one base64url segment of a compact JWS / SD-JWT inside its JSON, or move,
    drop or repeat segments and disclosures."""
    text = data.decode("utf-8", "surrogateescape")
    sep = "~" if "~" in text and rng.random() < 0.5 else "."
    parts = text.split(sep)
    i = rng.randrange(len(parts))
    op = rng.randrange(5)
    if op == 0:
        parts.insert(i, parts[i])
    elif op == 1 and len(parts) > 1:
        del parts[i]
    elif op == 2:
        j = rng.randrange(len(parts))
        parts[i], parts[j] = parts[j], parts[i]
    else:
        inner = parts[i].split(".") if sep == "~" else [parts[i]]
        k = rng.randrange(len(inner))
        raw = _b64d(inner[k])
        if raw is not None:
            inner[k] = _b64e(_json(raw, rng) if raw[:1] in (b"{", b"[") else _bytes(raw, rng))
        else:
            inner[k] = _bytes(inner[k].encode(), rng).decode("utf-8", "surrogateescape")
        parts[i] = ".".join(inner)
    return sep.join(parts).encode("utf-8", "surrogateescape")


def _query(data: bytes, rng: random.Random) -> bytes:
    text = data.decode("utf-8", "surrogateescape")
    head, mark, query = text.partition("?") if "?" in text else ("", "", text)
    pairs = parse_qsl(query, keep_blank_values=True)
    if not pairs:
        return _bytes(data, rng)
    i = rng.randrange(len(pairs))
    name, value = pairs[i]
    op = rng.randrange(4)
    if op == 0:
        pairs.append((name, value))
    elif op == 1:
        del pairs[i]
    else:
        inner = value.encode("utf-8", "surrogateescape")
        changed = _json(inner, rng) if value[:1] in ("{", "[") else _once(inner, rng)
        pairs[i] = (name, changed.decode("utf-8", "surrogateescape"))
    try:
        rebuilt = urlencode(pairs)
    except UnicodeEncodeError:
        return _bytes(data, rng)
    return (head + mark + rebuilt).encode("utf-8", "surrogateescape")


def _lines(data: bytes, rng: random.Random) -> bytes:
    lines = data.split(b"\n")
    i = rng.randrange(len(lines))
    op = rng.randrange(4)
    if op == 0:
        lines.insert(i, lines[i])
    elif op == 1:
        del lines[i]
    elif op == 2:
        j = rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
    else:
        lines[i] = _bytes(lines[i], rng)
    return b"\n".join(lines)
