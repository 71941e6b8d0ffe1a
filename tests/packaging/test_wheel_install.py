"""The wheel as a user gets it: built from the source tree, `pip install`ed from the file into a
clean virtual environment (no system site-packages; NumPy comes from the package index), then
used from a folder that is not the source tree: import, train, save, load, and a part of the unit
suite run against the installed copy.

Takes about 20 s here (a venv; NumPy and pytest installed through pip's cache).
"""

import json
import os
import shutil
import subprocess
import sys
import tomllib
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
import build

PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
# unit test files that need nothing but nnpy, NumPy and pytest (and no file of the source tree)
UNIT_FILES = ["test_training.py", "test_functional.py", "test_arguments.py", "test_gradcheck.py"]

SMOKE = r"""
import importlib.metadata, json, sys
import numpy as np
import nnpy
from nnpy import layers, optimizers

x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
y = np.array([[0], [1], [1], [0]], dtype=np.float32)
model = nnpy.Sequential([layers.Input((2,)), layers.Dense(8, activation="tanh"), layers.Dense(1)],
                        seed=0)
model.compile(optimizer=optimizers.Adam(0.05), loss="binary_crossentropy", metrics=["accuracy"])
history = model.fit(x, y, epochs=300, batch_size=4, verbose=0)
model.save("xor.safetensors")
same = nnpy.load_model("xor.safetensors")
print(json.dumps({
    "file": nnpy.__file__,
    "version": nnpy.__version__,
    "distribution_version": importlib.metadata.version(sys.argv[1]),
    "accuracy": history.history["accuracy"][-1],
    "predictions": model.predict(x).ravel().tolist(),
    "loaded_predictions": same.predict(x).ravel().tolist(),
    "from_bytes_equal": bool(np.array_equal(nnpy.load_model(open("xor.safetensors", "rb").read())
                                            .predict(x), model.predict(x))),
}))
"""


def clean_env() -> dict:
    """The environment without anything that would let the source tree or this Python's
    packages leak into the venv."""
    return {key: value for key, value in os.environ.items()
            if key not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV")}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    return build.build_wheel(tmp_path_factory.mktemp("wheel"))


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """The Python of a fresh venv with the wheel (and pytest, to run unit tests) installed."""
    folder = tmp_path_factory.mktemp("venv")
    venv.EnvBuilder(with_pip=True, system_site_packages=False).create(folder)
    python = folder / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    str(wheel), "pytest"], check=True, env=clean_env(), cwd=folder)
    return python


def test_the_wheel_has_the_package_and_its_metadata_only(wheel):
    assert wheel.name == f"{build.WHEEL_NAME}-{PROJECT['version']}-py3-none-any.whl"
    names = zipfile.ZipFile(wheel).namelist()
    top = {name.split("/")[0] for name in names}
    assert top == {"nnpy", f"{build.WHEEL_NAME}-{PROJECT['version']}.dist-info"}
    modules = {name for name in names if name.startswith("nnpy/") and name.endswith(".py")}
    in_tree = {path.relative_to(ROOT).as_posix() for path in (ROOT / "nnpy").rglob("*.py")}
    assert modules == in_tree   # every module, and nothing from tests/, web/ or examples/
    assert not any("__pycache__" in name or name.endswith(".pyc") for name in names)
    assert any(name.endswith(".dist-info/licenses/LICENSE") for name in names)
    assert "nnpy/py.typed" in names   # PEP 561 marker
    assert set(names) - modules == {"nnpy/py.typed"} | {
        name for name in names if name.startswith(f"{build.WHEEL_NAME}-{PROJECT['version']}.dist-info/")}
    metadata = zipfile.ZipFile(wheel).read(
        f"{build.WHEEL_NAME}-{PROJECT['version']}.dist-info/METADATA").decode()
    assert f"Name: {PROJECT['name']}\n" in metadata
    assert "Requires-Dist: numpy" in metadata


def test_the_installed_wheel_trains_saves_and_loads_outside_the_source_tree(installed, tmp_path):
    # a module named nnpy in the working folder would shadow the installed one: none here
    done = subprocess.run([str(installed), "-c", SMOKE, PROJECT["name"]], cwd=tmp_path,
                          env=clean_env(), capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert Path(result["file"]).is_relative_to(installed.parent.parent), result["file"]
    assert result["version"] == result["distribution_version"] == PROJECT["version"]
    assert result["accuracy"] == 1.0
    assert [round(p) for p in result["predictions"]] == [0, 1, 1, 0]
    assert result["loaded_predictions"] == result["predictions"]
    assert result["from_bytes_equal"] is True


def test_unit_tests_pass_against_the_installed_wheel(installed, tmp_path):
    for name in UNIT_FILES:
        shutil.copy2(ROOT / "tests" / name, tmp_path / name)
    done = subprocess.run([str(installed), "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           *UNIT_FILES], cwd=tmp_path, env=clean_env(), capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert " passed" in done.stdout and "skipped" not in done.stdout and "error" not in done.stdout
    imported = subprocess.run([str(installed), "-c", "import nnpy; print(nnpy.__file__)"],
                              cwd=tmp_path, env=clean_env(), capture_output=True, text=True,
                              check=True).stdout
    assert Path(imported.strip()).is_relative_to(installed.parent.parent)
