"""The WebAssembly SIMD GEMM kernel in the real nnpy worker in Chromium.

The worker loads web/kernels/gemm{,-relaxed}.wasm at init and routes nnpy's float32 GEMMs to it;
here: init says so, tests/kernels/pyodide_checks.py passes in the worker with both builds, the
kernel equals NumPy on random shapes (1x1, odd sizes, non-multiples of the 4x8 tile and of the
cache blocks) for every transpose and accumulate on/off, with both builds; every layer of the gradcheck registry
gives NumPy's float32 results through the kernel, and `kernelsURL: false` keeps NumPy.
"""

import json

import pytest

import build  # the repository root is on sys.path (conftest.py)

# Python run in the worker (nn.exec); BASE is the test server's URL.
FETCH_MODULE = """
import sys
import pyodide_js
from pyodide.http import pyfetch

await pyodide_js.loadPackage("micropip")
import micropip
for wheel in WHEELS:   # test_gradcheck.py imports pytest
    await micropip.install(BASE + "_test/wheels/" + wheel, deps=False)

async def fetch_module(url, path):
    response = await pyfetch(url)
    assert response.ok, f"{url}: HTTP {response.status}"
    with open(path, "w") as f:
        f.write(await response.string())

for folder, name in [("kernels/", "pyodide_checks.py"), ("", "test_gradcheck.py")]:
    await fetch_module(BASE + "_test/tests/" + folder + name, "/tmp/" + name)
if "/tmp" not in sys.path:
    sys.path.insert(0, "/tmp")
"""

RANDOM_SHAPES = """
import itertools
import numpy as np
from js import Float32Array, loadGemmKernel

kernel = await loadGemmKernel(KERNEL_URL)   # an instance of its own: the installed one keeps its memory
assert kernel.relaxed == KERNEL_URL.endswith("-relaxed.wasm")
rng = np.random.default_rng(SEED)
# 1x1x1, odd sizes, sizes around the 4x8 tile and the 128/256/512 cache blocks, and random ones
shapes = [(1, 1, 1), (1, 9, 1), (7, 1, 3), (3, 5, 7), (4, 8, 4), (5, 9, 13), (33, 17, 65),
          (127, 129, 257), (130, 513, 31), (8, 6272, 25), (513, 9, 260)]
shapes += [tuple(int(v) for v in rng.integers(1, 300, 3)) for _ in range(12)]

def view(pointer, count):
    return Float32Array.new(kernel.memory.buffer, pointer, count)

failures, cases = [], 0
for (m, n, k), trans_a, trans_b, accumulate in itertools.product(
        shapes, (False, True), (False, True), (False, True)):
    a = rng.standard_normal((k, m) if trans_a else (m, k)).astype(np.float32)   # as stored
    b = rng.standard_normal((n, k) if trans_b else (k, n)).astype(np.float32)
    c = rng.standard_normal((m, n)).astype(np.float32)
    kernel.reset()
    pa, pb, pc = kernel.alloc(a.nbytes), kernel.alloc(b.nbytes), kernel.alloc(c.nbytes)
    view(pa, a.size).assign(a)
    view(pb, b.size).assign(b)
    view(pc, c.size).assign(c)
    kernel.gemm(m, n, k, pa, pb, pc, trans_a, trans_b, accumulate)
    got = np.empty((m, n), dtype=np.float32)
    view(pc, c.size).assign_to(got)
    expected = (a.T if trans_a else a).astype(np.float64) @ (b.T if trans_b else b)
    if accumulate:
        expected += c
    error = np.abs(got - expected).max() / (np.abs(expected).max() + 1e-12)
    cases += 1
    if not error < 1e-5:
        failures.append(f"{m}x{n}x{k} transA={trans_a} transB={trans_b} "
                        f"accumulate={accumulate}: relative error {error:.2e}")
{"cases": cases, "failures": failures}
"""

LAYERS_FLOAT32 = """
import numpy as np
from nnpy import layers
from nnpy.backend import dispatch, wasm_gemm
from test_gradcheck import LAYER_CASES

installed = dispatch._gemm
results = {}

def run(layer, x, dy):
    y = layer.forward(x, training=True)
    dx = layer.backward(dy)  # a list for a layer that merges inputs
    return [y, *(dx if layer.merges else [dx]), *(layer.grads[key].copy() for key in sorted(layer.grads))]

for case, (factory, shape, batch) in sorted(LAYER_CASES.items()):
    rng = np.random.default_rng(0)
    layer = factory()
    layer.build(shape, np.random.default_rng(1))
    for key in layer.params:
        layer.params[key] = (layer.params[key] + 0.3 * rng.standard_normal(
            layer.params[key].shape)).astype(np.float32)
    batch = 16   # larger than the gradcheck's so every GEMM has some size
    if layer.merges:  # its shape is each input's
        x = [rng.standard_normal((batch, *one)).astype(np.float32) for one in shape]
    else:
        x = rng.standard_normal((batch, *shape)).astype(np.float32)
    dy = rng.standard_normal((batch, *layer.output_shape)).astype(np.float32)
    outcome = {}
    for name, gemm in (("numpy", None), ("kernel", wasm_gemm.WasmGemm(installed.kernel,
                                                                      small_problem=0))):
        dispatch.set_gemm(gemm)
        if isinstance(layer, layers.Dropout):
            layer.rng = np.random.default_rng(7)
        outcome[name] = run(layer, x, dy)
        if gemm is not None:
            outcome["calls"] = gemm.calls
    dispatch.set_gemm(installed)
    worst = 0.0
    for got, expected in zip(outcome["kernel"], outcome["numpy"], strict=True):
        assert got is None and expected is None or got.dtype == np.float32, case
        if got is not None:
            worst = max(worst, float(np.abs(got - expected).max() / (np.abs(expected).max() + 1)))
    results[case] = {"error": worst, **outcome["calls"]}
results
"""


@pytest.fixture(scope="module")
def checks_loaded(nn_page, site_url):
    wheels = sorted(p.name for p in build.TEST_WHEELS_CACHE.glob("*.whl"))
    nn_page.evaluate("(source) => nn.exec(source)",
                     f"BASE = {site_url!r}\nWHEELS = {wheels!r}\n" + FETCH_MODULE)
    return nn_page


def test_init_reports_the_wasm_gemm(nn_page):
    info = nn_page.evaluate("nn.info")
    # Chromium has relaxed SIMD (fused multiply-add), so the faster build is chosen
    assert info["gemm"] == "wasm-simd-relaxed", info
    installed = nn_page.evaluate(
        "nn.exec('type(nnpy.backend.dispatch._gemm).__name__ + \" \" + str(nnpy.backend.dispatch._gemm.kernel.relaxed)')")
    assert installed == "WasmGemm True"
    assert nn_page.errors == []


@pytest.mark.parametrize("build", ["installed", "gemm.wasm"])
def test_pyodide_checks_pass_in_the_worker(checks_loaded, site_url, build):
    """tests/kernels/pyodide_checks.py: matmul vs NumPy, routing, memory growth, layers, training.
    'installed' is the kernel the worker chose (relaxed SIMD); 'gemm.wasm' the plain SIMD128 build."""
    if build == "installed":
        source = "import nnpy.backend.dispatch\nkernel = nnpy.backend.dispatch._gemm.kernel\n"
    else:
        source = (f"from js import loadGemmKernel\n"
                  f"kernel = await loadGemmKernel({site_url + 'web/kernels/' + build!r})\n"
                  "assert not kernel.relaxed\n")
    source += ("import nnpy.backend.dispatch\nfrom pyodide_checks import run_checks\n"
               "installed = nnpy.backend.dispatch._gemm\nresults = run_checks(kernel)\n"
               "assert nnpy.backend.dispatch._gemm is installed\nresults")
    results = checks_loaded.evaluate("(source) => nn.exec(source)", source)
    assert results and all(value == "ok" for value in results.values()), json.dumps(results, indent=1)


@pytest.mark.parametrize("build, seed", [("gemm-relaxed.wasm", 0), ("gemm.wasm", 1)])
def test_kernel_equals_numpy_on_random_shapes(nn_page, site_url, build, seed):
    source = f"SEED = {seed}\nKERNEL_URL = {site_url + 'web/kernels/' + build!r}\n" + RANDOM_SHAPES
    result = nn_page.evaluate("(source) => nn.exec(source)", source)
    assert result["cases"] == 23 * 8
    assert result["failures"] == [], "\n".join(result["failures"])


def test_every_layer_in_float32_matches_numpy_through_the_kernel(checks_loaded):
    """The gradchecks run in float64, which stays in NumPy: this is the float32 twin, through the
    kernel (every float32 GEMM, however small), against NumPy's einsum."""
    results = checks_loaded.evaluate("(source) => nn.exec(source)", LAYERS_FLOAT32)
    assert set(results) >= {"Dense", "Conv2D-same", "MaxPool2D", "BatchNormalization-4d"}
    for case, outcome in results.items():
        assert outcome["error"] < 1e-5, (case, outcome)
        assert outcome["numpy"] == 0, (case, outcome)
        if case.startswith(("Dense", "Conv2D")):
            assert outcome["kernel"] == 3 or case.startswith("Dense-nobias"), (case, outcome)


def test_training_in_the_page_goes_through_the_kernel(nn_page):
    calls = nn_page.evaluate("""async () => {
        const before = await nn.exec("dict(nnpy.backend.dispatch._gemm.calls)");
        const model = await nn.exec(`
from nnpy import layers
model = nnpy.Sequential([layers.Input((784,)), layers.Dense(128, activation="relu"),
                         layers.Dense(10)], seed=0)
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
model`);
        const x = new Float32Array(64 * 784).map((_, i) => (i * 7919 % 255) / 255);
        const y = Int32Array.from({ length: 64 }, (_, i) => i % 10);
        await model.fit(x, y, { epochs: 1, batchSize: 32 });
        const after = await nn.exec("dict(nnpy.backend.dispatch._gemm.calls)");
        return { before, after };
    }""")
    # 2 batches x (1 forward + 2 backward GEMMs for the first layer, 1 + 2 for the second; the
    # first layer's dx is not needed)
    assert calls["after"]["kernel"] - calls["before"]["kernel"] >= 2 * 4, calls


def test_a_page_prediction_runs_the_whole_model_in_the_kernel(nn_page):
    """model.predict(canvas) through the page API: one whole-model run in the kernel, and no GEMM
    through WasmGemm but the drawing's resize (nnpy.data.resize: two products); the same canvas
    predicted layer by layer (the runner taken out) gives the same probabilities."""
    result = nn_page.evaluate("""async () => {
        const model = await nn.loadModel("/web/models/digits.safetensors");
        const canvas = document.createElement("canvas");
        canvas.width = canvas.height = 280;
        const context = canvas.getContext("2d");
        context.lineWidth = 24;
        context.lineCap = "round";
        context.beginPath();
        context.moveTo(140, 40);
        context.lineTo(140, 240);
        context.stroke();
        const calls = "[dict(dispatch._inference.calls), dict(dispatch._gemm.calls)]";
        const before = await nn.exec("from nnpy.backend import dispatch\\n" + calls);
        const whole = await model.predict(canvas);
        const after = await nn.exec(calls);
        await nn.exec("runner = dispatch._inference\\ndispatch.set_inference(None)");
        const layered = await model.predict(canvas);
        const afterLayers = await nn.exec("dispatch._gemm.calls['kernel']");
        await nn.exec("dispatch.set_inference(runner)");
        return { before, after, afterLayers, label: whole.label,
                 whole: Array.from(whole.probabilities), layered: Array.from(layered.probabilities) };
    }""")
    (runs_before, gemm_before), (runs_after, gemm_after) = result["before"], result["after"]
    # (+1, or more when the worker found a moment to warm the new model up in between)
    predictions = runs_after["kernel"] - runs_before["kernel"]
    assert predictions >= 1
    # per prediction (a warm-up predicts a drawing too) the resize's two products (to the kernel
    # or, when small, NumPy), none of the model's
    assert sum(gemm_after.values()) - sum(gemm_before.values()) == 2 * predictions, (
        gemm_before, gemm_after, predictions)
    assert result["afterLayers"] > gemm_after["kernel"]  # layer by layer it does
    assert result["label"] == "1"
    for got, expected in zip(result["whole"], result["layered"], strict=True):
        assert abs(got - expected) < 1e-5


def test_an_idle_page_warms_a_new_model_up_then_stops(nn_page):
    """After a page loads a model the worker predicts made-up inputs for it while the page is
    idle (WARM_UP_RUNS in web/worker.js), so the browser has compiled and optimised the path
    before the page's own predictions; a prediction asked for meanwhile is answered, and once
    warm the worker does nothing more. (The page is shared with the tests above: their models may
    still be warming up, so the count starts once it has stood still for a second.)"""
    result = nn_page.evaluate("""async () => {
        const runs = () => nn.exec("from nnpy.backend import dispatch\\ndispatch._inference.calls['kernel']");
        const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
        let before = await runs();
        for (let last = -1, waited = 0; before !== last && waited < 60000; waited += 1000) {
            await sleep(1000);
            [last, before] = [before, await runs()];
        }
        const model = await nn.loadModel("/web/models/digits.safetensors");
        await sleep(300);
        const canvas = document.createElement("canvas");
        canvas.width = canvas.height = 280;
        const context = canvas.getContext("2d");
        context.lineWidth = 24;
        context.beginPath();
        context.moveTo(140, 40);
        context.lineTo(140, 240);
        context.stroke();
        const meanwhile = (await model.predict(canvas)).label;
        let warm = await runs();
        for (let waited = 0; warm < before + 101 && waited < 60000; waited += 250) {
            await sleep(250);
            warm = await runs();
        }
        await sleep(1000);
        return { before, meanwhile, warm, later: await runs() };
    }""")
    assert result["meanwhile"] == "1"
    assert result["warm"] == result["before"] + 100 + 1  # the warm-ups and the page's one
    assert result["later"] == result["warm"]  # then nothing


def test_a_request_ends_a_run_of_warm_ups(nn_page):
    """Warm-ups under way stop at the page's first request, which then waits for at most the
    one in progress: the page's back-to-back predictions do not each wait for a made-up one
    (they would take twice as long); warming goes on once the page is idle again."""
    result = nn_page.evaluate("""async () => {
        const runs = () => nn.exec("from nnpy.backend import dispatch\\ndispatch._inference.calls['kernel']");
        const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
        const canvas = document.createElement("canvas");
        canvas.width = canvas.height = 140;
        canvas.getContext("2d").fillRect(60, 20, 20, 100);
        const model = await nn.loadModel("/web/models/digits.safetensors");
        const first = await runs();
        let started = first;                   // warming starts after 50 ms idle (on a first
        for (let waited = 0; started === first && waited < 30000; waited += 100) {  // visit,
            await sleep(100);                  // once the snapshot is stored: 5 s at most)
            started = await runs();            // this request ends the run under way
        }
        for (let i = 0; i < 60; i++) await model.predict(canvas);
        const after = await runs();
        await sleep(1000);                     // idle again: warming goes on
        return { warmedWhileIdle: started - first, duringBurst: after - started - 60,
                 afterwards: (await runs()) - after };
    }""")
    assert 0 < result["warmedWhileIdle"] < 100, result  # started, and not over by the burst
    # the one in progress when the burst began (and one per pause of a busy page longer than the
    # idle time between two predictions, rare): never one per prediction
    assert result["duringBurst"] <= 10, result
    assert result["afterwards"] > 0, result


def test_kernels_url_false_keeps_numpy(new_page, site_url):
    page = new_page()
    page.set_default_timeout(120_000)
    page.goto(site_url + "_test/pages/blank.html")
    info = page.evaluate("""async () => {
        const nn = await nnpy.load({ kernelsURL: false });
        const gemm = await nn.exec("nnpy.backend.dispatch._gemm.__name__");
        nn.terminate();
        return { ...nn.info, installed: gemm };
    }""")
    assert info["gemm"] == "numpy" and info["installed"] == "_matmul_einsum"
    assert page.errors == []


@pytest.mark.parametrize("folder, message", [
    ("_test/pages/kernels-without-simd/", "this browser has no WebAssembly SIMD"),
    ("_test/pages/no-such-folder/", "the GEMM kernel did not load"),
])
def test_without_the_kernel_numpy_does_the_work_and_the_console_says_so_once(
        new_page, site_url, folder, message):
    page = new_page()
    page.set_default_timeout(120_000)
    console = []
    page.on("console", lambda m: console.append(m.text))
    page.goto(site_url + "_test/pages/blank.html")
    info = page.evaluate("""async (kernelsURL) => {
        const nn = await nnpy.load({ kernelsURL });
        const gemm = await nn.exec(
          "x = np.ones((64, 64), np.float32)\\nnnpy.backend.dispatch._gemm.__name__, float(nnpy.backend.dispatch.matmul(x, x).sum())");
        nn.terminate();
        return { ...nn.info, installed: gemm };
    }""", site_url + folder)
    assert info["gemm"] == "numpy" and info["installed"] == ["_matmul_einsum", 64 ** 3]
    assert sum(message in line for line in console) == 1, console
    assert page.errors == []
