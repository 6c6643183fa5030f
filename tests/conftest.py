"""Shared test helpers: where the independent test vectors live (inside this repository)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.paths import ARTIFACTS, REPO, SPECS, VECTORS

__all__ = ["ARTIFACTS", "REPO", "SPECS", "VECTORS"]


@pytest.fixture(scope="session")
def vectors() -> Path:
    return VECTORS
