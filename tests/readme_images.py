"""``make screenshots``: refresh the README's images from what the test tooling captured.

The TUI images are the SVG snapshots ``tests/tui/test_tui_snapshots.py`` renders from the
current code (pytest-textual-snapshot), turned into PNG by headless Chromium; the desk
images are the screenshots ``tests/integration/test_verifier_desk_browser.py`` takes of the
served desk page. Run the tests first (the Makefile target does).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.support.browser import ensure_chromium

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOTS = ROOT / "tests" / "tui" / "__snapshots__" / "test_tui_snapshots"
ARTIFACTS = ROOT / "tests" / "artifacts"
OUT = ROOT / "docs" / "img"
TUI = {"tui-cards.png": "test_cards_screen.svg",
       "tui-consent.png": "test_consent_dialog_with_the_over_asking_warning.svg"}
DESK = {"desk-accepted.png": "desk-accepted.png", "desk-refused.png": "desk-refused.png"}


def svg_to_png(chromium: str, svg: Path, png: Path) -> None:
    width, height = (float(v) for v in re.search(
        r'viewBox="0 0 ([\d.]+) ([\d.]+)"', svg.read_text()).groups())  # type: ignore[union-attr]
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "page.html"
        page.write_text(f"<html><body style='margin:0;background:#0c0c0c'>"
                        f"<img src='{svg.as_uri()}' width='{int(width)}'></body></html>")
        subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu",
                        "--disable-background-networking", "--hide-scrollbars",
                        f"--user-data-dir={tmp}/profile", f"--screenshot={png}",
                        f"--window-size={int(width)},{int(height) + 1}", page.as_uri()],
                       check=True, capture_output=True, timeout=120)


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    chromium = ensure_chromium()
    for name, svg in TUI.items():
        svg_to_png(chromium, SNAPSHOTS / svg, OUT / name)
    for name, source in DESK.items():
        shutil.copyfile(ARTIFACTS / source, OUT / name)
    print("\n".join(str(OUT / n) for n in (*TUI, *DESK)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
