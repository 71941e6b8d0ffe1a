"""Fixtures for the GEMM kernel tests: the compiled kernel and a Node to run it in."""

import importlib.util
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def load_build_kernel():
    """web/kernels/build_kernel.py as a module (web/ is not a Python package)."""
    path = ROOT / "web" / "kernels" / "build_kernel.py"
    spec = importlib.util.spec_from_file_location("build_kernel", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def build_kernel():
    return load_build_kernel()


@pytest.fixture(scope="session")
def kernel_files(build_kernel, tmp_path_factory):
    """[gemm.wasm, gemm-relaxed.wasm], freshly compiled from web/kernels/gemm.c."""
    return build_kernel.compile_kernels(tmp_path_factory.mktemp("kernels"))


@pytest.fixture(scope="session")
def node():
    executable = shutil.which("node")
    if executable is None:
        pytest.skip("Node.js is not installed")
    return executable
