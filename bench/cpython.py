"""The CPython systems of the benchmark: nnpy and PyTorch (CPU, one thread), same workloads.

    python bench/cpython.py [--seconds 1] [--workloads mlp-train,cnn-train]   # a table of its own
    python bench/cpython.py --serve nnpy-cpython      # what bench/bench.py runs (JSON lines)

Served, the process answers one JSON request per line on stdin: {"op": "setup", "workload"} (builds
the workload and warms it up), {"op": "round", "seconds"} -> {"value"} (a rate) or {"samples"}
(milliseconds per prediction). bench.py interleaves these rounds with the browser systems.
"""

import argparse
import json
import os
import statistics
import sys
import time
import traceback

# one thread for NumPy's BLAS too, so both systems get the same single core
for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import workloads
from workloads import BATCH, WORKLOADS

from nnpy import backend

PREDICTIONS_PER_ROUND = 25


def time_loop(seconds, step):
    """Call step() until `seconds` have passed; returns (calls, elapsed seconds)."""
    start, calls = time.perf_counter(), 0
    while True:
        step()
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return calls, elapsed


def prediction_times(predict):
    times = []
    for _ in range(PREDICTIONS_PER_ROUND):
        start = time.perf_counter()
        predict()
        times.append((time.perf_counter() - start) * 1000)
    return times


def one_input(model_name):
    """One input for a prediction: an MNIST digit, or a 64x64 RGB frame."""
    if model_name == "digits":
        x, _ = workloads.mnist_pool()
        return x[:1]
    rng = np.random.default_rng(0)
    size = workloads.BACKBONE_SIZE if model_name == "backbone" else workloads.WEBCAM_SIZE
    return rng.random((1, size, size, 3), dtype=np.float32)


class System:
    """setup(workload) prepares and warms up; round(seconds) measures once."""

    def setup(self, workload):
        spec = WORKLOADS[workload]
        self.kind = spec["kind"]
        getattr(self, "setup_" + self.kind)(spec)
        self.round(0.3)  # warm-up, not counted
        return {}

    def round(self, seconds):
        if self.kind == "sgemm":
            calls, elapsed = time_loop(seconds, self.step)
            return {"value": calls * 2 * self.n ** 3 / elapsed / 1e9}
        if self.kind == "train":
            calls, elapsed = time_loop(seconds, self.step)
            return {"value": calls * BATCH / elapsed}
        return {"samples": prediction_times(self.step)}

    def batches(self):
        x, y = workloads.mnist_pool()
        if self.model_name == "mlp":
            x = x.reshape(len(x), -1)
        return [(x[i:i + BATCH], y[i:i + BATCH]) for i in range(0, len(x), BATCH)]


class NnpyCPython(System):
    name = "nnpy-cpython"

    def setup_sgemm(self, spec):
        self.n = spec["n"]
        rng = np.random.default_rng(0)
        a, b = (rng.standard_normal((self.n, self.n), dtype=np.float32) for _ in range(2))
        self.step = lambda: backend.matmul(a, b)

    def setup_train(self, spec):
        self.model_name = spec["model"]
        model = workloads.compiled(workloads.MODELS[self.model_name]())
        batches = self.batches()
        position = iter(range(10**12))

        def step():  # train_on_batch: what model.fit runs per batch
            x, y = batches[next(position) % len(batches)]
            model.train_on_batch(x, y)
        self.step = step

    def setup_predict(self, spec):
        model = workloads.MODELS[spec["model"]]()
        x = one_input(spec["model"])
        self.step = lambda: model.predict(x)


class TorchCPU(System):
    name = "torch-cpu"

    def __init__(self):
        import torch
        torch.set_num_threads(1)
        self.torch = torch

    def setup_sgemm(self, spec):
        self.n = spec["n"]
        generator = self.torch.Generator().manual_seed(0)
        a, b = (self.torch.randn(self.n, self.n, generator=generator) for _ in range(2))
        self.step = lambda: self.torch.mm(a, b)

    def setup_train(self, spec):
        self.model_name = spec["model"]
        net = torch_network(workloads.MODELS[self.model_name]())
        optimizer = self.torch.optim.SGD(net.parameters(), lr=workloads.LEARNING_RATE,
                                         momentum=workloads.MOMENTUM)
        loss_fn = self.torch.nn.CrossEntropyLoss()
        batches = [(self.as_torch(x), self.torch.from_numpy(y)) for x, y in self.batches()]
        position = iter(range(10**12))

        def step():
            x, y = batches[next(position) % len(batches)]
            optimizer.zero_grad()
            loss_fn(net(x), y).backward()
            optimizer.step()
        self.step = step

    def setup_predict(self, spec):
        net = torch_network(workloads.MODELS[spec["model"]]()).eval()
        x = self.as_torch(one_input(spec["model"]))

        def step():
            with self.torch.no_grad():
                self.torch.softmax(net(x), dim=-1).numpy()
        self.step = step

    def as_torch(self, x):
        tensor = self.torch.from_numpy(np.ascontiguousarray(x))
        return tensor.permute(0, 3, 1, 2).contiguous() if tensor.ndim == 4 else tensor


def torch_network(model):
    """The same architecture as the nnpy `model` (built), as a torch.nn.Sequential (NCHW).
    'same' padding is k // 2 (TensorFlow pads one more on the far side for even totals:
    the same work)."""
    import torch
    nn = torch.nn
    activations = {None: None, "linear": None, "relu": nn.ReLU, "tanh": nn.Tanh,
                   "sigmoid": nn.Sigmoid}
    modules = []
    for layer in model.layers:
        kind, shape = type(layer).__name__, layer.input_shape
        config = layer.get_config()
        if kind == "Conv2D":
            (kh, kw), padding = config["kernel_size"], config["padding"]
            modules.append(nn.Conv2d(shape[2], config["filters"], (kh, kw), config["strides"],
                                     (kh // 2, kw // 2) if padding == "same" else 0,
                                     bias=config["use_bias"]))
        elif kind == "Dense":
            modules.append(nn.Linear(shape[0], config["units"], bias=config["use_bias"]))
        elif kind in ("MaxPool2D", "AvgPool2D"):
            pool = nn.MaxPool2d if kind == "MaxPool2D" else nn.AvgPool2d
            modules.append(pool(config["pool_size"], config["strides"]))
        elif kind == "BatchNormalization":
            norm = nn.BatchNorm2d if len(shape) == 3 else nn.BatchNorm1d
            modules.append(norm(shape[-1], eps=config["epsilon"], momentum=1 - config["momentum"]))
        elif kind == "GlobalAveragePooling2D":
            modules += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
        elif kind == "Flatten":
            modules.append(nn.Flatten())
        elif kind == "Dropout":
            modules.append(nn.Dropout(config["rate"]))
        else:
            raise ValueError(f"no torch translation for {kind}")
        if activations.get(config.get("activation")):
            modules.append(activations[config["activation"]]())
    return nn.Sequential(*modules)


SYSTEMS = {"nnpy-cpython": NnpyCPython, "torch-cpu": TorchCPU}


def serve(system_name):
    """Answer JSON-line requests from bench.py on stdin/stdout."""
    system = SYSTEMS[system_name]()
    for line in sys.stdin:
        request = json.loads(line)
        try:
            if request["op"] == "setup":
                reply = system.setup(request["workload"])
            else:
                reply = system.round(request["seconds"])
        except Exception as error:  # noqa: BLE001 -- reported as an unsupported row
            reply = {"error": f"{type(error).__name__}: {error}",
                     "traceback": traceback.format_exc()}
        print(json.dumps(reply), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", choices=sorted(SYSTEMS), help="answer bench.py's requests")
    parser.add_argument("--seconds", type=float, default=1.0, help="seconds per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--workloads", default="mlp-train,cnn-train")
    args = parser.parse_args()
    if args.serve:
        return serve(args.serve)
    systems = {name: make() for name, make in SYSTEMS.items()}
    for workload in args.workloads.split(","):
        for system in systems.values():
            system.setup(workload)
        values = {name: [] for name in systems}
        for _ in range(args.rounds):  # interleaved, so load from elsewhere hits both alike
            for name, system in systems.items():
                result = system.round(args.seconds)
                values[name].append(result.get("value") or statistics.median(result["samples"]))
        medians = {name: statistics.median(v) for name, v in values.items()}
        for name, median in medians.items():
            print(f"{workload:<16}{name:<14}{median:>12,.2f} {WORKLOADS[workload]['unit']}"
                  f"   (min {min(values[name]):,.2f}, max {max(values[name]):,.2f})")
        faster = medians["nnpy-cpython"] / medians["torch-cpu"]
        if WORKLOADS[workload]["unit"] == "ms":
            faster = 1 / faster
        print(f"{workload:<16}{'nnpy/torch':<14}{faster:>12.2f}x (above 1: nnpy is faster)")


if __name__ == "__main__":
    main()
