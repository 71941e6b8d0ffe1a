"""Every layer and loss in one registry, each checked against central differences in float64."""

import numpy as np
import pytest

from nnpy import layers, losses
from nnpy.layers import LAYERS
from nnpy.testing import check_layer, check_loss

TOLERANCE = 1e-6

# name -> (layer factory, input shape without batch, batch size)
LAYER_CASES = {
    "Dense": (lambda: layers.Dense(4), (5,), 3),
    "Dense-relu": (lambda: layers.Dense(4, activation="relu"), (5,), 3),
    "Dense-nobias-tanh": (lambda: layers.Dense(3, activation="tanh", use_bias=False), (4,), 2),
    "Conv2D-valid": (lambda: layers.Conv2D(3, 3), (6, 5, 2), 2),
    "Conv2D-same": (lambda: layers.Conv2D(2, 3, padding="same"), (5, 6, 2), 2),
    "Conv2D-same-stride2": (lambda: layers.Conv2D(2, (3, 2), strides=2, padding="same"), (7, 6, 2), 2),
    "Conv2D-valid-stride2-sigmoid": (lambda: layers.Conv2D(2, 3, strides=2, activation="sigmoid"),
                                     (7, 7, 1), 2),
    "MaxPool2D": (lambda: layers.MaxPool2D(2), (6, 6, 2), 2),
    "MaxPool2D-3-valid": (lambda: layers.MaxPool2D(3), (8, 7, 2), 2),
    "MaxPool2D-same-overlap": (lambda: layers.MaxPool2D(3, strides=2, padding="same"), (7, 6, 2), 2),
    "AvgPool2D": (lambda: layers.AvgPool2D(2), (6, 6, 2), 2),
    "AvgPool2D-same": (lambda: layers.AvgPool2D(3, strides=2, padding="same"), (5, 6, 2), 2),
    "GlobalAveragePooling2D": (lambda: layers.GlobalAveragePooling2D(), (3, 4, 3), 2),
    "Flatten": (lambda: layers.Flatten(), (3, 2, 2), 2),
    "Reshape": (lambda: layers.Reshape((2, -1)), (6,), 2),
    "Dropout": (lambda: layers.Dropout(0.5, seed=3), (10,), 4),
    "BatchNormalization-2d": (lambda: layers.BatchNormalization(), (4,), 6),
    "BatchNormalization-4d": (lambda: layers.BatchNormalization(), (3, 3, 2), 3),
    "ReLU": (lambda: layers.ReLU(), (7,), 3),
    "LeakyReLU": (lambda: layers.LeakyReLU(0.1), (7,), 3),
    "Sigmoid": (lambda: layers.Sigmoid(), (7,), 3),
    "Tanh": (lambda: layers.Tanh(), (7,), 3),
    "Softmax": (lambda: layers.Softmax(), (5,), 3),
    "GELU": (lambda: layers.GELU(), (7,), 3),
    "GELU-exact": (lambda: layers.GELU(approximate=False), (7,), 3),
    "Linear": (lambda: layers.Linear(), (4,), 2),
    "ReLU-max_value": (lambda: layers.ReLU(max_value=0.5), (9,), 3),
    "DepthwiseConv2D-valid": (lambda: layers.DepthwiseConv2D(3), (6, 5, 2), 2),
    "DepthwiseConv2D-same-stride2-relu6": (
        lambda: layers.DepthwiseConv2D(3, strides=2, padding="same", activation="relu6"),
        (7, 6, 3), 2),
    "DepthwiseConv2D-multiplier": (lambda: layers.DepthwiseConv2D((2, 3), depth_multiplier=2,
                                                                  use_bias=False), (5, 5, 2), 2),
    "Conv1D-valid": (lambda: layers.Conv1D(3, 3), (7, 2), 2),
    "Conv1D-same-stride2-relu": (lambda: layers.Conv1D(2, 4, strides=2, padding="same",
                                                       activation="relu"), (9, 3), 2),
    "MaxPool1D": (lambda: layers.MaxPool1D(2), (8, 3), 2),
    "MaxPool1D-same-overlap": (lambda: layers.MaxPool1D(3, strides=2, padding="same"), (7, 2), 2),
    "GlobalAveragePooling1D": (lambda: layers.GlobalAveragePooling1D(), (5, 3), 2),
    "ZeroPadding2D": (lambda: layers.ZeroPadding2D(((0, 1), (2, 1))), (3, 4, 2), 2),
    # layers that merge inputs: the shape is each input's
    "Add": (lambda: layers.Add(), [(3, 4), (3, 4), (3, 4)], 2),
    "Concatenate": (lambda: layers.Concatenate(), [(2, 3), (2, 1)], 2),
    "Concatenate-axis1": (lambda: layers.Concatenate(axis=1), [(2, 3), (1, 3)], 2),
}

# every registered layer must have a case (Input holds no computation)
UNCHECKED = {"Input"}


def test_every_layer_is_in_the_registry():
    covered = {type(factory()).__name__ for factory, _, _ in LAYER_CASES.values()}
    assert set(LAYERS) - UNCHECKED <= covered, set(LAYERS) - UNCHECKED - covered


def _away_from_kinks(x):
    """Keep values off ReLU's kink and off exact ties in pooling, where derivatives jump."""
    return np.where(np.abs(x) < 0.05, x + np.sign(x + 1e-12) * 0.1, x)


@pytest.mark.parametrize("case", sorted(LAYER_CASES))
def test_layer_gradients_match_finite_differences(case):
    factory, shape, batch = LAYER_CASES[case]
    layer = factory()
    layer.build(shape, np.random.default_rng(0))
    layer.astype(np.float64)
    rng = np.random.default_rng(42)
    if layer.merges:
        x = [rng.standard_normal((batch, *one)) for one in shape]
    else:
        x = _away_from_kinks(rng.standard_normal((batch, *shape)))
    for key in layer.params:  # non-trivial gamma/beta/bias so their gradients are exercised
        layer.params[key] = layer.params[key] + rng.standard_normal(layer.params[key].shape) * 0.3
    before = None
    if isinstance(layer, layers.Dropout):
        def before():  # the same mask on every forward: a fixed function to differentiate
            layer.rng = np.random.default_rng(7)
    errors = check_layer(layer, x, training=True, before_forward=before)
    assert max(errors.values()) <= TOLERANCE, errors


def test_gradcheck_detects_a_wrong_backward():
    """The checker must be able to fail: a layer whose backward is off by 1% is caught."""
    layer = layers.Tanh()
    x = np.random.default_rng(0).standard_normal((2, 5))
    original = layer.backward
    layer.backward = lambda dy: original(dy) * 1.01
    assert max(check_layer(layer, x).values()) > 1e-3


def _targets(name, rng, outputs):
    if name == "sparse_categorical_crossentropy":
        return rng.integers(0, outputs.shape[1], outputs.shape[0])
    if name == "categorical_crossentropy":
        return np.eye(outputs.shape[1])[rng.integers(0, outputs.shape[1], outputs.shape[0])]
    if name == "binary_crossentropy":
        return rng.uniform(0, 1, outputs.shape)
    return rng.standard_normal(outputs.shape)


@pytest.mark.parametrize("name", sorted({cls.name for cls in losses.LOSSES.values()}))
def test_loss_gradients_match_finite_differences(name):
    rng = np.random.default_rng(3)
    outputs = rng.standard_normal((5, 4)) * 3
    error = check_loss(losses.get(name), outputs, _targets(name, rng, outputs))
    assert error <= TOLERANCE


@pytest.mark.parametrize("name", ["sparse_categorical_crossentropy", "categorical_crossentropy",
                                  "binary_crossentropy"])
def test_losses_stay_finite_for_huge_logits(name):
    rng = np.random.default_rng(0)
    outputs = rng.standard_normal((4, 3)) * 1e4  # exp(1e4) overflows without log-sum-exp
    loss = losses.get(name)
    value = loss.forward(outputs, _targets(name, rng, outputs))
    assert np.isfinite(value) and np.isfinite(loss.backward()).all()


@pytest.mark.parametrize("case", sorted(LAYER_CASES))
def test_weight_shapes_say_what_build_makes(case):
    """A model file is checked against `weight_shapes` before anything is built: for every layer
    it must name exactly the arrays (params and state) that `build` then makes."""
    factory, shape, _ = LAYER_CASES[case]
    layer = factory()
    planned = layer.weight_shapes(shape)
    layer.build(shape, np.random.default_rng(0))
    made = {key: value.shape for store in (layer.params, layer.state) for key, value in store.items()}
    assert planned == made
