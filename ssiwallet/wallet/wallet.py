"""The holder's wallet: one object the CLI and the TUI share, with every flow as a method.

Reading (:meth:`Wallet.cards`, :meth:`Wallet.history`) is local. The flows that talk to the
world are ``async`` and open their own HTTP session and registry client
(:mod:`ssiwallet.wallet.net`):

* :meth:`Wallet.receive`: OpenID4VCI pre-authorized code flow, N bound copies, each checked
  against the registry (:mod:`ssiwallet.holder.receive`) *before* anything is stored;
* :meth:`Wallet.prepare` then :meth:`Wallet.present` or :meth:`Wallet.decline`: OpenID4VP
  with the consent step in between (:mod:`ssiwallet.holder.present`); each verifier gets a
  copy no other verifier has seen (the same one on every visit), marked used *before* it
  leaves, and the verified receipt goes into the history (every disclosure that left is
  there, with a receipt or marked as without one);
* :meth:`Wallet.refresh`: status and accreditation of every credential from the registry.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import nacl.utils

from registry.client.client import ClientError
from ssiwallet.core.dcql_match import Candidate
from ssiwallet.core.oid4vci import parse_offer_uri
from ssiwallet.core.oid4vp import parse_request_uri
from ssiwallet.core.values import HttpOrigin
from ssiwallet.errors import WalletError
from ssiwallet.holder import present as vp
from ssiwallet.holder.receive import ReceivedCredential, fetch_offer
from ssiwallet.holder.receive import receive as vci_receive
from ssiwallet.infra.clock import Clock, system_clock
from ssiwallet.wallet import backup as backups
from ssiwallet.wallet import records as rec
from ssiwallet.wallet.net import Online, check_endpoint, online
from ssiwallet.wallet.records import SENT, CredentialCard, HistoryEntry
from ssiwallet.wallet.refresh import check_all
from ssiwallet.wallet.sealed import DEFAULT_KDF, KdfParams
from ssiwallet.wallet.store import Store

__all__ = ["Wallet"]


def _new_id() -> str:
    return nacl.utils.random(8).hex()


class _Checkpoints:
    """The registry client's checkpoint, kept (sealed) in the wallet's settings."""

    def __init__(self, wallet: Wallet) -> None:
        self._wallet = wallet

    def load(self) -> str | None:
        return self._wallet.setting("checkpoint")

    def save(self, note: str) -> None:
        self._wallet.set_setting("checkpoint", note)


class Wallet:
    """An unlocked wallet. Use :meth:`create` or :meth:`unlock`."""

    def __init__(self, store: Store, *, clock: Callable[[], int] | None = None) -> None:
        self.store = store
        self.clock: Clock = clock or system_clock

    @classmethod
    def create(cls, home: Path, passphrase: str, *, registry_url: str | None = None,
               genesis_hash: str | None = None, kdf: KdfParams = DEFAULT_KDF,
               clock: Callable[[], int] | None = None) -> Wallet:
        wallet = cls(Store.create(home, passphrase, kdf), clock=clock)
        if registry_url:
            wallet.set_registry(registry_url, genesis_hash)
        return wallet

    @classmethod
    def unlock(cls, home: Path, passphrase: str, *, accept_rollback: bool = False,
               clock: Callable[[], int] | None = None) -> Wallet:
        """Open the wallet in ``home``; an older file than this computer saw is refused
        (``wallet.rollback``) unless ``accept_rollback`` (see :meth:`Store.unlock`)."""
        return cls(Store.unlock(home, passphrase, accept_rollback=accept_rollback),
                   clock=clock)

    def close(self) -> None:
        """Drop the in-memory database (the file is always up to date)."""
        self.store.close()

    # ------------------------------------------------------------------ settings
    def setting(self, key: str) -> str | None:
        row = self.store.read().execute("SELECT value FROM settings WHERE key = ?",
                                        (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_setting(self, key: str, value: str | None) -> None:
        with self.store.transaction() as db:
            if value is None:
                db.execute("DELETE FROM settings WHERE key = ?", (key,))
            else:
                db.execute("INSERT OR REPLACE INTO settings VALUES (?, ?)", (key, value))

    def set_registry(self, url: str, genesis_hash: str | None = None) -> None:
        """Trust the registry at ``url`` (pinned to ``genesis_hash``, else to the first seen).

        Changing the registry forgets the old pin and checkpoint.

        Raises:
            BadValueError: ``input.bad_url`` if ``url`` is not an http(s) origin.
        """
        url = HttpOrigin(url)
        if url == self.registry_url and (genesis_hash or None) in (None, self.setting("genesis")):
            return  # unchanged: keep the pin and the checkpoint
        with self.store.transaction() as db:
            db.execute("DELETE FROM settings WHERE key IN ('genesis', 'checkpoint')")
            db.execute("INSERT OR REPLACE INTO settings VALUES ('registry', ?)", (str(url),))
            if genesis_hash:
                db.execute("INSERT INTO settings VALUES ('genesis', ?)", (genesis_hash,))

    @property
    def registry_url(self) -> str | None:
        return self.setting("registry")

    # ------------------------------------------------------------------ reading
    def cards(self) -> list[CredentialCard]:
        """Every credential, newest first."""
        rows = self.store.read().execute(rec.CARD_SQL + " ORDER BY c.received_at DESC, c.id")
        return [rec.card_from_row(r) for r in rows]

    def card(self, ident: str) -> CredentialCard:
        """The credential whose id is ``ident`` or starts with it (unambiguously).

        Raises:
            WalletError: ``wallet.unknown_credential``.
        """
        found = [c for c in self.cards() if c.id.startswith(ident)] if ident else []
        if len(found) != 1:
            raise WalletError(f"no single credential with id {ident!r}",
                              code="wallet.unknown_credential")
        return found[0]

    def history(self) -> list[HistoryEntry]:
        """Every answer given to a verifier, newest first."""
        rows = self.store.read().execute(rec.HISTORY_SQL + " ORDER BY at DESC, rowid DESC")
        return [rec.history_from_row(r) for r in rows]

    def copies(self, credential_id: str) -> list[rec.CopyRow]:
        rows = self.store.read().execute(rec.COPY_SQL + " WHERE credential_id = ? ORDER BY id",
                                         (credential_id,))
        return [rec.copy_from_row(r) for r in rows]

    # ------------------------------------------------------------------ deleting
    def delete(self, ident: str) -> CredentialCard:
        """Delete one credential and all its copies (the history keeps what was shown)."""
        card = self.card(ident)
        with self.store.transaction() as db:
            db.execute("DELETE FROM credentials WHERE id = ?", (card.id,))
        return card

    def delete_all(self) -> None:
        """Delete the whole wallet: credentials, keys, history and settings."""
        self.store.destroy()

    # ------------------------------------------------------------------ backups
    def backup(self, path: Path, passphrase: str, *, kdf: KdfParams = DEFAULT_KDF) -> int:
        """Write a sealed backup of everything to ``path``; its generation."""
        return backups.write_backup(self.store, path, passphrase, kdf).generation

    def restore(self, path: Path, passphrase: str) -> backups.RestoreReport:
        """Bring a backup in: an exact copy into an empty wallet, else a merge."""
        return backups.restore(self.store, backups.read_backup(path, passphrase))

    # ------------------------------------------------------------------ network flows
    @asynccontextmanager
    async def online(self) -> AsyncIterator[Online]:
        url = self.registry_url
        if not url:
            raise WalletError("no registry is set: `ssiwallet init --registry URL` or the "
                              "settings screen", code="wallet.no_registry")
        async with online(HttpOrigin(url), genesis_hash=self.setting("genesis"),
                          checkpoints=_Checkpoints(self), clock=self.clock,
                          on_genesis=lambda h: self.set_setting("genesis", h)) as net:
            yield net

    async def receive(self, uri: str, *, pin: str | None, copies: int = 10) -> CredentialCard:
        """Redeem an offer link and store the verified copies (all or nothing)."""
        async with self.online() as net:
            parsed = parse_offer_uri(uri)
            check_endpoint(parsed if isinstance(parsed, str) else parsed.credential_issuer,
                           dev=net.dev, what="the issuer")
            offer = await fetch_offer(uri, net.http)
            check_endpoint(offer.credential_issuer, dev=net.dev, what="the issuer")
            got = await vci_receive(offer, tx_code=pin, session=net.http,
                                    registry=net.registry, copies=copies, clock=self.clock)
            name = await self._issuer_name(net, got.copies[0].verified.iss)
        return self._store_received(got, name)

    async def _issuer_name(self, net: Online, did: str) -> str:
        try:
            meta = (await net.registry.resolve(did)).metadata
        except ClientError:  # the name is a nicety; the DID stands in for it
            return did
        name = meta.get("name")
        return name if isinstance(name, str) and name else did

    def _store_received(self, got: ReceivedCredential, issuer_name: str) -> CredentialCard:
        first = got.copies[0].verified
        cid = _new_id()
        display = {"issuer": got.issuer_display, "credential": got.credential_display,
                   "claims": []}
        with self.store.transaction() as db:
            db.execute("INSERT INTO credentials VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", (
                cid, self.clock(), got.vct, first.iss, got.issuer_url, got.configuration_id,
                json.dumps(got.claims), json.dumps(display), issuer_name,
                int(got.accredited), first.iat,
                None if first.exp is None else int(first.exp), "valid", self.clock()))
            db.executemany("INSERT INTO copies VALUES (?,?,?,?,NULL,NULL)", [
                (_new_id(), cid, c.credential, c.holder_key.seed) for c in got.copies])
        return self.card(cid)

    async def prepare(self, uri: str) -> vp.Plan:
        """Read and verify a presentation request; nothing leaves the wallet yet."""
        async with self.online() as net:
            check_endpoint(parse_request_uri(uri)[1], dev=net.dev, what="the verifier")
            plan = await vp.prepare(uri, candidates=self._candidates(), session=net.http,
                                    registry=net.registry, clock=self.clock)
            check_endpoint(plan.request.response_uri, dev=net.dev, what="the verifier")
        return plan

    def _candidates(self) -> list[Candidate]:
        now = self.clock()
        usable = [c for c in self.cards() if c.state(now) in ("valid", "unknown")
                  and c.copies_total > 0]
        return [Candidate(c.id, "dc+sd-jwt", c.vct, c.claims) for c in usable]

    def _take_copies(self, plan: vp.Plan) -> dict[str, rec.CopyRow]:
        """Choose and mark one copy per credential: the one this verifier already saw,
        else a copy no verifier has seen (marked used, with the verifier, before it
        leaves). Visiting one verifier again never uses up the copies meant for others."""
        chosen: dict[str, rec.CopyRow] = {}
        with self.store.transaction() as db:
            for match in plan.matches.values():
                cid = match.candidate_id
                row = db.execute(rec.COPY_SQL + " WHERE credential_id = ? AND used_for = ? "
                                 "ORDER BY used_at DESC, id LIMIT 1",
                                 (cid, plan.verifier)).fetchone()
                if row is None:
                    row = db.execute(rec.COPY_SQL + " WHERE credential_id = ? AND used_at IS "
                                     "NULL ORDER BY random() LIMIT 1", (cid,)).fetchone()
                if row is None:
                    raise WalletError("no unused copy of this credential is left; ask the "
                                      "issuer for new copies", code="wallet.no_fresh_copy")
                pick = rec.copy_from_row(row)
                db.execute("UPDATE copies SET used_at = ?, used_for = ? WHERE id = ?",
                           (self.clock(), plan.verifier, pick.id))
                chosen[cid] = pick
        return chosen

    async def present(self, plan: vp.Plan) -> HistoryEntry:
        """Send what ``plan`` says (after consent) and keep the verified receipt.

        Every disclosure that left is in the history, receipt or not: ``sent`` for a
        verifier that answers without a Keten receipt (OpenID4VP 1.0 §8.2; the returned
        entry carries its ``redirect_uri``, never followed), and an entry saying what went
        wrong when the answer fails after the data left, before the error is raised.

        Raises:
            SentError: the data left but the answer failed (recorded first).
        """
        chosen = self._take_copies(plan)
        try:
            async with self.online() as net:
                result = await vp.send(plan, copies={k: (c.token, c.holder_key)
                                                     for k, c in chosen.items()},
                                       session=net.http, registry=net.registry,
                                       clock=self.clock)
        except vp.SentError as exc:
            self._record(plan, _failed_outcome(exc), [exc.code], exc.receipt_jwt, None)
            exc.detail += " (the claims were sent: the history keeps what left)"
            exc.args = (exc.detail,)
            raise
        if result.receipt is None:
            entry = self._record(plan, SENT, [], None, None)
            return dataclasses.replace(entry, redirect_uri=result.redirect_uri)
        entry = self._record(plan, "accepted" if result.accepted else "refused", result.reasons,
                             result.receipt_jwt, _receipt_json(result.receipt))
        if not result.accepted:
            await self.refresh(only=list(chosen))
        return dataclasses.replace(entry, redirect_uri=result.redirect_uri)

    async def decline(self, plan: vp.Plan) -> HistoryEntry:
        """Tell the verifier no; the history keeps that nothing was shown."""
        async with self.online() as net:
            await vp.decline(plan, session=net.http)
        return self._record(plan, "declined", [], None, None, shown=False)

    def _record(self, plan: vp.Plan, outcome: str, reasons: list[str], receipt_jwt: str | None,
                receipt: dict[str, Any] | None, *, shown: bool = True) -> HistoryEntry:
        hid = _new_id()
        disclosed = {k: [list(p) for p in v] for k, v in plan.leaving.items()} if shown else {}
        with self.store.transaction() as db:
            db.execute("INSERT INTO history VALUES (?,?,?,?,?,?,?,?,?,?,?)", (
                hid, self.clock(), plan.verifier, plan.name, json.dumps(plan.purpose), outcome,
                json.dumps(sorted(plan.leaving)), json.dumps(disclosed), json.dumps(reasons),
                None if receipt is None else json.dumps(receipt), receipt_jwt))
        return next(h for h in self.history() if h.id == hid)

    async def refresh(self, only: list[str] | None = None) -> list[CredentialCard]:
        """Ask the registry for each credential's status and its issuer's accreditation."""
        cards = [c for c in self.cards() if only is None or c.id in only]
        copies = {c.id: self.copies(c.id) for c in cards}
        async with self.online() as net:
            updates = await check_all(cards, copies, net, self.clock())
        with self.store.transaction() as db:
            db.executemany("UPDATE credentials SET status = ?, accredited = ?, checked_at = ? "
                           "WHERE id = ?", updates)
        return self.cards()


def _failed_outcome(exc: vp.SentError) -> str:
    """The history's word for an answer that failed after the data left."""
    if exc.receipt_jwt is not None:
        return "sent, receipt invalid"
    if not exc.answered:
        return "maybe sent, no answer"
    if exc.code == "oid4vp.response_refused":
        return "sent, verifier error"
    return "sent, answer unreadable"


def _receipt_json(receipt: Any) -> dict[str, Any]:
    return {"jti": receipt.jti, "iat": receipt.iat, "result": receipt.result,
            "retention": receipt.retention,
            "purpose": {"nl": receipt.purpose.nl, "en": receipt.purpose.en},
            "received": [r.to_json() for r in receipt.received]}
