"""README's "Install" tells the truth about pyproject.toml: the extras it lists are the ones pip
installs, under the distribution name and wheel file name the build makes."""

import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
import build

README = (ROOT / "README.md").read_text()
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def requirement_name(requirement):
    return re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0].lower()


def test_the_readme_lists_exactly_what_the_test_extra_installs():
    block = README.split("<!-- test-extra:", 1)[1].split("<!-- /test-extra -->", 1)[0]
    listed = re.findall(r"^- `([^`]+)`", block, re.MULTILINE)
    assert listed == [requirement_name(r) for r in PROJECT["optional-dependencies"]["test"]]


def test_the_readme_installs_the_extras_pyproject_defines():
    extras = set(re.findall(r"pip install -e '\.\[(\w+)\]'", README))
    assert extras and extras <= set(PROJECT["optional-dependencies"])
    assert "docs" in extras and "test" in extras


def test_the_readme_names_the_distribution_and_the_wheel_as_built():
    assert f"pip install {PROJECT['name']}" in README
    assert f"{build.WHEEL_NAME}-{PROJECT['version']}-py3-none-any.whl" in README
    assert build.WHEEL_NAME == PROJECT["name"].replace("-", "_")
    assert "virtual environment" in README.split("## The two commands")[0]
