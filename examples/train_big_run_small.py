"""Train big, run small: an nnpy model trained in PyTorch on several processes (or GPUs, or
machines) with DistributedDataParallel, then saved as an nnpy file the browser page runs.

    torchrun --nproc_per_node=2 examples/train_big_run_small.py --out /tmp/stripes.safetensors

Each process builds the same nnpy model (same seed), turns it into a torch module with
`nnpy.torch.to_torch`, and trains it on its own share of the data; DDP averages the gradients so
every process holds the same weights. Process 0 brings them back with `nnpy.torch.from_torch`
and saves one .safetensors file (`nn.loadModel(url)` in the page, `nnpy.load_model` here).

The data is made up so the example runs anywhere: 8x8 images of horizontal or vertical stripes.
With `--probe FILE.npz` process 0 also writes torch's own outputs for a fixed batch, which the
test compares with nnpy's. On CPU the processes talk over gloo; on GPUs use `--backend nccl`.
"""

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout

import nnpy
import nnpy.torch
from nnpy import layers


def stripes(count, seed):
    """(images (count, 8, 8, 1), labels): label 0 horizontal stripes, 1 vertical, with noise."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, count)
    phase = rng.integers(0, 2, count)[:, None, None]
    rows = (np.arange(8)[None, :, None] + phase) % 2
    columns = (np.arange(8)[None, None, :] + phase) % 2
    images = np.where(labels[:, None, None] == 0, rows, columns).astype("f4")
    images += rng.normal(0, 0.3, images.shape).astype("f4")
    return images[..., None], labels


def build_model():
    return nnpy.Sequential([
        layers.Input((8, 8, 1)),
        layers.Conv2D(4, 3, padding="same", activation="relu"),
        layers.BatchNormalization(),
        layers.MaxPool2D(2),
        layers.Flatten(),
        layers.Dense(2),  # logits
    ], seed=0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="stripes.safetensors")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=16, help="per process")
    parser.add_argument("--backend", default="gloo")
    parser.add_argument("--probe", help="also write torch's outputs for a fixed batch here")
    args = parser.parse_args()

    dist.init_process_group(args.backend)
    rank, world = dist.get_rank(), dist.get_world_size()
    torch.manual_seed(0)
    model = build_model()
    module = DistributedDataParallel(nnpy.torch.to_torch(model))
    optimizer = torch.optim.SGD(module.parameters(), lr=0.1)
    loss_function = torch.nn.CrossEntropyLoss()
    images, labels = stripes(args.steps * args.batch_size * world, seed=1)
    mine = slice(rank, None, world)  # this process's share
    images, labels = torch.from_numpy(images[mine]), torch.from_numpy(labels[mine])
    for step in range(args.steps):
        batch = slice(step * args.batch_size, (step + 1) * args.batch_size)
        optimizer.zero_grad()
        loss = loss_function(module(images[batch]), labels[batch])
        loss.backward()  # DDP averages the gradients of all processes here
        optimizer.step()
        if rank == 0 and step % 5 == 0:
            print(f"step {step}: loss {loss.item():.4f}", flush=True)

    module.eval()
    trained = nnpy.torch.from_torch(module)  # unwraps DDP's .module
    # DDP keeps the parameters equal everywhere; buffers (BatchNorm's running statistics) are
    # rank 0's, broadcast at each forward, so rank 0's file holds the model
    checksum = torch.tensor([sum(float(v.sum()) for v in trained.parameters().values())])
    sums = [torch.zeros(1) for _ in range(world)]
    dist.all_gather(sums, checksum)
    if rank == 0:
        assert all(torch.equal(s, sums[0]) for s in sums), "the processes' weights differ"
        trained.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        trained.labels = ["horizontal", "vertical"]
        trained.save(args.out)
        test_images, test_labels = stripes(256, seed=2)
        print(f"saved {args.out}; nnpy accuracy on new stripes: "
              f"{trained.evaluate(test_images, test_labels)['accuracy']:.3f}")
        if args.probe:
            with torch.no_grad():
                outputs = module.module(torch.from_numpy(test_images[:32])).numpy()
            np.savez(args.probe, images=test_images[:32], outputs=outputs,
                     initial=model.forward(test_images[:32]))
    # the processes leave together: one that tore its group down while the other was still
    # saving could abort in gloo's teardown ("terminate called without an active exception")
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
