"""web/kernels/build_kernel.py: finds or caches ziglang, reports compiler errors."""

import subprocess
import sys
from pathlib import Path

import pytest


def test_ziglang_from_this_python_when_it_has_it(build_kernel, monkeypatch):
    monkeypatch.setattr(build_kernel.importlib.util, "find_spec", lambda name: object())
    monkeypatch.setattr(build_kernel.subprocess, "run", lambda command, **kwargs: 1 / 0)
    assert build_kernel.zig_command() == [sys.executable, "-m", "ziglang"]


def test_missing_ziglang_is_installed_into_the_cache_not_the_environment(build_kernel, monkeypatch,
                                                                         tmp_path):
    commands = []

    def fake_pip(command, **kwargs):  # what `pip install --target DIR` leaves in DIR
        commands.append(command)
        target = Path(command[command.index("--target") + 1])
        (target / "ziglang").mkdir(parents=True)
        (target / "ziglang" / "__main__.py").write_text("")

    monkeypatch.setattr(build_kernel.importlib.util, "find_spec", lambda name: None)
    monkeypatch.setattr(build_kernel.subprocess, "run", fake_pip)
    monkeypatch.setattr(build_kernel, "TOOLS_DIR", tmp_path / "tools")
    installed = tmp_path / "tools" / build_kernel.ZIGLANG.replace("==", "-")
    assert build_kernel.zig_command() == [sys.executable, str(installed / "ziglang" / "__main__.py")]
    assert commands == [[sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target",
                         str(installed.with_name(installed.name + ".tmp-install")),
                         build_kernel.ZIGLANG]]
    assert build_kernel.zig_command()[1] == str(installed / "ziglang" / "__main__.py")
    assert len(commands) == 1   # installed once


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
