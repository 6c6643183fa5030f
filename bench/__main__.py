"""``make bench``: run every benchmark, print the table, write ``bench/results.md``.

``make bench ARGS=--quick`` runs shorter rounds and a smaller registry chain (10⁴ txs);
naming suites (``python -m bench registry``) runs only those and leaves results.md alone.
"""

from __future__ import annotations

import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

from bench import (
    issuer_bench,
    registry_bench,
    sdjwt_bench,
    statemap_bench,
    verifier_bench,
    wallet_bench,
)
from bench.harness import Row, render

SUITES: list[tuple[str, str, Callable[[bool], list[Row]]]] = [
    ("sdjwt", "SD-JWT core", lambda quick: sdjwt_bench.run()),
    ("registry", "Registry (did:keten)", registry_bench.run),
    ("statemap", "State commitment (sparse Merkle tree)", statemap_bench.run),
    ("issuer", "Issuer (OpenID4VCI)", issuer_bench.run),
    ("verifier", "Verifier (OpenID4VP)", verifier_bench.run),
    ("wallet", "Wallet", wallet_bench.run),
]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    quick = "--quick" in args
    wanted = [a for a in args if not a.startswith("-")]
    sections: list[str] = []
    rows: list[Row] = []
    for key, name, run in SUITES:
        if wanted and key not in wanted:
            continue
        print(f"running {name} …", flush=True)
        suite_rows = run(quick)
        rows.extend(suite_rows)
        table = render(suite_rows)
        print(table, flush=True)
        sections.append(f"## {name}\n\n{table}\n")
    header = (f"# Benchmark results\n\nProduced by `make bench{' ARGS=--quick' if quick else ''}`"
              f" on {time.strftime('%Y-%m-%d', time.gmtime())}, Python "
              f"{platform.python_version()}, {platform.machine()}. Every figure is measured "
              "next to its peer or bound in the same run (best of 5 interleaved rounds unless "
              "the figure says otherwise).\n\n")
    if not wanted:
        Path(__file__).with_name("results.md").write_text(header + "\n".join(sections))
    return 0 if all(r.verdict != "NOT met" for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
