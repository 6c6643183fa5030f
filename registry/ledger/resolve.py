"""DID resolution for did:keten in the DIF Universal Resolver shape, at any point in time.

``resolve(state, did, version_time, now)`` answers with ``didDocument``,
``didDocumentMetadata`` and ``didResolutionMetadata``. The document lists the keys that were
the DID's key at ``version_time`` (default: now) and that are not known to be compromised by
then: a credential signed at ``iat`` verifies with a key taken from the document as of
``iat``, and a key rotated away later still resolves for it. The full key history, including
compromise times learnt later, is in ``didDocumentMetadata.keyHistory``.

Documents are built and validated with ``pydid``; a built document is cached because the
same few issuer keys are resolved over and over.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Any

import pydid

from registry.errors import RegistryError
from registry.ledger.didketen import DidUrlError, KetenDid
from registry.ledger.state import DidRecord, State

__all__ = ["CONTEXTS", "DidNotFoundError", "parse_version_time", "resolve", "rfc3339"]

CONTEXTS = ("https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1")
CONTENT_TYPE = "application/did+ld+json"
MAX_TIME = 253_402_300_799
"""9999-12-31T23:59:59Z: the last instant an RFC 3339 datetime can name."""


class DidNotFoundError(RegistryError):
    """The DID is not on the registry (or did not exist yet at the time asked for)."""

    code = "registry.did_not_found"


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


def resolution_error(error: RegistryError) -> dict[str, Any]:
    """A Universal Resolver error body that also carries the project's code and detail."""
    name = "notFound" if isinstance(error, DidNotFoundError) else (
        "invalidDid" if isinstance(error, DidUrlError) else "invalidOptions")
    return {"error": error.code, "detail": error.detail, "didDocument": None,
            "didDocumentMetadata": {},
            "didResolutionMetadata": {"error": name, "errorMessage": error.detail}}
