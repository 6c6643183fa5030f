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
``verify_vc`` is synchronous, so issuer keys are resolved first and then served from a cache::

    await client.prefetch_vc(token)                       # resolves iss as of iat
    vc = verify_vc(token, lookup=client.lookup_for_vc(), now=now, key_binding=policy)
    await client.require_accredited(vc.iss, vc.vct, vc.iat)
    if vc.status is not None and await client.status_of_ref(vc.status) != 0: ...
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol
from urllib.parse import quote, urlsplit

import aiohttp

from registry.author import Controller
from registry.chain import Chain
from registry.checkpoint import (
    Checkpoint,
    CheckpointStaleError,
    CosignatureVerifier,
    WitnessQuorumError,
    verify_checkpoint,
)
from registry.didketen import KetenDid, public_key_from_multikey, split_kid
from registry.errors import ProofError, RegistryError
from registry.merkle import leaf_hash, verify_consistency, verify_inclusion
from registry.note import NoteVerifier, b64decode_strict
from registry.tx import canonical
from ssiwallet.core import strictjson
from ssiwallet.core.jws import parse_header
from ssiwallet.core.keys import Ed25519PublicKey, PublicKey
from ssiwallet.core.sdjwt import SdJwt
from ssiwallet.core.sdjwt import parse as parse_sd_jwt
from ssiwallet.core.statuslist import (
    StatusListToken,
    StatusRef,
    parse_status_reference,
    status_of,
    verify_status_list_token,
)
from ssiwallet.core.vc import IssuerKeyLookup
from ssiwallet.errors import SsiError

__all__ = [
    "CheckpointStore", "ClientError", "FileCheckpointStore", "Genesis", "KeyNotValidError",
    "NotAccreditedError", "RegistryClient", "RegistryUnavailableError", "RemoteError",
    "Resolution", "TrustPolicy", "UntrustedResponseError",
]

MAX_RESPONSE = 8 << 20
"""Largest answer read from a node; more is treated as the node being unusable."""
KEY_CACHE_SECONDS = 300
"""How long a prefetched issuer key serves the synchronous ``verify_vc`` lookup."""
_CACHE_ENTRIES = 1024
_TX_ID = re.compile(r"[0-9a-f]{64}")
_LIST_ID = re.compile(r"[1-9A-HJ-NP-Za-km-z]{16,24}\.[a-z0-9][a-z0-9-]{0,31}")
_CODE = re.compile(r"[a-z][a-z0-9_]*(\.[a-z0-9_]+){1,3}")


class ClientError(RegistryError):
    """Root of this module's errors: no trustworthy answer could be had from the registry."""

    code = "registry.client_error"
    status = 502


class RemoteError(ClientError):
    """The node answered with an error: its ``code``, ``detail`` and ``http_status``."""

    def __init__(self, detail: str, *, code: str, http_status: int) -> None:
        super().__init__(detail, code=code)
        self.http_status = http_status


class RegistryUnavailableError(ClientError):
    """No answer (connection, timeout, oversized body): callers must fail closed."""

    code = "registry.unavailable"
    status = 503


class UntrustedResponseError(ClientError):
    """An answer that does not verify; ``code`` names why when the reason is worth telling.

    ``registry.genesis_mismatch``, ``registry.witness_quorum``, ``registry.checkpoint_stale``,
    ``registry.fork_detected``, ``registry.rollback``, ``registry.stale_response``; anything
    else (bad signature, malformed answer) keeps ``registry.untrusted``.
    """

    code = "registry.untrusted"


class KeyNotValidError(ClientError):
    """The kid was not an active, uncompromised key of a live DID at the time asked for."""

    code = "registry.key_not_valid"
    status = 422


class NotAccreditedError(ClientError):
    """The issuer was not accredited for the credential type at the time asked for."""

    code = "registry.not_accredited"
    status = 422


@dataclass(frozen=True)
class TrustPolicy:
    """What the caller requires before believing a node.

    Attributes:
        genesis_hash: hex sha256 of block 0's header; ``None`` trusts the first one seen.
        quorum: witness cosignatures required; ``None`` uses the genesis recommendation.
        max_age: seconds the quorum-th newest cosignature may be old; needs witnesses,
            since only they timestamp a tree head (``None``: freshness is not required).
        witnesses: witness vkeys to trust; ``None`` uses those named in genesis.
    """

    genesis_hash: str | None = None
    quorum: int | None = None
    max_age: int | None = None
    witnesses: list[str] | None = None


@dataclass(frozen=True)
class Genesis:
    """The trust anchors read from a validated block 0."""

    hash: str
    chain_id: str
    sequencer: Ed25519PublicKey
    log_verifier: NoteVerifier
    witnesses: tuple[CosignatureVerifier, ...]
    quorum: int


@dataclass(frozen=True)
class Resolution:
    """A DID resolution result (DIF Universal Resolver shape)."""

    document: dict[str, Any]
    metadata: dict[str, Any]
    raw: dict[str, Any]


class CheckpointStore(Protocol):
    """Keeps the last verified checkpoint note across restarts (fork/rollback protection)."""

    def load(self) -> str | None: ...

    def save(self, note: str) -> None: ...


@dataclass(frozen=True)
class FileCheckpointStore:
    """A checkpoint note in a file, replaced atomically so a crash never leaves half a note."""

    path: Path

    def load(self) -> str | None:
        try:
            return self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None

    def save(self, note: str) -> None:
        tmp = self.path.with_name(self.path.name + ".tmp")
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(note)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.path)


def _untrusted(detail: str, code: str | None = None) -> UntrustedResponseError:
    return UntrustedResponseError(detail, code=code)


def _hashes(value: object) -> list[bytes]:
    if not isinstance(value, list) or len(value) > 64 or not all(
            isinstance(v, str) for v in value):
        raise _untrusted("proof is not a list of base64 hashes")
    return [b64decode_strict(v, "proof hash", UntrustedResponseError) for v in value]


def _remote_error(status: int, body: bytes) -> RemoteError:
    code, detail = f"http.{status}", body[:200].decode("utf-8", "replace")
    with contextlib.suppress(SsiError):
        obj = strictjson.loads(body)
        if isinstance(obj, dict) and isinstance(obj.get("error"), str) and _CODE.fullmatch(
                obj["error"]):
            code, detail = obj["error"], str(obj.get("detail", ""))[:500]
    return RemoteError(detail, code=code, http_status=status)


class RegistryClient:
    """One registry node seen through a :class:`TrustPolicy`; see the module docstring.

    Args:
        base_url: the node, e.g. ``https://registry.example``; only it is ever fetched.
        session: a shared session (left open); without one the client owns and closes one.
        policy: the trust policy (default: trust on first use, genesis quorum, no max age).
        clock: POSIX seconds, a parameter so tests and replays can move time.
        timeout: seconds per request.
        checkpoint_store: where the tracked checkpoint survives restarts.
    """

    def __init__(self, base_url: str, *, session: aiohttp.ClientSession | None = None,
                 policy: TrustPolicy | None = None, clock: Callable[[], int] | None = None,
                 timeout: float = 10, checkpoint_store: CheckpointStore | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._base = urlsplit(self.base_url)
        if self._base.scheme not in ("http", "https") or not self._base.hostname or \
                self._base.query or self._base.fragment or self._base.username:
            raise ValueError(f"not a registry base URL: {base_url!r}")
        self.policy = policy or TrustPolicy()
        self._session, self._own_session = session, session is None
        self._clock: Callable[[], int] = clock or (lambda: int(time.time()))
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._store = checkpoint_store
        self._genesis: Genesis | None = None
        self._genesis_lock, self._checkpoint_lock = asyncio.Lock(), asyncio.Lock()
        self.tracked: Checkpoint | None = None
        """The newest verified checkpoint; ``tracked_note`` is its signed note."""
        self.tracked_note = ""
        self._fresh_at: int | None = None
        self._keys: OrderedDict[tuple[str, int], tuple[Ed25519PublicKey, int]] = OrderedDict()
        self._status: OrderedDict[str, tuple[StatusListToken, int]] = OrderedDict()

    async def __aenter__(self) -> RegistryClient:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the session if this client opened it."""
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None

    # ------------------------------------------------------------------ transport

    async def _fetch(self, method: str, path: str, *, params: Mapping[str, str] | None = None,
                     data: bytes | None = None) -> bytes:
        """One bounded request, no redirects; a transport failure is ``unavailable``."""
        if self._session is None:
            self._session = aiohttp.ClientSession()
        url = self.base_url + path
        headers = {"Content-Type": "application/json"} if data is not None else None
        try:
            async with self._session.request(method, url, params=params, data=data,
                                             headers=headers, allow_redirects=False,
                                             timeout=self._timeout) as resp:
                if resp.content_length is not None and resp.content_length > MAX_RESPONSE:
                    raise RegistryUnavailableError(f"{url}: answer larger than {MAX_RESPONSE}")
                body = bytearray()
                async for chunk in resp.content.iter_chunked(1 << 16):
                    body += chunk
                    if len(body) > MAX_RESPONSE:
                        raise RegistryUnavailableError(f"{url}: answer larger than {MAX_RESPONSE}")
                status = resp.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise RegistryUnavailableError(f"{method} {url}: {type(exc).__name__}: {exc}"
                                           ) from None
        if status >= 300:
            raise _remote_error(status, bytes(body))
        return bytes(body)

    async def _json(self, path: str, params: Mapping[str, str] | None = None) -> dict[str, Any]:
        body = await self._fetch("GET", path, params=params)
        try:
            return strictjson.loads_object(body, what="registry answer", max_bytes=MAX_RESPONSE)
        except SsiError as exc:
            raise _untrusted(f"{path}: malformed answer: {exc.detail}") from None

    def _check_size(self, value: object, what: str) -> None:
        """Refuse an answer about a tree smaller than the one already verified."""
        if type(value) is not int:
            raise _untrusted(f"{what}: answer names no tree size")
        if self.tracked is not None and value < self.tracked.size:
            raise _untrusted(f"{what}: answer is about tree size {value}, older than the "
                             f"verified {self.tracked.size}", "registry.stale_response")

    async def _guard(self) -> None:
        if self.policy.max_age is not None:
            await self.ensure_fresh()

    # ------------------------------------------------------------------ genesis

    async def genesis(self) -> Genesis:
        """Fetch, check and cache block 0 (once); every trust decision starts from it."""
        async with self._genesis_lock:
            if self._genesis is None:
                genesis = self._check_genesis(await self._json("/genesis"))
                self._load_stored_checkpoint(genesis)  # before use: it anchors fork detection
                self._genesis = genesis
        return self._genesis

    def _check_genesis(self, obj: dict[str, Any]) -> Genesis:
        header, txs = obj.get("header"), obj.get("txs")
        if not isinstance(header, dict) or not isinstance(txs, list) or not all(
                isinstance(t, dict) for t in txs):
            raise _untrusted("genesis answer without header and transactions")
        try:
            chain = Chain.from_genesis(canonical(header), [canonical(t) for t in txs])
        except SsiError as exc:
            raise _untrusted(f"genesis block does not validate: {exc.code}: {exc.detail}"
                             ) from None
        digest = chain.genesis.hash
        if obj.get("hash") != digest:
            raise _untrusted("genesis hash does not match its header")
        pin = self.policy.genesis_hash
        if pin is not None and pin.lower() != digest:
            raise _untrusted(f"genesis {digest} is not the pinned {pin}",
                             "registry.genesis_mismatch")
        state = chain.state
        vkeys = self.policy.witnesses
        try:
            witnesses = tuple(CosignatureVerifier.from_vkey(v) for v in (
                vkeys if vkeys is not None else [v for _, v in state.witnesses]))
        except SsiError as exc:
            raise ClientError(f"bad witness vkey: {exc.detail}", code="registry.bad_policy"
                              ) from None
        quorum = state.quorum if self.policy.quorum is None else self.policy.quorum
        names = len({w.name for w in witnesses})
        if not 0 <= quorum <= names or (self.policy.max_age is not None and not names):
            raise ClientError(f"policy needs {quorum} of {names} witnesses"
                              + (" and max_age needs one" if not names else ""),
                              code="registry.bad_policy")
        return Genesis(digest, state.chain, state.sequencer,
                       NoteVerifier(state.chain, state.sequencer), witnesses, quorum)

    def _track(self, g: Genesis, checkpoint: Checkpoint, note: str, cosigned: dict[str, int]
               ) -> None:
        need, times = max(g.quorum, 1), sorted(cosigned.values(), reverse=True)
        self.tracked, self.tracked_note = checkpoint, note
        self._fresh_at = times[need - 1] if len(times) >= need else None

    def _load_stored_checkpoint(self, g: Genesis) -> None:
        note = self._store.load() if self._store is not None else None
        if not note:
            return
        try:  # only the log signature matters here: it is the anchor for consistency
            checkpoint, cosigned = verify_checkpoint(note, g.log_verifier, g.witnesses, 0,
                                                     origin=g.chain_id)
        except SsiError as exc:
            raise ClientError(f"stored checkpoint does not verify: {exc.detail}",
                              code="registry.bad_checkpoint_store") from None
        self._track(g, checkpoint, note, cosigned)

    async def checkpoint(self) -> Checkpoint:
        """Fetch and verify the node's checkpoint, and prove it extends the tracked one.

        Raises:
            UntrustedResponseError: bad signature, quorum not met, stale, fork or rollback;
                the tracked checkpoint is then left as it was.
            RegistryUnavailableError: the node did not answer.
        """
        g = await self.genesis()
        async with self._checkpoint_lock:
            try:
                note = (await self._fetch("GET", "/checkpoint")).decode("utf-8")
            except UnicodeDecodeError:
                raise _untrusted("checkpoint is not UTF-8") from None
            max_age = self.policy.max_age
            try:
                checkpoint, cosigned = verify_checkpoint(
                    note, g.log_verifier, g.witnesses, g.quorum,
                    None if max_age is None else self._clock(), max_age, origin=g.chain_id)
            except (CheckpointStaleError, WitnessQuorumError) as exc:
                raise _untrusted(exc.detail, exc.code) from None
            except SsiError as exc:
                raise _untrusted(f"checkpoint does not verify: {exc.code}: {exc.detail}"
                                 ) from None
            held = self.tracked
            if held is not None and checkpoint.size < held.size:
                raise _untrusted(f"checkpoint size {checkpoint.size} is below the verified "
                                 f"{held.size}", "registry.rollback")
            if held is not None and checkpoint.size == held.size and \
                    checkpoint.root_hash != held.root_hash:
                raise _untrusted(f"two roots for tree size {held.size}", "registry.fork_detected")
            if held is not None and checkpoint.size > held.size:
                await self._prove_consistent(held, checkpoint)
            self._track(g, checkpoint, note, cosigned)
            if self._store is not None:
                self._store.save(note)
            return checkpoint

    async def _prove_consistent(self, old: Checkpoint, new: Checkpoint) -> None:
        obj = await self._json("/proofs/consistency", {"from": str(old.size),
                                                       "to": str(new.size)})
        if obj.get("from") != old.size or obj.get("to") != new.size:
            raise _untrusted("consistency proof for other tree sizes")
        try:
            verify_consistency(old.size, new.size, old.root_hash, new.root_hash,
                               _hashes(obj.get("proof")))
        except ProofError as exc:
            raise _untrusted(f"tree {new.size} does not extend the verified tree {old.size}: "
                             f"{exc.detail}", "registry.fork_detected") from None

    async def ensure_fresh(self) -> Checkpoint:
        """The tracked checkpoint if recent enough under ``max_age``, else a newly fetched one.

        Never assumes: if the node cannot be reached the error propagates (fail closed).
        """
        held, max_age = self.tracked, self.policy.max_age
        if held is not None and (max_age is None or (
                self._fresh_at is not None and self._fresh_at >= self._clock() - max_age)):
            return held
        return await self.checkpoint()

    async def verify_inclusion(self, tx_id: str) -> int:
        """Prove the transaction ``tx_id`` is in the tracked tree; return its leaf index."""
        if not isinstance(tx_id, str) or not _TX_ID.fullmatch(tx_id):
            raise ClientError("a transaction id is 64 lowercase hex digits",
                              code="registry.bad_parameter")
        held = await self.ensure_fresh()
        stored = await self._json(f"/txs/{tx_id}")
        tx, index = stored.get("tx"), stored.get("index")
        if not isinstance(tx, dict) or type(index) is not int:
            raise _untrusted("transaction answer without tx and index")
        try:
            data = canonical(tx)
        except SsiError:
            raise _untrusted("transaction has no canonical form") from None
        if hashlib.sha256(data).hexdigest() != tx_id:
            raise _untrusted("the transaction served does not hash to its id")
        if index >= held.size:
            held = await self.checkpoint()
        if index >= held.size:
            raise _untrusted("transaction is not under the node's own checkpoint")
        obj = await self._json("/proofs/inclusion", {"tx": tx_id, "size": str(held.size)})
        if obj.get("index") != index or obj.get("size") != held.size:
            raise _untrusted("inclusion proof for another index or size")
        try:
            verify_inclusion(leaf_hash(data), index, held.size, _hashes(obj.get("proof")),
                             held.root_hash)
        except ProofError as exc:
            raise _untrusted(f"inclusion proof: {exc.detail}") from None
        return index

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

    async def prefetch_issuer(self, iss: str, kid: str, at: int) -> Ed25519PublicKey:
        """Resolve ``kid`` (a key of ``iss``) as of ``at`` and cache it for the sync lookup."""
        if not _kid_of(iss, kid):
            raise KeyNotValidError(f"{str(kid)[:80]!r} is not a key of the issuer {iss}")
        key = await self.issuer_key(kid, at)
        self._keys[(kid, at)] = (key, self._clock())
        self._keys.move_to_end((kid, at))
        while len(self._keys) > _CACHE_ENTRIES:
            self._keys.popitem(last=False)
        return key

    async def prefetch_vc(self, presentation: str | Mapping[str, Any] | SdJwt) -> None:
        """Prefetch the keys an SD-JWT VC names (``iss`` as of ``iat``) before ``verify_vc``.

        A malformed credential is left for ``verify_vc`` to refuse with its own error code.
        """
        sd_jwt = presentation if isinstance(presentation, SdJwt) else parse_sd_jwt(presentation)
        claims = sd_jwt.unverified_claims
        iss, iat = claims.get("iss"), claims.get("iat")
        if not isinstance(iss, str) or type(iat) is not int:
            return
        for sig in sd_jwt.signatures:
            kid = parse_header(sig.protected).get("kid", sig.header.get("kid"))
            if isinstance(kid, str):
                await self.prefetch_issuer(iss, kid, iat)

    def lookup_for_vc(self) -> IssuerKeyLookup:
        """A synchronous ``verify_vc`` lookup answering from keys prefetched in the last
        :data:`KEY_CACHE_SECONDS`; anything else is refused (``registry.not_prefetched``)."""

        def lookup(iss: str, kid: str | None, *, at: int) -> PublicKey:
            if not _kid_of(iss, kid):
                raise KeyNotValidError(f"{str(kid)[:80]!r} is not a key of the issuer {iss}")
            assert kid is not None
            found = self._keys.get((kid, at))
            if found is None or found[1] + KEY_CACHE_SECONDS < self._clock():
                raise ClientError(f"{kid} at {at} was not prefetched (await prefetch_vc first)",
                                  code="registry.not_prefetched")
            return found[0]

        return lookup

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

    def _status_list_id(self, uri: object) -> str:
        """The list id if ``uri`` is exactly ``<base_url>/status/<list id>``; never others."""
        prefix = self.base_url + "/status/"
        if not isinstance(uri, str) or not uri.startswith(prefix) or not _LIST_ID.fullmatch(
                uri[len(prefix):]):
            raise ClientError(f"status list {str(uri)[:100]!r} is not on {self.base_url}",
                              code="registry.status_uri_refused")
        return uri[len(prefix):]

    async def status(self, uri: str) -> StatusListToken:
        """The verified status list token at ``uri``, cached until ``ttl`` (never past ``exp``).

        Only ``<base_url>/status/<list id>`` is fetched, rebuilt from the id, so a credential
        cannot make the client request an arbitrary URL.
        """
        list_id = self._status_list_id(uri)
        g = await self.genesis()
        await self._guard()
        now = self._clock()
        cached = self._status.get(uri)
        if cached is not None and now < cached[1]:
            return cached[0]
        body = await self._fetch("GET", f"/status/{list_id}")
        try:
            token = verify_status_list_token(body.decode("ascii"), key=g.sequencer,
                                             expected_sub=uri, now=now)
        except (UnicodeDecodeError, SsiError) as exc:
            raise _untrusted(f"status list token does not verify: {exc}") from None
        until = token.cache_until(now)
        if until is not None and until > now:
            self._status[uri] = (token, until)
            self._status.move_to_end(uri)
            while len(self._status) > _CACHE_ENTRIES:
                self._status.popitem(last=False)
        return token

    async def status_of_ref(self, status_claim: Mapping[str, Any] | StatusRef) -> int:
        """The status value a credential's ``status`` claim points at (0 = valid)."""
        ref = status_claim if isinstance(status_claim, StatusRef) else parse_status_reference(
            status_claim)
        return status_of(await self.status(ref.uri), ref)


def _kid_of(iss: str, kid: object) -> bool:
    try:
        return split_kid(kid)[0] == iss
    except SsiError:
        return False


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
