"""``ssi-verifier``: the verifier's command line.

``check FILE --issuer-jwk JWK_FILE [--nonce N --aud A] [--no-kb] [--now EPOCH]`` prints the
processed payload as JSON and exits 0, or prints ``{"error": CODE, "detail": ...}`` and
exits 1. Scripts may rely on this contract.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from ssiwallet.errors import SsiError
from verifier.check import check_presentation, load_jwk


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ssi-verifier", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="verify an SD-JWT(+KB) presentation offline")
    check.add_argument("file", type=Path, help="the presentation (compact or JSON), '-' = stdin")
    check.add_argument("--issuer-jwk", type=Path, required=True, help="issuer public JWK file")
    check.add_argument("--nonce", help="the nonce the KB-JWT must carry")
    check.add_argument("--aud", help="the audience the KB-JWT must name")
    check.add_argument("--no-kb", action="store_true", help="do not require key binding")
    check.add_argument("--now", type=int, help="verify as of this time (seconds since epoch)")
    return parser


def _read(path: Path) -> str:
    if str(path) == "-":
        return sys.stdin.read()
    return path.read_text(encoding="utf-8")


def _emit(obj: object) -> None:
    print(json.dumps(obj, indent=2, ensure_ascii=False))


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        key = load_jwk(_read(args.issuer_jwk))
        claims = check_presentation(
            _read(args.file), key, now=args.now if args.now is not None else int(time.time()),
            nonce=args.nonce, aud=args.aud, require_kb=not args.no_kb)
    except SsiError as exc:
        _emit(exc.to_json())
        return 1
    except (OSError, UnicodeDecodeError) as exc:
        _emit({"error": "cli.io_error", "detail": f"{type(exc).__name__}: {exc}"})
        return 1
    _emit(claims)
    return 0


if __name__ == "__main__":
    sys.exit(main())
