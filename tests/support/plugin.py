"""The test suite's one plugin, registered by ``tests/conftest.py``.

It loads the parts below, so every test directory has their fixtures without importing them:

- :mod:`tests.support.paths`: where the vectors, specification texts and artifacts live;
- :mod:`tests.support.clock`: the one fake clock (``fake_clock``), shared with subprocesses;
- :mod:`tests.support.services`: ``registry_node``, ``registry_mirror``, ``issuer_service``,
  ``verifier_service`` on loopback;
- :mod:`tests.support.browser`: headless Chromium (``chromium_path``, ``browser``,
  ``artifacts``).

Every test also gets its own wallet state directory (``SSIWALLET_STATE_HOME``, where a wallet
keeps the generation marks that detect a rolled-back file), inherited by the subprocesses it
starts, so no test writes into the home directory of whoever runs the suite.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.paths import VECTORS

pytest_plugins = ["tests.support.clock", "tests.support.services", "tests.support.browser"]


@pytest.fixture(scope="session")
def vectors() -> Path:
    """``tests/vectors/``: the independent test vectors (see its ``SOURCES.md``)."""
    return VECTORS


@pytest.fixture(autouse=True)
def wallet_state_home(tmp_path_factory: pytest.TempPathFactory,
                      monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh ``SSIWALLET_STATE_HOME`` for each test (see the module docstring)."""
    folder = tmp_path_factory.mktemp("wallet-state")
    monkeypatch.setenv("SSIWALLET_STATE_HOME", str(folder))
    return folder
