"""Checks of nnpy.backend.wasm_gemm with the real kernel, run INSIDE Pyodide (no pytest needed there).

Any Pyodide with nnpy importable and the JS kernel object at hand can run them:

    from pyodide_checks import run_checks
    results = run_checks(kernel)        # {check name: "ok" or the failure, with traceback}

In a worker that already installed the kernel, `run_checks(nnpy.backend.dispatch._gemm.kernel)`.

test_kernel_pyodide.py runs them in Pyodide under Node (tests/kernels/run_in_pyodide.js); a
browser test can run the same file in the page's worker once the worker loads the kernel.
"""

import itertools
import traceback

import numpy as np

import nnpy
from nnpy import layers
from nnpy.backend import dispatch, wasm_gemm

SHAPES = [(1, 1, 1), (3, 5, 7), (20, 21, 22), (64, 64, 64), (129, 70, 300), (32, 128, 784),
          (6272, 8, 25), (25, 8, 6272), (25, 6272, 8)]


def operand(rng, shape, transposed):
    """A float32 array of `shape`, stored transposed (a `.T` view) when asked."""
    x = rng.standard_normal(shape).astype(np.float32)
    return np.ascontiguousarray(x.T).T if transposed else x


def check_matmul_matches_numpy(kernel):
    gemm = wasm_gemm.install(kernel, small_problem=0)
    rng = np.random.default_rng(0)
    for (m, n, k), trans_a, trans_b in itertools.product(SHAPES, (False, True), (False, True)):
        a, b = operand(rng, (m, k), trans_a), operand(rng, (k, n), trans_b)
        got = dispatch.matmul(a, b)
        expected = a.astype(np.float64) @ b.astype(np.float64)
        assert got.dtype == np.float32 and got.shape == (m, n)
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6 * k + 1e-6,
                                   err_msg=f"{m}x{n}x{k} transA={trans_a} transB={trans_b}")
    assert gemm.calls["numpy"] == 0


def check_routing(kernel):
    gemm = wasm_gemm.install(kernel)
    rng = np.random.default_rng(1)
    dispatch.matmul(operand(rng, (4, 4), False), operand(rng, (4, 4), False))         # small
    dispatch.matmul(rng.standard_normal((64, 64)), rng.standard_normal((64, 64)))     # float64
    dispatch.matmul(operand(rng, (64, 64), False), operand(rng, (64, 64), True))      # kernel
    assert gemm.calls == {"kernel": 1, "numpy": 2}, gemm.calls


def check_memory_growth(kernel):
    wasm_gemm.install(kernel, small_problem=0)
    rng = np.random.default_rng(2)
    pages = kernel.memory.buffer.byteLength // 65536
    for m, n, k in [(10, 10, 10), (700, 600, 500), (10, 10, 10), (1000, 900, 800)]:
        a, b = operand(rng, (m, k), False), operand(rng, (k, n), False)
        np.testing.assert_allclose(dispatch.matmul(a, b), a.astype(np.float64) @ b,
                                   rtol=1e-5, atol=1e-6 * k + 1e-6)
    assert kernel.memory.buffer.byteLength // 65536 > pages


def forward_backward(layer, x, dy):
    y = layer.forward(x, training=True)
    return [y, layer.backward(dy), *(layer.grads[name].copy() for name in sorted(layer.grads))]


def check_layers_agree(kernel):
    rng = np.random.default_rng(3)
    for layer, shape, out_shape in [
            (layers.Dense(40, activation="relu"), (32, 50), (32, 40)),
            (layers.Conv2D(8, 5, padding="same"), (8, 28, 28, 1), (8, 28, 28, 8)),
            (layers.Conv2D(16, 3, strides=2), (4, 13, 13, 8), (4, 6, 6, 16))]:
        layer.build(shape[1:], np.random.default_rng(0))
        x = rng.standard_normal(shape).astype(np.float32)
        dy = rng.standard_normal(out_shape).astype(np.float32)
        wasm_gemm.install(None)
        expected = forward_backward(layer, x, dy)
        gemm = wasm_gemm.install(kernel, small_problem=0)
        got = forward_backward(layer, x, dy)
        assert gemm.calls["kernel"] == 3, gemm.calls
        for value, reference in zip(got, expected, strict=True):
            np.testing.assert_allclose(value, reference, rtol=1e-4, atol=1e-4)


def check_training_agrees(kernel):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((128, 8, 8, 1)).astype(np.float32)
    y = (x.mean(axis=(1, 2, 3)) > 0).astype(np.int64)

    def train():
        model = nnpy.Sequential([layers.Input((8, 8, 1)),
                                 layers.Conv2D(4, 3, padding="same", activation="relu"),
                                 layers.Flatten(), layers.Dense(2)], seed=0)
        model.compile(optimizer=nnpy.optimizers.SGD(0.05),
                      loss="sparse_categorical_crossentropy")
        return model.fit(x, y, epochs=2, batch_size=32, verbose=0).history["loss"]

    wasm_gemm.install(None)
    expected = train()
    gemm = wasm_gemm.install(kernel, small_problem=0)
    np.testing.assert_allclose(train(), expected, rtol=1e-4)
    assert gemm.calls["kernel"] > 0


def inference_models():
    """Sequential models covering every layer the whole-model kernel runs (and NumPy steps in
    between), with non-trivial weights and BatchNormalization statistics."""
    from nnpy.tasks.image_classifier import default_model
    rng = np.random.default_rng(4)
    digits = nnpy.Sequential([
        layers.Input((28, 28, 1)), layers.Conv2D(16, 5, padding="same", activation="relu"),
        layers.MaxPool2D(2), layers.Conv2D(32, 5, padding="same", activation="relu"),
        layers.MaxPool2D(2), layers.Flatten(), layers.Dense(64, activation="relu"),
        layers.Dropout(0.5), layers.Dense(10)], seed=1)
    webcam = default_model(64, 3)
    mixed = nnpy.Sequential([
        layers.Input((17, 15, 3)), layers.Conv2D(6, 3, strides=2, padding="same", activation="relu6"),
        layers.BatchNormalization(), layers.LeakyReLU(0.2),
        layers.AvgPool2D(3, strides=1, padding="same"), layers.Conv2D(5, 1, activation="tanh"),
        layers.MaxPool2D(3, strides=2, padding="same"), layers.Conv2D(4, (2, 3), padding="valid"),
        layers.ReLU(), layers.GlobalAveragePooling2D(), layers.Dense(7, activation="sigmoid"),
        layers.Reshape((7, 1)), layers.Flatten(), layers.Dense(3, activation="softmax")], seed=2)
    vectors = nnpy.Sequential([layers.Input((12,)), layers.Dense(9, activation="gelu"),
                               layers.Dense(4), layers.Softmax()], seed=3)
    models = {"digits": digits, "webcam": webcam, "mixed": mixed, "vectors": vectors}
    for model in models.values():
        model.build()
        for layer in model.layers:
            if isinstance(layer, layers.BatchNormalization):
                channels = layer.params["gamma"].shape
                layer.params["gamma"][...] = rng.uniform(0.5, 2, channels)
                layer.params["beta"][...] = rng.normal(0, 0.5, channels)
                layer.state["running_mean"][...] = rng.normal(0, 0.5, channels)
                layer.state["running_var"][...] = rng.uniform(0.2, 3, channels)
    return models


def check_inference_matches_numpy(kernel):
    """model.predict through the whole-model kernel equals the layers' own NumPy forward."""
    from nnpy.backend import wasm_inference
    rng = np.random.default_rng(5)
    for name, model in inference_models().items():
        for batch in (1, 3):
            x = rng.uniform(0, 1, (batch, *model.input_shape)).astype(np.float32)
            wasm_gemm.install(None)
            expected = model.predict(x)
            wasm_gemm.install(kernel)
            runner = dispatch._inference
            assert isinstance(runner, wasm_inference.WasmInference)
            got = model.predict(x)
            assert runner.calls == {"kernel": 1, "declined": 0}, (name, runner.calls)
            np.testing.assert_array_equal(model.predict(x), got)  # the kept plan, again
            assert got.shape == expected.shape and got.dtype == np.float32
            np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5, err_msg=f"{name} x{batch}")


def check_inference_declines_what_it_cannot_run(kernel):
    """A layer without kernel code (ZeroPadding2D, DepthwiseConv2D) or a float64 input: predict
    runs the layers as before, with the same numbers."""
    rng = np.random.default_rng(6)
    model = nnpy.Sequential([layers.Input((9, 9, 2)), layers.ZeroPadding2D(1),
                             layers.DepthwiseConv2D(3), layers.Flatten(), layers.Dense(2)], seed=4)
    x = rng.uniform(0, 1, (2, 9, 9, 2)).astype(np.float32)
    wasm_gemm.install(None)
    expected = model.predict(x)
    wasm_gemm.install(kernel)
    runner = dispatch._inference
    np.testing.assert_allclose(model.predict(x), expected, rtol=1e-5, atol=1e-6)
    assert runner.calls == {"kernel": 0, "declined": 1}, runner.calls
    assert runner(model, x.astype(np.float64)) is None


def check_inference_follows_changed_weights(kernel):
    """Weights are read on every call: training between two predictions changes the second."""
    model = inference_models()["webcam"]
    model.compile(optimizer=nnpy.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(7)
    x = rng.uniform(0, 1, (4, 64, 64, 3)).astype(np.float32)
    wasm_gemm.install(kernel)
    before = model.predict(x)
    model.fit(x, np.array([0, 1, 2, 0]), epochs=3, batch_size=4, verbose=0)
    after = model.predict(x)
    wasm_gemm.install(None)
    np.testing.assert_allclose(after, model.predict(x), rtol=1e-4, atol=1e-5)
    assert np.abs(after - before).max() > 1e-3


CHECKS = [check_matmul_matches_numpy, check_routing, check_memory_growth, check_layers_agree,
          check_training_agrees, check_inference_matches_numpy,
          check_inference_declines_what_it_cannot_run, check_inference_follows_changed_weights]


def run_checks(kernel):
    """Run every check; the GEMM installed before (e.g. by the worker) is back afterwards."""
    installed = dispatch._gemm, dispatch._depthwise, dispatch._inference
    results = {}
    for check in CHECKS:
        try:
            check(kernel)
            results[check.__name__] = "ok"
        except Exception:  # noqa: BLE001 -- every failure is reported, with its traceback
            results[check.__name__] = traceback.format_exc()
    dispatch.set_gemm(installed[0])
    dispatch.set_depthwise(installed[1])
    dispatch.set_inference(installed[2])
    return results
