"""Running the system's own commands as real processes for the demo.

Every service is started with the same interpreter (``python -m registry.cli serve``, …),
listens on a free loopback port, and announces itself with the JSON banner its command
prints; one-shot commands (``init``, ``endorse``, ``offer``, …) print one JSON document.
Logs go to ``<workdir>/logs``. :class:`Stack` stops everything it started, in reverse.
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

__all__ = ["DemoFailure", "Stack", "free_port"]

REGISTRY = [sys.executable, "-m", "registry.cli"]
ISSUER = [sys.executable, "-m", "issuer.cli"]
VERIFIER = [sys.executable, "-m", "verifier.cli"]


class DemoFailure(Exception):
    """A step of the demo did not end as stated (the demo exits 1)."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Stack:
    """The processes of one demo run, in ``workdir``."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.logs = workdir / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.procs: list[tuple[str, subprocess.Popen[bytes]]] = []

    def run(self, cmd: list[str], *args: str) -> dict[str, Any]:
        """Run a one-shot command; its JSON output (a non-zero exit is a demo failure)."""
        done = subprocess.run([*cmd, *args], cwd=self.workdir, capture_output=True,
                              timeout=120, env=self._env())
        try:
            out = json.loads(done.stdout or b"null")
        except ValueError:
            out = None
        if done.returncode != 0 or not isinstance(out, dict):
            raise DemoFailure(f"`{' '.join(args[:2])}` exited {done.returncode}: "
                              f"{done.stdout[-400:]!r} {done.stderr[-400:]!r}")
        return out

    def start(self, name: str, cmd: list[str], *args: str) -> dict[str, Any]:
        """Start a service; its banner (it must print one within 60 s)."""
        log = open(self.logs / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen([*cmd, *args], cwd=self.workdir, stdout=subprocess.PIPE,
                                stderr=log, env=self._env(), start_new_session=True)
        self.procs.append((name, proc))
        banner = self._banner(name, proc)
        if "url" not in banner:
            raise DemoFailure(f"{name} did not start: {banner}")
        return banner

    def _env(self) -> dict[str, str]:
        return {**os.environ, "PYTHONUNBUFFERED": "1"}

    def _banner(self, name: str, proc: subprocess.Popen[bytes]) -> dict[str, Any]:
        assert proc.stdout is not None
        text, deadline = b"", time.monotonic() + 60
        while time.monotonic() < deadline:
            ready, _, _ = select.select([proc.stdout], [], [], 0.2)
            if ready:
                chunk = os.read(proc.stdout.fileno(), 65536)
                if not chunk:
                    break
                text += chunk
                try:
                    obj = json.loads(text)
                except ValueError:
                    continue
                if isinstance(obj, dict):
                    return obj
            elif proc.poll() is not None:
                break
        raise DemoFailure(f"{name} printed no banner (exit {proc.poll()}); see "
                          f"{self.logs / (name + '.log')}: {text[-300:]!r}")

    def stop(self) -> None:
        for _, proc in reversed(self.procs):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for _, proc in reversed(self.procs):
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self.procs.clear()
