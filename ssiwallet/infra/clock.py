"""The one clock every Keten part reads: Unix seconds, as an integer.

A :data:`Clock` is any ``() -> int``. Pure code never reads a clock: it takes ``now`` as a
parameter; services and the wallet take a clock in their constructors and default to
:func:`system_clock`. Tests hand in a :class:`FakeClock`, and a subprocess started by a test
gets the *same* time through the environment (:meth:`FakeClock.env`): the system clock adds
``KETEN_CLOCK_OFFSET`` seconds when it is set, so a wallet subprocess and an in-process
verifier never disagree by the time the test has spent.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

__all__ = ["CLOCK_OFFSET_ENV", "Clock", "FakeClock", "system_clock"]

Clock = Callable[[], int]
CLOCK_OFFSET_ENV = "KETEN_CLOCK_OFFSET"


def _offset() -> int:
    raw = os.environ.get(CLOCK_OFFSET_ENV)
    if not raw:
        return 0
    try:
        return int(raw)
    except ValueError:
        return 0  # a malformed offset is ignored, never a crash at every clock read


def system_clock() -> int:
    """Now, in Unix seconds (shifted by ``KETEN_CLOCK_OFFSET`` when a test sets it)."""
    return int(time.time()) + _offset()


class FakeClock:
    """A clock that moves only when told to (``advance``), for tests.

    ``env()`` gives the environment that makes a subprocess's :func:`system_clock` agree with
    this clock at the moment the subprocess starts (it then runs on at real speed).
    """

    def __init__(self, now: int | None = None) -> None:
        self.now = int(time.time()) if now is None else now

    def __call__(self) -> int:
        return self.now

    def advance(self, seconds: int) -> int:
        self.now += seconds
        return self.now

    def set(self, now: int) -> None:
        self.now = now

    def env(self) -> dict[str, str]:
        """``{KETEN_CLOCK_OFFSET: …}`` for a subprocess that should share this time."""
        return {CLOCK_OFFSET_ENV: str(self.now - int(time.time()))}
