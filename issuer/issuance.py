"""The nonce and credential endpoints, and changing a credential's status.

A credential request is checked completely (access token, configuration, every key proof,
every ``c_nonce``) before anything is written; then one transaction marks the nonces used,
takes a random status index per copy, signs the copies, records the credential, consumes
the access token and deletes the sealed claims. A request that fails anywhere changes
nothing; one that succeeds cannot be replayed.

Decisions:

* ``c_nonce`` values are stateless (an expiry and random bytes under an HMAC with a key
  held in memory), so the unauthenticated nonce endpoint writes nothing; a nonce is
  recorded only when a credential request uses it, and kept until it would expire anyway.
  A restart invalidates outstanding nonces: the wallet gets ``invalid_nonce`` and asks again.
* Every copy gets a status index drawn uniformly at random from the unused indices of the
  current list, so indices say nothing about issuance order. A list is filled to 75 % at
  most; then a new one (``<name>-2``, …) is created on the registry.
* Revoking is final; suspending can be undone. One ``status.update`` covers all copies.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import struct
from collections.abc import Mapping
from typing import Any

from issuer.config import IssuerConfig
from issuer.errors import ConflictError, CredentialRequestError, NotFoundError
from issuer.offers import OfferDesk, issuance_claims, today
from issuer.registry_link import RegistryLink
from issuer.store import CredentialRecord, IssuerStore, open_claims, secret_hash
from ssiwallet.core.b64 import b64u_decode, b64u_encode
from ssiwallet.core.oid4vci import VerifiedProof, verify_proofs
from ssiwallet.core.statuslist import StatusRef
from ssiwallet.core.vc import issue_vc
from ssiwallet.errors import InputError, Oid4vciError

__all__ = ["STATUS_VALUES", "Issuance", "Nonces", "new_credential_id"]

STATUS_VALUES = {"valid": 0, "revoked": 1, "suspended": 2}
NONCE_LIFETIME = 300
FILL_LIMIT = 0.75


class Nonces:
    """Stateless ``c_nonce`` values: ``b64u(expiry ‖ random ‖ HMAC)``."""

    def __init__(self, lifetime: int = NONCE_LIFETIME, key: bytes | None = None) -> None:
        self.lifetime = lifetime
        self._key = key or secrets.token_bytes(32)

    def _mac(self, body: bytes) -> bytes:
        return hmac.new(self._key, b"keten/issuer/c_nonce" + body, hashlib.sha256).digest()[:16]

    def issue(self, now: int) -> str:
        body = struct.pack(">Q", now + self.lifetime) + secrets.token_bytes(16)
        return b64u_encode(body + self._mac(body))

    def check(self, nonce: str | None, now: int) -> int:
        """The nonce's expiry if this issuer made it and it has not expired.

        Raises:
            CredentialRequestError: ``invalid_nonce`` (``issuer.invalid_nonce``).
        """
        try:
            raw = b64u_decode(nonce or "", what="c_nonce")
        except InputError:
            raw = b""
        body, mac = raw[:24], raw[24:]
        if len(raw) != 40 or not hmac.compare_digest(mac, self._mac(body)):
            raise CredentialRequestError("the c_nonce was not issued here",
                                         code="issuer.invalid_nonce", oauth="invalid_nonce")
        expires = int(struct.unpack(">Q", body[:8])[0])
        if expires <= now:
            raise CredentialRequestError("the c_nonce has expired; fetch a new one",
                                         code="issuer.invalid_nonce", oauth="invalid_nonce")
        return expires



def new_credential_id() -> str:
    """A random credential id (12 bytes, base64url) that never starts with ``-``, so a clerk
    can type it as an argument (``ssi-issuer revoke ID``) without it reading as an option."""
    while True:
        credential_id = secrets.token_urlsafe(12)
        if not credential_id.startswith("-"):
            return credential_id

class Issuance:
    """Credential issuance and status changes for one issuer."""

    def __init__(self, config: IssuerConfig, store: IssuerStore, desk: OfferDesk,
                 link: RegistryLink, nonces: Nonces | None = None) -> None:
        self.config = config
        self.store = store
        self.desk = desk
        self.link = link
        self.nonces = nonces or Nonces()

    async def current_list(self, room: int, now: int) -> tuple[str, int]:
        """A status list with ``room`` free indices below the fill limit, created if needed."""
        lists = self.store.status_lists()
        if lists:
            list_id, size = lists[-1]
            if self.store.used_indices(list_id) + room <= int(size * FILL_LIMIT):
                return list_id, size
        name = f"{self.config.status_list}-{len(lists) + 1}"
        size = self.config.status_list_size
        list_id = await self.link.ensure_status_list(name, size)
        self.store.add_status_list(list_id, size, now)
        return list_id, size

    def _check_proofs(self, body: Mapping[str, Any], now: int) -> list[VerifiedProof]:
        if "credential_response_encryption" in body:
            raise CredentialRequestError("this issuer does not encrypt responses",
                                         code="issuer.no_encryption",
                                         oauth="invalid_encryption_parameters")
        try:
            return verify_proofs(body.get("proofs"), aud=self.config.public_url, now=now,
                                 batch_size=self.config.batch_size)
        except Oid4vciError as exc:
            raise CredentialRequestError(exc.detail, code=exc.code.replace("oid4vci.", "issuer."),
                                         oauth="invalid_proof") from None

    async def credential(self, authorization: str | None, body: object, *, now: int
                         ) -> dict[str, Any]:
        """The credential endpoint (OpenID4VCI §8): N proofs in, N bound copies out."""
        offer, token = self.desk.redeem(authorization, now=now)
        if not isinstance(body, dict):
            raise CredentialRequestError("the credential request must be a JSON object")
        self.desk.check_config(offer, body)
        proofs = self._check_proofs(body, now)
        expiries = {p.nonce: self.nonces.check(p.nonce, now) for p in proofs}
        conf = self.config.credentials[offer.config_id]
        list_id, size = await self.current_list(len(proofs), now)
        token_hash = secret_hash("keten/issuer/token", token)
        controller = self.link.controller
        credential_id = new_credential_id()
        with self.store.transaction():
            current = self.store.offer(offer.id)
            if self.store.token(token_hash) is None or current is None or current.sealed is None:
                raise CredentialRequestError("the access token was used meanwhile",
                                             code="issuer.token_used",
                                             oauth="credential_request_denied")
            for nonce, expires in expiries.items():
                if not self.store.use_nonce(secret_hash("keten/issuer/nonce", str(nonce)),
                                            expires):
                    raise CredentialRequestError("the c_nonce was already used",
                                                 code="issuer.invalid_nonce",
                                                 oauth="invalid_nonce")
            claims = issuance_claims(conf.vct, open_claims(current.sealed, token), today(now))
            indices = [self._take_index(list_id, size) for _ in proofs]
            uri = self.link.status_uri(list_id)
            copies = [issue_vc(issuer=str(controller.did), kid=controller.kid,
                               key=controller.key, vct=conf.vct, claims=claims,
                               holder_jwk=proof.jwk, now=now, validity=conf.validity,
                               status=StatusRef(idx, uri)).compact()
                      for proof, idx in zip(proofs, indices, strict=True)]
            expires_at = None if conf.validity is None else now + conf.validity
            self.store.add_credential(CredentialRecord(
                credential_id, offer.id, conf.vct, list_id, indices, now, expires_at, 0, None))
            self.store.delete_token(token_hash)
            self.store.update_offer(offer.id, state="issued", sealed=None)
        return {"credentials": [{"credential": c} for c in copies]}

    def _take_index(self, list_id: str, size: int) -> int:
        while True:
            idx = secrets.randbelow(size)
            if self.store.claim_index(list_id, idx):
                return idx

    async def set_status(self, credential_id: str, status: object, *, now: int
                         ) -> CredentialRecord:
        """Revoke, suspend or reinstate every copy of a credential on the registry.

        Raises:
            NotFoundError, ConflictError (a revoked credential stays revoked),
            RegistryLinkError (the registry refused or is unreachable: nothing changed).
        """
        record = self.store.credential(credential_id)
        if record is None:
            raise NotFoundError("no such credential")
        value = STATUS_VALUES.get(status) if isinstance(status, str) else None
        if value is None:
            raise ConflictError(f"status must be one of {sorted(STATUS_VALUES)}",
                                code="issuer.bad_status")
        if record.status == STATUS_VALUES["revoked"] and value != record.status:
            raise ConflictError("a revoked credential stays revoked",
                                code="issuer.already_revoked")
        if value != record.status:
            await self.link.set_status(record.list_id, record.indices, value)
            self.store.set_status(credential_id, value, now)
        found = self.store.credential(credential_id)
        assert found is not None
        return found
