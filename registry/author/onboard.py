"""The first step of every organisation that joins a registry: ``ssi-issuer init``,
``ssi-verifier init`` (and any service to come) all run this one flow.

It asks the registry for its chain id and genesis (checked against a pinned genesis hash
when one is given), makes the organisation's keys (the current key and a commitment to the
next), writes the key file (0600) and the self-signed ``did.create`` request a steward
endorses. The caller then writes its own configuration file, last: a folder with a
configuration is a finished ``init`` and is never overwritten.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from registry.author.controller import Controller
from registry.author.keyfile import save_controller
from registry.client import RegistryClient, TrustPolicy
from registry.errors import RegistryError
from ssiwallet.infra.clock import Clock, system_clock
from ssiwallet.infra.files import write_atomic

__all__ = ["REQUEST_NAME", "Onboarding", "onboard", "registry_identity"]

REQUEST_NAME = "did-create-request.json"


@dataclass(frozen=True)
class Onboarding:
    """What ``init`` made: the new DID's keys, the registry it joins, and the files written."""

    controller: Controller
    chain: str
    genesis_hash: str
    key_file: Path
    request_file: Path

    @property
    def did(self) -> str:
        return str(self.controller.did)

    def endorse_hint(self, registry_url: str) -> str:
        """The steward's next command, for the ``next`` list ``init`` prints."""
        return (f"ssi-registry endorse {self.request_file} --steward STEWARD.json "
                f"--registry {registry_url}")


async def registry_identity(registry_url: str, genesis_hash: str | None) -> tuple[str, str]:
    """The registry's chain id and genesis hash (its genesis checked against a pinned one)."""
    async with RegistryClient(registry_url, policy=TrustPolicy(genesis_hash=genesis_hash)
                              ) as client:
        genesis = await client.genesis()
        return genesis.chain_id, genesis.hash


def onboard(folder: Path, *, config_name: str, key_name: str, name: str, chain: str,
            genesis_hash: str, clock: Clock = system_clock) -> Onboarding:
    """Make the keys and the ``did.create`` request in ``folder`` (see the module docstring).

    Raises:
        RegistryError: ``registry.init_exists`` when ``folder`` already holds a configuration.
    """
    if (folder / config_name).exists():
        raise RegistryError(f"{folder / config_name} exists; refusing to overwrite it",
                            code="registry.init_exists")
    folder.mkdir(parents=True, exist_ok=True)
    controller = Controller.new(name)
    request = controller.create_tx(chain, clock(), None)
    key_file, request_file = folder / key_name, folder / REQUEST_NAME
    save_controller(controller, key_file)
    write_atomic(request_file, request)
    return Onboarding(controller, chain, genesis_hash, key_file, request_file)
