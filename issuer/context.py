"""One served issuer's parts, used by the protocol endpoints, the admin API and the desk."""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from aiohttp import web

from issuer.config import IssuerConfig
from issuer.issuance import Issuance, Nonces
from issuer.offers import CreatedOffer, OfferDesk
from issuer.registry_link import RegistryLink
from issuer.store import IssuerStore
from ssiwallet.infra.clock import Clock, system_clock

__all__ = ["ISSUER", "IssuerContext"]


@dataclass
class IssuerContext:
    """Everything one served issuer consists of."""

    config: IssuerConfig
    store: IssuerStore
    link: RegistryLink
    desk: OfferDesk
    issuance: Issuance
    clock: Clock

    @classmethod
    def build(cls, config: IssuerConfig, store: IssuerStore, link: RegistryLink,
              clock: Clock = system_clock,
              nonces: Nonces | None = None) -> IssuerContext:
        desk = OfferDesk(config, store)
        return cls(config, store, link, desk, Issuance(config, store, desk, link, nonces), clock)

    async def create_offer(self, config_id: object, claims: object) -> CreatedOffer:
        """An offer, once the registry confirms this issuer may sign its type today."""
        conf = self.config.credentials.get(config_id) if isinstance(config_id, str) else None
        if conf is not None:
            await self.link.require_accredited(conf.vct, self.clock())
        return self.desk.create(config_id, claims, now=self.clock())

    def desk_session(self) -> str:
        """The desk cookie's value: derived from, never equal to, the admin token."""
        return hmac.new(self.config.admin_token.encode(), b"keten/issuer/desk-session",
                        "sha256").hexdigest()


ISSUER = web.AppKey("issuer", IssuerContext)
