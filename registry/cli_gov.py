"""Governance and DID commands of ``ssi-registry``: each signs one transaction and submits it.

The signer's sequence number is read from the registry before signing (so a key file that
fell behind cannot produce a replay-refused transaction), and its key file is updated after
the registry accepted the transaction.

    did-create --name NAME --out KEY.json --chain ID [--request FILE]
    endorse REQUEST --steward KEY.json --registry URL
    accredit --steward KEY.json --registry URL --issuer DID --vct VCT... [--from T] [--until T]
    revoke-accreditation --steward KEY.json --registry URL --id TXID [--since T]
    register-verifier --steward KEY.json --registry URL --verifier DID --purpose-nl TEXT
                      --purpose-en TEXT --claims VCT=claim[.sub],claim...  (repeatable)
    publish-schema --steward KEY.json --registry URL --vct VCT --schema FILE
                   --name-nl TEXT --name-en TEXT
    rotate --key KEY.json --registry URL [--compromised-since T]
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from registry.author import Controller, endorse, load_controller, save_controller
from registry.errors import RegistryError
from ssiwallet.core import strictjson
from ssiwallet.errors import SsiError
from ssiwallet.infra.clock import system_clock
from ssiwallet.infra.http import Http

__all__ = ["COMMANDS", "add_commands"]

Handler = Callable[[argparse.Namespace], dict[str, Any]]
MAX_ANSWER = 1 << 20
"""Largest registry answer a governance command reads (a receipt, a DID resolution)."""
TIMEOUT = 30.0


class RemoteRefusedError(RegistryError):
    code = "registry.remote_error"


async def _request(method: str, url: str, data: bytes | None = None) -> dict[str, Any]:
    """One call to the registry; its JSON answer, or the registry's refusal as an error.

    Raises:
        RemoteRefusedError: an error status (with the registry's own code) or no JSON object.
        HttpError: ``http.unreachable`` (no answer) or ``http.too_large``.
    """
    async with Http() as http:
        headers = {"Content-Type": "application/json"} if data is not None else None
        resp = await http.request(method, url, body=data, headers=headers,
                                  max_bytes=MAX_ANSWER, timeout=TIMEOUT)
    try:
        obj = strictjson.loads_object(resp.body, what="registry answer", max_bytes=MAX_ANSWER)
    except SsiError:
        raise RemoteRefusedError(f"{method} {url}: HTTP {resp.status}") from None
    if resp.status >= 400:
        raise RemoteRefusedError(str(obj.get("detail", "")),
                                 code=str(obj.get("error", "registry.remote_error")))
    return obj


async def _chain_and_seq(registry: str, did: str) -> tuple[str, int]:
    health = await _request("GET", f"{registry}/health")
    resolution = await _request("GET", f"{registry}/1.0/identifiers/{did}")
    return str(health["chain"]), int(resolution["didDocumentMetadata"]["sequence"])


def _submit_as(args: argparse.Namespace, key_file: Path, tx_type: str,
               body: dict[str, Any]) -> dict[str, Any]:
    controller = load_controller(key_file)
    registry = args.registry.rstrip("/")

    async def run() -> dict[str, Any]:
        chain, controller.seq = await _chain_and_seq(registry, controller.did)
        data = controller.sign(chain, tx_type, body, system_clock())
        return await _request("POST", f"{registry}/txs", data)

    receipt = asyncio.run(run())
    save_controller(controller, key_file)
    return {"type": tx_type, **receipt}


def cmd_did_create(args: argparse.Namespace) -> dict[str, Any]:
    if args.out.exists():
        raise RegistryError(f"{args.out} exists", code="registry.exists")
    controller = Controller.new(args.name)
    request = controller.create_tx(args.chain, system_clock(), None)
    save_controller(controller, args.out)
    result: dict[str, Any] = {"did": str(controller.did), "key_file": str(args.out)}
    if args.request:
        args.request.write_bytes(request)
        result["request"] = str(args.request)
    else:
        result["request_tx"] = json.loads(request)
    return result


def cmd_endorse(args: argparse.Namespace) -> dict[str, Any]:
    steward = load_controller(args.steward)
    endorsed = endorse(args.request.read_bytes(), steward)
    return asyncio.run(_request("POST", f"{args.registry.rstrip('/')}/txs", endorsed))


def cmd_accredit(args: argparse.Namespace) -> dict[str, Any]:
    body = {"issuer": args.issuer, "vcts": args.vct,
            "valid_from": args.valid_from if args.valid_from is not None else system_clock(),
            "valid_until": args.until}
    return _submit_as(args, args.steward, "accreditation.grant", body)


def cmd_revoke_accreditation(args: argparse.Namespace) -> dict[str, Any]:
    body: dict[str, Any] = {"accreditation": args.id}
    if args.since is not None:
        body["since"] = args.since
    return _submit_as(args, args.steward, "accreditation.revoke", body)


def _credentials(specs: list[str]) -> list[dict[str, Any]]:
    by_vct: dict[str, list[list[str]]] = {}
    for spec in specs:
        vct, sep, claims = spec.rpartition("=")
        if not sep or not vct or not claims:
            raise RegistryError(f"expected VCT=claim,claim…, got {spec!r}", code="cli.usage")
        by_vct.setdefault(vct, []).extend(c.split(".") for c in claims.split(","))
    return [{"vct": v, "claims": c} for v, c in by_vct.items()]


def cmd_register_verifier(args: argparse.Namespace) -> dict[str, Any]:
    body = {"verifier": args.verifier, "purpose": {"nl": args.purpose_nl, "en": args.purpose_en},
            "credentials": _credentials(args.claims), "valid_until": args.until}
    return _submit_as(args, args.steward, "verifier.register", body)


def cmd_publish_schema(args: argparse.Namespace) -> dict[str, Any]:
    schema = strictjson.loads_object(args.schema.read_bytes(), what="schema file")
    body = {"vct": args.vct, "schema": schema,
            "display": {"nl": args.name_nl, "en": args.name_en}}
    return _submit_as(args, args.steward, "schema.publish", body)


def cmd_rotate(args: argparse.Namespace) -> dict[str, Any]:
    controller = load_controller(args.key)
    registry = args.registry.rstrip("/")

    async def run() -> dict[str, Any]:
        chain, controller.seq = await _chain_and_seq(registry, controller.did)
        data = controller.rotate_tx(chain, system_clock(),
                                    compromised_since=args.compromised_since)
        return await _request("POST", f"{registry}/txs", data)

    receipt = asyncio.run(run())
    save_controller(controller, args.key)
    return {"type": "did.rotate", "kid": controller.kid, **receipt}


COMMANDS: dict[str, Handler] = {
    "did-create": cmd_did_create, "endorse": cmd_endorse, "accredit": cmd_accredit,
    "revoke-accreditation": cmd_revoke_accreditation,
    "register-verifier": cmd_register_verifier, "publish-schema": cmd_publish_schema,
    "rotate": cmd_rotate,
}


def add_commands(sub: Any) -> None:
    """Register the governance sub-commands on the ``ssi-registry`` parser."""
    p = sub.add_parser("did-create", help="make a DID's keys and its did.create request")
    p.add_argument("--name", required=True, help="the organisation's name")
    p.add_argument("--out", type=Path, required=True, help="where to write the key file")
    p.add_argument("--chain", required=True)
    p.add_argument("--request", type=Path, help="write the request here (default: stdout)")
    p = sub.add_parser("endorse", help="a steward endorses and submits a did.create request")
    p.add_argument("request", type=Path)
    p = sub.add_parser("accredit", help="accredit an issuer for credential types")
    p.add_argument("--issuer", required=True)
    p.add_argument("--vct", action="append", required=True)
    p.add_argument("--from", dest="valid_from", type=int)
    p.add_argument("--until", type=int)
    p = sub.add_parser("revoke-accreditation", help="revoke an accreditation")
    p.add_argument("--id", required=True, help="the accreditation (its grant tx id)")
    p.add_argument("--since", type=int)
    p = sub.add_parser("register-verifier", help="register a verifier and what it may ask")
    p.add_argument("--verifier", required=True)
    p.add_argument("--purpose-nl", required=True)
    p.add_argument("--purpose-en", required=True)
    p.add_argument("--claims", action="append", required=True)
    p.add_argument("--until", type=int)
    p = sub.add_parser("publish-schema", help="publish a credential type's JSON Schema")
    p.add_argument("--vct", required=True)
    p.add_argument("--schema", type=Path, required=True)
    p.add_argument("--name-nl", required=True)
    p.add_argument("--name-en", required=True)
    p = sub.add_parser("rotate", help="rotate a DID to its committed next key")
    p.add_argument("--key", type=Path, required=True)
    p.add_argument("--compromised-since", type=int)
    for name in ("endorse", "accredit", "revoke-accreditation", "register-verifier",
                 "publish-schema", "rotate"):
        sub.choices[name].add_argument("--registry", required=True, help="the node's URL")
    for name in ("endorse", "accredit", "revoke-accreditation", "register-verifier",
                 "publish-schema"):
        sub.choices[name].add_argument("--steward", type=Path, required=True,
                                       help="the steward's key file")
