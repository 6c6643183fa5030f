"""``python -m ssiwallet.demo [--keep] [--dir DIR]``: run the whole system and the scenarios.

Starts a registry node with a mirror and two witnesses, three issuers and two verifiers
as separate processes on loopback (``ssiwallet/demo/world.py``), creates a wallet, plays
the scenarios (``ssiwallet/demo/scenarios.py``) and prints a transcript. Exits 1 if any
scenario does not end as stated. ``--keep`` leaves everything running and prints how to
open the TUI and the desk pages against it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import textwrap
import time
from pathlib import Path

from ssiwallet.demo.scenarios import play
from ssiwallet.demo.services import DemoFailure, Stack
from ssiwallet.demo.world import World, build_world
from ssiwallet.errors import SsiError
from ssiwallet.wallet.wallet import Wallet

PASSPHRASE = "demo: zeven kleine geitjes"
_T0 = time.monotonic()


def say(text: str, detail: str = "") -> None:
    stamp = f"[{time.monotonic() - _T0:5.1f}s]"
    if text:
        print(textwrap.fill(text, 100, initial_indent=f"{stamp} ",
                            subsequent_indent=" " * (len(stamp) + 1)))
    if detail:
        print(detail)
    sys.stdout.flush()


def chapter(title: str) -> None:
    print(f"\n== {title} " + "=" * max(0, 96 - len(title)), flush=True)


def keep(world: World, home: Path) -> None:
    chapter("Everything keeps running (Ctrl-C stops it)")
    print(textwrap.dedent(f"""\
        The wallet (TUI):  SSIWALLET_HOME={home} .venv/bin/ssiwallet
                           passphrase: {PASSPHRASE}
        The wallet (CLI):  SSIWALLET_HOME={home} .venv/bin/ssiwallet list
        Library desk:      {world.verifiers['library'].url}/desk
        Employer desk:     {world.verifiers['employer'].url}/desk
        Registry:          {world.registry}/health   (mirror {world.mirror}/health)"""))
    for key, issuer in world.issuers.items():
        print(f"Issuer desk:       {issuer.url}/desk   ({key}; admin token: "
              f"{issuer.admin_token})")
    print("Start a session at a desk, copy its openid4vp:// link into the wallet's "
          "present screen (p), and watch the desk.", flush=True)
    # blocked only now: the services started above must not inherit a blocked SIGTERM
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    signal.sigwait({signal.SIGINT, signal.SIGTERM})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make demo")
    parser.add_argument("--keep", action="store_true", help="leave the services running")
    parser.add_argument("--dir", type=Path, default=Path(".demo"), help="working directory "
                        "(emptied first)")
    args = parser.parse_args(argv)
    workdir = args.dir.resolve()
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    # the demo's throwaway wallet keeps its rollback marks in the demo folder, not the user's
    os.environ.setdefault("SSIWALLET_STATE_HOME", str(workdir / "wallet-state"))
    stack = Stack(workdir)
    try:
        chapter("0. Setting up: a registry consortium, three issuers, two verifiers")
        world = build_world(stack, say)
        home = workdir / "wallet"
        wallet = Wallet.create(home, PASSPHRASE, registry_url=world.registry,
                               genesis_hash=world.genesis)
        say(f"a citizen creates a wallet in {home} (sealed with Argon2id + XSalsa20-Poly1305),"
            " trusting the registry's genesis")
        play(world, wallet, say, chapter)
        chapter("Every scenario ended as stated")
        if args.keep:
            keep(world, home)
        return 0
    except KeyboardInterrupt:
        return 130
    except (DemoFailure, SsiError) as exc:
        print(f"\nDEMO FAILED: {exc}\n(logs in {stack.logs})", file=sys.stderr)
        return 1
    finally:
        stack.stop()


if __name__ == "__main__":
    sys.exit(main())
