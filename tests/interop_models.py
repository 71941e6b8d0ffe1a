"""Sample nnpy models that use every layer kind the model exchanges (TF.js, Keras, PyTorch)
carry, with BatchNorm running statistics that are not 0 and 1: shared by the interop tests."""

import numpy as np

import nnpy
from nnpy import layers


def sample_models():
    """{"sequential": ..., "functional": ...}, built with fixed seeds."""
    sequential = nnpy.Sequential([
        layers.Input((10, 10, 3)),
        layers.Conv2D(4, 3, padding="same", activation="relu"),
        layers.BatchNormalization(),
        layers.SeparableConv2D(5, 3, strides=2, padding="same", activation="relu6"),
        layers.DepthwiseConv2D(3, depth_multiplier=2),
        layers.MaxPool2D(2, strides=1, padding="same"),
        layers.ZeroPadding2D(((1, 0), (0, 1))),
        layers.AvgPool2D(2),
        layers.Tanh(),
        layers.Flatten(),
        layers.Dropout(0.2),
        layers.Dense(6, activation="sigmoid"),
        layers.Reshape((2, 3)),
        layers.Flatten(),
        layers.LeakyReLU(0.1),
        layers.Dense(5),
        layers.Dense(3, activation="softmax"),
    ], seed=3)
    inputs = layers.Input((8, 8, 2))
    a = layers.Conv2D(4, 3, padding="same", activation="relu")(inputs)
    b = layers.ReLU(max_value=6)(layers.Conv2D(4, 1)(inputs))
    joined = layers.Concatenate()([layers.Add()([a, b]), inputs])
    pooled = layers.GlobalAveragePooling2D()(layers.BatchNormalization()(joined))
    functional = nnpy.Model(inputs, layers.Softmax()(layers.Dense(2)(pooled)), seed=4)
    for model in (sequential, functional):  # running statistics that are not 0 and 1
        for layer in model.layers:
            if isinstance(layer, layers.BatchNormalization):
                rng = np.random.default_rng(5)
                layer.state["running_mean"] += rng.normal(0, 0.3, layer.state["running_mean"].shape)
                layer.state["running_var"] *= rng.uniform(0.5, 1.5, layer.state["running_var"].shape)
    return {"sequential": sequential, "functional": functional}
