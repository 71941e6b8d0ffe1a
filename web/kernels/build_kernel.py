"""Compile the WebAssembly SIMD GEMM kernel (gemm.c) with PyPI's `ziglang` (a clang + wasm-ld).

    python web/kernels/build_kernel.py [OUT_DIR]     # default .cache/kernels/

`compile_kernels(out_dir)` writes the two builds the page chooses between (see gemm.js):
`gemm.wasm` (SIMD128, every engine with WebAssembly SIMD) and `gemm-relaxed.wasm` (fused
multiply-add through relaxed SIMD: Chrome 114+, about 20% faster). Both are build outputs, never
committed. When this Python has no `ziglang`, pip installs a pinned one once into
`.cache/tools/` (a 100 MB download, 400 MB unpacked) and it runs from there: nothing is added
to the environment that runs the build.
"""

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "gemm.c"
DEFAULT_OUT_DIR = HERE.parent.parent / ".cache" / "kernels"
TOOLS_DIR = HERE.parent.parent / ".cache" / "tools"
ZIGLANG = "ziglang==0.17.1"   # the compiler the kernels are checked with (tests/kernels/)
KERNEL_FILES = {False: "gemm.wasm", True: "gemm-relaxed.wasm"}   # relaxed SIMD? -> file name

FLAGS = [
    "--target=wasm32-freestanding",
    "-msimd128",
    "-O3",
    "-nostdlib",              # no libc: the kernel needs none and imports nothing
    "-Wl,--no-entry",         # a library, no main
    "-Wl,--export-memory",    # JS places operands in this memory (exports: see EXPORT in gemm.c)
    "-Wl,--strip-all",
]


def zig_command() -> list[str]:
    """`python -m ziglang` when this Python has it; else the pinned ziglang from .cache/tools/,
    installed there first with `pip install --target` (the user's environment stays as it was)."""
    if importlib.util.find_spec("ziglang") is not None:
        return [sys.executable, "-m", "ziglang"]
    target = TOOLS_DIR / ZIGLANG.replace("==", "-")
    main = target / "ziglang" / "__main__.py"   # runs the zig binary beside it
    if not main.exists():
        partial = target.with_name(target.name + ".tmp-install")
        shutil.rmtree(partial, ignore_errors=True)
        print(f"build_kernel: installing {ZIGLANG} into {target} (once, about 100 MB; "
              "not into this Python's environment)", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                        "--target", str(partial), ZIGLANG], check=True)
        partial.replace(target)
    return [sys.executable, str(main)]


def compile_kernel(out_path, relaxed: bool = False, defines: dict | None = None) -> Path:
    """Compile gemm.c to `out_path`; `relaxed` adds fused multiply-add (relaxed SIMD).

    `defines` overrides the blocking constants for tuning, e.g. {"MR": 4, "KC": 128}.
    """
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    extra = ["-mrelaxed-simd"] if relaxed else []
    extra += [f"-D{name}={value}" for name, value in (defines or {}).items()]
    command = [*zig_command(), "cc", *FLAGS, *extra, str(SOURCE), "-o", str(out_path)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"compiling {SOURCE.name} failed:\n{result.stderr}")
    return out_path


def compile_kernels(out_dir=DEFAULT_OUT_DIR) -> list[Path]:
    """Both builds into `out_dir`: [gemm.wasm, gemm-relaxed.wasm]."""
    out_dir = Path(out_dir)
    return [compile_kernel(out_dir / name, relaxed) for relaxed, name in KERNEL_FILES.items()]


if __name__ == "__main__":
    for path in compile_kernels(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_OUT_DIR):
        print(f"{path} ({path.stat().st_size} bytes)")
