"""SD-JWT serializations: compact (RFC 9901 §4) and JWS JSON (§8).

An :class:`SdJwt` keeps every part exactly as received, because digests and ``sd_hash``
are computed over the encoded text, never over a re-serialisation.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ssiwallet.core import strictjson
from ssiwallet.core.b64 import b64u_decode
from ssiwallet.core.jws import MAX_TOKEN_CHARS
from ssiwallet.errors import InputError, JoseError, SdJwtError

MAX_DISCLOSURES = 1000


@dataclass(frozen=True)
class JwsSignature:
    """One signature of the issuer-signed JWT (compact form has exactly one)."""

    protected: str
    signature: str
    header: Mapping[str, Any] = field(default_factory=dict)  # JSON unprotected header


@dataclass(frozen=True)
class SdJwt:
    """An SD-JWT or SD-JWT+KB: issuer-signed JWT, disclosures and an optional KB-JWT."""

    payload: str
    signatures: tuple[JwsSignature, ...]
    disclosures: tuple[str, ...] = ()
    kb_jwt: str | None = None

    @functools.cached_property
    def payload_bytes(self) -> bytes:
        """The issuer JWT payload, decoded once (not verified)."""
        try:
            return b64u_decode(self.payload, what="issuer-signed JWT payload")
        except InputError as exc:
            raise JoseError(exc.detail, code="jose.malformed") from exc

    @functools.cached_property
    def unverified_claims(self) -> dict[str, Any]:
        """The payload as JSON, *unverified*: only for finding the key (``iss``, ``iat``)."""
        return strictjson.loads_object(self.payload_bytes, what="issuer-signed JWT payload")

    @property
    def issuer_jwt(self) -> str:
        """The compact issuer-signed JWT (first signature for the JSON serialization)."""
        first = self.signatures[0]
        return f"{first.protected}.{self.payload}.{first.signature}"

    def sd_part(self) -> str:
        """``<issuer JWT>~<D1>~…~<Dn>~``: the bytes ``sd_hash`` covers (§4.3.1, §8.1)."""
        return "".join([self.issuer_jwt, "~", *(d + "~" for d in self.disclosures)])

    def compact(self) -> str:
        if len(self.signatures) != 1:
            raise SdJwtError("compact serialization carries exactly one signature",
                             code="sdjwt.malformed")
        return self.sd_part() + (self.kb_jwt or "")

    def to_json(self, *, general: bool = False) -> dict[str, Any]:
        """JWS JSON serialization; ``disclosures``/``kb_jwt`` go in the first header."""
        first_header: dict[str, Any] = dict(self.signatures[0].header)
        first_header["disclosures"] = list(self.disclosures)
        if self.kb_jwt is not None:
            first_header["kb_jwt"] = self.kb_jwt
        headers = [first_header, *(dict(s.header) for s in self.signatures[1:])]
        sigs = [{"protected": s.protected, "signature": s.signature, "header": h}
                for s, h in zip(self.signatures, headers, strict=True)]
        if general:
            return {"payload": self.payload, "signatures": sigs}
        if len(sigs) != 1:
            raise SdJwtError("flattened serialization carries one signature",
                             code="sdjwt.malformed")
        return {"payload": self.payload, **sigs[0]}

    def without_kb(self) -> SdJwt:
        return replace(self, kb_jwt=None)


def _check_counts(disclosures: list[str]) -> None:
    if len(disclosures) > MAX_DISCLOSURES:
        raise SdJwtError("too many disclosures", code="sdjwt.too_many_disclosures")


def parse_compact(text: str) -> SdJwt:
    """Split ``<JWT>~<D1>~…~<Dn>~[<KB-JWT>]``; every part but the last must be non-empty."""
    if not isinstance(text, str) or len(text) > MAX_TOKEN_CHARS:
        raise SdJwtError("SD-JWT must be a string of bounded size", code="sdjwt.malformed")
    parts = text.strip().split("~")
    if len(parts) < 2:
        raise SdJwtError("SD-JWT has no '~' separator", code="sdjwt.malformed")
    jwt_parts = parts[0].split(".")
    if len(jwt_parts) != 3 or not all(jwt_parts):
        raise SdJwtError("issuer-signed JWT must have three parts", code="sdjwt.malformed")
    disclosures = parts[1:-1]
    if "" in disclosures:
        raise SdJwtError("empty disclosure between '~' separators", code="sdjwt.malformed")
    _check_counts(disclosures)
    kb = parts[-1] or None
    return SdJwt(jwt_parts[1], (JwsSignature(jwt_parts[0], jwt_parts[2]),),
                 tuple(disclosures), kb)


def _str_member(obj: Mapping[str, Any], name: str) -> str:
    value = obj.get(name)
    if not isinstance(value, str) or not value:
        raise SdJwtError(f"JWS JSON member {name!r} must be a non-empty string",
                         code="sdjwt.malformed")
    return value


def _header(obj: Mapping[str, Any]) -> dict[str, Any]:
    header = obj.get("header", {})
    if not isinstance(header, dict):
        raise SdJwtError("JWS JSON header must be an object", code="sdjwt.malformed")
    return header


def parse_json(data: str | bytes | Mapping[str, Any]) -> SdJwt:
    """Parse the flattened or general JWS JSON serialization (§8)."""
    obj = strictjson.loads_object(data, what="SD-JWT JSON") if not isinstance(
        data, Mapping) else data
    payload = _str_member(obj, "payload")
    if "signatures" in obj:
        raw_sigs = obj["signatures"]
        if not isinstance(raw_sigs, list) or not raw_sigs or not all(
                isinstance(s, dict) for s in raw_sigs):
            raise SdJwtError("signatures must be a non-empty array of objects",
                             code="sdjwt.malformed")
        if "protected" in obj or "signature" in obj:
            raise SdJwtError("general serialization mixes flattened members",
                             code="sdjwt.malformed")
    else:
        raw_sigs = [obj]
    headers = [_header(s) for s in raw_sigs]
    for later in headers[1:]:
        if "disclosures" in later or "kb_jwt" in later:
            raise SdJwtError("disclosures/kb_jwt only in the first header",
                             code="sdjwt.malformed")
    first = dict(headers[0])
    disclosures = first.pop("disclosures", [])
    kb = first.pop("kb_jwt", None)
    if not isinstance(disclosures, list) or not all(
            isinstance(d, str) and d for d in disclosures):
        raise SdJwtError("disclosures must be an array of strings", code="sdjwt.malformed")
    if kb is not None and (not isinstance(kb, str) or not kb):
        raise SdJwtError("kb_jwt must be a string", code="sdjwt.malformed")
    _check_counts(disclosures)
    headers[0] = first
    sigs = tuple(JwsSignature(_str_member(s, "protected"), _str_member(s, "signature"), h)
                 for s, h in zip(raw_sigs, headers, strict=True))
    return SdJwt(payload, sigs, tuple(disclosures), kb)


def parse(data: str | bytes | Mapping[str, Any]) -> SdJwt:
    """Either serialization: JSON if it looks like an object, compact otherwise."""
    if isinstance(data, Mapping):
        return parse_json(data)
    try:
        text = data.decode("utf-8", "strict") if isinstance(data, bytes) else data
    except UnicodeDecodeError:
        raise SdJwtError("SD-JWT is not UTF-8 text", code="sdjwt.malformed") from None
    if not isinstance(text, str):
        raise SdJwtError("SD-JWT must be text", code="sdjwt.malformed")
    if text.lstrip().startswith("{"):
        return parse_json(text)
    return parse_compact(text)
