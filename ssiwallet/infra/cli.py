"""What every command line of the project shares: JSON out, and one way to fail.

A command returns a JSON-able result (printed, exit 0), an :class:`Outcome` (its own exit
status, the JSON document and the words for people), or ``None`` (a server that ran until
stopped). A project error prints ``{"error": CODE, "detail": ...}`` and exits 1; so does an
I/O or network failure (``cli.io_error``). Scripts rely on this contract. A command line for
people (the wallet's) runs in text mode: the words go to stdout, an error as one sentence
ending in its code to stderr, with the same exit statuses; ``--json`` gives the documents.

An argument that cannot be acted on at all (a URL without a scheme, say) is refused while
the command line is parsed, the way argparse refuses every usage error: the usage line and
one sentence ending in the error's code on stderr, exit status 2, nothing done.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import aiohttp

from ssiwallet.errors import SsiError

__all__ = ["Command", "Outcome", "emit", "run_command", "value_arg"]

T = TypeVar("T")


@dataclass(frozen=True)
class Outcome:
    """What a command did: its exit status, the JSON document, and the words for people."""

    status: int
    document: Any
    words: str


Command = Callable[[argparse.Namespace], "dict[str, Any] | Outcome | None"]


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


def run_command(command: Command, args: argparse.Namespace, *, text: bool = False) -> int:
    """Run one parsed command under the output contract above; the exit status."""
    try:
        result = command(args)
    except SsiError as exc:
        outcome = Outcome(1, exc.to_json(), f"error: {exc.detail} ({exc.code})")
    except (OSError, UnicodeDecodeError, aiohttp.ClientError) as exc:
        detail = f"{type(exc).__name__}: {exc}"
        outcome = Outcome(1, {"error": "cli.io_error", "detail": detail},
                          f"error: {detail} (cli.io_error)")
    except KeyboardInterrupt:
        return 130
    else:
        if result is None:
            return 0
        outcome = result if isinstance(result, Outcome) else Outcome(0, result, "")
    if text and outcome.words:
        print(outcome.words, file=sys.stderr if outcome.status == 1 else sys.stdout)
    else:
        emit(outcome.document)
    return outcome.status
