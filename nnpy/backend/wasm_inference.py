"""A Sequential model's prediction in the page's WebAssembly kernel, layer after layer, in one
workspace of its memory. Only `wasm_gemm.install` sets this up (when the kernel has `conv2d`).

`WasmGemm` copies every operand into the kernel's memory and the result back out, once per
matrix product; a prediction through the layers' NumPy code also builds im2col matrices, pads
and pools in NumPy, and crosses into JS a dozen times. Here the input is copied in once, every
layer runs in the kernel on buffers that stay there (conv2d, pool2d, dense, activate, affine,
global_average in web/kernels/gemm.c), and the last layer's output is copied out once:

    runner = WasmInference(gemm)          # gemm: the installed WasmGemm (its memory, its calls)
    outputs = runner(model, x)            # the model's forward(x), or None: not one it can run

`plan(model, shape)` says, layer by layer, how: a kernel step, a reshape (Flatten, Reshape,
Dropout at inference: the bytes stay as they are), or a NumPy step for what the kernel has no
code for (Softmax, Sigmoid, Tanh, GELU, ...: the values are read out, the layer's own forward
runs, and they are written back). A model with any other layer (one that might call the GEMM,
whose workspace this shares), or that is not a plain Sequential, gets None and predicts as it
always did. Weights are copied in on every call, so whatever changed them (training, a load,
the page's own code) is what runs; the plan (shapes and offsets) is kept per model and shape.
"""

import numpy as np

from .. import layers as L
from ..layers.pooling import _Pool2D

ALIGN = 64  # bytes: every buffer starts on a cache line

# activation layer -> (kernel `activate` kind, its parameter); Linear: nothing to do
RELU, CLIPPED_RELU, LEAKY_RELU = 1, 2, 3

# layers whose own forward is only elementwise NumPy (no GEMM): they may run as NumPy steps
NUMPY_LAYERS = (L.Sigmoid, L.Tanh, L.Softmax, L.GELU)


def _aligned(nbytes):
    return (nbytes + ALIGN - 1) // ALIGN * ALIGN


def _activation(layer):
    """(kind, parameter) of an activation layer the kernel runs in place, None for the identity,
    or the layer itself when NumPy must run it; False when neither can."""
    if isinstance(layer, L.Linear):
        return None
    if isinstance(layer, L.ReLU):
        return (RELU, 0.0) if layer.max_value is None else (CLIPPED_RELU, float(layer.max_value))
    if isinstance(layer, L.LeakyReLU):
        return (LEAKY_RELU, float(layer.negative_slope))
    if isinstance(layer, NUMPY_LAYERS):
        return layer
    return False


class Step:
    """One call into the kernel (or NumPy) of a plan: `kind` and its arguments, with buffers named
    by their byte offsets in the workspace ("in", "out")."""

    def __init__(self, kind, layer=None, **args):
        self.kind, self.layer, self.args = kind, layer, args


class Plan:
    """Steps for one model and input shape, the workspace layout they use and the shape out."""

    def __init__(self, steps, weights, activations_bytes, cols_bytes, out_shape):
        self.steps = steps                    # [Step]
        self.weights = weights                # [(offset, layer, name)]: what to copy in per call
        self.nbytes = 0
        self.out_shape = out_shape            # (N, ...) of the last layer's output
        self.activations_bytes = activations_bytes
        self.cols_bytes = cols_bytes


class WasmInference:
    """`runner(model, x)`: model.forward(x) for inference through the kernel, or None."""

    def __init__(self, gemm):
        self.gemm = gemm                      # the WasmGemm that owns the kernel's memory
        kernel = gemm.kernel
        self.conv2d, self.dense = kernel.conv2d, kernel.dense
        self.pool2d, self.activate = kernel.pool2d, kernel.activate
        self.affine, self.global_average = kernel.affine, kernel.global_average
        self.plans = {}                       # (model id, layer ids, shape) -> Plan or None
        self.calls = {"kernel": 0, "declined": 0}

    def __call__(self, model, x):
        if x.dtype != np.float32 or x.ndim < 2 or not len(x):
            return None
        if type(model).forward is not _sequential_forward():
            return None
        key = (id(model), tuple(map(id, model.layers)), x.shape)
        plan = self.plans.get(key, False)
        if plan is False:
            if len(self.plans) >= 16:
                self.plans.clear()
            plan = self.plans[key] = build_plan(model.layers, x.shape)
        if plan is None:
            self.calls["declined"] += 1
            return None
        try:
            self.gemm._reserve(plan.nbytes)
        except Exception:  # noqa: BLE001 -- a JsException (memory cannot grow): NumPy does it
            return None
        self.calls["kernel"] += 1
        return self._run(plan, np.ascontiguousarray(x))

    def _run(self, plan, x):
        base, view = self.gemm.base, self.gemm._view
        for offset, layer, name in plan.weights:
            view(offset, layer_value(layer, name).size).assign(layer_value(layer, name))
        current = plan.steps[0].args["at"]
        view(current, x.size).assign(x)
        out = None
        for step in plan.steps[1:]:
            a = step.args
            if step.kind == "conv2d":
                self.conv2d(base + a["at"], *a["shape"], base + a["kernel"], *a["window"], a["filters"],
                            *a["strides"], *a["pads"], *a["out_hw"],
                            base + a["bias"] if a["bias"] is not None else 0, base + a["out"],
                            base + a["cols"])
            elif step.kind == "dense":
                self.dense(base + a["at"], a["n"], a["features"], base + a["kernel"], a["units"],
                           base + a["bias"] if a["bias"] is not None else 0, base + a["out"])
            elif step.kind == "pool2d":
                self.pool2d(base + a["at"], *a["shape"], *a["window"], *a["strides"], *a["pads"],
                            *a["out_hw"], a["average"], base + a["out"])
            elif step.kind == "global_average":
                self.global_average(base + a["at"], *a["shape"], base + a["out"])
            elif step.kind == "activate":
                self.activate(base + a["at"], a["count"], *a["how"])
            elif step.kind == "affine":
                scale, shift = batch_norm_affine(step.layer)
                view(a["scale"], scale.size).assign(scale)
                view(a["shift"], shift.size).assign(shift)
                self.affine(base + a["at"], a["rows"], a["channels"], base + a["scale"],
                            base + a["shift"])
            elif step.kind == "numpy":
                values = np.empty(a["shape"], dtype=np.float32)
                view(a["at"], values.size).assign_to(values)
                result = np.ascontiguousarray(step.layer.forward(values, training=False),
                                              dtype=np.float32)
                view(a["at"], result.size).assign(result)
        out = np.empty(plan.out_shape, dtype=np.float32)
        view(plan.steps[-1].args.get("out", plan.steps[-1].args["at"]), out.size).assign_to(out)
        return out


def _sequential_forward():
    from ..model import Sequential  # the model imports the backend: look it up when needed
    return Sequential.forward


def layer_value(layer, name):
    """A weight as the kernel reads it: contiguous float32 (a Conv2D kernel (kh, kw, C, F) is
    already the (kh*kw*C, F) matrix the patches multiply)."""
    return np.ascontiguousarray(layer.params[name], dtype=np.float32)


def batch_norm_affine(layer):
    """BatchNormalization at inference as x * scale + shift, per channel (float32)."""
    inv_std = 1 / np.sqrt(layer.state["running_var"] + layer.epsilon)
    scale = layer.params["gamma"] * inv_std
    shift = layer.params["beta"] - layer.state["running_mean"] * scale
    return scale.astype(np.float32), shift.astype(np.float32)


def build_plan(model_layers, shape):
    """The Plan running `model_layers` on inputs of `shape` (N, ...), or None when a layer is one
    the kernel cannot run (or its weights are not float32-ready)."""
    n = shape[0]
    steps, weights = [], []
    layout = {"next": 0}

    def place(nbytes):
        at = layout["next"]
        layout["next"] += _aligned(nbytes)
        return at

    # activations ping-pong between two buffers as large as the largest layer output
    sizes = [int(np.prod(shape))]
    shapes = [tuple(shape)]
    current_shape = tuple(shape[1:])
    for layer in model_layers:
        if getattr(layer, "output_shape", None) is None or not layer.built:
            return None
        current_shape = tuple(layer.output_shape)
        sizes.append(n * int(np.prod(current_shape)))
        shapes.append((n, *current_shape))
    largest = 4 * max(sizes)
    buffers = [place(largest), place(largest)]
    cols_floats = 0
    current = 0                                       # which buffer holds the activations
    steps.append(Step("input", at=buffers[0]))

    def add_activation(how, count, at, out_shape):
        if how is None:
            return True
        if how is False:
            return False
        if isinstance(how, L.Layer):
            steps.append(Step("numpy", how, at=at, shape=out_shape))
        else:
            steps.append(Step("activate", at=at, count=count, how=how))
        return True

    for index, layer in enumerate(model_layers):
        in_shape, out_shape = shapes[index], shapes[index + 1]
        at, out = buffers[current], buffers[1 - current]
        if isinstance(layer, (L.Flatten, L.Reshape, L.Dropout)):
            continue                                   # the bytes stay as they are
        if isinstance(layer, L.Conv2D):
            _, height, width, channels = in_shape
            out_h, out_w, pad_h, pad_w = layer._geometry(height, width)
            if any(not isinstance(v, (int, np.integer)) for v in (out_h, out_w)):
                return None
            kernel_at = place(4 * layer.params["kernel"].size)
            weights.append((kernel_at, layer, "kernel"))
            bias_at = None
            if layer.use_bias:
                bias_at = place(4 * layer.params["bias"].size)
                weights.append((bias_at, layer, "bias"))
            kh, kw = layer.window
            cols_floats = max(cols_floats, out_h * out_w * kh * kw * channels)
            steps.append(Step("conv2d", at=at, shape=(n, height, width, channels), kernel=kernel_at,
                              window=(kh, kw), filters=layer.filters, strides=tuple(layer.strides),
                              pads=(pad_h[0], pad_w[0]), out_hw=(out_h, out_w), bias=bias_at,
                              out=out, cols=None))
            current = 1 - current
            if not add_activation(_activation(layer.activation), int(np.prod(out_shape)), out,
                                  out_shape):
                return None
        elif isinstance(layer, L.Dense):
            if len(in_shape) != 2:
                return None
            kernel_at = place(4 * layer.params["kernel"].size)
            weights.append((kernel_at, layer, "kernel"))
            bias_at = None
            if layer.use_bias:
                bias_at = place(4 * layer.params["bias"].size)
                weights.append((bias_at, layer, "bias"))
            steps.append(Step("dense", at=at, n=n, features=in_shape[1], kernel=kernel_at,
                              units=layer.units, bias=bias_at, out=out))
            current = 1 - current
            if not add_activation(_activation(layer.activation), int(np.prod(out_shape)), out,
                                  out_shape):
                return None
        elif isinstance(layer, _Pool2D):
            _, height, width, channels = in_shape
            out_h, out_w, pad_h, pad_w = layer._geometry(height, width)
            steps.append(Step("pool2d", at=at, shape=(n, height, width, channels),
                              window=tuple(layer.window), strides=tuple(layer.strides),
                              pads=(pad_h[0], pad_w[0]), out_hw=(out_h, out_w),
                              average=int(isinstance(layer, L.AvgPool2D)), out=out))
            current = 1 - current
        elif isinstance(layer, L.GlobalAveragePooling2D):
            _, height, width, channels = in_shape
            steps.append(Step("global_average", at=at, shape=(n, height * width, channels), out=out))
            current = 1 - current
        elif isinstance(layer, L.BatchNormalization):
            channels = in_shape[-1]
            scale_at, shift_at = place(4 * channels), place(4 * channels)
            steps.append(Step("affine", layer, at=at, rows=int(np.prod(in_shape[:-1])),
                              channels=channels, scale=scale_at, shift=shift_at))
        else:
            if not add_activation(_activation(layer), int(np.prod(out_shape)), at, out_shape):
                return None
    cols_at = place(4 * cols_floats) if cols_floats else 0
    for step in steps:
        if step.kind == "conv2d":
            step.args["cols"] = cols_at
    # the output is where the last step left it: the buffer now current
    final = Step("output", at=buffers[current])
    steps.append(final)
    plan = Plan(steps, weights, largest, 4 * cols_floats, shapes[-1])
    plan.nbytes = layout["next"]
    return plan
