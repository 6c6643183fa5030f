"""Transport, genesis pinning and checkpoint tracking used by :mod:`registry.client.client`.

:class:`TrustedTransport` is the base of :class:`registry.client.client.RegistryClient`: it owns the
HTTP session and every check that makes a node's answers believable (genesis pin, witness
quorum, freshness, consistency and inclusion proofs); the lookups live in the subclass.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections import OrderedDict
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlencode, urlsplit

import aiohttp

from registry.client.types import (
    CheckpointStore,
    ClientError,
    Genesis,
    RegistryUnavailableError,
    TrustPolicy,
    UntrustedResponseError,
    _remote_error,
    _untrusted,
)
from registry.errors import ProofError
from registry.ledger.chain import Chain
from registry.ledger.tx import canonical
from registry.tlog.checkpoint import (
    Checkpoint,
    CheckpointStaleError,
    CosignatureVerifier,
    WitnessQuorumError,
    verify_checkpoint,
)
from registry.tlog.merkle import leaf_hash, verify_consistency, verify_inclusion
from registry.tlog.note import NoteVerifier, b64decode_strict
from ssiwallet.core import strictjson
from ssiwallet.core.statuslist import StatusListToken
from ssiwallet.errors import SsiError
from ssiwallet.infra.clock import Clock, system_clock
from ssiwallet.infra.http import Http, HttpError, TooLargeError, Transport

__all__ = ["MAX_RESPONSE", "TrustedTransport"]

MAX_RESPONSE = 8 << 20
"""Largest answer read from a node; more is treated as the node being unusable."""
_TX_ID = re.compile(r"[0-9a-f]{64}")


def _hashes(value: object) -> list[bytes]:
    if not isinstance(value, list) or len(value) > 64 or not all(
            isinstance(v, str) for v in value):
        raise _untrusted("proof is not a list of base64 hashes")
    return [b64decode_strict(v, "proof hash", UntrustedResponseError) for v in value]


class TrustedTransport:
    """The transport and trust state of one registry node seen through a :class:`TrustPolicy`.

    It fetches (bounded, no redirects, only from ``base_url``), pins and validates genesis,
    and tracks the newest verified checkpoint; :class:`registry.client.client.RegistryClient` adds
    the lookups on top. See the :mod:`registry.client.client` docstring for what is checked.

    Args:
        base_url: the node, e.g. ``https://registry.example``; only it is ever fetched.
        session: a caller-owned session (left open); without one the client owns and closes one.
        transport: an :class:`ssiwallet.infra.http.Transport` to send through instead (a
            ``MockTransport`` in tests); the caller owns it.
        policy: the trust policy (default: trust on first use, genesis quorum, no max age).
        clock: POSIX seconds, a parameter so tests and replays can move time.
        timeout: seconds per request.
        checkpoint_store: where the tracked checkpoint survives restarts.
    """

    def __init__(self, base_url: str, *, session: aiohttp.ClientSession | None = None,
                 transport: Transport | None = None,
                 policy: TrustPolicy | None = None, clock: Callable[[], int] | None = None,
                 timeout: float = 10, checkpoint_store: CheckpointStore | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._base = urlsplit(self.base_url)
        if self._base.scheme not in ("http", "https") or not self._base.hostname or \
                self._base.query or self._base.fragment or self._base.username:
            raise ValueError(f"not a registry base URL: {base_url!r}")
        self.policy = policy or TrustPolicy()
        self._http = Http(transport, session=session)
        self._own_transport = transport is None
        self._clock: Clock = clock or system_clock
        self._timeout = float(timeout)
        self._store = checkpoint_store
        self._genesis: Genesis | None = None
        self._genesis_lock, self._checkpoint_lock = asyncio.Lock(), asyncio.Lock()
        self.tracked: Checkpoint | None = None
        """The newest verified checkpoint; ``tracked_note`` is its signed note."""
        self.tracked_note = ""
        self._fresh_at: int | None = None
        # verified status list tokens, until their ttl (see RegistryClient.status)
        self._status: OrderedDict[str, tuple[StatusListToken, int, int]] = OrderedDict()

    def now(self) -> int:
        """The client's clock (Unix seconds): what caches and freshness are judged by."""
        return self._clock()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the session if this client opened it (a caller's session or transport stays)."""
        if self._own_transport:
            await self._http.close()

    # ------------------------------------------------------------------ transport

    async def _fetch(self, method: str, path: str, *, params: Mapping[str, str] | None = None,
                     data: bytes | None = None) -> bytes:
        """One bounded request, no redirects; a transport failure is ``unavailable``."""
        url = self.base_url + path + (f"?{urlencode(params)}" if params else "")
        headers = {"Content-Type": "application/json"} if data is not None else None
        try:
            resp = await self._http.request(method, url, body=data, headers=headers,
                                            max_bytes=MAX_RESPONSE, timeout=self._timeout)
        except TooLargeError:
            raise RegistryUnavailableError(f"{url}: answer larger than {MAX_RESPONSE}") from None
        except HttpError as exc:
            raise RegistryUnavailableError(exc.detail) from None
        if resp.status >= 300:
            raise _remote_error(resp.status, resp.body)
        return resp.body

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
