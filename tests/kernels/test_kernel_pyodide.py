"""nnpy.backend.wasm_gemm with the real kernel inside real Pyodide 0.27.7 (in Node, no browser needed).

Runs pyodide_checks.py in Pyodide for each kernel build. Needs the vendored runtime
(`python build.py vendor` fills .cache/pyodide-0.27.7/, or set NNPY_PYODIDE_DIR).
"""

import json
import os
import subprocess
from pathlib import Path

import pytest
from pyodide_checks import CHECKS

ROOT = Path(__file__).resolve().parents[2]
RUNNER = Path(__file__).with_name("run_in_pyodide.js")
SCRIPT = """
import json, sys
sys.path.insert(0, "/repo/tests/kernels")
from pyodide_checks import run_checks
print("RESULTS " + json.dumps(run_checks(kernel)))
"""


@pytest.fixture(scope="module")
def pyodide_dir():
    path = Path(os.environ.get("NNPY_PYODIDE_DIR", ROOT / ".cache" / "pyodide-0.27.7"))
    if not (path / "pyodide.asm.wasm").exists() or not list(path.glob("numpy-*.whl")):
        pytest.skip(f"no Pyodide runtime with numpy in {path} (run `python build.py vendor`)")
    return path


@pytest.fixture(scope="module")
def results(node, kernel_files, pyodide_dir):
    plain, relaxed = kernel_files
    by_build = {}
    for build, files in {"simd128": [plain], "relaxed": [plain, relaxed]}.items():
        run = subprocess.run([node, str(RUNNER), str(pyodide_dir), *map(str, files)],
                             input=SCRIPT, capture_output=True, text=True, timeout=300,
                             check=False)
        lines = [line for line in run.stdout.splitlines() if line.startswith("RESULTS ")]
        assert run.returncode == 0 and lines, run.stdout + run.stderr
        by_build[build] = json.loads(lines[-1].removeprefix("RESULTS "))
    return by_build


@pytest.mark.parametrize("build", ["simd128", "relaxed"])
@pytest.mark.parametrize("check", [check.__name__ for check in CHECKS])
def test_in_pyodide(results, build, check):
    assert results[build][check] == "ok", results[build][check]
