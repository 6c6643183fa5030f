"""IETF Token Status List: the status list, its JWT token and the Referenced Token's claim.

Keten publishes revocation and suspension as one small status value per credential copy in
a compressed bit array (``draft-ietf-oauth-status-list``): the registry signs it as a
Status List Token (``typ: statuslist+jwt``), and a credential names its entry in its
``status.status_list {idx, uri}`` claim. Many credentials share one list, so a verifier
fetching the list learns nothing about which credential it checks.

Everything here is pure: the clock (``now``) and the keys are parameters, nothing is fetched.
Input from outside is refused with a :class:`~ssiwallet.errors.StatusListError` ``status.*``
code; JWS problems keep their ``jose.*`` :class:`~ssiwallet.errors.JoseError` (see
:func:`verify_status_list_token`).
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeGuard
from urllib.parse import urlsplit

from ssiwallet.core import jws as jose
from ssiwallet.core.b64 import b64u_decode, b64u_encode
from ssiwallet.core.keys import PrivateKey, PublicKey
from ssiwallet.errors import InputError, StatusListError

VALID = 0x00
INVALID = 0x01
SUSPENDED = 0x02
APPLICATION_SPECIFIC = 0x03

ALLOWED_BITS = frozenset({1, 2, 4, 8})
TYP = "statuslist+jwt"
# 16 MiB holds 134 million 1-bit entries: far beyond any list we publish, small enough that a
# DEFLATE bomb (1000:1 ratio) inside a 1 MiB token cannot exhaust a verifier's memory.
MAX_LIST_BYTES = 16 << 20
DEFAULT_LEEWAY = 60  # seconds of clock skew tolerated on iat / nbf / exp
_RESERVED_CLAIMS = frozenset({"sub", "iat", "exp", "ttl", "status_list"})
_APPLICATION_SPECIFIC = frozenset({0x03, 0x0C, 0x0D, 0x0E, 0x0F})
_NAMES = {VALID: "valid", INVALID: "invalid", SUSPENDED: "suspended"}


def _is_int(value: object) -> TypeGuard[int]:
    """JSON integers only: ``True`` is an ``int`` to Python but never a number to us."""
    return isinstance(value, int) and not isinstance(value, bool)


def status_name(value: int) -> str:
    """Name a status value for people: wallets and desk pages show words, not numbers.

    Returns ``"valid"``, ``"invalid"`` (revoked), ``"suspended"``, ``"application-specific"``
    (0x03 and 0x0C-0x0F, reserved by the spec for applications) or ``"unknown"`` for values
    reserved for future registration, which a verifier must not treat as valid.
    """
    if not _is_int(value) or not 0 <= value <= 0xFF:
        raise StatusListError(f"status value {value!r} is not a byte",
                              code="status.value_out_of_range")
    if value in _APPLICATION_SPECIFIC:
        return "application-specific"
    return _NAMES.get(value, "unknown")


class StatusList:
    """A status array of ``bits`` per entry, packed least significant bits first.

    Entry ``idx`` lives in byte ``idx // (8 // bits)`` at bit offset ``(idx % (8 // bits)) *
    bits``, exactly as the spec's figures show. The size is always a whole number of bytes'
    worth of entries: the encoding carries only the byte array, so a list of 10 one-bit
    entries is indistinguishable from one of 16 once published, and we say so up front.
    """

    __slots__ = ("_bits", "_data", "aggregation_uri")
    __hash__ = None  # type: ignore[assignment]  # mutable

    def __init__(self, bits: int, data: bytes | bytearray, *,
                 aggregation_uri: str | None = None) -> None:
        if not _is_int(bits) or bits not in ALLOWED_BITS:
            raise StatusListError(f"bits must be one of 1, 2, 4, 8, not {bits!r}",
                                  code="status.invalid_bits")
        if len(data) > MAX_LIST_BYTES:
            raise StatusListError(f"status list larger than {MAX_LIST_BYTES} bytes",
                                  code="status.too_large")
        if aggregation_uri is not None and (not isinstance(aggregation_uri, str)
                                            or not aggregation_uri):
            raise StatusListError("aggregation_uri must be a non-empty string",
                                  code="status.invalid_list")
        self._bits = bits
        self._data = bytearray(data)
        self.aggregation_uri = aggregation_uri

    @classmethod
    def new(cls, size: int, bits: int, *, aggregation_uri: str | None = None) -> StatusList:
        """An all-VALID list of at least ``size`` entries (rounded up to whole bytes)."""
        if not _is_int(size) or size < 0:
            raise StatusListError(f"size must be a non-negative int, not {size!r}",
                                  code="status.invalid_list")
        if not _is_int(bits) or bits not in ALLOWED_BITS:
            raise StatusListError(f"bits must be one of 1, 2, 4, 8, not {bits!r}",
                                  code="status.invalid_bits")
        n_bytes = -(-size * bits // 8)
        if n_bytes > MAX_LIST_BYTES:
            raise StatusListError(f"status list larger than {MAX_LIST_BYTES} bytes",
                                  code="status.too_large")
        return cls(bits, bytes(n_bytes), aggregation_uri=aggregation_uri)

    @property
    def bits(self) -> int:
        return self._bits

    @property
    def size(self) -> int:
        """Number of entries the byte array holds."""
        return len(self._data) * (8 // self._bits)

    @property
    def raw(self) -> bytes:
        """The uncompressed byte array (a copy: the list changes only through :meth:`set`)."""
        return bytes(self._data)

    def __len__(self) -> int:
        return self.size

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, StatusList):
            return NotImplemented
        return (self._bits, self._data, self.aggregation_uri) == (
            other._bits, other._data, other.aggregation_uri)

    def __repr__(self) -> str:
        return f"StatusList(bits={self._bits}, size={self.size})"

    def _locate(self, idx: int) -> tuple[int, int]:
        if not _is_int(idx) or not 0 <= idx < self.size:
            raise StatusListError(f"index {idx!r} outside the list of {self.size} entries",
                                  code="status.index_out_of_range")
        per_byte = 8 // self._bits
        return idx // per_byte, (idx % per_byte) * self._bits

    def get(self, idx: int) -> int:
        """The status value of entry ``idx``.

        Raises:
            StatusListError: ``status.index_out_of_range``; the spec says a token whose index
                is outside the list must be rejected, so there is no default value.
        """
        byte, shift = self._locate(idx)
        return (self._data[byte] >> shift) & ((1 << self._bits) - 1)

    def set(self, idx: int, value: int) -> None:
        """Set entry ``idx`` to ``value``; a value that needs more than ``bits`` is refused."""
        if not _is_int(value) or not 0 <= value < (1 << self._bits):
            raise StatusListError(f"value {value!r} does not fit in {self._bits} bits",
                                  code="status.value_out_of_range")
        byte, shift = self._locate(idx)
        mask = ((1 << self._bits) - 1) << shift
        self._data[byte] = (self._data[byte] & ~mask) | (value << shift)

    def encode(self) -> dict[str, Any]:
        """The JSON ``StatusList`` object: zlib (RFC 1950) at level 9, then base64url."""
        obj: dict[str, Any] = {"bits": self._bits,
                               "lst": b64u_encode(zlib.compress(bytes(self._data), 9))}
        if self.aggregation_uri is not None:
            obj["aggregation_uri"] = self.aggregation_uri
        return obj

    @classmethod
    def decode(cls, obj: object, *, max_bytes: int = MAX_LIST_BYTES) -> StatusList:
        """Parse a JSON ``StatusList`` object from an untrusted token.

        Unknown members are ignored (the structure is extensible and they cannot change the
        meaning of ``bits``/``lst``); the known ones are checked strictly. Decompression
        stops after ``max_bytes`` of output, so a small ``lst`` cannot inflate into gigabytes.

        Raises:
            StatusListError: ``status.invalid_list`` (shape, base64url, zlib stream),
                ``status.invalid_bits``, ``status.too_large``.
        """
        if not isinstance(obj, Mapping):
            raise StatusListError("status_list must be a JSON object", code="status.invalid_list")
        bits, lst, agg = obj.get("bits"), obj.get("lst"), obj.get("aggregation_uri")
        if not _is_int(bits) or bits not in ALLOWED_BITS:
            raise StatusListError(f"bits must be one of 1, 2, 4, 8, not {bits!r}",
                                  code="status.invalid_bits")
        if not isinstance(lst, str):
            raise StatusListError("lst must be a string", code="status.invalid_list")
        if "aggregation_uri" in obj and (not isinstance(agg, str) or not agg):
            raise StatusListError("aggregation_uri must be a non-empty string",
                                  code="status.invalid_list")
        try:
            compressed = b64u_decode(lst, what="lst")
        except InputError as exc:
            raise StatusListError(exc.detail, code="status.invalid_list") from None
        return cls(bits, _inflate(compressed, max_bytes), aggregation_uri=agg)


def _inflate(compressed: bytes, max_bytes: int) -> bytes:
    """Decompress one complete zlib stream, refusing more than ``max_bytes`` of output."""
    inflater = zlib.decompressobj()
    try:
        data = inflater.decompress(compressed, max_bytes + 1)
    except zlib.error as exc:
        raise StatusListError(f"lst is not a zlib stream: {exc}",
                              code="status.invalid_list") from None
    if len(data) > max_bytes:
        raise StatusListError(f"status list inflates beyond {max_bytes} bytes",
                              code="status.too_large")
    if not inflater.eof:
        raise StatusListError("lst is a truncated zlib stream", code="status.invalid_list")
    if inflater.unused_data:
        raise StatusListError("lst has bytes after the zlib stream", code="status.invalid_list")
    return data


# White space (str.isspace) and control characters: never part of a URI.
_BAD_URI_CHAR = re.compile(r"[\s\x00-\x1f\x7f\x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028"
                           r"\u2029\u202f\u205f\u3000]")


def _http_uri(value: object, *, what: str, code: str) -> str:
    """An absolute http(s) URI with a host, no fragment, no whitespace or controls."""
    if not isinstance(value, str) or not value or _BAD_URI_CHAR.search(value):
        raise StatusListError(f"{what} must be a URI string", code=code)
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:
        raise StatusListError(f"{what} is not a valid URI", code=code) from None
    if parts.scheme not in ("https", "http") or not host or parts.fragment:
        raise StatusListError(f"{what} must be an http(s) URI with a host and no fragment",
                              code=code)
    return value


@dataclass(frozen=True)
class StatusRef:
    """A Referenced Token's pointer into a status list; it cannot exist in an invalid state."""

    idx: int
    uri: str

    def __post_init__(self) -> None:
        if not _is_int(self.idx) or self.idx < 0:
            raise StatusListError(f"idx must be a non-negative integer, not {self.idx!r}",
                                  code="status.invalid_reference")
        _http_uri(self.uri, what="status_list uri", code="status.invalid_reference")

    def to_claim(self) -> dict[str, Any]:
        """The ``status`` claim an issuer puts into a credential."""
        return {"status_list": {"idx": self.idx, "uri": self.uri}}


def parse_status_reference(claim: object) -> StatusRef:
    """Read the ``status`` claim of a Referenced Token (spec §6.2 and validation step 1).

    Other status mechanisms beside ``status_list`` and extra members inside it are ignored:
    the claim is extensible by design.

    Raises:
        StatusListError: ``status.invalid_reference``.
    """
    if not isinstance(claim, Mapping):
        raise StatusListError("status claim must be a JSON object",
                              code="status.invalid_reference")
    inner = claim.get("status_list")
    if not isinstance(inner, Mapping):
        raise StatusListError("status claim has no status_list object",
                              code="status.invalid_reference")
    idx: Any = inner.get("idx")  # StatusRef checks both itself
    uri: Any = inner.get("uri")
    return StatusRef(idx, uri)


@dataclass(frozen=True)
class StatusListToken:
    """A verified Status List Token; ``extra`` holds other claims (e.g. ``keten_height``)."""

    sub: str
    iat: int
    exp: int | None
    ttl: int | None
    status_list: StatusList
    extra: dict[str, Any] = field(default_factory=dict)

    def cache_until(self, fetched_at: int) -> int | None:
        """When a cached copy fetched at ``fetched_at`` must be refreshed (``ttl`` and ``exp``).

        ``None`` means the token sets no limit and the caller's own policy decides.
        """
        limits = [t for t in (self.exp, None if self.ttl is None else fetched_at + self.ttl)
                  if t is not None]
        return min(limits) if limits else None


def _check_times(iat: object, exp: object, ttl: object
                 ) -> tuple[int, int | None, int | None]:
    """Times are JSON integers: a bool, float or numeric string would parse differently."""
    if not _is_int(iat) or iat < 0:
        raise StatusListError("iat must be a non-negative integer", code="status.invalid_token")
    if exp is not None and (not _is_int(exp) or exp <= iat):
        raise StatusListError("exp must be an integer after iat", code="status.invalid_token")
    if ttl is not None and (not _is_int(ttl) or ttl <= 0):
        raise StatusListError("ttl must be a positive integer", code="status.invalid_token")
    return iat, exp, ttl


def create_status_list_token(status_list: StatusList, *, sub: str, iat: int, exp: int | None,
                             ttl: int | None, key: PrivateKey, kid: str,
                             extra_claims: Mapping[str, Any] | None = None) -> str:
    """Sign ``status_list`` as a Status List Token (JWT, ``typ: statuslist+jwt``).

    The same rules as :func:`verify_status_list_token` are applied, so the registry can
    never publish a token its own verifiers would refuse. ``extra_claims`` (for instance the
    chain height ``keten_height``) may not replace the claims this spec defines.

    Raises:
        StatusListError: ``status.invalid_token`` for bad times or reserved extra claims.
    """
    _http_uri(sub, what="sub", code="status.invalid_token")
    _check_times(iat, exp, ttl)
    extra = dict(extra_claims or {})
    clash = sorted(_RESERVED_CLAIMS & extra.keys())
    if clash:
        raise StatusListError(f"extra claims may not replace {clash}",
                              code="status.invalid_token")
    payload: dict[str, Any] = {**extra, "sub": sub, "iat": iat}
    if exp is not None:
        payload["exp"] = exp
    if ttl is not None:
        payload["ttl"] = ttl
    payload["status_list"] = status_list.encode()
    return jose.sign_compact({"typ": TYP, "kid": kid}, payload, key)


def verify_status_list_token(token: str, *, key: PublicKey, expected_sub: str, now: int,
                             max_age: int | None = None,
                             leeway: int = DEFAULT_LEEWAY) -> StatusListToken:
    """Verify a Status List Token fetched from ``expected_sub`` (the reference's ``uri``).

    Follows the spec's validation rules: signature with a key from the trust source (never
    from the header), ``typ``, ``sub`` equal to the referenced URI (a list for another
    credential batch must not answer for this one), ``iat`` not in the future, ``nbf`` and
    ``exp`` per RFC 7519, ``ttl`` positive, and an optional freshness policy ``max_age``.

    JWS failures are left as :class:`~ssiwallet.errors.JoseError` (``jose.bad_signature``,
    ``jose.wrong_typ``, ``jose.alg_not_allowed``, ...): they are already precise, stable and
    under the same ``CoreError`` root, and wrapping them would lose which one it was.

    Raises:
        JoseError: malformed JWS, refused header keys, alg, ``typ`` or signature.
        StatusListError: ``status.invalid_token``, ``status.sub_mismatch``,
            ``status.not_yet_valid``, ``status.expired``, ``status.stale``, and the
            :meth:`StatusList.decode` codes.
    """
    parsed = jose.parse_compact(token, what="status list token")
    jose.refuse_header_keys(parsed, what="status list token")
    jose.verify(parsed, key, typ=TYP, what="status list token")
    try:
        claims = parsed.payload_json("status list token payload")
    except InputError as exc:
        raise StatusListError(exc.detail, code="status.invalid_token") from None
    sub, iat, exp, ttl = (claims.get(n) for n in ("sub", "iat", "exp", "ttl"))
    if not isinstance(sub, str):
        raise StatusListError("sub must be a string", code="status.invalid_token")
    if sub != expected_sub:
        raise StatusListError(f"status list token is for {sub!r}, not {expected_sub!r}",
                              code="status.sub_mismatch")
    if "status_list" not in claims:
        raise StatusListError("status_list claim missing", code="status.invalid_token")
    iat, exp, ttl = _check_times(iat, exp, ttl)
    if iat > now + leeway:
        raise StatusListError("status list token issued in the future",
                              code="status.not_yet_valid")
    nbf = claims.get("nbf")
    if nbf is not None:
        if not _is_int(nbf):
            raise StatusListError("nbf must be an integer", code="status.invalid_token")
        if nbf > now + leeway:
            raise StatusListError("status list token not yet valid",
                                  code="status.not_yet_valid")
    if exp is not None and now >= exp + leeway:
        raise StatusListError("status list token has expired", code="status.expired")
    if max_age is not None and now - iat > max_age:
        raise StatusListError(f"status list token older than {max_age} s",
                              code="status.stale")
    status_list = StatusList.decode(claims["status_list"])
    extra = {k: v for k, v in claims.items() if k not in _RESERVED_CLAIMS}
    return StatusListToken(sub, iat, exp, ttl, status_list, extra)


def status_of(token_obj: StatusListToken | StatusList, idx: int | StatusRef) -> int:
    """The status value at ``idx``; given a :class:`StatusRef`, also check it names this token.

    Raises:
        StatusListError: ``status.index_out_of_range`` (the credential must then be rejected),
            ``status.sub_mismatch`` when a reference points at another list.
    """
    if isinstance(idx, StatusRef):
        if isinstance(token_obj, StatusListToken) and token_obj.sub != idx.uri:
            raise StatusListError(f"reference names {idx.uri!r}, token is {token_obj.sub!r}",
                                  code="status.sub_mismatch")
        idx = idx.idx
    lst = token_obj.status_list if isinstance(token_obj, StatusListToken) else token_obj
    return lst.get(idx)
