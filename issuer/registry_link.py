"""What the issuer asks of and tells the registry: its key, its status lists, revocations.

The issuer's DID key file is read, never written, by the running service
(:class:`~registry.author.ControllerFile`): ``ssi-issuer rotate-key`` rewrites it after the
registry accepted the rotation, and credentials are then signed with the new key. One lock
keeps this process's transactions in order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from issuer.errors import ConflictError, RegistryLinkError, RegistryRefusedError
from registry.author import Controller, ControllerFile
from registry.client.client import ClientError, RegistryClient, RemoteError
from registry.ledger.didketen import KetenDid
from ssiwallet.errors import SsiError

__all__ = ["RegistryLink", "STATUS_BITS"]

STATUS_BITS = 2
"""Two bits per copy: 0 valid, 1 revoked, 2 suspended (Token Status List §7.1)."""


class RegistryLink:
    """The issuer's DID on one registry (see the module docstring)."""

    def __init__(self, client: RegistryClient, key_file: Path) -> None:
        self.client = client
        self._lock = asyncio.Lock()
        try:
            self._keys = ControllerFile(key_file)
        except SsiError as exc:
            raise RegistryLinkError(exc.detail, code="issuer.key_file") from None

    @property
    def controller(self) -> Controller:
        """The DID's current key, re-read when ``rotate-key`` replaced the file."""
        return self._keys.controller

    @property
    def did(self) -> KetenDid:
        return self.controller.did

    def status_uri(self, list_id: str) -> str:
        """Where verifiers fetch a list: the registry's ``/status/<list id>``."""
        return f"{self.client.base_url}/status/{list_id}"

    def list_id(self, name: str) -> str:
        return f"{self.did.method_id}.{name}"

    async def _submit(self, tx_type: str, body: dict[str, Any]) -> dict[str, Any]:
        async with self._lock:
            try:
                return await self.client.submit_signed(self.controller, tx_type, body)
            except RemoteError as exc:
                raise RegistryRefusedError(f"the registry refused {tx_type}: {exc.detail}",
                                           code=exc.code) from None
            except ClientError as exc:
                raise RegistryLinkError(f"no trustworthy answer from the registry: "
                                        f"{exc.detail}") from None

    async def ensure_status_list(self, name: str, size: int) -> str:
        """Create the list ``<did>.<name>`` unless it exists; its list id."""
        try:
            await self._submit("status.list.create",
                               {"name": name, "bits": STATUS_BITS, "size": size})
        except RegistryLinkError as exc:
            if exc.code != "registry.list_exists":
                raise
        return self.list_id(name)

    async def set_status(self, list_id: str, indices: Sequence[int], value: int
                         ) -> dict[str, Any]:
        """One ``status.update`` covering every index (all copies of a credential)."""
        return await self._submit("status.update", {"list": list_id,
                                                    "indices": sorted(indices), "value": value})

    async def require_accredited(self, vct: str, now: int) -> None:
        """Refuse to promise a credential the registry would not let this issuer sign.

        Raises:
            ConflictError: ``issuer.not_accredited``; RegistryLinkError when unreachable.
        """
        try:
            accredited = await self.client.accredited(self.did, vct, now)
        except ClientError as exc:
            raise RegistryLinkError(f"cannot check the accreditation: {exc.detail}") from None
        if not accredited:
            raise ConflictError(f"{self.did} is not accredited for {vct} on the registry",
                                code="issuer.not_accredited")

    async def readiness(self, vcts: Sequence[str], now: int) -> dict[str, Any]:
        """Whether the DID exists and is accredited for each offered type, for /health."""
        try:
            resolution = await self.client.resolve(self.did)
            accredited = {vct: await self.client.accredited(self.did, vct, now) for vct in vcts}
        except ClientError as exc:
            return {"did": str(self.did), "registered": False, "reason": exc.code}
        return {"did": str(self.did), "registered": True,
                "key": self.controller.kid,
                "sequence": resolution.metadata.get("sequence"), "accredited": accredited}
