"""The WebAssembly SIMD GEMM (web/kernels/gemm.c) against NumPy, run in Node.

Every shape is tried with each transpose combination and with accumulate on and off, in both
builds (plain SIMD128 and relaxed-SIMD fused multiply-add). Shapes cover 1 x 1, odd sizes, sizes
that are not multiples of the 4 x 8 register tile, and sizes crossing the KC = 256, MC = 128 and
NC = 512 cache blocks, so every edge path of the packing and the micro-kernel runs; fewer than 4
rows (a prediction's batch of one) take the row-at-a-time path, whose 16-, 4- and 1-column steps
the widths 37 and 70 all reach.
"""

import base64
import itertools
import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

RUNNER = Path(__file__).with_name("run_gemm_cases.js")

SHAPES = [  # (M, N, K)
    (1, 1, 1), (1, 1, 7), (1, 9, 1), (7, 1, 1), (3, 5, 7), (4, 8, 1), (4, 8, 16),
    (5, 9, 257), (13, 17, 300), (33, 65, 513), (129, 130, 31), (2, 600, 3), (64, 64, 64),
    (100, 520, 260), (3, 4, 0), (1, 37, 300), (3, 70, 33),
]


def encode(array):
    return base64.b64encode(np.ascontiguousarray(array, dtype=np.float32).tobytes()).decode()


def decode(text):
    return np.frombuffer(base64.b64decode(text), dtype=np.float32)


def make_case(rng, m, n, k, trans_a=False, trans_b=False, accumulate=False, alpha=1.0,
              beta=None, bias=False, pad=0):
    """Operands as stored (transposed when flagged, rows `pad` floats longer) and the expected C."""
    a = rng.uniform(-1, 1, ((k, m + pad) if trans_a else (m, k + pad))).astype(np.float32)
    b = rng.uniform(-1, 1, ((n, k + pad) if trans_b else (k, n + pad))).astype(np.float32)
    c = rng.uniform(-1, 1, (m, n + pad)).astype(np.float32)
    op_a = a[:, :m].T if trans_a else a[:, :k]                  # (M, K)
    op_b = b[:, :k].T if trans_b else b[:, :n]                  # (K, N)
    beta = (1.0 if accumulate else 0.0) if beta is None else beta
    row = rng.uniform(-1, 1, n).astype(np.float32) if bias else None
    expected = c.astype(np.float64)
    expected[:, :n] = alpha * (op_a.astype(np.float64) @ op_b) + beta * expected[:, :n]
    if bias:
        expected[:, :n] += row
    spec = {
        "api": "gemm" if (alpha, pad, bias) == (1.0, 0, False) and beta in (0.0, 1.0) else "sgemm",
        "M": m, "N": n, "K": k, "transA": int(trans_a), "transB": int(trans_b),
        "accumulate": int(beta == 1.0), "alpha": alpha, "beta": beta,
        "lda": a.shape[1], "ldb": b.shape[1], "ldc": c.shape[1],
        "a": encode(a), "b": encode(b), "c": encode(c), "bias": encode(row) if bias else None,
    }
    return spec, expected


def build_cases():
    rng = np.random.default_rng(7)
    cases = {}
    for (m, n, k), trans_a, trans_b, accumulate in itertools.product(
            SHAPES, (False, True), (False, True), (False, True)):
        name = f"{m}x{n}x{k}-{'T' if trans_a else 'N'}{'T' if trans_b else 'N'}" + (
            "-acc" if accumulate else "")
        cases[name] = make_case(rng, m, n, k, trans_a, trans_b, accumulate)
    # The BLAS-style entry: alpha, beta, a bias row, and leading dimensions wider than the rows.
    for trans_a, trans_b in itertools.product((False, True), repeat=2):
        tag = f"{'T' if trans_a else 'N'}{'T' if trans_b else 'N'}"
        cases[f"sgemm-alpha-beta-{tag}"] = make_case(rng, 37, 21, 300, trans_a, trans_b,
                                                     alpha=0.5, beta=-2.0)
        cases[f"sgemm-bias-{tag}"] = make_case(rng, 9, 13, 5, trans_a, trans_b, bias=True)
        cases[f"sgemm-bias-beta-{tag}"] = make_case(rng, 6, 70, 17, trans_a, trans_b, beta=1.0,
                                                    bias=True)
        cases[f"sgemm-strided-{tag}"] = make_case(rng, 19, 23, 29, trans_a, trans_b, pad=5)
        # the same entries with fewer rows than the register tile
        cases[f"sgemm-rows-alpha-beta-{tag}"] = make_case(rng, 2, 37, 30, trans_a, trans_b,
                                                          alpha=0.5, beta=-2.0)
        cases[f"sgemm-rows-bias-{tag}"] = make_case(rng, 1, 21, 9, trans_a, trans_b, bias=True)
        cases[f"sgemm-rows-strided-{tag}"] = make_case(rng, 3, 23, 29, trans_a, trans_b, pad=5)
    cases["sgemm-bias-k0"] = make_case(rng, 3, 10, 0, bias=True)
    return cases


CASES = build_cases()


def run_node(node, *wasm_files):
    request = json.dumps({"cases": [spec for spec, _ in CASES.values()]})
    result = subprocess.run([node, str(RUNNER), *map(str, wasm_files)], input=request, check=False,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def replies(node, kernel_files):
    plain, relaxed = kernel_files
    return {"simd128": run_node(node, plain), "relaxed": run_node(node, plain, relaxed)}


@pytest.mark.parametrize("build", ["simd128", "relaxed"])
@pytest.mark.parametrize("name", list(CASES))
def test_kernel_matches_numpy(replies, build, name):
    reply = replies[build]
    assert reply["relaxed"] == (build == "relaxed")
    spec, expected = CASES[name]
    index = list(CASES).index(name)
    got = decode(reply["cases"][index]["c"]).reshape(expected.shape)
    tolerance = 1e-6 * spec["K"] + 1e-6         # float32 rounding grows with the dot length
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=tolerance)


def test_allocator_aligns_grows_and_resets(replies):
    probe = replies["simd128"]["allocator"]
    assert probe["first"] % 64 == 0 and probe["second"] % 64 == 0
    assert probe["second"] >= probe["first"] + 3
    assert probe["big"] % 64 == 0 and probe["pagesAfter"] * 65536 >= probe["big"] + (64 << 20)
    assert probe["pagesAfter"] > probe["pagesBefore"]
    assert probe["again"] == probe["first"]           # reset() frees everything


def test_loader_returns_null_without_simd(replies):
    assert replies["simd128"]["simd"] is True
    assert replies["simd128"]["withoutSimd"] == {"simdSupported": False, "kernel": None}


def test_kernel_imports_nothing(node, kernel_files):
    """Freestanding: no libc (memset/memcpy) or host function may sneak in as an import."""
    script = ("require('v8').setFlagsFromString('--experimental-wasm-relaxed-simd');"
              "const m = new WebAssembly.Module(require('fs').readFileSync(process.argv[1]));"
              "console.log(JSON.stringify([WebAssembly.Module.imports(m),"
              " WebAssembly.Module.exports(m).map((e) => e.name)]))")
    for path in kernel_files:
        out = subprocess.run([node, "-e", script, str(path)],
                             capture_output=True, text=True, check=True).stdout
        imports, exports = json.loads(out)
        assert imports == []
        assert set(exports) == {"memory", "alloc", "reset", "relaxed", "gemm", "sgemm", "depthwise",
                                "conv2d", "dense", "pool2d", "activate", "batch_norm", "global_average"}
