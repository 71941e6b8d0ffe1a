"""The bridge between a web page and nnpy. Only `web/worker.js` imports this module.

The page's requests arrive as `Session.dispatch(op, args)`, which never raises: it returns
`{"ok": result}` or `{"error": {"type", "message", "traceback"}}`, so a Python exception reaches
the page as a JS Error with Python's type name and message. Results are plain data (dict, list,
str, numbers, None, bytes); a NumPy array travels as `{"__ndarray__": dtype, "shape", "data"}`
(the worker hands `data` over as a transferable buffer) and a model as a `{"__model__": handle}`.

It needs no JavaScript: pure Python + NumPy, so it is tested in CPython like the rest of nnpy.

Image inputs come from the page as RGBA bytes, already resized to the model's input spec, e.g.

    input_spec = {"height": 28, "width": 28, "channels": 1, "scale": [0, 1], "invert": False}

`channels` 1 is greyscale (`nnpy.data.to_grayscale`: luminance, or the alpha of a drawing on a
transparent canvas), 3 is RGB; `scale` is the [low, high] range that 0..255 maps to ("0-1",
"0-255" and "-1-1" are accepted too); `invert` flips dark and light. `"preprocess":
"mnist-digit"` sends the drawing at full size through `nnpy.data.prepare_digit` instead.
"""

import ast
import functools
import importlib
import inspect
import traceback

import numpy as np

import nnpy
from nnpy import data

SCALES = {"0-1": (0.0, 1.0), "0-255": (0.0, 255.0), "-1-1": (-1.0, 1.0)}
DTYPES = ("float32", "float64", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64")


def input_spec(model):
    """The image spec of `model` (its own `input_spec`, else derived from an (H, W, C) input), or
    None for a model whose input is a plain vector."""
    shape = tuple(model.input_shape or ())
    spec = dict(getattr(model, "input_spec", None) or {})
    if len(shape) != 3:
        return spec or None
    height, width, channels = shape
    return {"height": height, "width": width, "channels": channels, "scale": [0, 1],
            "invert": False, **spec}


def rgba_frames(pixels, width, height, count=1):
    """RGBA bytes of `count` images of `width` x `height` -> (count, H, W, 4) uint8."""
    frames = np.frombuffer(bytes(pixels), dtype=np.uint8)
    if frames.size != count * width * height * 4:
        raise ValueError(f"expected {count} RGBA frames of {width}x{height} "
                         f"({count * width * height * 4} bytes), got {frames.size} bytes")
    return frames.reshape(count, height, width, 4)


def pixels_to_input(pixels, spec):
    """One (H, W, RGBA) uint8 image -> float32 (H, W, channels) per `spec`."""
    invert = bool(spec.get("invert", False))
    if spec.get("preprocess") == "mnist-digit":
        image = data.prepare_digit(pixels, invert=invert)[..., None]  # (28, 28, 1) in [0, 1]
    elif spec.get("channels", 1) == 1:
        image = data.to_grayscale(pixels, invert=invert)[..., None]  # (H, W, 1) in [0, 1]
    else:
        image = pixels[..., :3].astype(np.float32) / 255  # (H, W, 3) in [0, 1]
        image = 1 - image if invert else image
    scale = spec.get("scale", [0, 1])
    low, high = SCALES[scale] if isinstance(scale, str) else scale
    return (low + (high - low) * image).astype(np.float32)


def as_array(value, dtype=None, shape=None):
    """An array from what the page sent: {"data", "dtype", "shape"}, bytes-like or nested lists."""
    if isinstance(value, dict):
        dtype, shape, value = value.get("dtype", dtype), value.get("shape", shape), value["data"]
    if isinstance(value, (bytes, bytearray, memoryview)):
        if dtype not in DTYPES:
            raise TypeError(f"unsupported typed array type {dtype!r}; use one of {DTYPES}")
        array = np.frombuffer(bytes(value), dtype=dtype)
    else:
        array = np.asarray(value, dtype=dtype)
    return array.reshape(shape) if shape is not None else array


def encode(value):
    """`value` as plain data the worker can convert to JS (see the module docstring)."""
    if isinstance(value, np.ndarray):
        array = np.ascontiguousarray(value)
        if array.dtype == np.float16 or array.dtype.kind == "b":
            array = array.astype(np.float32 if array.dtype == np.float16 else np.uint8)
        if array.dtype.name not in DTYPES:
            return array.tolist()
        return {"__ndarray__": array.dtype.name, "shape": list(array.shape),
                "data": array.tobytes()}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [encode(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str, bytes)):
        return value
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    return repr(value)


def error_info(error):
    return {"type": type(error).__name__, "message": str(error),
            "traceback": "".join(traceback.format_exception(error))}


def run_source(source, namespace):
    """Run Python source like a notebook cell and return the value of a final expression (or
    None). Top-level `await` is allowed; then a coroutine giving that value is returned."""
    tree = ast.parse(source, "<nnpy.exec>")
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = tree.body[-1]
        tree.body[-1] = ast.copy_location(
            ast.Assign(targets=[ast.Name("__nnpy_result__", ast.Store())], value=last.value), last)
    namespace["__nnpy_result__"] = None
    code = compile(ast.fix_missing_locations(tree), "<nnpy.exec>", "exec",
                   flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    if code.co_flags & inspect.CO_COROUTINE:
        return _finish_source(eval(code, namespace), namespace)
    exec(code, namespace)  # noqa: S102 - running the page's code is what exec is for
    return namespace.pop("__nnpy_result__")


async def _finish_source(coroutine, namespace):
    await coroutine
    return namespace.pop("__nnpy_result__")


class FitJob:
    """One `model.fit` driven batch by batch, so the worker can report progress and stop."""

    def __init__(self, model, x, y, epochs=1, batch_size=32, validation_split=0.0,
                 shuffle=True, seed=None, augment=None):
        self.model = model
        self.history = {}
        self.batches = model.fit_iter(x, y, epochs=epochs, batch_size=batch_size,
                                      validation_split=validation_split, shuffle=shuffle, seed=seed,
                                      augment=augment)

    def step(self):
        """The next log dict, or {"kind": "done", "history": {...}} when training has finished."""
        try:
            logs = next(self.batches)
        except StopIteration:
            return {"kind": "done", "history": self.history}
        if logs.get("kind") == "epoch":
            for key, value in logs.items():
                if isinstance(value, (int, float, np.floating)) and key not in ("epoch", "epochs"):
                    self.history.setdefault(key, []).append(float(value))
        return logs

    def close(self):
        self.batches.close()


OPERATIONS = {}  # name -> function(session, **args): operations that live in other modules
EXTENSIONS = ("nnpy.browser_digits", "nnpy.browser_webcam")  # modules that add operations with @operation; imported by the first Session


def operation(function):
    """Register `function(session, **args)` as the page operation named after it (less `op_`)."""
    OPERATIONS[function.__name__.removeprefix("op_")] = function
    return function


class Session:
    """What one worker holds: a Python namespace for `exec`, models by handle, running fits."""

    def __init__(self):
        for name in EXTENSIONS:
            importlib.import_module(name)
        self.models = {}
        self.jobs = {}
        self._next_handle = 1
        self.namespace = {"__name__": "__main__", "nnpy": nnpy, "np": np, "models": self.models}

    def dispatch(self, op, args=None):
        """{"ok": result} or {"error": {...}}; a coroutine giving that for an async operation."""
        try:
            method = getattr(self, "op_" + op, None)
            if method is None and op in OPERATIONS:
                method = functools.partial(OPERATIONS[op], self)
            if method is None:
                raise ValueError(f"unknown operation {op!r}")
            result = method(**(args or {}))
            if inspect.isawaitable(result):
                return self._finish(result)
            return {"ok": self._encode(result)}
        except BaseException as error:  # noqa: BLE001 - every error goes back to the page
            return {"error": error_info(error)}

    async def _finish(self, awaitable):
        try:
            return {"ok": self._encode(await awaitable)}
        except BaseException as error:  # noqa: BLE001
            return {"error": error_info(error)}

    def _encode(self, value):
        if hasattr(value, "fit_iter") and hasattr(value, "predict"):  # a model: give a handle
            return encode(self._register(value))
        return encode(value)

    def _new_handle(self):
        self._next_handle += 1
        return self._next_handle - 1

    def _register(self, model):
        """A handle for `model` plus what the page needs to feed it."""
        if not model.built and model.input_shape:  # so its weights exist to save or show
            model.build()
        for handle, known in self.models.items():
            if known is model:
                break
        else:
            handle = self._new_handle()
            self.models[handle] = model
        return {"__model__": handle, "labels": list(getattr(model, "labels", None) or []) or None,
                "input": input_spec(model),
                "input_shape": list(model.input_shape) if model.input_shape else None}

    def _model(self, handle):
        try:
            return self.models[handle]
        except KeyError:
            raise ValueError(f"model {handle} was disposed or never loaded") from None

    def _inputs(self, model, inputs):
        """Model inputs from either {"pixels", "width", "height", "count", "spec"} images or an
        array (flat data is reshaped to (N, *input_shape))."""
        if isinstance(inputs, dict) and "pixels" in inputs:
            spec = {**(input_spec(model) or {}), **(inputs.get("spec") or {})}
            frames = rgba_frames(inputs["pixels"], inputs["width"], inputs["height"],
                                 inputs.get("count", 1))
            return np.stack([pixels_to_input(frame, spec) for frame in frames])
        x = as_array(inputs).astype(np.float32, copy=False)
        shape = tuple(model.input_shape or ())
        if shape and x.shape[1:] != shape:
            per_example = int(np.prod(shape))
            if x.size % per_example:
                raise ValueError(f"{x.size} values cannot be split into inputs of shape {shape}")
            x = x.reshape(-1, *shape)
        return x

    def _targets(self, model, labels):
        if isinstance(labels, (list, tuple)) and labels and isinstance(labels[0], str):
            names = list(getattr(model, "labels", None) or [])
            unknown = sorted(set(labels) - set(names))
            if unknown:
                raise ValueError(f"labels {unknown} are not among the model's labels {names}")
            return np.array([names.index(label) for label in labels])
        return as_array(labels)

    # ---- operations (the page calls these by name) ----------------------------------------------

    def op_exec(self, source):
        return run_source(source, self.namespace)

    def op_load_model(self, data):
        return nnpy.load_model(bytes(data))

    def op_predict(self, model, inputs):
        net = self._model(model)
        probabilities = net.predict(self._inputs(net, inputs))
        if probabilities.shape[-1] == 1:  # one sigmoid unit: class 1 when p > 0.5
            index = (probabilities[..., 0] > 0.5).astype(np.int64)
        else:
            index = probabilities.argmax(axis=-1)
        labels = list(getattr(net, "labels", None) or [])
        label = [labels[i] if i < len(labels) else int(i) for i in index.reshape(-1)]
        if probabilities.shape[0] == 1:
            return {"probabilities": probabilities[0], "index": int(index[0]), "label": label[0]}
        return {"probabilities": probabilities, "index": index.astype(np.int32), "label": label}

    def op_fit_start(self, model, inputs, labels, epochs=1, batch_size=32, validation_split=0.0,
                     shuffle=True, seed=None):
        net = self._model(model)
        job = FitJob(net, self._inputs(net, inputs), self._targets(net, labels), epochs=epochs,
                     batch_size=batch_size, validation_split=validation_split, shuffle=shuffle,
                     seed=seed)
        handle = self._new_handle()
        self.jobs[handle] = job
        return handle

    def op_fit_step(self, job):
        logs = self.jobs[job].step()
        if logs["kind"] == "done":
            del self.jobs[job]
        return logs

    def op_fit_stop(self, job):
        found = self.jobs.pop(job, None)
        if found is not None:
            found.close()

    def op_to_bytes(self, model):
        return self._model(model).to_bytes()

    def op_summary(self, model):
        return self._model(model).summary(print_fn=None)

    def op_dispose(self, model):
        self.models.pop(model, None)
