"""Layers: each shows its forward and backward on one screen (see base.Layer for the contract)."""

from .activations import GELU, LeakyReLU, Linear, ReLU, ReLU6, Sigmoid, Softmax, Tanh
from .base import LAYERS, Input, Layer, Node
from .conv import Conv2D, DepthwiseConv2D
from .dense import Dense
from .merge import Add, Concatenate
from .normalization import BatchNorm, BatchNormalization
from .pooling import (
    AveragePooling2D,
    AvgPool2D,
    GlobalAveragePooling2D,
    GlobalAvgPool2D,
    MaxPool2D,
    MaxPooling2D,
)
from .sequence import (
    Conv1D,
    GlobalAveragePooling1D,
    GlobalAvgPool1D,
    MaxPool1D,
    MaxPooling1D,
)
from .shape import Dropout, Flatten, Reshape, ZeroPadding2D


def from_config(entry):
    """A layer from `{"class_name": ..., "config": {...}}` as `Sequential.get_config` writes it."""
    if not (isinstance(entry, dict) and isinstance(entry.get("config", {}), dict)):
        raise TypeError(f"a layer entry is {{\"class_name\": ..., \"config\": {{...}}}}, got "
                        f"{str(entry)[:60]}")
    class_name = entry.get("class_name")
    if not isinstance(class_name, str) or class_name not in LAYERS:
        raise ValueError(f"unknown layer type {str(class_name)[:40]!r}; known: {sorted(LAYERS)}")
    return LAYERS[class_name].from_config(dict(entry.get("config", {})))


__all__ = [
    "GELU",
    "LAYERS",
    "Add",
    "AveragePooling2D",
    "AvgPool2D",
    "BatchNorm",
    "BatchNormalization",
    "Concatenate",
    "Conv1D",
    "Conv2D",
    "Dense",
    "DepthwiseConv2D",
    "Dropout",
    "Flatten",
    "GlobalAveragePooling1D",
    "GlobalAveragePooling2D",
    "GlobalAvgPool1D",
    "GlobalAvgPool2D",
    "Input",
    "Layer",
    "LeakyReLU",
    "Linear",
    "MaxPool1D",
    "MaxPool2D",
    "MaxPooling1D",
    "MaxPooling2D",
    "Node",
    "ReLU",
    "ReLU6",
    "Reshape",
    "Sigmoid",
    "Softmax",
    "Tanh",
    "ZeroPadding2D",
    "from_config",
]
