"""Where the suite finds its data: everything lives inside this repository."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
VECTORS = REPO / "tests" / "vectors"
SPECS = VECTORS / "specs"
ARTIFACTS = REPO / "tests" / "artifacts"

__all__ = ["ARTIFACTS", "REPO", "SPECS", "VECTORS"]
