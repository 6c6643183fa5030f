"""The suite's one fake clock: :class:`ssiwallet.infra.clock.FakeClock`, and a fixture.

A test that starts a subprocess hands it ``clock.env()`` so the child's system clock agrees
with the test's (``KETEN_CLOCK_OFFSET``); see :mod:`ssiwallet.infra.clock`.
"""

from __future__ import annotations

import pytest

from ssiwallet.infra.clock import CLOCK_OFFSET_ENV, Clock, FakeClock

__all__ = ["CLOCK_OFFSET_ENV", "Clock", "FakeClock", "fake_clock", "shifted"]


def shifted(base: Clock, seconds: int) -> Clock:
    """A clock that reads ``base`` plus ``seconds`` (a peer whose clock runs ahead or behind)."""
    return lambda: base() + seconds


@pytest.fixture
def fake_clock() -> FakeClock:
    """A :class:`FakeClock` standing at the real time when the test starts."""
    return FakeClock()
