"""The elements' text shows right on a host page of any encoding. ES modules and workers are
always read as UTF-8, but a classic script (nnpy.js, the GEMM kernel's loader) and a style sheet
are read in the host page's encoding when the server names no charset: those stay ASCII. (The
browser test on a page without a charset is tests/browser/test_browser_cdn.py.)"""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Scripts loaded by <script src> or importScripts rather than import, and every style sheet.
CLASSIC = sorted([ROOT / "web" / "nnpy.js", ROOT / "web" / "kernels" / "gemm.js",
                  *(ROOT / "web").rglob("*.css")])


@pytest.mark.parametrize("path", CLASSIC, ids=lambda path: str(path.relative_to(ROOT)))
def test_classic_scripts_and_style_sheets_are_ascii(path):
    text = path.read_text(encoding="utf-8")
    where = [(number, line) for number, line in enumerate(text.splitlines(), 1) if not line.isascii()]
    assert not where, f"non-ASCII (write \\u escapes or CSS \\ escapes): {where[:3]}"


def test_the_list_holds_the_classic_scripts():
    assert all(path.exists() for path in CLASSIC) and len(CLASSIC) >= 5
