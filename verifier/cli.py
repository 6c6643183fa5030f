"""``ssi-verifier``: the verifier's command line.

Commands::

    init DIR --registry URL --public-url URL --port P [--preset ID]... [--genesis-hash HEX]
    serve --config DIR/verifier.toml
    request PRESET --config DIR/verifier.toml      (asks the running service; prints the link)
    check FILE (--issuer-jwk JWK_FILE | --registry URL [--genesis-hash HEX])
          [--nonce N --aud A] [--no-kb] [--now EPOCH]

A nonce (or audience) that starts with ``-`` (one random base64url nonce in 64 does) is
taken as the value of ``--nonce``/``--aud``, written ``--nonce -abc`` or ``--nonce=-abc``.

``check`` prints the processed payload as JSON and exits 0, or prints
``{"error": CODE, "detail": ...}`` and exits 1; with ``--registry`` the issuer key is the
one the registry gives for the credential's ``kid`` (a key of its ``iss``) on its issuance
day, and the output contract is the same. ``init`` writes the key file, the configuration
and the ``did.create`` request, and prints the ``ssi-registry register-verifier`` arguments
that allow exactly what the presets ask. Scripts may rely on these contracts.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiohttp

from registry.author import load_controller
from registry.author.onboard import onboard, registry_identity
from registry.client.client import RegistryClient, TrustPolicy
from ssiwallet.core import strictjson
from ssiwallet.core.keys import PublicKey
from ssiwallet.core.values import HttpOrigin
from ssiwallet.core.vc import keys_named
from ssiwallet.infra.cli import Command, run_command, value_arg
from ssiwallet.infra.clock import system_clock
from ssiwallet.infra.files import write_atomic
from ssiwallet.infra.web import serve
from verifier.app import create_app
from verifier.check import check_presentation, load_jwk
from verifier.config import load_config, render_config
from verifier.errors import UsageError, VerifierError
from verifier.presets import BUILTIN, register_claims_args

__all__ = ["main"]

CONFIG_NAME = "verifier.toml"



def _read(path: Path) -> str:
    if str(path) == "-":
        return sys.stdin.read()
    return path.read_text(encoding="utf-8")


def cmd_check(args: argparse.Namespace) -> dict[str, Any]:
    text = _read(args.file)
    now = args.now if args.now is not None else system_clock()
    if args.issuer_jwk is not None:
        key: PublicKey | dict[str, PublicKey] = load_jwk(_read(args.issuer_jwk))
    elif args.registry is not None:
        key = asyncio.run(_registry_keys(args.registry, args.genesis_hash, text))
    else:
        raise UsageError("give --issuer-jwk FILE or --registry URL", code="cli.missing_key")
    return check_presentation(text, key, now=now, nonce=args.nonce, aud=args.aud,
                              require_kb=not args.no_kb)


async def _registry_keys(url: str, genesis: str | None, text: str) -> dict[str, PublicKey]:
    refs = keys_named(text.strip())
    async with RegistryClient(url.rstrip("/"), policy=TrustPolicy(genesis_hash=genesis)) as c:
        return dict(await c.issuer_keys(refs))


def cmd_init(args: argparse.Namespace) -> dict[str, Any]:
    folder: Path = args.dir
    if (folder / CONFIG_NAME).exists():
        raise VerifierError(f"{folder / CONFIG_NAME} exists; refusing to overwrite",
                            code="verifier.config")
    presets = args.preset or list(BUILTIN)
    unknown = [p for p in presets if p not in BUILTIN]
    if unknown:
        raise UsageError(f"unknown presets {unknown}; known: {sorted(BUILTIN)}")
    registry = args.registry.rstrip("/")
    chain, genesis = asyncio.run(registry_identity(registry, args.genesis_hash))
    made = onboard(folder, config_name=CONFIG_NAME, key_name="verifier-key.json",
                   name=args.name, chain=chain, genesis_hash=genesis)
    write_atomic(folder / CONFIG_NAME, render_config(
        public_url=args.public_url.rstrip("/"), port=args.port, registry_url=registry,
        genesis_hash=genesis, presets=presets))
    claims = register_claims_args(BUILTIN[p] for p in presets)
    return {"did": made.did, "config": str(folder / CONFIG_NAME),
            "request": str(made.request_file), "register_claims": claims,
            "next": [made.endorse_hint(registry),
                     f"ssi-registry register-verifier --verifier {made.did} "
                     "--purpose-nl TEXT --purpose-en TEXT "
                     + " ".join(f"--claims {c}" for c in claims)
                     + f" --steward STEWARD.json --registry {registry}",
                     f"ssi-verifier serve --config {folder / CONFIG_NAME}"]}


def cmd_serve(args: argparse.Namespace) -> None:
    config = load_config(args.config)
    did = load_controller(config.key_file).did  # a bad key file fails here, before serving
    banner = {"verifier": config.public_url, "did": str(did),
              "presets": [p.id for p in config.presets], "desk": f"{config.public_url}/desk"}
    serve(create_app(config), config.host, config.port, banner)


def cmd_request(args: argparse.Namespace) -> dict[str, Any]:
    config = load_config(args.config)

    async def run() -> dict[str, Any]:
        async with aiohttp.ClientSession() as http, http.post(
                f"http://{config.host}:{config.port}/sessions",
                json={"preset": args.preset}) as resp:
            body = strictjson.loads_object(await resp.read(), what="verifier answer")
            if resp.status >= 400:
                raise VerifierError(str(body.get("detail", "")),
                                    code=str(body.get("error", "verifier.error")))
            return {"session": body["id"], "uri": body["uri"],
                    "desk": f"{config.public_url}/desk/{body['id']}",
                    "expires": body["expires"]}

    return asyncio.run(run())


COMMANDS: dict[str, Command] = {"check": cmd_check, "init": cmd_init, "serve": cmd_serve,
                                "request": cmd_request}


def _check_args(check: argparse.ArgumentParser) -> None:
    check.add_argument("file", type=Path, help="the presentation (compact or JSON), '-' = stdin")
    check.add_argument("--issuer-jwk", type=Path,
                       help="issuer public JWK file (used whatever the kid, or without one)")
    check.add_argument("--registry", type=value_arg(HttpOrigin),
                       help="resolve the issuer key on this registry node")
    check.add_argument("--genesis-hash", help="pin the registry's genesis")
    check.add_argument("--nonce", help="the nonce the KB-JWT must carry (may start with '-')")
    check.add_argument("--aud", help="the audience the KB-JWT must name")
    check.add_argument("--no-kb", action="store_true", help="do not require key binding")
    check.add_argument("--now", type=int, help="verify as of this time (seconds since epoch)")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ssi-verifier", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    _check_args(sub.add_parser("check", help="verify an SD-JWT(+KB) presentation"))
    init = sub.add_parser("init", help="make keys, configuration and the DID request")
    init.add_argument("dir", type=Path)
    init.add_argument("--registry", required=True, type=value_arg(HttpOrigin))
    init.add_argument("--public-url", required=True, type=value_arg(HttpOrigin))
    init.add_argument("--port", type=int, required=True)
    init.add_argument("--name", default="Verifier", help="the organisation's name")
    init.add_argument("--preset", action="append", help=f"one of {sorted(BUILTIN)}")
    init.add_argument("--genesis-hash")
    serve = sub.add_parser("serve", help="run the verifier service and its desk page")
    serve.add_argument("--config", type=Path, required=True)
    request = sub.add_parser("request", help="start a session on the running service")
    request.add_argument("preset")
    request.add_argument("--config", type=Path, required=True)
    return parser


_VALUE_OPTIONS = ("--nonce", "--aud")
"""``check`` options whose value may start with ``-`` (argparse would take it for an option)."""


def _glue_values(argv: Sequence[str], options: Sequence[str]) -> list[str]:
    """``--nonce -abc`` → ``--nonce=-abc`` for the check command, unless the next word is
    itself one of the command's options (a forgotten value stays an argparse error)."""
    probe = argparse.ArgumentParser(add_help=True)
    _check_args(probe)
    known = {o for action in probe._actions for o in action.option_strings}
    out = list(argv)
    if not out or out[0] != "check":
        return out
    i = 1
    while i < len(out) - 1:
        if out[i] == "--":
            break
        if out[i] in options and out[i + 1].startswith("-") and out[i + 1] not in known:
            out[i:i + 2] = [f"{out[i]}={out[i + 1]}"]
        i += 1
    return out


def main(argv: Sequence[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else list(argv)
    args = _parser().parse_args(_glue_values(words, _VALUE_OPTIONS))
    return run_command(COMMANDS[args.command], args)

if __name__ == "__main__":
    sys.exit(main())
