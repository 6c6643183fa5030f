"""The suite's root: everything shared comes from the one plugin in ``tests/support/``."""

from __future__ import annotations

pytest_plugins = ["tests.support.plugin"]
