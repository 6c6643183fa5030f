"""``python -m fuzz [--seconds N] [--engine atheris|hypothesis] [target ...]``: run every
target (or those named) for N seconds each and print one line per target."""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from fuzz.engine import atheris_main, has_atheris, hypothesis_run


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["atheris-one"]:
        atheris_main(args[1], int(args[2]), Path(args[3]))
        return 0
    parser = argparse.ArgumentParser(prog="python -m fuzz")
    parser.add_argument("--seconds", type=int,
                        default=int(os.environ.get("FUZZ_SECONDS", "30")))
    parser.add_argument("--engine", choices=["atheris", "hypothesis"],
                        default="atheris" if has_atheris() else "hypothesis")
    parser.add_argument("--workdir", type=Path, default=None,
                        help="where atheris keeps what it finds (default: a temporary folder)")
    parser.add_argument("targets", nargs="*")
    opts = parser.parse_args(args)
    from fuzz.targets import TARGETS

    names = opts.targets or sorted(TARGETS)
    unknown = [n for n in names if n not in TARGETS]
    if unknown:
        parser.error(f"unknown targets {unknown}; known: {sorted(TARGETS)}")
    workdir = opts.workdir or Path(tempfile.mkdtemp(prefix="keten-fuzz-"))
    print(f"engine {opts.engine}, {opts.seconds} s per target, {len(names)} targets, "
          f"work folder {workdir}", flush=True)
    failed: list[str] = []
    for name in names:
        started = time.monotonic()
        if opts.engine == "atheris":
            ok, runs, note = _atheris(name, opts.seconds, workdir / name)
        else:
            ok, runs, note = _hypothesis(name, opts.seconds)
        took = time.monotonic() - started
        print(f"{name:28} {'ok   ' if ok else 'CRASH'} {took:6.1f} s {runs:>9} inputs {note}",
              flush=True)
        if not ok:
            failed.append(name)
    if failed:
        print(f"findings in: {', '.join(failed)} (see {workdir})")
    return 1 if failed else 0


def _atheris(name: str, seconds: int, workdir: Path) -> tuple[bool, int, str]:
    proc = subprocess.run([sys.executable, "-m", "fuzz", "atheris-one", name, str(seconds),
                           str(workdir)], capture_output=True, text=True, errors="replace",
                          check=False)
    runs = re.findall(r"Done (\d+) runs", proc.stderr) or re.findall(
        r"stat::number_of_executed_units: (\d+)", proc.stderr)
    cov = re.findall(r"cov: (\d+)", proc.stderr)
    if proc.returncode != 0:
        (workdir / "log.txt").write_text(proc.stdout + proc.stderr)
        raised = re.findall(r"^(\w+(?:Error|Exception)\b.*)$", proc.stdout + proc.stderr, re.M)
        crashes = sorted((workdir / "crashes").glob("*"))
        where = f" ({crashes[0]})" if crashes else ""
        return False, int(runs[-1]) if runs else 0, (raised[-1] if raised else "")[:160] + where
    return True, int(runs[-1]) if runs else 0, f"cov {cov[-1] if cov else '?'}"


def _hypothesis(name: str, seconds: int) -> tuple[bool, int, str]:
    try:
        runs = hypothesis_run(name, seconds=seconds, examples=200)
    except Exception as exc:  # a finding: shown, and the run goes on with the next target
        return False, 0, f"{type(exc).__name__}: {exc}"[:200]
    return True, runs, ""


if __name__ == "__main__":
    sys.exit(main())
