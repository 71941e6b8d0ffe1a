"""What one browser worker holds, and how the page's requests reach it.

The page's requests arrive as `Session.dispatch(op, args)`, which never raises: it returns
`{"ok": result}` or `{"error": {"type", "message", "traceback"}}`, so a Python exception reaches
the page as a JS Error with Python's type name and message. Results are plain data (dict, list,
str, numbers, None, bytes); a NumPy array travels as `{"__ndarray__": dtype, "shape", "data"}`
(the worker hands `data` over as a transferable buffer) and a model as a `{"__model__": handle}`.

An operation is a `Session` method `op_NAME`, or a function `op_NAME(session, **args)` registered
with `@operation` (nnpy.web.operations and nnpy.web.projects); those use the session's public
methods only. Long work (training) is a `Job`: the page asks for a step at a time, each step as
many batches as fit in a time budget, so between two steps the worker answers other requests and
a cancel is the page simply not asking for the next step.

It needs no JavaScript: pure Python + NumPy, so it is tested in CPython like the rest of nnpy.
"""

import ast
import inspect
import json
import time
import traceback

import numpy as np

import nnpy

from .inputs import DTYPES, as_array, input_spec, model_inputs

OPERATIONS = {}  # name -> function(session, **args), registered with @operation
TYPED_ARRAY_OF = {np.dtype(name): name for name in DTYPES}  # (dtype.name is slow to compute)


def operation(function):
    """Register `function(session, **args)` as the page operation named after it (less `op_`)."""
    OPERATIONS[function.__name__.removeprefix("op_")] = function
    return function


def encode(value):
    """`value` as plain data the worker can convert to JS (see the module docstring)."""
    if isinstance(value, np.ndarray):
        name = TYPED_ARRAY_OF.get(value.dtype)  # the typed arrays JS has (in native byte order)
        if name is None:
            value = _as_typed_array(value)
            if value.dtype not in TYPED_ARRAY_OF:
                return value.tolist()
            name = TYPED_ARRAY_OF[value.dtype]
        return {"__ndarray__": name, "shape": list(value.shape),
                "data": np.ascontiguousarray(value).tobytes()}
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


def _as_typed_array(array):
    """float16 as float32, bool as uint8, another byte order as this machine's (as JS reads)."""
    dtype = array.dtype.newbyteorder("=") if array.dtype.byteorder in "<>" else array.dtype
    if dtype == np.float16:
        dtype = np.dtype(np.float32)
    elif dtype.kind == "b":
        dtype = np.dtype(np.uint8)
    return array.astype(dtype, copy=False)


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


class Job:
    """Training driven a step at a time: `logs` is a generator of log dicts (`fit_iter`, or a
    task's `train_iter`); `finish()` gives what the page gets beside the logs when it ends."""

    def __init__(self, logs, finish=dict):
        self.logs = logs
        self.finish = finish
        self.waiting = [next(logs)]  # the first batch: a job that cannot train fails at its start

    def step(self, budget_ms=0):
        """Batches until `budget_ms` has passed (at least one): {"epochs": [every epoch log],
        "batch": the last batch log, "done": whether training has finished, and finish()'s
        entries when it has}."""
        start = time.perf_counter()
        epochs, batch = [], None
        while True:
            if self.waiting:
                log = self.waiting.pop()
            else:
                try:
                    log = next(self.logs)
                except StopIteration:
                    return {"epochs": epochs, "batch": batch, "done": True, **self.finish()}
            if log["kind"] == "epoch":
                epochs.append(log)
            else:
                batch = log
            if (time.perf_counter() - start) * 1000 >= budget_ms:
                return {"epochs": epochs, "batch": batch, "done": False}

    def close(self):
        """Stop early: the generator's callbacks end (EarlyStopping restores the best weights)."""
        self.logs.close()
        return self.finish()


class Session:
    """What one worker holds: a Python namespace for `exec`, and models, tasks and jobs by
    handle (one counter, so a handle never names two things)."""

    def __init__(self):
        self.models = {}
        self.projects = {}
        self.jobs = {}
        self._next_handle = 1
        self.namespace = {"__name__": "__main__", "nnpy": nnpy, "np": np, "models": self.models}

    def dispatch(self, op, args=None):
        """{"ok": result} or {"error": {...}}; a coroutine giving that for an async operation."""
        try:
            method = getattr(self, "op_" + op, None)
            if method is None and op in OPERATIONS:
                function = OPERATIONS[op]
                method = lambda **kwargs: function(self, **kwargs)
            if method is None:
                raise ValueError(f"unknown operation {op!r}")
            result = method(**(args or {}))
            if type(result) is not dict and inspect.isawaitable(result):  # (an ABC check: slow)
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
        if isinstance(value, nnpy.Sequential):  # a model goes back as a handle
            return encode(self.describe(value))
        return encode(value)

    # ---- what operations use ----------------------------------------------------------------
    def new_handle(self):
        self._next_handle += 1
        return self._next_handle - 1

    def describe(self, model):
        """A handle for `model` plus what the page needs to feed it."""
        if not model.built and model.input_shape:  # so its weights exist to save or show
            model.build()
        for handle, known in self.models.items():
            if known is model:
                break
        else:
            handle = self.new_handle()
            self.models[handle] = model
        return {"__model__": handle, "labels": list(model.labels or []) or None,
                "input": input_spec(model), "card": model.card,
                "input_shape": list(model.input_shape) if model.input_shape else None}

    def model(self, handle):
        return self._find(self.models, handle, "model")

    def project(self, handle):
        return self._find(self.projects, handle, "project")

    def start_job(self, job):
        handle = self.new_handle()
        self.jobs[handle] = job
        return handle

    @staticmethod
    def _find(table, handle, kind):
        try:
            return table[handle]
        except KeyError:
            raise ValueError(f"{kind} {handle} was closed or never opened") from None

    def inputs(self, model, inputs):
        return model_inputs(model, inputs)

    def targets(self, model, labels):
        """Class numbers from label names (the model's labels) or from an array."""
        if isinstance(labels, (list, tuple)) and labels and isinstance(labels[0], str):
            names = list(model.labels or [])
            unknown = sorted(set(labels) - set(names))
            if unknown:
                raise ValueError(f"labels {unknown} are not among the model's labels {names}")
            return np.array([names.index(label) for label in labels])
        return as_array(labels)

    # ---- operations (the page calls these by name) ----------------------------------------------
    def op_exec(self, source):
        return run_source(source, self.namespace)

    def op_load_model(self, data, data_sha256=None):
        """A model from the bytes of its .safetensors file; `data_sha256`: the worker's digest of
        the bytes after the header (see decode_safetensors)."""
        return nnpy.saving.model_file.load_model(bytes(data), data_sha256=data_sha256)

    def op_load_tfjs(self, model_json, shards, metadata=None):
        """A TF.js layers model (a Teachable Machine export, say) from the files the page
        fetched: model.json, {path: bytes} of its shards, and metadata.json or None."""
        return nnpy.saving.read_tfjs(bytes(model_json),
                                     {str(path): bytes(data) for path, data in shards.items()},
                                     None if metadata is None else bytes(metadata))

    def op_to_tfjs(self, model):
        """The model as a TF.js layers model: {"model_json": text, "weights": bytes}."""
        document, weights = nnpy.saving.tfjs_artifacts(self.model(model))
        return {"model_json": json.dumps(document), "weights": weights}

    def op_predict(self, model, inputs):
        net = self.model(model)
        probabilities = net.predict(self.inputs(net, inputs))
        if probabilities.shape[-1] == 1:  # one sigmoid unit: class 1 when p > 0.5
            index = (probabilities[..., 0] > 0.5).astype(np.int64)
        else:
            index = probabilities.argmax(axis=-1)
        labels = list(net.labels or [])
        label = [labels[i] if i < len(labels) else int(i) for i in index.reshape(-1)]
        if probabilities.shape[0] == 1:
            return {"probabilities": probabilities[0], "index": int(index[0]), "label": label[0]}
        return {"probabilities": probabilities, "index": index.astype(np.int32), "label": label}

    def op_fit_start(self, model, inputs, labels, epochs=1, batch_size=32, validation_split=0.0,
                     shuffle=True, seed=None):
        """A job training `model` with fit_iter; when done it gives {"history": per-epoch lists}."""
        net = self.model(model)
        logs = net.fit_iter(self.inputs(net, inputs), self.targets(net, labels), epochs=epochs,
                            batch_size=batch_size, validation_split=validation_split,
                            shuffle=shuffle, seed=seed)
        return self.start_job(Job(logs, finish=lambda: {"history": net.history.history}))

    def op_job_step(self, job, budget_ms=0):
        """The logs of the batches that fit in `budget_ms` (at least one); see Job.step."""
        found = self._find(self.jobs, job, "job")
        result = found.step(budget_ms)
        if result["done"]:
            del self.jobs[job]
        return result

    def op_job_stop(self, job):
        """Stop a job (Cancel); what it gives when finished, or None when it had already ended."""
        found = self.jobs.pop(job, None)
        return None if found is None else found.close()

    def op_to_bytes(self, model):
        return self.model(model).to_bytes()

    def op_summary(self, model):
        return self.model(model).summary(print_fn=None)

    def op_dispose(self, model):
        self.models.pop(model, None)
