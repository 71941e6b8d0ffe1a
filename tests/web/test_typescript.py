"""web/nnpy.d.ts, the TypeScript declarations of the page API, checked by the TypeScript compiler
(`tsc --noEmit --strict`, pinned in build.py, installed with npm into .cache/ the first time)
against tests/web/typescript/example.ts, which makes every call right and, under
`@ts-expect-error`, a few wrong; a file with a wrong call must fail."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
import build

DECLARATIONS = ROOT / "web" / "nnpy.d.ts"
EXAMPLE = ROOT / "tests" / "web" / "typescript" / "example.ts"
OPTIONS = ["--noEmit", "--strict", "--target", "ES2022", "--module", "ES2022",
           "--moduleResolution", "bundler", "--lib", "ES2022,DOM,DOM.Iterable"]


@pytest.fixture(scope="module")
def tsc():
    if shutil.which("node") is None:
        pytest.fail("Node.js is needed to run the TypeScript compiler (install Node.js with npm)")
    tsc = build.ensure_typescript()

    def check(*files):
        done = subprocess.run(["node", str(tsc), *OPTIONS, *map(str, files)], check=False,
                              cwd=ROOT, capture_output=True, text=True, timeout=300)
        return done.returncode, done.stdout + done.stderr

    return check


def test_every_call_of_the_example_type_checks_and_every_mistake_is_refused(tsc):
    status, output = tsc(DECLARATIONS, EXAMPLE)
    assert status == 0, output


def test_a_wrong_call_fails(tsc, tmp_path):
    """The check can fail: a call the declarations do not allow is an error."""
    wrong = tmp_path / "wrong.ts"
    wrong.write_text(f'import type {{ Model }} from "{DECLARATIONS.as_posix()}";\n'
                     "export async function f(model: Model) {\n"
                     '  await model.fit([[0, 0]], [[0]], { epochs: "many" });\n'
                     "}\n")
    status, output = tsc(DECLARATIONS, wrong)
    assert status != 0 and "wrong.ts(3,38): error TS2322" in output, output
