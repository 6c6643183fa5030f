"""``make demo`` as a newcomer runs it: every service a separate process, every scenario
checked by the demo itself (it exits 1 if one does not end as stated)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.slow
def test_the_demo_plays_every_scenario(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "ssiwallet.demo", "--dir",
                           str(tmp_path / "demo")], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    for chapter in ("1. A citizen receives credentials", "2. Proving age 18+",
                    "3. Showing a diploma", "4. The school rotates its key",
                    "5. The municipality revokes", "6. The disclosure history",
                    "7. The registry", "Every scenario ended as stated"):
        assert chapter in out
    assert "age_over_18 = true" in out and "(status.revoked)" in out
    assert "Korenmarkt" in out  # the citizen sees her own claims; the desk never does
    # nothing left running: no process works in the demo's directory any more
    assert [p for p in Path("/proc").glob("[0-9]*") if _cwd(p) == tmp_path / "demo"] == []


def _cwd(proc: Path) -> Path | None:
    try:
        return (proc / "cwd").resolve(strict=True)
    except OSError:
        return None
