"""Timing and reporting used by all benchmarks.

Each workload runs in rounds interleaved with its peers, and the best round counts: on a
busy two-core machine the best round is the one least disturbed by other processes,
and interleaving exposes every workload to the same conditions.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Row:
    """One line of the report: our figure, what it is compared with, the ratio, the goal."""

    figure: str
    ours: float
    versus: str
    theirs: float
    unit: str = "ops/s"
    goal: float | None = None  # minimum ours/theirs ratio, if the issue sets one
    band: tuple[float, float] | None = None  # range ours must lie in, if the issue sets one
    digits: int = 0  # decimals shown for ours and theirs

    @property
    def ratio(self) -> float:
        return self.ours / self.theirs

    @property
    def verdict(self) -> str:
        if self.band is not None:
            low, high = self.band
            return "met" if low <= self.ours <= high else "NOT met"
        if self.goal is None:
            return ""
        return "met" if self.ratio >= self.goal else "NOT met"

    @property
    def goal_text(self) -> str:
        if self.band is not None:
            return f"by design {self.band[0]:g}–{self.band[1]:g} {self.unit} — {self.verdict}"
        if self.goal is not None:
            return f"≥ {self.goal:g}× — {self.verdict}"
        return ""


def ops_per_second(workloads: Sequence[Callable[[], object]], *, rounds: int = 5,
                   seconds: float = 0.4) -> list[float]:
    """Best-of-``rounds`` throughput of each workload, rounds interleaved."""
    best = [0.0] * len(workloads)
    for _ in range(rounds):
        for i, work in enumerate(workloads):
            count = 0
            start = time.perf_counter()
            deadline = start + seconds
            while True:
                work()
                count += 1
                now = time.perf_counter()
                if now >= deadline:
                    break
            best[i] = max(best[i], count / (now - start))
    return best


def render(rows: Sequence[Row]) -> str:
    """The rows as a Markdown table."""
    lines = ["| figure | ours | compared with | theirs | ratio | goal |",
             "|---|---:|---|---:|---:|---|"]
    for r in rows:
        lines.append(f"| {r.figure} | {r.ours:,.{r.digits}f} {r.unit} | {r.versus} | "
                     f"{r.theirs:,.{r.digits}f} {r.unit} | {r.ratio:.2f}× | {r.goal_text} |")
    return "\n".join(lines)
