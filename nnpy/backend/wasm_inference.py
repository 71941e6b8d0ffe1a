"""A Sequential model's prediction in the page's WebAssembly kernel, layer after layer, in one
workspace of its memory. Only `wasm_gemm.install` sets this up (when the kernel has `conv2d`).

`WasmGemm` copies every operand into the kernel's memory and the result back out, once per
matrix product; a prediction through the layers' NumPy code also builds im2col matrices, pads
and pools in NumPy, and crosses into JS a dozen times. Here the input is copied in once, every
layer runs in the kernel on buffers that stay there (conv2d, pool2d, dense, activate,
batch_norm, global_average in web/kernels/gemm.c), and the last layer's output is copied out once:

    runner = WasmInference(gemm)          # gemm: the installed WasmGemm (its memory, its calls)
    outputs = runner(model, x)            # the model's forward(x), or None: not one it can run

`build_plan(layers, shape)` says, layer by layer, how: a kernel step, a reshape (Flatten, Reshape,
Dropout at inference: the bytes stay as they are), or a NumPy step for what the kernel has no
code for (Softmax, Sigmoid, Tanh, GELU, ...: the values are read out, the layer's own forward
runs, and they are written back). A model with any other layer (one that might call the GEMM,
whose workspace this shares), or that is not a plain Sequential, gets None and predicts as it
always did. Weights are copied in on every call, so whatever changed them (training, a load,
the page's own code) is what runs; the plan (shapes and offsets) is kept per model and shape.
"""

import weakref

import numpy as np

from .. import layers as L
from ..layers.pooling import _Pool2D

ALIGN = 64  # bytes: every buffer starts on a cache line

# kernel `activate` kinds
RELU, CLIPPED_RELU, LEAKY_RELU = 1, 2, 3

# layers whose own forward is only elementwise NumPy (no GEMM): they may run as NumPy steps
NUMPY_LAYERS = (L.Sigmoid, L.Tanh, L.Softmax, L.GELU)


def _aligned(nbytes):
    return (nbytes + ALIGN - 1) // ALIGN * ALIGN


class At(int):
    """A byte offset in the workspace, among a kernel call's arguments: the address is base + it."""


def _activation(layer):
    """How an activation layer runs: ("activate", kind, parameter) in the kernel, None for the
    identity, ("numpy", layer) for NumPy, or False when neither can."""
    if isinstance(layer, L.Linear):
        return None
    if isinstance(layer, L.ReLU):
        if layer.max_value is None:
            return ("activate", RELU, 0.0)
        return ("activate", CLIPPED_RELU, float(layer.max_value))
    if isinstance(layer, L.LeakyReLU):
        return ("activate", LEAKY_RELU, float(layer.negative_slope))
    if isinstance(layer, NUMPY_LAYERS):
        return ("numpy", layer)
    return False


class Plan:
    """How to run one model on one input shape: the weights to copy in, then the steps, each
    ("kernel", function name, arguments with At offsets) or ("numpy", layer, At, shape); the
    output's offset and shape; the workspace's size."""

    def __init__(self, layers):
        self.layers = tuple(layers)
        self.weights = []       # (At, layer, "params" | "state", name)
        self.steps = []
        self.input_at = self.output_at = At(0)
        self.output_shape = None
        self.nbytes = 0
        self.bound = None       # (base, [(kernel function or None, args, layer or None)])

    def place(self, nbytes):
        at = At(self.nbytes)
        self.nbytes += _aligned(nbytes)
        return at

    def weight(self, layer, name, source="params"):
        array = getattr(layer, source)[name]
        at = self.place(4 * array.size)
        self.weights.append((at, layer, source, name))
        return at


class WasmInference:
    """`runner(model, x)`: model.forward(x) for inference through the kernel, or None."""

    def __init__(self, gemm):
        self.gemm = gemm                      # the WasmGemm that owns the kernel's memory
        self.functions = {name: getattr(gemm.kernel, name) for name in
                          ("conv2d", "dense", "pool2d", "activate", "batch_norm", "global_average")}
        # model -> {(layer ids, shape): Plan or None}; a plan holds its layers, so their ids
        # stay theirs while it is kept
        self.plans = weakref.WeakKeyDictionary()
        self.calls = {"kernel": 0, "declined": 0}

    def __call__(self, model, x):
        if x.dtype != np.float32 or x.ndim < 2 or not len(x):
            return None
        if type(model).forward is not _sequential_forward():
            return None
        plans = self.plans.setdefault(model, {})
        key = (tuple(map(id, model.layers)), x.shape)
        plan = plans.get(key, False)
        if plan is False:
            if len(plans) >= 8:               # e.g. a page predicting batches of many sizes
                plans.clear()
            plan = plans[key] = build_plan(model.layers, x.shape)
        if plan is None:
            self.calls["declined"] += 1
            return None
        try:
            self.gemm._reserve(plan.nbytes)
        except Exception:  # noqa: BLE001 -- a JsException (memory cannot grow): NumPy does it
            return None
        self.calls["kernel"] += 1
        return self._run(plan, np.ascontiguousarray(x))

    def _bind(self, plan):
        """The plan's steps at the workspace's current base: (kernel function, addressed
        arguments, None), or (None, (At, shape), layer) for a NumPy step."""
        base = self.gemm.base
        if plan.bound is None or plan.bound[0] != base:
            steps = []
            for step in plan.steps:
                if step[0] == "kernel":
                    args = tuple(base + a if isinstance(a, At) else a for a in step[2])
                    steps.append((self.functions[step[1]], args, None))
                else:
                    steps.append((None, (step[2], step[3]), step[1]))
            plan.bound = (base, steps)
        return plan.bound[1]

    def _run(self, plan, x):
        view = self.gemm._view
        for at, layer, source, name in plan.weights:
            value = np.ascontiguousarray(getattr(layer, source)[name], dtype=np.float32)
            view(at, value.size).assign(value)
        view(plan.input_at, x.size).assign(x)
        for function, args, layer in self._bind(plan):
            if layer is None:
                function(*args)
                continue
            at, shape = args                  # a NumPy step: out, the layer's forward, back in
            values = np.empty(shape, dtype=np.float32)
            view(at, values.size).assign_to(values)
            result = np.ascontiguousarray(layer.forward(values, training=False), dtype=np.float32)
            view(at, result.size).assign(result)
        out = np.empty(plan.output_shape, dtype=np.float32)
        view(plan.output_at, out.size).assign_to(out)
        return out


def _sequential_forward():
    from ..model import Sequential  # the model imports the backend: look it up when needed
    return Sequential.forward


def build_plan(model_layers, shape):
    """The Plan running `model_layers` on inputs of `shape` (N, ...), or None when a layer is one
    the kernel cannot run."""
    n = shape[0]
    shapes = [tuple(shape)]
    for layer in model_layers:
        if not layer.built or getattr(layer, "output_shape", None) is None:
            return None
        shapes.append((n, *layer.output_shape))
    plan = Plan(model_layers)
    # activations ping-pong between two buffers as large as the largest of them
    largest = 4 * max(int(np.prod(s)) for s in shapes)
    buffers = [plan.place(largest), plan.place(largest)]
    current = 0                                       # which buffer holds the activations
    plan.input_at = buffers[0]
    cols_floats = 0
    convolutions = []

    def then(how, out_shape):
        """Append an activation after the step that wrote buffers[current]; False: cannot."""
        if how is None:
            return True
        if how is False:
            return False
        at = buffers[current]
        if how[0] == "numpy":
            plan.steps.append(("numpy", how[1], at, out_shape))
        else:
            plan.steps.append(("kernel", "activate", (at, int(np.prod(out_shape)), how[1], how[2])))
        return True

    for index, layer in enumerate(model_layers):
        in_shape, out_shape = shapes[index], shapes[index + 1]
        at, out = buffers[current], buffers[1 - current]
        if isinstance(layer, (L.Flatten, L.Reshape, L.Dropout)):
            continue                                   # the bytes stay as they are
        if isinstance(layer, L.Conv2D):
            _, height, width, channels = in_shape
            out_h, out_w, pad_h, pad_w = layer._geometry(height, width)
            (kh, kw), (sh, sw) = layer.window, layer.strides
            kernel = plan.weight(layer, "kernel")      # (kh, kw, C, F): the (kh*kw*C, F) matrix
            bias = plan.weight(layer, "bias") if layer.use_bias else 0
            cols_floats = max(cols_floats, out_h * out_w * kh * kw * channels)
            args = [at, n, height, width, channels, kernel, kh, kw, layer.filters, sh, sw,
                    pad_h[0], pad_w[0], out_h, out_w, bias, out, None]
            convolutions.append(args)
            plan.steps.append(("kernel", "conv2d", args))
            current = 1 - current
            if not then(_activation(layer.activation), out_shape):
                return None
        elif isinstance(layer, L.Dense):
            if len(in_shape) != 2:
                return None
            kernel = plan.weight(layer, "kernel")
            bias = plan.weight(layer, "bias") if layer.use_bias else 0
            plan.steps.append(("kernel", "dense", (at, n, in_shape[1], kernel, layer.units, bias, out)))
            current = 1 - current
            if not then(_activation(layer.activation), out_shape):
                return None
        elif isinstance(layer, _Pool2D):
            _, height, width, channels = in_shape
            out_h, out_w, pad_h, pad_w = layer._geometry(height, width)
            plan.steps.append(("kernel", "pool2d", (
                at, n, height, width, channels, *layer.window, *layer.strides, pad_h[0], pad_w[0],
                out_h, out_w, int(isinstance(layer, L.AvgPool2D)), out)))
            current = 1 - current
        elif isinstance(layer, L.GlobalAveragePooling2D):
            _, height, width, channels = in_shape
            plan.steps.append(("kernel", "global_average", (at, n, height * width, channels, out)))
            current = 1 - current
        elif isinstance(layer, L.BatchNormalization):
            channels = in_shape[-1]
            gamma, beta = plan.weight(layer, "gamma"), plan.weight(layer, "beta")
            mean = plan.weight(layer, "running_mean", "state")
            var = plan.weight(layer, "running_var", "state")
            scratch = plan.place(8 * channels)
            plan.steps.append(("kernel", "batch_norm", (at, int(np.prod(in_shape[:-1])), channels,
                                                         gamma, beta, mean, var,
                                                         float(layer.epsilon), scratch)))
        elif not then(_activation(layer), out_shape):
            return None
    cols = plan.place(4 * cols_floats)  # one image's patches, for the largest convolution
    for args in convolutions:
        args[-1] = cols
    plan.output_at, plan.output_shape = buffers[current], shapes[-1]
    return plan
