"""``make bench``: run every benchmark, print the table, write ``bench/results.md``."""

from __future__ import annotations

import platform
import sys
import time
from pathlib import Path

from bench import sdjwt_bench
from bench.harness import Row, render

SUITES = [("SD-JWT core", sdjwt_bench.run)]


def main() -> int:
    rows: list[Row] = []
    for name, run in SUITES:
        print(f"running {name} …", flush=True)
        rows.extend(run())
    table = render(rows)
    print(table)
    header = (f"# Benchmark results\n\nProduced by `make bench` on "
              f"{time.strftime('%Y-%m-%d', time.gmtime())}, Python {platform.python_version()}, "
              f"{platform.machine()}. Every figure is measured next to its peer or bound in "
              "the same run (best of 5 interleaved rounds).\n\n")
    Path(__file__).with_name("results.md").write_text(header + table + "\n")
    return 0 if all(r.verdict != "NOT met" for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
