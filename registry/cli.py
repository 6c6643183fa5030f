"""``ssi-registry``: run and check a did:keten registry.

Commands::

    init DIR --chain ID --name NAME [--steward NAME]... [--witness VKEY]... [--quorum K]
    serve --db DB --key KEY [--host H] [--port P] [--witness NAME=URL]...
    follow URL --db DB --genesis HASH [--host H] [--port P]      (a validating mirror)
    witness --key FILE --name NAME --db DB --log VKEY... [--port P]
    witness-key --key FILE --name NAME                            (prints the vkey)
    verify DB_OR_URL [--genesis HASH]                             (exit 1 names the bad block)
    did-create, endorse, accredit, revoke-accreditation, register-verifier,
    publish-schema, rotate                                        (see ``registry.cli_gov``)

Results are JSON on stdout; failures print ``{"error": CODE, "detail": ...}`` and exit 1.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from registry import cli_gov
from registry.author import Controller, genesis_block, save_controller
from registry.author.keyfile import save_seed
from registry.errors import RegistryError
from registry.ledger.block import BlockError
from registry.ledger.chain import Chain
from registry.node.app import NodeConfig, create_app
from registry.node.http import NODE
from registry.node.node import replay, store_block
from registry.node.storage import SqliteStorage
from registry.node.sync import get_upstream, parse_blocks_page
from registry.tlog.checkpoint import Checkpoint
from registry.tlog.note import NoteVerifier, open_note
from registry.witness.decide import WitnessConfig
from registry.witness.http import create_witness_app
from registry.witness.store import load_or_create_witness_key
from ssiwallet.core.keys import Ed25519PrivateKey
from ssiwallet.infra.cli import run_command
from ssiwallet.infra.clock import system_clock
from ssiwallet.infra.http import Http
from ssiwallet.infra.web import log_to_stderr, serve

__all__ = ["main"]



def _slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-") or "steward"


def cmd_init(args: argparse.Namespace) -> dict[str, Any]:
    root: Path = args.dir
    root.mkdir(parents=True, exist_ok=True)
    db = root / "registry.db"
    if db.exists():
        raise RegistryError(f"{db} exists; refusing to overwrite a registry",
                            code="registry.exists")
    sequencer = Ed25519PrivateKey.generate()
    stewards = [Controller.new(name) for name in (args.steward or ["Steward"])]
    witnesses = [(v.split("+", 1)[0], v) for v in args.witness or []]
    header, txs = genesis_block(args.chain, args.name, stewards, sequencer, witnesses,
                                args.quorum, system_clock())
    Chain.from_genesis(header, txs)  # what we write must validate
    save_seed(sequencer, root / "sequencer.key")
    files = []
    for steward in stewards:
        path = root / f"steward-{_slug(steward.name)}.json"
        save_controller(steward, path)
        files.append({"did": str(steward.did), "name": steward.name, "key_file": str(path)})
    with SqliteStorage(db) as storage:
        store_block(storage, header, txs, "")
    log_vkey = NoteVerifier(args.chain, sequencer.public_key).vkey()
    return {"chain": args.chain, "genesis": header.hash, "db": str(db),
            "sequencer_key": str(root / "sequencer.key"), "log_vkey": log_vkey,
            "stewards": files}


def _pairs(values: Sequence[str] | None) -> dict[str, str]:
    out = {}
    for value in values or []:
        name, sep, url = value.partition("=")
        if not sep:
            raise RegistryError(f"expected NAME=URL, got {value!r}", code="cli.usage")
        out[name] = url
    return out


def cmd_serve(args: argparse.Namespace) -> None:
    config = NodeConfig(db=args.db, key=args.key, witnesses=_pairs(args.witness),
                        cosign_interval=args.cosign_interval, public_url=args.public_url)
    serve(create_app(config), args.host, args.port, lambda app: {
        "serving": app[NODE].chain.state.chain, "height": app[NODE].chain.head.height})


def cmd_follow(args: argparse.Namespace) -> None:
    config = NodeConfig(db=args.db, upstream=args.url, genesis=args.genesis,
                        follow_interval=args.interval)
    serve(create_app(config), args.host, args.port, lambda app: {
        "mirroring": args.url, "height": app[NODE].chain.head.height})


def cmd_witness(args: argparse.Namespace) -> None:
    signer = load_or_create_witness_key(args.key, args.name)
    logs: dict[str, list[str]] = {}
    for vkey in args.log:
        logs.setdefault(vkey.split("+", 1)[0], []).append(vkey)
    app = create_witness_app(WitnessConfig(signer, logs, args.db))
    serve(app, args.host, args.port, {"witness": args.name, "vkey": signer.verifier.vkey()})


def cmd_witness_key(args: argparse.Namespace) -> dict[str, Any]:
    signer = load_or_create_witness_key(args.key, args.name)
    return {"name": args.name, "vkey": signer.verifier.vkey()}


async def _verify_url(url: str, genesis: str | None) -> Chain:
    async with Http() as http:
        chain: Chain | None = None
        while True:
            start = 0 if chain is None else chain.head.height + 1
            page = parse_blocks_page(
                await get_upstream(http, f"{url}/blocks?from={start}&limit=100"))
            for header, txs in page:
                if chain is None:
                    chain = Chain.from_genesis(header, txs)
                else:
                    chain.commit(chain.check_block(header, txs))
            if not page:
                break
        if chain is None:
            raise BlockError("the registry serves no genesis block", height=0,
                             code="registry.bad_genesis")
        note = (await get_upstream(http, f"{url}/checkpoint")).decode("utf-8", "replace")
        text, _ = open_note(note, [NoteVerifier(chain.state.chain, chain.state.sequencer)])
        checkpoint = Checkpoint.parse(text)
        if checkpoint.size > chain.size or chain.tree.root(checkpoint.size) != \
                checkpoint.root_hash:
            raise RegistryError("the signed checkpoint does not match the chain served",
                                code="registry.fork_detected")
        return chain


def cmd_verify(args: argparse.Namespace) -> dict[str, Any]:
    target: str = args.target
    if target.startswith(("http://", "https://")):
        chain = asyncio.run(_verify_url(target.rstrip("/"), args.genesis))
    else:
        if not Path(target).is_file():
            raise RegistryError(f"no database at {target}", code="registry.not_found")
        with SqliteStorage(Path(target)) as storage:
            chain = replay(storage)
    if args.genesis and chain.genesis.hash != args.genesis:
        raise BlockError(f"genesis is {chain.genesis.hash}, not {args.genesis}", height=0,
                         code="registry.genesis_mismatch")
    return {"valid": True, "chain": chain.state.chain, "height": chain.head.height,
            "size": chain.size, "head": chain.head.hash, "genesis": chain.genesis.hash}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ssi-registry", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("init", help="create a registry: keys, stewards and genesis")
    p.add_argument("dir", type=Path)
    p.add_argument("--chain", required=True, help="chain id, e.g. registry.example.org/keten")
    p.add_argument("--name", required=True, help="the consortium's name")
    p.add_argument("--steward", action="append", help="a steward organisation (repeatable)")
    p.add_argument("--witness", action="append", help="a witness vkey (repeatable)")
    p.add_argument("--quorum", type=int, default=0, help="witness cosignatures clients need")
    p = sub.add_parser("serve", help="run the sequencer node")
    p.add_argument("--db", type=Path, required=True)
    p.add_argument("--key", type=Path, required=True, help="sequencer key file")
    p.add_argument("--witness", action="append", help="NAME=URL of a witness (repeatable)")
    p.add_argument("--cosign-interval", type=float, default=30.0)
    p.add_argument("--public-url", help="the URL credentials use for status lists")
    p = sub.add_parser("follow", help="run a mirror that re-validates every block")
    p.add_argument("url")
    p.add_argument("--db", type=Path, required=True)
    p.add_argument("--genesis", required=True, help="the genesis block hash to pin")
    p.add_argument("--interval", type=float, default=1.0)
    p = sub.add_parser("witness", help="run a C2SP tlog witness")
    p.add_argument("--key", type=Path, required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--db", type=Path, required=True)
    p.add_argument("--log", action="append", required=True, help="a log's vkey (repeatable)")
    for name in ("serve", "follow", "witness"):
        sp = sub.choices[name]
        sp.add_argument("--host", default="127.0.0.1")
        sp.add_argument("--port", type=int, default={"serve": 8600, "follow": 8601,
                                                     "witness": 8610}[name])
    p = sub.add_parser("witness-key", help="create or show a witness key and its vkey")
    p.add_argument("--key", type=Path, required=True)
    p.add_argument("--name", required=True)
    p = sub.add_parser("verify", help="replay a chain from genesis and check every block")
    p.add_argument("target", help="a registry database file or a node URL")
    p.add_argument("--genesis", help="the genesis hash the chain must have")
    cli_gov.add_commands(sub)
    return parser


_COMMANDS = {"init": cmd_init, "serve": cmd_serve, "follow": cmd_follow,
             "witness": cmd_witness, "witness-key": cmd_witness_key, "verify": cmd_verify}


_SERVICES = frozenset({"serve", "follow", "witness"})
"""Commands that run until stopped: they log their start and every failed request."""


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    log_to_stderr(service=args.command in _SERVICES)
    handler = _COMMANDS.get(args.command) or cli_gov.COMMANDS[args.command]
    return run_command(handler, args)


if __name__ == "__main__":
    sys.exit(main())
