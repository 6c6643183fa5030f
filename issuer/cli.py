"""``ssi-issuer``: set up and run an issuer (a municipality, VDAB, a school).

Commands::

    init DIR --profile municipality|vdab|school --registry URL --public-url URL --port P
         [--name-nl TEXT --name-en TEXT] [--genesis-hash HEX]
    serve --config DIR/issuer.toml
    rotate-key --config DIR/issuer.toml [--compromised-since T]
    offer --config DIR/issuer.toml --claims FILE [--type CONFIG_ID]   (through the admin API)
    revoke --config DIR/issuer.toml CREDENTIAL_ID [--status revoked|suspended|valid]

``init`` makes the DID's keys, the admin token and the configuration, and writes the
``did.create`` request a steward endorses (``ssi-registry endorse``); the steward then
accredits the DID for the profile's types (``ssi-registry accredit``). The genesis hash
is pinned from the registry at ``init`` unless given. Results are JSON on stdout; failures
print ``{"error": CODE, "detail": ...}`` and exit 1.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiohttp

from issuer.app import create_app
from issuer.config import PROFILES, IssuerConfig, load_config, render_config
from issuer.errors import ConfigError
from registry.author import load_controller, save_controller
from registry.author.onboard import onboard, registry_identity
from registry.client.client import RegistryClient, TrustPolicy
from ssiwallet.core import strictjson
from ssiwallet.core.values import HttpOrigin
from ssiwallet.errors import SsiError
from ssiwallet.infra.cli import Command, run_command, value_arg
from ssiwallet.infra.clock import system_clock
from ssiwallet.infra.files import create_exclusive, write_atomic
from ssiwallet.infra.web import serve

__all__ = ["main"]

CONFIG_NAME = "issuer.toml"



def _client(config: IssuerConfig) -> RegistryClient:
    return RegistryClient(config.registry_url,
                          policy=TrustPolicy(genesis_hash=config.genesis_hash))


def _write_secret(path: Path, text: str) -> None:
    if not create_exclusive(path, text, secret=True):
        raise FileExistsError(path)


def cmd_init(args: argparse.Namespace) -> dict[str, Any]:
    folder: Path = args.dir
    registry_url = args.registry.rstrip("/")
    if (folder / CONFIG_NAME).exists():
        raise ConfigError(f"{folder / CONFIG_NAME} exists; refusing to overwrite an issuer")
    chain, genesis_hash = asyncio.run(registry_identity(registry_url, args.genesis_hash))
    profile = PROFILES[args.profile]
    made = onboard(folder, config_name=CONFIG_NAME, key_name="issuer-key.json",
                   name=args.name_en or profile.display["en"], chain=chain,
                   genesis_hash=genesis_hash)
    text, token = render_config(profile=args.profile, public_url=args.public_url.rstrip("/"),
                                port=args.port, registry_url=registry_url,
                                genesis_hash=genesis_hash, name_nl=args.name_nl,
                                name_en=args.name_en)
    _write_secret(folder / "admin-token", token + "\n")
    write_atomic(folder / CONFIG_NAME, text)
    vcts = [c.vct for c in profile.credentials]
    return {"did": made.did, "config": str(folder / CONFIG_NAME),
            "request": str(made.request_file), "vcts": vcts,
            "next": [made.endorse_hint(registry_url),
                     f"ssi-registry accredit --issuer {made.did} "
                     + " ".join(f"--vct {v}" for v in vcts)
                     + f" --steward STEWARD.json --registry {registry_url}",
                     f"ssi-issuer serve --config {folder / CONFIG_NAME}"]}


def cmd_serve(args: argparse.Namespace) -> None:
    config = load_config(args.config)
    did = load_controller(config.key_file).did  # a bad key file fails here, before serving
    banner = {"issuer": config.public_url, "did": str(did),
              "profile": config.profile.name, "desk": f"{config.public_url}/desk"}
    serve(create_app(config), config.host, config.port, banner)


def cmd_rotate_key(args: argparse.Namespace) -> dict[str, Any]:
    config = load_config(args.config)
    controller = load_controller(config.key_file)

    async def run() -> dict[str, Any]:
        async with _client(config) as client:
            g = await client.genesis()
            controller.seq = await client.sequence(controller.did)
            tx = controller.rotate_tx(g.chain_id, system_clock(),
                                      compromised_since=args.compromised_since)
            return await client.submit(tx)

    receipt = asyncio.run(run())
    save_controller(controller, config.key_file)  # only once the registry accepted it
    return {"type": "did.rotate", "kid": controller.kid, **receipt}


async def _admin(config: IssuerConfig, method: str, path: str, body: object) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {config.admin_token}"}
    async with aiohttp.ClientSession() as session, session.request(
            method, f"http://{config.host}:{config.port}{path}", json=body,
            headers=headers) as resp:
        obj = strictjson.loads_object(await resp.read(), what="issuer answer")
        if resp.status >= 400:
            raise SsiError(str(obj.get("detail", "")), code=str(obj.get("error", "issuer")))
        return obj


def cmd_offer(args: argparse.Namespace) -> dict[str, Any]:
    config = load_config(args.config)
    claims = strictjson.loads_object(args.claims.read_bytes(), what="claims file")
    config_id = args.type or config.profile.credentials[0].id
    return asyncio.run(_admin(config, "POST", "/admin/offers",
                              {"credential_configuration_id": config_id, "claims": claims}))


def cmd_revoke(args: argparse.Namespace) -> dict[str, Any]:
    config = load_config(args.config)
    return asyncio.run(_admin(config, "POST", f"/admin/credentials/{args.credential}/status",
                              {"status": args.status}))


COMMANDS: dict[str, Command] = {
    "init": cmd_init, "serve": cmd_serve, "rotate-key": cmd_rotate_key, "offer": cmd_offer,
    "revoke": cmd_revoke,
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ssi-issuer", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("init", help="make keys, admin token, configuration and DID request")
    p.add_argument("dir", type=Path)
    p.add_argument("--profile", choices=sorted(PROFILES), required=True)
    p.add_argument("--registry", required=True, type=value_arg(HttpOrigin),
                   help="the registry node's URL")
    p.add_argument("--public-url", required=True, type=value_arg(HttpOrigin),
                   help="where wallets reach this issuer")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--name-nl")
    p.add_argument("--name-en")
    p.add_argument("--genesis-hash", help="pin this genesis (default: the registry's)")
    for name in ("serve", "rotate-key", "offer", "revoke"):
        q = sub.add_parser(name)
        q.add_argument("--config", type=Path, required=True)
    sub.choices["rotate-key"].add_argument("--compromised-since", type=int)
    sub.choices["offer"].add_argument("--claims", type=Path, required=True)
    sub.choices["offer"].add_argument("--type", help="credential configuration id")
    sub.choices["revoke"].add_argument("credential")
    sub.choices["revoke"].add_argument("--status", default="revoked",
                                       choices=["revoked", "suspended", "valid"])
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    return run_command(COMMANDS[args.command], args)

if __name__ == "__main__":
    sys.exit(main())
