"""Pytest fixtures for page tests: a Chromium binary, a headless browser, an artifacts folder.

Import them into a test module (or a conftest) to use them::

    from tests.browser_fixtures import artifacts, browser, chromium_path  # noqa: F401
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from tests.browser import Browser, ensure_chromium
from tests.conftest import ARTIFACTS


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Path of a Chromium binary, installed through apt on first use when missing."""
    return ensure_chromium()


@pytest_asyncio.fixture
async def browser(chromium_path: str) -> AsyncIterator[Browser]:
    """A fresh headless Chromium (own temporary profile), stopped after the test."""
    async with Browser(chromium_path) as started:
        yield started


@pytest.fixture
def artifacts() -> Path:
    """The git-ignored ``tests/artifacts/`` folder (created) for screenshots and dumps."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
