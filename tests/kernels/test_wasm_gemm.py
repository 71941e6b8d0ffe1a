"""nnpy.backend.wasm_gemm routing, run in CPython against a fake kernel (fake_kernel.py).

Proves: large float32 GEMMs reach the kernel and small ones or other dtypes stay with NumPy;
transposed views travel as flags, not copies; memory growth and allocation failure are handled;
Dense and Conv2D give the same results through the kernel; and CPython's `nnpy.backend.dispatch.matmul`
is untouched unless a kernel is installed.
"""

import itertools

import numpy as np
import pytest
from fake_kernel import FakeKernel, Float32Array

import nnpy
from nnpy import layers
from nnpy.backend import dispatch, wasm_gemm


@pytest.fixture
def kernel():
    fake = FakeKernel()
    yield fake
    wasm_gemm.install(None)


def install(kernel, **options):
    return wasm_gemm.install(kernel, float32_array=Float32Array, **options)


def random(rng, shape, dtype=np.float32):
    return rng.standard_normal(shape).astype(dtype)


def test_cpython_matmul_is_unchanged_without_a_kernel():
    assert not dispatch.IN_BROWSER
    assert dispatch._gemm is dispatch._matmul_blas
    rng = np.random.default_rng(0)
    for dtype in (np.float32, np.float64):
        a, b = random(rng, (37, 41), dtype), random(rng, (41, 23), dtype)
        np.testing.assert_array_equal(dispatch.matmul(a, b), a @ b)
        np.testing.assert_array_equal(dispatch.matmul(a.T.T, b[:, ::2]), a @ b[:, ::2])


def test_install_none_restores_the_platform_gemm(kernel):
    install(kernel)
    assert isinstance(dispatch._gemm, wasm_gemm.WasmGemm)
    wasm_gemm.install(None)
    assert dispatch._gemm is dispatch._matmul_blas


@pytest.mark.parametrize("trans_a, trans_b", itertools.product((False, True), repeat=2))
def test_transposed_views_travel_as_flags(kernel, trans_a, trans_b):
    gemm = install(kernel)
    rng = np.random.default_rng(1)
    a = random(rng, (45, 33))                          # (M, K)
    b = random(rng, (33, 70))                          # (K, N)
    a_view = np.ascontiguousarray(a.T).T if trans_a else a   # a.T of a C-contiguous array
    b_view = np.ascontiguousarray(b.T).T if trans_b else b
    c = dispatch.matmul(a_view, b_view)
    assert c.dtype == np.float32 and c.shape == (45, 70)
    np.testing.assert_allclose(c, a.astype(np.float64) @ b, rtol=1e-5, atol=1e-5)
    assert kernel.gemm_calls == [(45, 70, 33, trans_a, trans_b, False)]
    assert gemm.calls == {"kernel": 1, "numpy": 0}


def test_strided_operands_are_copied_contiguous(kernel):
    install(kernel)
    rng = np.random.default_rng(2)
    a, b = random(rng, (40, 60)), random(rng, (60, 50))
    c = dispatch.matmul(a[:, ::2], b[::2, 1::2])                # neither C- nor F-contiguous
    np.testing.assert_allclose(c, a[:, ::2] @ b[::2, 1::2], rtol=1e-5, atol=1e-5)
    assert kernel.gemm_calls == [(40, 25, 30, False, False, False)]


def test_small_problems_and_other_dtypes_stay_with_numpy(kernel):
    gemm = install(kernel, small_problem=1000)
    rng = np.random.default_rng(3)
    small = random(rng, (9, 10)), random(rng, (10, 11))                        # 990 < 1000
    float64 = random(rng, (30, 30), np.float64), random(rng, (30, 30), np.float64)
    mixed = random(rng, (30, 30)), random(rng, (30, 30), np.float64)
    for a, b in (small, float64, mixed):
        c = dispatch.matmul(a, b)
        assert c.dtype == np.result_type(a, b)
        np.testing.assert_allclose(c, a @ b, rtol=1e-5, atol=1e-6)
    assert kernel.gemm_calls == [] and gemm.calls == {"kernel": 0, "numpy": 3}
    dispatch.matmul(random(rng, (10, 10)), random(rng, (10, 10)))                # 1000: kernel
    assert gemm.calls == {"kernel": 1, "numpy": 3}


def test_workspace_grows_and_views_are_taken_again(kernel):
    gemm = install(kernel)
    rng = np.random.default_rng(4)
    shapes = [(20, 30, 40), (300, 200, 250), (20, 30, 40), (301, 7, 90), (600, 500, 300)]
    for m, n, k in shapes:                     # the 2nd and 5th calls grow the wasm memory
        a, b = random(rng, (m, k)), random(rng, (k, n))
        np.testing.assert_allclose(dispatch.matmul(a, b), a.astype(np.float64) @ b,
                                   rtol=1e-5, atol=1e-4)
    assert len(kernel.memory.buffer.bytes) > 2 * 65536
    assert gemm.calls["kernel"] == len(shapes)
    assert gemm.capacity >= max(4 * (m * k + k * n + m * n) for m, n, k in shapes)


def test_allocation_failure_falls_back_to_numpy(kernel):
    kernel.max_pages = 4                       # 256 KB of wasm memory in all
    gemm = install(kernel)
    rng = np.random.default_rng(5)
    a, b = random(rng, (300, 300)), random(rng, (300, 300))
    np.testing.assert_allclose(dispatch.matmul(a, b), a @ b, rtol=1e-5, atol=1e-4)
    assert gemm.calls == {"kernel": 0, "numpy": 1}
    a, b = random(rng, (40, 40)), random(rng, (40, 40))        # fits: the kernel again
    np.testing.assert_allclose(dispatch.matmul(a, b), a @ b, rtol=1e-5, atol=1e-5)
    assert gemm.calls == {"kernel": 1, "numpy": 1}


def forward_backward(layer, x, dy):
    y = layer.forward(x, training=True)
    dx = layer.backward(dy)
    return y, dx, {name: grad.copy() for name, grad in layer.grads.items()}


# forward, then d kernel, then d input: (transA, transB) of each GEMM. Dense: x @ W, x.T @ dz,
# dz @ W.T. Conv2D builds im2col as (N*Ho*Wo, kh*kw*C) rows when kw*C >= Wo, else tap by tap as
# its transpose (then the forward reads it transposed and d kernel plainly). Never a copy.
DENSE_FLAGS = [(False, False), (True, False), (False, True)]
BY_TAPS_FLAGS = [(True, False), (False, False), (False, True)]


@pytest.mark.parametrize("make_layer, input_shape, output_shape, flags", [
    (lambda: layers.Dense(40, activation="relu"), (32, 50), (32, 40), DENSE_FLAGS),
    (lambda: layers.Conv2D(8, 3, padding="same"), (4, 10, 10, 3), (4, 10, 10, 8), BY_TAPS_FLAGS),
    (lambda: layers.Conv2D(8, 3, padding="same"), (4, 6, 6, 4), (4, 6, 6, 8), DENSE_FLAGS),
    (lambda: layers.Conv2D(8, 3, strides=2), (8, 21, 21, 1), (8, 10, 10, 8), BY_TAPS_FLAGS),
])
def test_layers_agree_through_the_kernel(kernel, make_layer, input_shape, output_shape, flags):
    rng = np.random.default_rng(6)
    x, dy = random(rng, input_shape), random(rng, output_shape)
    layer = make_layer()
    layer.build(input_shape[1:], np.random.default_rng(0))
    layer.input_grad = True
    expected = forward_backward(layer, x, dy)
    gemm = install(kernel)
    got = forward_backward(layer, x, dy)
    np.testing.assert_allclose(got[0], expected[0], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(got[1], expected[1], rtol=1e-4, atol=1e-5)
    for name in expected[2]:
        np.testing.assert_allclose(got[2][name], expected[2][name], rtol=1e-4, atol=1e-4)
    assert gemm.calls["kernel"] == 3
    assert [call[3:5] for call in kernel.gemm_calls] == flags


def test_training_through_the_kernel_matches_numpy(kernel):
    rng = np.random.default_rng(7)
    x = random(rng, (64, 20))
    y = (x[:, :3].sum(axis=1) > 0).astype(np.int64)

    def train():
        model = nnpy.Sequential([layers.Input((20,)), layers.Dense(32, activation="relu"),
                                 layers.Dense(2)], seed=0)
        model.compile(optimizer=nnpy.optimizers.SGD(0.1),
                      loss="sparse_categorical_crossentropy")
        return model.fit(x, y, epochs=3, batch_size=32, verbose=0).history["loss"]

    expected = train()
    gemm = install(kernel, small_problem=0)
    np.testing.assert_allclose(train(), expected, rtol=1e-4)
    assert gemm.calls["kernel"] > 0 and gemm.calls["numpy"] == 0
