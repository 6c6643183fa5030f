"""DID resolution for did:keten in the DIF Universal Resolver shape, at any point in time.

``resolve(state, did, version_time, now)`` answers with ``didDocument``,
``didDocumentMetadata`` and ``didResolutionMetadata``. The document lists the keys that were
the DID's key at ``version_time`` (default: now) and that are not known to be compromised by
then: a credential signed at ``iat`` verifies with a key taken from the document as of
``iat``, and a key rotated away later still resolves for it. The full key history, including
compromise times learnt later, is in ``didDocumentMetadata.keyHistory``.

Documents are built and validated with ``pydid``; a built document is cached because the
same few issuer keys are resolved over and over.

Over HTTP (:func:`answer`, the W3C DID Resolution HTTP(S) binding and the DIF Universal
Resolver driver contract): ``Accept`` picks the representation (:func:`negotiate`): the
resolution result by default and for ``application/ld+json;profile="https://w3id.org/did-
resolution"`` (or ``application/did-resolution``), the bare DID document for
``application/did+ld+json`` / ``application/did+json``; anything else is 406
``representationNotSupported``. ``versionId`` (a transaction id of the DID's history) and
``versionTime`` select a version (not both). A DID of another method is
``methodNotSupported`` (501); a DID URL with a fragment (``…#key-2``) is dereferenced to that
verification method of the document at that time.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pydid

from registry.errors import RegistryError
from registry.ledger.didketen import DidUrlError, KetenDid
from registry.ledger.state import DidRecord, State
from ssiwallet.core import strictjson

__all__ = ["CONTEXTS", "DidNotFoundError", "HttpAnswer", "MethodNotSupportedError",
           "Representation", "RepresentationNotSupportedError", "answer", "negotiate",
           "parse_version_time", "resolve", "rfc3339"]

CONTEXTS = ("https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1")
CONTENT_TYPE = "application/did+ld+json"
MAX_TIME = 253_402_300_799
"""9999-12-31T23:59:59Z: the last instant an RFC 3339 datetime can name."""


RESOLUTION_PROFILE = "https://w3id.org/did-resolution"
RESULT_TYPE = f'application/ld+json;profile="{RESOLUTION_PROFILE}"'
"""The media type of a resolution result (DIF Universal Resolver; JSON-LD, registered)."""
RESOLUTION_CONTEXT = "https://w3id.org/did-resolution/v1"


class DidNotFoundError(RegistryError):
    """The DID is not on the registry (or did not exist yet at the time asked for)."""

    code = "registry.did_not_found"


class VersionNotFoundError(DidNotFoundError):
    """``versionId`` names no version of this DID (``notFound``)."""

    code = "registry.version_not_found"


class FragmentNotFoundError(DidNotFoundError):
    """The DID URL's fragment names nothing in the document at that time (``notFound``)."""

    code = "registry.fragment_not_found"


class MethodNotSupportedError(RegistryError):
    """A valid DID of another DID method: this registry resolves only did:keten."""

    code = "registry.method_not_supported"


class RepresentationNotSupportedError(RegistryError):
    """No representation the client accepts (HTTP 406)."""

    code = "registry.representation_not_supported"


class InvalidDidUrlError(RegistryError):
    """A DID URL this resolver cannot dereference as written (``invalidDidUrl``)."""

    code = "registry.invalid_did_url"


class InvalidOptionsError(RegistryError):
    """Resolution options that contradict each other (``invalidOptions``)."""

    code = "registry.invalid_options"


@functools.lru_cache(maxsize=1 << 16)
def rfc3339(seconds: int) -> str:
    """A UTC XML/RFC 3339 datetime (``2026-11-23T10:00:00Z``), as DID metadata uses."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_version_time(value: str) -> int:
    """``versionTime``: an RFC 3339 datetime with zone, or (our extension) Unix seconds."""
    if value.isascii() and value.isdigit() and len(value) <= 12:
        seconds = int(value)
    else:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise RegistryError(f"versionTime is not an RFC 3339 datetime: {value[:40]!r}",
                                code="registry.invalid_version_time") from None
        if parsed.tzinfo is None:
            raise RegistryError("versionTime needs a time zone (e.g. Z)",
                                code="registry.invalid_version_time")
        seconds = int(parsed.timestamp())
    if not 0 <= seconds <= MAX_TIME:
        raise RegistryError("versionTime must lie between 1970 and 9999",
                            code="registry.invalid_version_time")
    return seconds


@functools.lru_cache(maxsize=4096)
def _document(did: str, keys: tuple[tuple[str, str], ...]) -> dict[str, Any]:
    methods = [{"id": kid, "type": "Multikey", "controller": did, "publicKeyMultibase": mk}
               for kid, mk in keys]
    doc: dict[str, Any] = {"@context": list(CONTEXTS), "id": did,
                           "verificationMethod": methods}
    if methods:
        refs = [m["id"] for m in methods]
        doc["assertionMethod"] = refs
        doc["authentication"] = refs
    try:
        parsed = pydid.DIDDocument.deserialize(doc)
    except (ValueError, pydid.DIDDocumentError) as exc:  # a bug here, never client input
        raise RegistryError(f"built an invalid DID document: {exc}") from exc
    result: dict[str, Any] = parsed.serialize()
    return result


def _metadata(record: DidRecord, at: int, state: State) -> dict[str, Any]:
    versions = [v for v in record.versions if v[0] <= at]
    later = [v for v in record.versions if v[0] > at]
    meta: dict[str, Any] = {
        "created": rfc3339(record.created),
        "updated": rfc3339(versions[-1][0] if versions else record.created),
        "deactivated": record.deactivated_at(at),
        "versionId": versions[-1][1] if versions else None,
        "name": record.name,
        "keyHistory": [k.to_json(str(record.did)) for k in record.keys],
        "steward": str(record.did) in state.stewards,
        "sequence": record.seq,
        "chainHeight": state.height,
        "chainSize": state.size,
    }
    if later:
        meta["nextVersionId"] = later[0][1]
    if record.deactivated is not None:
        meta["deactivatedAt"] = rfc3339(record.deactivated)
    return meta


def resolve(state: State, did: str, version_time: int | None, now: int) -> dict[str, Any]:
    """Resolve ``did`` as of ``version_time`` (or ``now``); see the module docstring.

    Raises:
        DidUrlError: not a did:keten DID (``invalidDid``).
        DidNotFoundError: unknown, or created after ``version_time`` (``notFound``).
    """
    KetenDid(did)
    record = state.dids.get(did)
    at = now if version_time is None else version_time
    if record is None or not record.existed_at(at):
        raise DidNotFoundError(f"{did} is not on this registry"
                               + ("" if record is None else " at that time"))
    keys: tuple[tuple[str, str], ...] = ()
    if not record.deactivated_at(at):
        keys = tuple((f"{did}#key-{k.number}", k.multikey) for k in record.keys
                     if k.active_at(at))
    return {
        "@context": "https://w3id.org/did-resolution/v1",
        "didDocument": _document(did, keys),
        "didDocumentMetadata": _metadata(record, at, state),
        "didResolutionMetadata": {"contentType": CONTENT_TYPE, "versionTime": rfc3339(at)},
    }


_ERRORS: tuple[tuple[type[RegistryError], str, int], ...] = (
    (DidNotFoundError, "notFound", 404),
    (MethodNotSupportedError, "methodNotSupported", 501),
    (RepresentationNotSupportedError, "representationNotSupported", 406),
    (InvalidDidUrlError, "invalidDidUrl", 400),
    (DidUrlError, "invalidDid", 400),
)


def _error_name(error: RegistryError) -> tuple[str, int]:
    for cls, name, status in _ERRORS:
        if isinstance(error, cls):
            return name, status
    return "invalidOptions", 400


def resolution_error(error: RegistryError, *, dereferencing: bool = False) -> dict[str, Any]:
    """A Universal Resolver error body that also carries the project's code and detail."""
    name, _ = _error_name(error)
    meta = {"error": name, "errorMessage": error.detail}
    if dereferencing:
        return {"error": error.code, "detail": error.detail, "contentStream": None,
                "contentMetadata": {}, "dereferencingMetadata": meta}
    return {"error": error.code, "detail": error.detail, "didDocument": None,
            "didDocumentMetadata": {}, "didResolutionMetadata": meta}


# --- the HTTP(S) binding ---------------------------------------------------------------------

_ANY_DID = re.compile(r"did:([a-z0-9]+):(?:(?:[A-Za-z0-9._-]|%[0-9A-Fa-f]{2})*:)*"
                      r"(?:[A-Za-z0-9._-]|%[0-9A-Fa-f]{2})+")
_FRAGMENT = re.compile(r"[A-Za-z0-9._~!$&'()*+,;=:@/?-]{1,128}")
_VERSION_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_DOCUMENT_TYPES = ("application/did+ld+json", "application/did+json")


@dataclass(frozen=True)
class Representation:
    """What to answer with: the resolution result or the bare document, as ``media_type``."""

    document: bool
    media_type: str


DEFAULT = Representation(document=False, media_type=RESULT_TYPE)


def negotiate(accept: str | None) -> Representation:
    """The representation for an ``Accept`` header (highest ``q`` first, then listed order).

    Raises:
        RepresentationNotSupportedError: nothing acceptable (``representationNotSupported``).
    """
    if accept is None or not accept.strip():
        return DEFAULT
    ranges: list[tuple[float, int, str, dict[str, str]]] = []
    for order, item in enumerate(accept.split(",")[:32]):
        media, *raw_params = (p.strip() for p in item.split(";"))
        params = {}
        for raw in raw_params:
            name, _, value = raw.partition("=")
            params[name.strip().lower()] = value.strip().strip('"')
        try:
            q = float(params.get("q", "1"))
        except ValueError:
            q = 0.0
        if q > 0 and media:
            ranges.append((-q, order, media.lower(), params))
    for _, _, media, params in sorted(ranges):
        if media in _DOCUMENT_TYPES:
            return Representation(document=True, media_type=media)
        if media == "application/did-resolution":
            return Representation(document=False, media_type=media)
        if media == "application/ld+json" and params.get("profile", RESOLUTION_PROFILE) \
                == RESOLUTION_PROFILE:
            return DEFAULT
        if media == "application/json":
            return Representation(document=False, media_type=media)
        if media in ("*/*", "application/*"):
            return DEFAULT
    raise RepresentationNotSupportedError(
        f"no representation of {accept[:120]!r}; this resolver answers "
        f"{RESULT_TYPE} (the resolution result, the default), application/did-resolution, "
        f"application/did+ld+json or application/did+json (the DID document)")


@dataclass(frozen=True)
class HttpAnswer:
    """A response of the resolution endpoint."""

    status: int
    media_type: str
    body: str


def _check_method(did: str) -> None:
    if not did.startswith("did:keten:"):
        match = _ANY_DID.fullmatch(did)
        if match is not None:
            raise MethodNotSupportedError(
                f"this registry resolves did:keten only, not did:{match.group(1)}")
    KetenDid(did)


def _version_at(state: State, did: str, query: Mapping[str, str], now: int) -> int | None:
    raw_time, version_id = query.get("versionTime"), query.get("versionId")
    if raw_time is not None and version_id is not None:
        raise InvalidOptionsError("give versionId or versionTime, not both")
    if version_id is None:
        return None if raw_time is None else parse_version_time(raw_time)
    if not _VERSION_ID.fullmatch(version_id):
        raise InvalidOptionsError(f"versionId is not a transaction id: {version_id[:40]!r}")
    record = state.dids.get(did)
    if record is None:
        raise DidNotFoundError(f"{did} is not on this registry")
    for at, tx_id in record.versions:
        if tx_id == version_id:
            return at
    raise VersionNotFoundError(f"{did} has no version {version_id!r}; didDocumentMetadata"
                               ".versionId and nextVersionId name its versions")


def _dereference(result: dict[str, Any], did_url: str, fragment: str,
                 representation: Representation) -> tuple[Any, str]:
    doc = result["didDocument"]
    method = next((m for m in doc.get("verificationMethod", []) if m.get("id") == did_url),
                  None)
    if method is None:
        when = result["didResolutionMetadata"]["versionTime"]
        raise FragmentNotFoundError(
            f"#{fragment} is not in the DID document at {when} (a key rotated away is in "
            "the document at a versionTime when it was valid; didDocumentMetadata.keyHistory "
            "lists them all)")
    content = {"@context": doc["@context"], **method}
    if representation.document:
        return content, representation.media_type
    return {"@context": RESOLUTION_CONTEXT, "contentStream": content,
            "contentMetadata": result["didDocumentMetadata"],
            "dereferencingMetadata": {
                "contentType": CONTENT_TYPE,
                "versionTime": result["didResolutionMetadata"]["versionTime"]}}, \
        representation.media_type


def answer(state: State, did_url: str, query: Mapping[str, str], accept: str | None,
           now: int) -> HttpAnswer:
    """``GET /1.0/identifiers/{did_url}``: resolve a DID or dereference a ``#fragment``.

    Every failure is an answer too: a resolution (or dereferencing) result carrying the
    error, with the status the binding gives it (400, 404, 406, 501).
    """
    did, hashmark, fragment = did_url.partition("#")
    try:
        representation = negotiate(accept)
    except RepresentationNotSupportedError as exc:
        return _error(exc, bool(hashmark), DEFAULT)
    try:
        if hashmark and not _FRAGMENT.fullmatch(fragment):
            raise InvalidDidUrlError(f"not a DID URL fragment: {fragment[:40]!r}")
        if "?" in did or "/" in did:
            raise InvalidDidUrlError("a did:keten DID URL may add only a #fragment; give "
                                     "versionId or versionTime as query parameters")
        _check_method(did)
        result = resolve(state, did, _version_at(state, did, query, now), now)
        if hashmark:
            body, media_type = _dereference(result, did_url, fragment, representation)
        elif representation.document:
            body, media_type = result["didDocument"], representation.media_type
        else:
            body, media_type = result, representation.media_type
    except RegistryError as exc:
        return _error(exc, bool(hashmark), representation)
    return HttpAnswer(200, media_type, strictjson.dumps(body))


def _error(error: RegistryError, dereferencing: bool,
           representation: Representation) -> HttpAnswer:
    _, status = _error_name(error)
    media_type = DEFAULT.media_type if representation.document else representation.media_type
    return HttpAnswer(status, media_type,
                      strictjson.dumps(resolution_error(error, dereferencing=dereferencing)))
