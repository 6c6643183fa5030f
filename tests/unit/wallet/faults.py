"""Fault injection used by the wallet's storage tests: a disk that fills up mid-write."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any


def half_writing_fdopen(fail: Callable[[], Any]) -> Callable[[int, str], Any]:
    """An ``os.fdopen`` stand-in whose file writes half the bytes, flushes, then ``fail()``s."""
    real_fdopen = os.fdopen

    class HalfWrite:
        def __init__(self, fd: int, mode: str) -> None:
            self.f = real_fdopen(fd, mode)

        def __enter__(self) -> HalfWrite:
            return self

        def __exit__(self, *exc: object) -> None:
            self.f.close()

        def write(self, data: bytes) -> None:
            self.f.write(data[: len(data) // 2])
            self.f.flush()
            fail()

    return HalfWrite
