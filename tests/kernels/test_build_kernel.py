"""web/kernels/build_kernel.py: installs ziglang when missing, reports compiler errors."""

import subprocess
import sys

import pytest


def test_ziglang_is_pip_installed_when_missing(build_kernel, monkeypatch):
    commands = []
    monkeypatch.setattr(build_kernel.importlib.util, "find_spec", lambda name: None)
    monkeypatch.setattr(build_kernel.subprocess, "run",
                        lambda command, **kwargs: commands.append(command))
    assert build_kernel.zig_command() == [sys.executable, "-m", "ziglang"]
    assert commands == [[sys.executable, "-m", "pip", "install", "--quiet", "ziglang"]]


def test_compile_errors_are_reported(build_kernel, monkeypatch, tmp_path):
    failed = subprocess.CompletedProcess([], 1, "", "gemm.c:1: error: something")
    monkeypatch.setattr(build_kernel, "zig_command", lambda: ["zig"])
    monkeypatch.setattr(build_kernel.subprocess, "run", lambda command, **kwargs: failed)
    with pytest.raises(RuntimeError, match="something"):
        build_kernel.compile_kernel(tmp_path / "gemm.wasm")


def test_both_builds_are_written(kernel_files):
    assert [path.name for path in kernel_files] == ["gemm.wasm", "gemm-relaxed.wasm"]
    for path in kernel_files:
        assert path.read_bytes()[:4] == b"\0asm"
