"""The two engines: atheris (libFuzzer, coverage guided, one process per target) and
Hypothesis (drawing a seed and a series of structure-aware mutations). Both judge an input
with :func:`fuzz.targets.run_one`."""

from __future__ import annotations

import importlib
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

CORPUS = Path(__file__).resolve().parent / "corpus"


def seeds(name: str) -> list[bytes]:
    folder = CORPUS / name
    return [p.read_bytes() for p in sorted(folder.iterdir())] if folder.is_dir() else []


def has_atheris() -> bool:
    try:
        importlib.import_module("atheris")
    except ImportError:
        return False
    return True


def hypothesis_run(name: str, *, seconds: float | None = None, examples: int = 100,
                   tolerate: Callable[[BaseException], bool] = lambda exc: False) -> int:
    """Run target ``name`` with Hypothesis: every seed as it is, then mutated seeds, for
    ``seconds`` (in rounds of ``examples``) or one round. Returns the inputs tried; a finding
    raises, shrunk to the fewest mutations."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from fuzz.mutate import mutate
    from fuzz.targets import run_one

    def judge(data: bytes) -> None:
        try:
            run_one(name, data)
        except Exception as exc:
            if not tolerate(exc):
                raise

    corpus = seeds(name) or [b""]
    for seed in corpus:
        judge(seed)
    tried = len(corpus)

    @settings(max_examples=examples, deadline=None, database=None, derandomize=False,
              suppress_health_check=list(HealthCheck), print_blob=True)
    @given(st.sampled_from(corpus), st.integers(0, 2**32 - 1), st.integers(1, 8),
           st.binary(max_size=64))
    def once(seed: bytes, rnd: int, rounds: int, noise: bytes) -> None:
        nonlocal tried
        rng = random.Random(rnd)
        data = seed
        for _ in range(rounds):
            data = mutate(data, rng)
        if rounds == 8:  # now and then raw bytes too
            data = noise
        tried += 1
        judge(data)

    deadline = time.monotonic() + (seconds or 0)
    once()
    while seconds is not None and time.monotonic() < deadline:
        once()
    return tried


def atheris_main(name: str, seconds: int, workdir: Path) -> None:
    """The body of one atheris process (``python -m fuzz atheris-one``): never returns."""
    atheris = importlib.import_module("atheris")
    with atheris.instrument_imports(include=["ssiwallet", "registry", "issuer", "verifier"]):
        from fuzz import targets

        targets.preload()
    from fuzz.mutate import mutate

    def test_one(data: bytes) -> None:
        targets.run_one(name, data)

    def custom_mutator(data: bytes, max_size: int, seed: int) -> bytes:
        if seed % 2:
            return bytes(atheris.Mutate(data, max_size))
        return mutate(data, random.Random(seed), max_size)

    found = workdir / "corpus"
    crashes = workdir / "crashes"
    found.mkdir(parents=True, exist_ok=True)
    crashes.mkdir(parents=True, exist_ok=True)
    argv = [sys.argv[0], f"-max_total_time={seconds}", "-timeout=10", "-rss_limit_mb=2048",
            "-max_len=65536", f"-artifact_prefix={crashes}/", "-print_final_stats=1",
            str(found), str(CORPUS / name)]
    atheris.Setup(argv, test_one, custom_mutator=custom_mutator)
    atheris.Fuzz()
