"""DCQL queries (OpenID4VP 1.0 §6): the typed model and its validating parser.

A verifier states what it wants to see as a ``dcql_query``; the wallet decides from it which
credentials and which claims leave the device. A query that is only half understood is a
privacy risk (the wallet might disclose more, or something else, than was asked), so
:func:`parse_query` checks every rule the specification states as a MUST and turns the JSON
into frozen dataclasses that cannot be half-valid. Every failure is a :class:`DcqlError`
with a stable ``dcql.*`` code; unknown properties are ignored, as §6 requires.

Matching queries against credentials lives in :mod:`ssiwallet.core.dcql_match`.

Error codes raised here::

    dcql.invalid_query             the query is not a JSON object
    dcql.missing_credentials       ``credentials`` absent or empty
    dcql.invalid_credentials       ``credentials`` not an array
    dcql.invalid_credential        a credential query is not an object
    dcql.invalid_id                an id is not a non-empty [A-Za-z0-9_-] string
    dcql.duplicate_id              a credential query id or a claim id used twice
    dcql.invalid_format            ``format`` absent or not a string
    dcql.invalid_meta              ``meta`` absent, not an object, or its format rules broken
    dcql.invalid_boolean           ``multiple`` / ``require_cryptographic_holder_binding`` /
                                   ``required`` / ``intent_to_retain`` not a boolean
    dcql.invalid_trusted_authorities
    dcql.invalid_claims            ``claims`` empty, not an array, or an entry not an object
    dcql.invalid_path              a claims path pointer that breaks §7
    dcql.invalid_values            ``values`` empty, not an array, or a non string/int/bool entry
    dcql.invalid_claim_sets        ``claim_sets`` malformed, or present without ``claims``
    dcql.missing_claim_id          a claim has no ``id`` although ``claim_sets`` is present
    dcql.unknown_claim_set_id      ``claim_sets`` names a claim id that does not exist
    dcql.invalid_credential_sets   ``credential_sets`` or one of its options malformed
    dcql.unknown_credential_id     an option names a credential query id that does not exist
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ssiwallet.core import strictjson
from ssiwallet.core.claimpath import ClaimPath
from ssiwallet.errors import DcqlError

FORMAT_SD_JWT_VC = "dc+sd-jwt"
FORMAT_MSO_MDOC = "mso_mdoc"

_ID = re.compile(r"[A-Za-z0-9_-]+")

ClaimValue = str | int | bool


@dataclass(frozen=True)
class TrustedAuthority:
    """One ``trusted_authorities`` entry: a hint which issuers the verifier will accept.

    Kept so the wallet can avoid offering credentials that would be rejected anyway; the
    verifier never relies on it and checks issuer trust itself.
    """

    type: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class ClaimsQuery:
    """One requested claim: where it is (a §7 claims path pointer) and, optionally, which
    values the verifier expects.

    ``intent_to_retain`` is the mdoc-only flag (§B.2.4), kept for display.
    """

    id: str | None
    path: ClaimPath
    values: tuple[ClaimValue, ...] | None = None
    intent_to_retain: bool | None = None


@dataclass(frozen=True)
class CredentialQuery:
    """A request for one (or, with ``multiple``, several) credentials of one format.

    ``meta`` is the format-specific constraint object as sent (e.g. ``vct_values``); it is
    excluded from hashing because it is a plain dict.
    """

    id: str
    format: str
    multiple: bool
    meta: dict[str, Any] = field(hash=False)
    claims: tuple[ClaimsQuery, ...] | None
    claim_sets: tuple[tuple[str, ...], ...] | None
    trusted_authorities: tuple[TrustedAuthority, ...] | None
    require_cryptographic_holder_binding: bool

    @property
    def vct_values(self) -> tuple[str, ...] | None:
        """The accepted SD-JWT VC types, validated by the parser; ``None`` when not given."""
        return _non_empty_strings(self.meta.get("vct_values"))


@dataclass(frozen=True)
class CredentialSetQuery:
    """Alternative combinations of credential queries that serve one purpose.

    ``options`` are in the verifier's order of preference; an optional set (``required``
    false) may be left unanswered.
    """

    options: tuple[tuple[str, ...], ...]
    required: bool = True


@dataclass(frozen=True)
class DcqlQuery:
    """A whole, validated ``dcql_query``."""

    credentials: tuple[CredentialQuery, ...]
    credential_sets: tuple[CredentialSetQuery, ...] | None = None

    def credential(self, query_id: str) -> CredentialQuery:
        """The credential query named ``query_id``; ``dcql.unknown_credential_id`` if none."""
        for cq in self.credentials:
            if cq.id == query_id:
                return cq
        raise DcqlError(f"no credential query {query_id!r}", code="dcql.unknown_credential_id")


def parse_query_json(text: str | bytes) -> DcqlQuery:
    """Parse a ``dcql_query`` from its JSON text.

    Malformed JSON raises :class:`~ssiwallet.errors.InputError` (``json.*``) from the strict
    parser; a well-formed JSON value that is not a valid query raises ``dcql.*``.
    """
    return parse_query(strictjson.loads(text))


def parse_query(obj: object) -> DcqlQuery:
    """Validate an already-decoded ``dcql_query`` and build the typed model.

    Args:
        obj: the JSON value (normally a dict) found in the authorization request.

    Raises:
        DcqlError: with a ``dcql.*`` code naming the first rule the query breaks.
    """
    if not isinstance(obj, dict):
        raise DcqlError("dcql_query must be a JSON object", code="dcql.invalid_query")
    raw_credentials = obj.get("credentials")
    if raw_credentials is None or raw_credentials == []:
        raise DcqlError("credentials must be a non-empty array", code="dcql.missing_credentials")
    if not isinstance(raw_credentials, list):
        raise DcqlError("credentials must be an array", code="dcql.invalid_credentials")
    credentials = tuple(_credential_query(item, n) for n, item in enumerate(raw_credentials))
    _unique((c.id for c in credentials), "credential query")
    credential_sets = None
    if "credential_sets" in obj:
        known = {c.id for c in credentials}
        credential_sets = _credential_sets(obj["credential_sets"], known)
    return DcqlQuery(credentials=credentials, credential_sets=credential_sets)


def _check_id(value: object, what: str) -> str:
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise DcqlError(
            f"{what} id must be a non-empty string of letters, digits, '_' or '-', "
            f"got {value!r}",
            code="dcql.invalid_id",
        )
    return value


def _unique(ids: Iterable[str], what: str) -> None:
    seen: set[str] = set()
    for ident in ids:
        if ident in seen:
            raise DcqlError(f"{what} id {ident!r} used more than once", code="dcql.duplicate_id")
        seen.add(ident)


def _bool(obj: dict[str, Any], key: str, default: bool, where: str) -> bool:
    value = obj.get(key, default)
    if not isinstance(value, bool):
        raise DcqlError(f"{where}: {key} must be a boolean", code="dcql.invalid_boolean")
    return value


def _non_empty_strings(value: object) -> tuple[str, ...] | None:
    """The value as a tuple of strings if it is a non-empty array of strings, else None."""
    if not isinstance(value, list) or not value:
        return None
    if not all(isinstance(v, str) for v in value):
        return None
    return tuple(value)


def _credential_query(item: object, index: int) -> CredentialQuery:
    if not isinstance(item, dict):
        raise DcqlError(f"credentials[{index}] must be an object", code="dcql.invalid_credential")
    cid = _check_id(item.get("id"), f"credentials[{index}]")
    where = f"credential query {cid!r}"
    fmt = item.get("format")
    if not isinstance(fmt, str) or not fmt:
        raise DcqlError(f"{where}: format must be a non-empty string", code="dcql.invalid_format")
    meta = _meta(item.get("meta"), fmt, where)
    multiple = _bool(item, "multiple", False, where)
    binding = _bool(item, "require_cryptographic_holder_binding", True, where)
    authorities = None
    if "trusted_authorities" in item:
        authorities = _trusted_authorities(item["trusted_authorities"], where)
    claims = None
    if "claims" in item:
        claims = _claims(item["claims"], fmt, where)
    claim_sets = None
    if "claim_sets" in item:
        claim_sets = _claim_sets(item["claim_sets"], claims, where)
    return CredentialQuery(
        id=cid,
        format=fmt,
        multiple=multiple,
        meta=meta,
        claims=claims,
        claim_sets=claim_sets,
        trusted_authorities=authorities,
        require_cryptographic_holder_binding=binding,
    )


def _meta(value: object, fmt: str, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise DcqlError(f"{where}: meta must be an object", code="dcql.invalid_meta")
    if fmt == FORMAT_SD_JWT_VC and _non_empty_strings(value.get("vct_values")) is None:
        # OpenID4VP §B.3.5: vct_values is REQUIRED for dc+sd-jwt.
        raise DcqlError(
            f"{where}: meta.vct_values must be a non-empty array of strings",
            code="dcql.invalid_meta",
        )
    if fmt == FORMAT_MSO_MDOC and not isinstance(value.get("doctype_value"), str):
        # OpenID4VP §B.2.3: doctype_value is REQUIRED for mso_mdoc.
        raise DcqlError(f"{where}: meta.doctype_value must be a string", code="dcql.invalid_meta")
    return dict(value)


def _trusted_authorities(value: object, where: str) -> tuple[TrustedAuthority, ...]:
    code = "dcql.invalid_trusted_authorities"
    if not isinstance(value, list) or not value:
        raise DcqlError(f"{where}: trusted_authorities must be a non-empty array", code=code)
    out = []
    for entry in value:
        if not isinstance(entry, dict) or not isinstance(entry.get("type"), str):
            raise DcqlError(f"{where}: each trusted authority needs a string type", code=code)
        values = _non_empty_strings(entry.get("values"))
        if values is None:
            raise DcqlError(
                f"{where}: trusted authority values must be a non-empty array of strings",
                code=code,
            )
        out.append(TrustedAuthority(type=entry["type"], values=values))
    return tuple(out)


def _claims(value: object, fmt: str, where: str) -> tuple[ClaimsQuery, ...]:
    if not isinstance(value, list) or not value:
        raise DcqlError(f"{where}: claims must be a non-empty array", code="dcql.invalid_claims")
    claims = tuple(_claims_query(entry, n, fmt, where) for n, entry in enumerate(value))
    _unique((c.id for c in claims if c.id is not None), f"{where}: claim")
    return claims


def _claims_query(entry: object, index: int, fmt: str, where: str) -> ClaimsQuery:
    at = f"{where}: claims[{index}]"
    if not isinstance(entry, dict):
        raise DcqlError(f"{at} must be an object", code="dcql.invalid_claims")
    cid = _check_id(entry["id"], at) if "id" in entry else None
    path = parse_path(entry.get("path"), mdoc=fmt == FORMAT_MSO_MDOC, where=at)
    values = None
    if "values" in entry:
        raw = entry["values"]
        if (
            not isinstance(raw, list)
            or not raw
            or not all(isinstance(v, str | int) for v in raw)  # bool is an int: allowed here
        ):
            raise DcqlError(
                f"{at}: values must be a non-empty array of strings, integers or booleans",
                code="dcql.invalid_values",
            )
        values = tuple(raw)
    retain = None
    if "intent_to_retain" in entry:
        retain = _bool(entry, "intent_to_retain", False, at)
    return ClaimsQuery(id=cid, path=path, values=values, intent_to_retain=retain)


def parse_path(value: object, *, mdoc: bool = False, where: str = "path") -> ClaimPath:
    """Validate a claims path pointer (§7): :meth:`ClaimPath.parse`.

    Raises:
        DcqlError: ``dcql.invalid_path``.
    """
    return ClaimPath.parse(value, mdoc=mdoc, where=where)


def _claim_sets(
    value: object, claims: tuple[ClaimsQuery, ...] | None, where: str
) -> tuple[tuple[str, ...], ...]:
    code = "dcql.invalid_claim_sets"
    if claims is None:
        raise DcqlError(f"{where}: claim_sets is not allowed without claims", code=code)
    if not isinstance(value, list) or not value:
        raise DcqlError(f"{where}: claim_sets must be a non-empty array", code=code)
    for n, claim in enumerate(claims):
        if claim.id is None:
            raise DcqlError(
                f"{where}: claims[{n}] needs an id because claim_sets is present",
                code="dcql.missing_claim_id",
            )
    known = {c.id for c in claims if c.id is not None}
    return tuple(_id_list(option, known, f"{where}: claim set", "claim id", code,
                          "dcql.unknown_claim_set_id") for option in value)


def _id_list(option: object, known: set[str], where: str, what: str, code: str,
             unknown_code: str) -> tuple[str, ...]:
    """A non-empty array of ids that each name something the query defines."""
    ids = _non_empty_strings(option)
    if ids is None:
        raise DcqlError(f"{where} must be a non-empty array of {what}s", code=code)
    for ident in ids:
        if ident not in known:
            raise DcqlError(f"{where} names unknown {what} {ident!r}", code=unknown_code)
    return ids


def _credential_sets(value: object, known: set[str]) -> tuple[CredentialSetQuery, ...]:
    code = "dcql.invalid_credential_sets"
    if not isinstance(value, list) or not value:
        raise DcqlError("credential_sets must be a non-empty array", code=code)
    out = []
    for n, entry in enumerate(value):
        where = f"credential_sets[{n}]"
        if not isinstance(entry, dict):
            raise DcqlError(f"{where} must be an object", code=code)
        raw_options = entry.get("options")
        if not isinstance(raw_options, list) or not raw_options:
            raise DcqlError(f"{where}: options must be a non-empty array", code=code)
        options = [_id_list(option, known, f"{where}: option", "credential query id", code,
                            "dcql.unknown_credential_id") for option in raw_options]
        required = _bool(entry, "required", True, where)
        out.append(CredentialSetQuery(options=tuple(options), required=required))
    return tuple(out)
