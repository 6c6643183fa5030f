"""Shared test helpers: where the independent test vectors live."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
VECTORS = SHARED / "vectors"
SPECS = SHARED / "specs"
ARTIFACTS = REPO / "tests" / "artifacts"


@pytest.fixture(scope="session")
def vectors() -> Path:
    if not VECTORS.is_dir():  # the shared folder is part of every checkout's workspace
        pytest.fail(f"test vectors not found at {VECTORS}")
    return VECTORS
