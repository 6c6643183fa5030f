"""The registry facts the pipeline needs, answered by a did:keten registry node.

A thin adapter: :class:`RegistryClientFacts` maps the three questions of
:class:`~verifier.model.RegistryFacts` onto :class:`~registry.client.RegistryClient`, which
verifies every answer (genesis pin, checkpoints, witness quorum, status list signatures)
and raises a coded error when it cannot (fail closed). Status List Tokens are cached by
the client until their ``ttl`` (never past ``exp``), so a desk checking many credentials
from one list fetches it once per ttl.
"""

from __future__ import annotations

from registry.client import RegistryClient
from ssiwallet.core.keys import PublicKey
from ssiwallet.core.statuslist import StatusRef


class RegistryClientFacts:
    """:class:`~verifier.model.RegistryFacts` over a :class:`RegistryClient`.

    Keys and accreditations are judged with the issuance-day rule (our issuers round
    ``iat`` down to 00:00 UTC), see :meth:`RegistryClient.issuer_key_on_day`.
    """

    def __init__(self, client: RegistryClient) -> None:
        self.client = client

    async def issuer_key(self, kid: str, iat: int) -> PublicKey:
        """The key ``kid`` names if it was valid on the day starting at ``iat``.

        Raises:
            KeyNotValidError: ``registry.key_not_valid``.
            ClientError: ``registry.*`` when no trustworthy answer could be had.
        """
        return await self.client.issuer_key_on_day(kid, iat)

    async def accredited(self, iss: str, vct: str, iat: int) -> bool:
        """Whether ``iss`` was accredited for ``vct`` on the day starting at ``iat``."""
        return await self.client.accredited_on_day(iss, vct, iat)

    async def status(self, ref: StatusRef) -> int:
        """The status value at ``ref`` from the registry's verified Status List Token."""
        return await self.client.status_of_ref(ref)
