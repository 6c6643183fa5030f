"""The registry facts the pipeline needs, answered by a did:keten registry node.

A thin adapter: :class:`RegistryClientFacts` maps the three questions of
:class:`~verifier.model.RegistryFacts` onto :class:`~registry.client.client.RegistryClient`, which
verifies every answer (genesis pin, checkpoints, witness quorum, status list signatures)
and raises a coded error when it cannot (fail closed). Status List Tokens are cached by
the client until their ``ttl`` (never past ``exp``), so a desk checking many credentials
from one list fetches it once per ttl.
"""

from __future__ import annotations

from typing import Any

from registry.client.client import RegistryClient
from ssiwallet.core.keys import PublicKey
from ssiwallet.core.statuslist import StatusRef

_ENTRIES = 4096


class RegistryClientFacts:
    """:class:`~verifier.model.RegistryFacts` over a :class:`RegistryClient`.

    Keys and accreditations are judged with the issuance-day rule (our issuers round
    ``iat`` down to 00:00 UTC), see :meth:`RegistryClient.issuer_key_on_day`.

    Positive answers (a valid key, an accreditation) are remembered for ``cache_seconds``
    (60 s by default, 0 to disable), so a desk checking a queue of credentials of one
    issuer asks the registry once a minute rather than twice per credential. A compromise
    or a revoked accreditation therefore takes effect at this verifier within that minute,
    well inside the status lists' ttl. Refusals are never cached: a registry that was
    briefly unreachable is asked again at once.

    Status is different: a revocation must count at the very next presentation, so the
    status list token is fetched (and its signature checked) afresh unless it is younger than
    ``status_max_age`` seconds (0 by default), whatever ``ttl`` the registry allows.
    """

    def __init__(self, client: RegistryClient, *, cache_seconds: int = 60,
                 status_max_age: int = 0) -> None:
        self.client = client
        self.cache_seconds = cache_seconds
        self.status_max_age = status_max_age
        self._keys: dict[tuple[str, int], tuple[PublicKey, int]] = {}
        self._accredited: dict[tuple[str, str, int], int] = {}

    def _fresh(self, stored_at: int) -> bool:
        now = self.client.now()
        return now - self.cache_seconds < stored_at <= now

    async def issuer_key(self, kid: str, iat: int) -> PublicKey:
        """The key ``kid`` names if it was valid on the day starting at ``iat``.

        Raises:
            KeyNotValidError: ``registry.key_not_valid``.
            ClientError: ``registry.*`` when no trustworthy answer could be had.
        """
        cached = self._keys.get((kid, iat))
        if cached is not None and self._fresh(cached[1]):
            return cached[0]
        key = await self.client.issuer_key_on_day(kid, iat)
        self._remember(self._keys, (kid, iat), (key, self.client.now()))
        return key

    async def accredited(self, iss: str, vct: str, iat: int) -> bool:
        """Whether ``iss`` was accredited for ``vct`` on the day starting at ``iat``."""
        stored = self._accredited.get((iss, vct, iat))
        if stored is not None and self._fresh(stored):
            return True
        accredited = await self.client.accredited_on_day(iss, vct, iat)
        if accredited:
            self._remember(self._accredited, (iss, vct, iat), self.client.now())
        return accredited

    def _remember(self, cache: dict[Any, Any], key: Any, value: Any) -> None:
        if self.cache_seconds <= 0:
            return
        cache.pop(key, None)
        cache[key] = value
        while len(cache) > _ENTRIES:
            del cache[next(iter(cache))]

    async def status(self, ref: StatusRef) -> int:
        """The status value at ``ref`` from the registry's verified Status List Token."""
        return await self.client.status_of_ref(ref, max_age=self.status_max_age)
