"""What every command line of the project shares: JSON out, and one way to fail.

A command returns a JSON-able result (printed, exit 0) or ``None`` (a server that ran until
stopped). A project error prints ``{"error": CODE, "detail": ...}`` and exits 1; so does an
I/O or network failure (``cli.io_error``). Scripts rely on this contract.

An argument that cannot be acted on at all (a URL without a scheme, say) is refused while
the command line is parsed, the way argparse refuses every usage error: the usage line and
one sentence ending in the error's code on stderr, exit status 2, nothing done.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any, TypeVar

import aiohttp

from ssiwallet.errors import SsiError

__all__ = ["Command", "emit", "run_command", "value_arg"]

T = TypeVar("T")
Command = Callable[[argparse.Namespace], dict[str, Any] | None]


def value_arg(kind: Callable[[str], T]) -> Callable[[str], T]:
    """An argparse ``type=`` that builds a value type (:mod:`ssiwallet.core.values`).

    A refused value becomes argparse's usage error (exit 2) saying why, with the code:
    ``argument --registry: 'registry.example' is not an http(s) URL: ... (input.bad_url)``.
    """
    def convert(text: str) -> T:
        try:
            return kind(text)
        except SsiError as exc:
            raise argparse.ArgumentTypeError(f"{exc.detail} ({exc.code})") from None

    convert.__name__ = getattr(kind, "__name__", "value")
    return convert


def emit(obj: object) -> None:
    print(json.dumps(obj, indent=2, ensure_ascii=False))


def run_command(command: Command, args: argparse.Namespace) -> int:
    """Run one parsed command under the output contract above; the exit status."""
    try:
        result = command(args)
    except SsiError as exc:
        emit(exc.to_json())
        return 1
    except (OSError, UnicodeDecodeError, aiohttp.ClientError) as exc:
        emit({"error": "cli.io_error", "detail": f"{type(exc).__name__}: {exc}"})
        return 1
    except KeyboardInterrupt:
        return 130
    if result is not None:
        emit(result)
    return 0
