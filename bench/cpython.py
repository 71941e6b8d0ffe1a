"""Training throughput in CPython: nnpy against PyTorch (CPU, one thread), measured in one run.

    python bench/cpython.py [--seconds 3] [--json out.json]

Workloads (batch 32, float32): `mlp-train` — MLP 784-128-10; `cnn-train` — the ConvNetJS MNIST
network (conv 8@5x5 same, relu → maxpool 2 → conv 16@5x5 same, relu → maxpool 3 → dense 10) on
28x28x1 inputs. Each figure is examples/s (median of repeated timed windows after a warm-up)."""

import argparse
import json
import os
import statistics
import sys
import time

# one thread for NumPy's BLAS too, so both systems get the same single core
for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import nnpy
from nnpy import layers

BATCH = 32


def nnpy_model(workload):
    if workload == "mlp-train":
        stack = [layers.Input((784,)), layers.Dense(128, activation="relu"), layers.Dense(10)]
    else:
        stack = [layers.Input((28, 28, 1)),
                 layers.Conv2D(8, 5, padding="same", activation="relu"), layers.MaxPool2D(2),
                 layers.Conv2D(16, 5, padding="same", activation="relu"), layers.MaxPool2D(3),
                 layers.Flatten(), layers.Dense(10)]
    model = nnpy.Sequential(stack, seed=0)
    model.compile(optimizer=nnpy.optimizers.SGD(0.01, momentum=0.9),
                  loss="sparse_categorical_crossentropy")
    return lambda x, y: model.train_on_batch(x, y)


def torch_step(workload):
    import torch
    torch.set_num_threads(1)
    nn = torch.nn
    if workload == "mlp-train":
        net = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    else:
        net = nn.Sequential(nn.Conv2d(1, 8, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                            nn.Conv2d(8, 16, 5, padding=2), nn.ReLU(), nn.MaxPool2d(3),
                            nn.Flatten(), nn.Linear(16 * 4 * 4, 10))
    optimizer = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()

    def step(x, y):
        tx = torch.from_numpy(x)
        if tx.ndim == 4:
            tx = tx.permute(0, 3, 1, 2)
        optimizer.zero_grad()
        loss = loss_fn(net(tx), torch.from_numpy(y))
        loss.backward()
        optimizer.step()
    return step


def data(workload, rng):
    shape = (BATCH, 784) if workload == "mlp-train" else (BATCH, 28, 28, 1)
    return rng.random(shape, dtype=np.float32), rng.integers(0, 10, BATCH)


def measure(step, x, y, seconds, windows=5):
    """examples/s: warm up, then time `windows` windows of about seconds/windows each."""
    for _ in range(3):
        step(x, y)
    start, steps = time.perf_counter(), 0
    while time.perf_counter() - start < 0.2:
        step(x, y)
        steps += 1
    per_window = max(1, int(steps * seconds / windows / 0.2))
    rates = []
    for _ in range(windows):
        start = time.perf_counter()
        for _ in range(per_window):
            step(x, y)
        rates.append(per_window * BATCH / (time.perf_counter() - start))
    return {"min": min(rates), "median": statistics.median(rates), "max": max(rates)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="timed seconds per figure")
    parser.add_argument("--json", help="also write the rows to this file")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    rows = []
    print(f"{'workload':<12}{'system':<14}{'examples/s (median)':>22}{'min':>10}{'max':>10}")
    for workload in ("mlp-train", "cnn-train"):
        x, y = data(workload, rng)
        figures = {}
        for system, factory in (("nnpy-cpython", nnpy_model), ("torch-cpu", torch_step)):
            figures[system] = measure(factory(workload), x, y, args.seconds)
            stats = figures[system]
            rows.append({"workload": workload, "system": system, "value": stats["median"],
                         "unit": "examples/s", "min": stats["min"], "max": stats["max"]})
            print(f"{workload:<12}{system:<14}{stats['median']:>22,.0f}{stats['min']:>10,.0f}"
                  f"{stats['max']:>10,.0f}")
        ratio = figures["nnpy-cpython"]["median"] / figures["torch-cpu"]["median"]
        print(f"{workload:<12}{'nnpy/torch':<14}{ratio:>22.2f}x")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
