"""The clerk's side and the token endpoint: offers, PINs, pre-authorized codes, access tokens.

An offer is created for claims a clerk entered; they are validated against the credential
type's schema first (every problem listed) and then sealed under the pre-authorized code
(see :mod:`issuer.store`). The code and PIN leave this module once, in the answer to the
clerk, and are never stored.

Decisions:

* A PIN is six digits and allows five wrong tries; the fifth locks the offer and forgets
  its claims, so a stolen QR code gives an attacker five guesses in a million.
* A pre-authorized code is single use: the first correct token request redeems it, any
  later one is ``invalid_grant`` whether or not the credentials were fetched yet.
* An access token lives ten minutes (never past its offer) and fetches one batch.
* For identity credentials the clerk types the birthdate only; the ``age_over_N`` claims
  are derived on the day of issuance, so an offer redeemed on a birthday is still right.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from issuer.config import IssuerConfig
from issuer.errors import AccessError, CredentialRequestError, NotFoundError, TokenError
from issuer.store import IssuerStore, OfferRecord, open_claims, seal_claims, secret_hash
from ssiwallet.core.credtype_schemas import VCT_IDENTITY
from ssiwallet.core.credtypes import derive_age_claims
from ssiwallet.core.oid4vci import PRE_AUTH_GRANT, CredentialOffer, TxCode
from ssiwallet.errors import CredentialTypeError

__all__ = ["CreatedOffer", "OfferDesk", "issuance_claims", "today"]

PIN_LENGTH = 6
PIN_DESCRIPTION = "De pincode die je aan het loket kreeg / the PIN you received at the desk"


def today(now: int) -> date:
    return datetime.fromtimestamp(now, UTC).date()


def issuance_claims(vct: str, claims: Mapping[str, Any], on: date) -> dict[str, Any]:
    """The claims to sign on day ``on``: identity ages derived from the birthdate."""
    out = dict(claims)
    if vct == VCT_IDENTITY and isinstance(out.get("birthdate"), str):
        try:
            born = date.fromisoformat(out["birthdate"])
        except ValueError:
            return out  # left for schema validation to report
        if born <= on:
            out.update(derive_age_claims(born, on))
    return out


@dataclass(frozen=True)
class CreatedOffer:
    """What the clerk gets back, once: the offer link (for the QR code) and the PIN."""

    id: str
    config_id: str
    vct: str
    uri: str
    offer: dict[str, Any]
    pin: str
    expires: int

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "credential_configuration_id": self.config_id, "vct": self.vct,
                "offer_uri": self.uri, "credential_offer": self.offer, "tx_code": self.pin,
                "expires": self.expires}


class OfferDesk:
    """Offers and the token endpoint over one :class:`IssuerStore`."""

    def __init__(self, config: IssuerConfig, store: IssuerStore) -> None:
        self.config = config
        self.store = store

    def create(self, config_id: object, claims: object, *, now: int) -> CreatedOffer:
        """Validate ``claims`` for the configuration and store a sealed offer.

        Raises:
            NotFoundError: ``issuer.unknown_configuration``;
            InvalidClaimsError: ``credtype.invalid_claims`` with every problem.
        """
        conf = self.config.credentials.get(config_id) if isinstance(config_id, str) else None
        if conf is None:
            raise NotFoundError(f"this issuer offers {sorted(self.config.credentials)}",
                                code="issuer.unknown_configuration")
        if not isinstance(claims, dict):
            raise CredentialTypeError("claims must be a JSON object",
                                      code="credtype.invalid_claims")
        signed = issuance_claims(conf.vct, claims, today(now))
        conf.type.validate(signed, as_of=today(now))
        code = secrets.token_urlsafe(32)
        pin = f"{secrets.randbelow(10 ** PIN_LENGTH):0{PIN_LENGTH}d}"
        record = OfferRecord(
            id=secrets.token_urlsafe(9), pin_hash=secret_hash("keten/issuer/pin", code, pin),
            config_id=conf.id, vct=conf.vct, sealed=seal_claims(dict(claims), code),
            created=now, expires=now + self.config.offer_ttl, attempts=0, state="open")
        self.store.add_offer(record, secret_hash("keten/issuer/code", code))
        offer = CredentialOffer(self.config.public_url, (conf.id,), code,
                                TxCode("numeric", PIN_LENGTH, PIN_DESCRIPTION))
        return CreatedOffer(record.id, conf.id, conf.vct, offer.to_uri(), offer.to_json(), pin,
                            record.expires)

    def token(self, form: Mapping[str, str], *, now: int) -> dict[str, Any]:
        """The token endpoint (OpenID4VCI §6) for the pre-authorized code grant.

        Raises:
            TokenError: ``invalid_request``, ``unsupported_grant_type`` or ``invalid_grant``,
                each with its Keten code; a wrong PIN counts an attempt, nothing else changes.
        """
        if form.get("grant_type") != PRE_AUTH_GRANT:
            raise TokenError("only the pre-authorized code grant is supported",
                             code="issuer.unsupported_grant_type",
                             oauth="unsupported_grant_type")
        code = form.get("pre-authorized_code")
        if not code:
            raise TokenError("pre-authorized_code is missing", code="issuer.missing_code",
                             oauth="invalid_request")
        refused: TokenError | None = None
        with self.store.transaction():
            offer = self.store.offer_by_code(secret_hash("keten/issuer/code", code))
            if offer is None:
                raise TokenError("unknown pre-authorized code", code="issuer.unknown_code")
            self._usable(offer, now)
            pin = form.get("tx_code")
            if pin is None:
                raise TokenError("this offer needs its tx_code (PIN)",
                                 code="issuer.missing_tx_code", oauth="invalid_request")
            expected = offer.pin_hash or b""
            if not hmac.compare_digest(secret_hash("keten/issuer/pin", code, pin), expected):
                refused = self._count_wrong_pin(offer)  # committed: the attempt counts
            else:
                token = secrets.token_urlsafe(32)
                claims = open_claims(offer.sealed or b"", code)
                expires = min(now + self.config.token_ttl, offer.expires)
                self.store.update_offer(offer.id, state="redeemed", pin_hash=None,
                                        sealed=seal_claims(claims, token))
                self.store.add_token(secret_hash("keten/issuer/token", token), offer.id,
                                     expires)
        if refused is not None:
            raise refused
        return {"access_token": token, "token_type": "Bearer", "expires_in": expires - now}

    def _usable(self, offer: OfferRecord, now: int) -> None:
        if offer.state == "locked":
            raise TokenError("this offer was locked after too many wrong PINs",
                             code="issuer.tx_code_locked")
        if offer.state in ("redeemed", "issued"):
            raise TokenError("this pre-authorized code was already used",
                             code="issuer.code_used")
        if offer.state == "expired" or offer.expires <= now:
            raise TokenError("this offer has expired", code="issuer.code_expired")

    def _count_wrong_pin(self, offer: OfferRecord) -> TokenError:
        """Count a wrong PIN (the fifth locks the offer and forgets its claims)."""
        attempts = offer.attempts + 1
        left = self.config.max_pin_attempts - attempts
        if left <= 0:
            self.store.update_offer(offer.id, attempts=attempts, state="locked", sealed=None,
                                    pin_hash=None)
            return TokenError("wrong PIN; the offer is now locked", code="issuer.tx_code_locked")
        self.store.update_offer(offer.id, attempts=attempts)
        return TokenError(f"wrong PIN; {left} attempts left", code="issuer.wrong_tx_code")

    def redeem(self, authorization: str | None, *, now: int) -> tuple[OfferRecord, str]:
        """The offer an access token (``Authorization: Bearer …``) may fetch, and the token.

        Raises:
            AccessError: ``issuer.invalid_token`` (401).
        """
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AccessError("a Bearer access token is required")
        token = token.strip()
        found = self.store.token(secret_hash("keten/issuer/token", token))
        if found is None or found[1] <= now:
            raise AccessError("the access token is unknown, used or expired")
        offer = self.store.offer(found[0])
        if offer is None or offer.state != "redeemed" or offer.sealed is None:
            raise AccessError("the access token's offer is no longer open")
        return offer, token

    def offer_status(self, offer_id: str) -> dict[str, Any]:
        offer = self.store.offer(offer_id)
        if offer is None:
            raise NotFoundError("no such offer")
        return {"id": offer.id, "credential_configuration_id": offer.config_id,
                "vct": offer.vct, "state": offer.state, "created": offer.created,
                "expires": offer.expires, "pin_attempts": offer.attempts}

    def check_config(self, offer: OfferRecord, body: Mapping[str, Any]) -> None:
        """The credential request must ask for the configuration that was offered."""
        if "credential_identifier" in body:
            raise CredentialRequestError("this issuer returns no credential identifiers",
                                         code="issuer.unknown_credential_identifier",
                                         oauth="unknown_credential_identifier")
        config_id = body.get("credential_configuration_id")
        if not isinstance(config_id, str):
            raise CredentialRequestError("credential_configuration_id is required",
                                         code="issuer.missing_configuration")
        if config_id not in self.config.credentials:
            raise CredentialRequestError(f"unknown configuration {config_id[:64]!r}",
                                         code="issuer.unknown_configuration",
                                         oauth="unknown_credential_configuration")
        if config_id != offer.config_id:
            raise CredentialRequestError("the access token is for another configuration",
                                         code="issuer.not_offered")
