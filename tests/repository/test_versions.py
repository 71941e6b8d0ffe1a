"""One version everywhere: pyproject.toml (the wheel), nnpy.__version__ (the source build.py
reads), package.json (npm), web/nnpy.js, the manifest build.py writes, the top entry of
CHANGELOG.md and the CDN URL the README gives. A release changes them together or this fails."""

import json
import re
import shutil
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
import build


def one(pattern, text, where):
    found = re.findall(pattern, text, re.MULTILINE)
    assert found, f"{where}: no version found ({pattern})"
    return found


def versions(root):
    """{where: version} of every place that names nnpy's version under `root`."""
    read = lambda name: (root / name).read_text()
    found = {
        "pyproject.toml": tomllib.loads(read("pyproject.toml"))["project"]["version"],
        "nnpy/__init__.py": one(r'^__version__ = "([^"]+)"', read("nnpy/__init__.py"), "nnpy")[0],
        "package.json": json.loads(read("package.json"))["version"],
        "web/nnpy.js": one(r'const VERSION = "([^"]+)";', read("web/nnpy.js"), "nnpy.js")[0],
        "CHANGELOG.md": one(r"^## (\S+)", read("CHANGELOG.md"), "CHANGELOG.md")[0],
    }
    for i, url in enumerate(one(r"cdn\.jsdelivr\.net/npm/nnpy@(\d[^/]*)/", read("README.md"), "README")):
        found[f"README.md CDN URL {i + 1}"] = url
    for i, wheel in enumerate(re.findall(r"nnpy_ml-(\d[^-]*)-py3", read("README.md"))):
        found[f"README.md wheel name {i + 1}"] = wheel
    return found


def test_every_place_names_the_same_version():
    found = versions(ROOT)
    assert len(set(found.values())) == 1, found
    assert set(found.values()) == {build.project_version()}


def test_a_version_that_differs_is_found(tmp_path):
    for name in ["pyproject.toml", "nnpy/__init__.py", "package.json", "web/nnpy.js",
                 "CHANGELOG.md", "README.md"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, tmp_path / name)
    package = json.loads((tmp_path / "package.json").read_text())
    (tmp_path / "package.json").write_text(json.dumps({**package, "version": "9.9.9"}))
    changelog = (tmp_path / "CHANGELOG.md").read_text()
    (tmp_path / "CHANGELOG.md").write_text(changelog.replace("\n## ", "\n## Unreleased\n\n## ", 1))
    found = versions(tmp_path)
    assert found["package.json"] == "9.9.9" and found["CHANGELOG.md"] == "Unreleased"
    assert found["web/nnpy.js"] == build.project_version()


def test_the_manifest_names_the_version(tmp_path, monkeypatch):
    """build.py writes nnpy's version into web/nnpy-manifest.json (a site without Pyodide)."""
    site = tmp_path / "site"
    (site / "wheels").mkdir(parents=True)
    (site / "web" / "models").mkdir(parents=True)
    with zipfile.ZipFile(site / "wheels" / f"{build.WHEEL_NAME}-{build.project_version()}-py3-none-any.whl", "w"):
        pass
    monkeypatch.setattr(build, "SITE", site)
    monkeypatch.setattr(build, "PYODIDE_CACHE", tmp_path / "no-pyodide")
    monkeypatch.setattr(build, "_cached_backbone", lambda: tmp_path / "no-backbone")
    manifest = build.write_manifest()
    written = json.loads((site / "web" / "nnpy-manifest.json").read_text())
    assert manifest["version"] == written["version"] == build.project_version()


@pytest.mark.parametrize("name", ["pyproject.toml", "package.json"])
def test_the_packages_say_mit_as_the_licence_file_does(name):
    text = (ROOT / name).read_text()
    assert "MIT" in text and (ROOT / "LICENSE").read_text().startswith("MIT License")
