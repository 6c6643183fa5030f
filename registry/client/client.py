"""The async client issuers, verifiers and the wallet use to talk to a did:keten registry node.

A node is one party; nothing it says is taken on its word where it can be checked:

* ``/genesis`` must hash to the pinned genesis hash and validate as block 0, so the sequencer
  key and the witnesses come from a block the caller pinned (without a pin: trust on first use).
* Checkpoints must carry the log signature and ``quorum`` witness cosignatures (and, under
  ``max_age``, be recent); a newer one must be proven consistent with the one held, so a node
  can neither fork nor roll back a client it served before. Answers naming a tree smaller than
  the tracked checkpoint come from a lagging or lying node and are refused.
* Status list tokens are verified with the sequencer key and fetched only from this registry.

Every failure raises (fail closed): a verifier never gets "assume OK" from this module.
Issuer keys are found first, then handed to the pure, synchronous ``verify_vc``::

    keys = await client.issuer_keys(keys_named(token))   # each kid on the issuance day
    vc = verify_vc(token, keys=keys, now=now, key_binding=policy)
    if not await client.accredited_on_day(vc.iss, vc.vct, vc.iat): ...   # refuse
    if vc.status is not None and await client.status_of_ref(vc.status) != 0: ...
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

from registry.author import Controller
from registry.client.trust import MAX_RESPONSE, TrustedTransport
from registry.client.types import (
    CheckpointStore,
    ClientError,
    FileCheckpointStore,
    Genesis,
    KeyNotValidError,
    NotAccreditedError,
    RegistryUnavailableError,
    RemoteError,
    Resolution,
    TrustPolicy,
    UntrustedResponseError,
    _untrusted,
)
from registry.ledger.didketen import KetenDid, public_key_from_multikey, split_kid
from ssiwallet.core import strictjson
from ssiwallet.core.keys import Ed25519PublicKey
from ssiwallet.core.statuslist import (
    StatusListToken,
    StatusRef,
    parse_status_reference,
    status_of,
    verify_status_list_token,
)
from ssiwallet.core.values import StatusListId
from ssiwallet.core.vc import DAY, IssuerKeyRef
from ssiwallet.errors import BadValueError, SsiError

__all__ = [
    "MAX_RESPONSE", "CheckpointStore", "ClientError",
    "FileCheckpointStore", "Genesis", "KeyNotValidError", "NotAccreditedError",
    "RegistryClient", "RegistryUnavailableError", "RemoteError", "Resolution", "TrustPolicy",
    "UntrustedResponseError",
]

_CACHE_ENTRIES = 1024


class RegistryClient(TrustedTransport):
    """One registry node seen through a :class:`TrustPolicy`; see the module docstring.

    Constructed like :class:`~registry.client.trust.TrustedTransport` (same arguments).
    """

    # ------------------------------------------------------------------ transactions

    async def submit(self, tx_bytes: bytes) -> dict[str, Any]:
        """POST a signed transaction; the receipt ``{id, index, height}`` once it is durable."""
        body = await self._fetch("POST", "/txs", data=tx_bytes)
        try:
            return strictjson.loads_object(body, what="receipt")
        except SsiError as exc:
            raise _untrusted(f"malformed receipt: {exc.detail}") from None

    async def sequence(self, did: str) -> int:
        """The sequence number ``did``'s next transaction must carry."""
        value = (await self.resolve(did)).metadata.get("sequence")
        if type(value) is not int:
            raise _untrusted("resolution metadata without a sequence number")
        return value

    async def submit_signed(self, controller: Controller, tx_type: str,
                            body: dict[str, Any]) -> dict[str, Any]:
        """Sign with ``controller``'s current key at the registry's sequence number, submit."""
        g = await self.genesis()
        controller.seq = await self.sequence(controller.did)
        return await self.submit(controller.sign(g.chain_id, tx_type, body, self._clock()))

    # ------------------------------------------------------------------ DIDs and keys

    async def resolve(self, did: str, at: int | None = None) -> Resolution:
        """Resolve ``did`` as of ``at`` (Unix seconds; ``None`` = now).

        Raises:
            RemoteError: ``registry.did_not_found`` (404) when it did not exist then.
        """
        did = KetenDid(did)
        await self.genesis()
        await self._guard()
        params = None if at is None else {"versionTime": str(int(at))}
        obj = await self._json(f"/1.0/identifiers/{did}", params)
        doc, meta = obj.get("didDocument"), obj.get("didDocumentMetadata")
        if not isinstance(doc, dict) or not isinstance(meta, dict) or doc.get("id") != did:
            raise _untrusted(f"resolution of {did} is not its DID document")
        self._check_size(meta.get("chainSize"), "resolution")
        return Resolution(doc, meta, obj)

    async def issuer_key(self, kid: str, at: int) -> Ed25519PublicKey:
        """The key ``kid`` names if it was an active, uncompromised key of a live DID at ``at``.

        Raises:
            KeyNotValidError: not a did:keten kid, or not such a key then.
        """
        try:
            did, _ = split_kid(kid)
        except SsiError:
            raise KeyNotValidError(f"not a did:keten key id: {str(kid)[:80]!r}") from None
        try:
            res = await self.resolve(did, at)
        except RemoteError as exc:
            if exc.code == "registry.did_not_found":
                raise KeyNotValidError(f"{did} did not exist at {at}") from None
            raise
        methods = res.document.get("verificationMethod") or []
        method = next((m for m in methods if isinstance(m, dict) and m.get("id") == kid), None)
        history = res.metadata.get("keyHistory") or []
        entry = next((k for k in history if isinstance(k, dict) and k.get("id") == kid), {})
        if res.metadata.get("deactivated"):
            raise KeyNotValidError(f"{did} was deactivated at {at}")
        if method is None:
            raise KeyNotValidError(f"{kid} was not a valid key at {at}: {_why(entry, at)}")
        if method.get("type") != "Multikey" or method.get("controller") != did or \
                entry.get("publicKeyMultibase") != method.get("publicKeyMultibase") or \
                _why(entry, at) != "active":
            raise _untrusted(f"inconsistent resolution of {kid}")
        try:
            return public_key_from_multikey(method.get("publicKeyMultibase"))
        except SsiError:
            raise _untrusted(f"{kid} is not an Ed25519 Multikey") from None

    async def issuer_key_on_day(self, kid: str, iat: int, window: int = DAY
                                ) -> Ed25519PublicKey:
        """The key ``kid`` names if it signed validly at some moment of ``[iat, iat+window)``.

        SD-JWT VCs carry ``iat`` rounded down to the day, while keys change at block times
        within a day; so a key counts if it was the DID's key during the issuance day, and
        fails closed if it was compromised, or the DID deactivated, before that day ended.

        Raises:
            KeyNotValidError: not a did:keten kid, or no such key during the window.
        """
        try:
            did, _ = split_kid(kid)
        except SsiError:
            raise KeyNotValidError(f"not a did:keten key id: {str(kid)[:80]!r}") from None
        end = iat + window
        try:
            res = await self.resolve(did, end - 1)
        except RemoteError as exc:
            if exc.code == "registry.did_not_found":
                raise KeyNotValidError(f"{did} did not exist before {end}") from None
            raise
        if res.metadata.get("deactivated"):
            raise KeyNotValidError(f"{did} was deactivated before {end}")
        history = res.metadata.get("keyHistory") or []
        entry = next((k for k in history if isinstance(k, dict) and k.get("id") == kid), None)
        if entry is None:
            raise KeyNotValidError(f"{did} has no key {kid}")
        start, until, since = (entry.get(k) for k in ("validFrom", "validUntil",
                                                      "compromisedSince"))
        if not isinstance(start, int) or start >= end:
            raise KeyNotValidError(f"{kid} was not yet valid before {end}")
        if isinstance(until, int) and until <= iat:
            raise KeyNotValidError(f"{kid} was rotated away at {until}, before {iat}")
        if isinstance(since, int) and since < end:
            raise KeyNotValidError(f"{kid} is compromised since {since}")
        try:
            return public_key_from_multikey(entry.get("publicKeyMultibase"))
        except SsiError:
            raise _untrusted(f"{kid} is not an Ed25519 Multikey") from None

    async def accredited_on_day(self, issuer: str, vct: str, iat: int, window: int = DAY
                                ) -> bool:
        """Whether an accreditation covered ``vct`` during ``[iat, iat+window)`` and was not
        revoked before that window ended (the issuance-day rule, see ``issuer_key_on_day``)."""
        try:
            KetenDid(issuer)
        except SsiError:
            return False
        await self.genesis()
        await self._guard()
        end = iat + window
        obj = await self._json("/accreditations", {"issuer": issuer, "vct": vct,
                                                   "at": str(end - 1)})
        self._check_size(obj.get("size"), "accreditations")
        records = obj.get("accreditations")
        if obj.get("issuer") != issuer or not isinstance(records, list):
            raise _untrusted("accreditation answer is about another question")
        for acc in records:
            if not isinstance(acc, dict) or vct not in (acc.get("vcts") or []):
                continue
            start, until, revoked = (acc.get(k) for k in ("validFrom", "validUntil",
                                                          "revokedSince"))
            if not isinstance(start, int) or start >= end:
                continue
            if isinstance(until, int) and until <= iat:
                continue
            if isinstance(revoked, int) and revoked < end:
                continue
            return True
        return False

    async def issuer_keys(self, refs: Iterable[IssuerKeyRef]) -> dict[str, Ed25519PublicKey]:
        """The keys a credential names (see :func:`ssiwallet.core.vc.keys_named`) by ``kid``,
        each valid on the issuance day starting at its ``iat`` (:meth:`issuer_key_on_day`).

        Raises:
            KeyNotValidError: a key that was not valid then, or not a did:keten key id.
            ClientError: ``registry.*`` when no trustworthy answer could be had.
        """
        return {ref.kid: await self.issuer_key_on_day(ref.kid, ref.iat) for ref in refs}

    # ------------------------------------------------------------------ registry facts

    async def accredited(self, issuer: str, vct: str, at: int) -> bool:
        """Whether ``issuer`` was accredited for ``vct`` at ``at`` (never, if not did:keten)."""
        try:
            KetenDid(issuer)
        except SsiError:
            return False
        await self.genesis()
        await self._guard()
        obj = await self._json("/accreditations", {"issuer": issuer, "vct": vct, "at": str(at)})
        if (obj.get("issuer"), obj.get("vct"), obj.get("at")) != (issuer, vct, at) or \
                type(obj.get("accredited")) is not bool:
            raise _untrusted("accreditation answer is about another question")
        self._check_size(obj.get("size"), "accreditations")
        return bool(obj["accredited"])

    async def require_accredited(self, issuer: str, vct: str, at: int) -> None:
        """Raise :class:`NotAccreditedError` unless ``issuer`` was accredited for ``vct``."""
        if not await self.accredited(issuer, vct, at):
            raise NotAccreditedError(f"{issuer} was not accredited for {vct} at {at}")

    async def verifier(self, did: str) -> dict[str, Any] | None:
        """A verifier's registration (purpose, claims, ``active``), or ``None``."""
        did = KetenDid(did)
        obj = await self._optional(f"/verifiers/{did}")
        if obj is not None:
            if obj.get("verifier") != did:
                raise _untrusted("verifier answer is about another DID")
            self._check_size(obj.get("size"), "verifier")
        return obj

    async def schema(self, vct: str) -> dict[str, Any] | None:
        """The newest published schema and display names of ``vct``, or ``None``."""
        obj = await self._optional(f"/schemas/{quote(vct, safe=':')}")
        if obj is not None and obj.get("vct") != vct:
            raise _untrusted("schema answer is about another credential type")
        return obj

    async def _optional(self, path: str) -> dict[str, Any] | None:
        await self.genesis()
        await self._guard()
        try:
            return await self._json(path)
        except RemoteError as exc:
            if exc.http_status == 404 and exc.code == "registry.not_found":
                return None
            raise

    # ------------------------------------------------------------------ status lists

    def _status_list_id(self, uri: object) -> StatusListId:
        """The list id if ``uri`` is exactly ``<base_url>/status/<list id>``; never others."""
        prefix = self.base_url + "/status/"
        with contextlib.suppress(BadValueError):  # a bad id is refused just below
            if isinstance(uri, str) and uri.startswith(prefix):
                return StatusListId(uri[len(prefix):])
        raise ClientError(f"status list {str(uri)[:100]!r} is not on {self.base_url}",
                          code="registry.status_uri_refused")

    async def status(self, uri: str, *, max_age: int | None = None) -> StatusListToken:
        """The verified status list token at ``uri``, cached until ``ttl`` (never past ``exp``).

        ``max_age`` caps the cache for this call: a verifier that wants a revocation to count
        at the very next presentation passes 0 (a fresh token every time). Only
        ``<base_url>/status/<list id>`` is fetched, rebuilt from the id, so a credential
        cannot make the client request an arbitrary URL.
        """
        list_id = self._status_list_id(uri)
        g = await self.genesis()
        await self._guard()
        now = self._clock()
        cached = self._status.get(uri)
        if cached is not None and now < cached[1] and (max_age is None
                                                       or now - cached[2] < max_age):
            return cached[0]
        body = await self._fetch("GET", f"/status/{list_id}")
        try:
            token = verify_status_list_token(body.decode("ascii"), key=g.sequencer,
                                             expected_sub=uri, now=now)
        except (UnicodeDecodeError, SsiError) as exc:
            raise _untrusted(f"status list token does not verify: {exc}") from None
        until = token.cache_until(now)
        if until is not None and until > now:
            self._status[uri] = (token, until, now)
            self._status.move_to_end(uri)
            while len(self._status) > _CACHE_ENTRIES:
                self._status.popitem(last=False)
        return token

    async def status_of_ref(self, status_claim: Mapping[str, Any] | StatusRef, *,
                            max_age: int | None = None) -> int:
        """The status value a credential's ``status`` claim points at (0 = valid)."""
        ref = status_claim if isinstance(status_claim, StatusRef) else parse_status_reference(
            status_claim)
        return status_of(await self.status(ref.uri, max_age=max_age), ref)


def _why(entry: Mapping[str, Any], at: int) -> str:
    """Why a key history entry was (not) a valid key at ``at``, for error details."""
    if not entry:
        return "no such key"
    since, start, until = (entry.get(k) for k in ("compromisedSince", "validFrom",
                                                    "validUntil"))
    if isinstance(since, int) and since <= at:
        return f"compromised since {since}"
    if not isinstance(start, int) or start > at:
        return "not yet valid"
    if isinstance(until, int) and until <= at:
        return f"rotated away at {until}"
    return "active"
