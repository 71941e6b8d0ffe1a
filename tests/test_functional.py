"""nnpy.Model: a graph of layers described by calling them on an Input and on each other."""

import json

import numpy as np
import pytest

import nnpy
from nnpy import layers
from nnpy.testing.gradcheck import numerical_gradient, relative_error


def residual_model(seed=0):
    inputs = layers.Input((4, 4, 3))
    x = layers.Conv2D(3, 3, padding="same", activation="tanh")(inputs)
    x = layers.BatchNormalization()(x)
    block = layers.Add()([inputs, x])
    both = layers.Concatenate()([block, layers.DepthwiseConv2D(1)(inputs)])
    outputs = layers.Dense(2)(layers.Flatten()(both))
    return nnpy.Model(inputs, outputs, seed=seed)


def test_a_model_is_built_at_construction_and_names_parameters_by_evaluation_order():
    model = residual_model()
    assert model.built and model.output_shape == (2,)
    assert list(model.parameters()) == ["0.kernel", "0.bias", "1.gamma", "1.beta",
                                        "3.kernel", "3.bias", "6.kernel", "6.bias"]
    assert model.inbound == [[-1], [0], [-1, 1], [-1], [2, 3], [4], [5]]


def test_whole_model_gradients_match_finite_differences():
    """The graph's backward (a layer read twice gets the sum of both gradients) in float64."""
    model = residual_model()
    model.compile(loss="sparse_categorical_crossentropy")
    model.astype(np.float64)
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((3, 4, 4, 3)), np.array([0, 1, 1])
    model.loss.forward(model.forward(x, training=False), y)
    model.backward(model.loss.backward())
    for name, parameter in model.parameters().items():
        numeric = numerical_gradient(
            lambda: model.loss.forward(model.forward(x, training=False), y), parameter)
        assert relative_error(model.gradients()[name], numeric) < 1e-6, name


def test_fit_save_and_load_give_the_same_model(tmp_path):
    model = residual_model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((16, 4, 4, 3)).astype(np.float32), rng.integers(0, 2, 16)
    history = model.fit(x, y, epochs=3, batch_size=8, verbose=0)
    assert len(history.history["loss"]) == 3
    model.save(tmp_path / "graph.safetensors")
    again = nnpy.load_model(tmp_path / "graph.safetensors")
    assert type(again) is nnpy.Model and again.inbound == model.inbound
    np.testing.assert_array_equal(again.predict(x), model.predict(x))
    assert again.get_config() == model.get_config()


@pytest.mark.parametrize("describe, error, match", [
    (lambda i: nnpy.Model(i, layers.Dense(2)(layers.Input((3,)))), ValueError, "not the model's input"),
    (lambda i: nnpy.Model(layers.Dense(2)(i), layers.Dense(2)(i)), TypeError, "layers.Input"),
    (lambda i: nnpy.Model(i, i), TypeError, "result of calling a layer"),
    (lambda i: layers.Add()(i), TypeError, "a list of inputs"),
    (lambda i: layers.Dense(2)([i, i]), TypeError, "one input, not a list"),
])
def test_a_graph_that_cannot_work_is_refused_when_described(describe, error, match):
    with pytest.raises(error, match=match):
        describe(layers.Input((3,)))


def test_a_layer_called_twice_and_a_merge_in_a_stack_are_refused():
    inputs = layers.Input((3,))
    dense = layers.Dense(3)
    with pytest.raises(ValueError, match="more than once"):
        nnpy.Model(inputs, layers.Add()([dense(inputs), dense(inputs)]))
    with pytest.raises(TypeError, match="nnpy.Model"):
        nnpy.Sequential([layers.Input((3,)), layers.Add()])
    with pytest.raises(TypeError, match="call the layer"):
        residual_model().add(layers.Dense(1))


def test_a_config_whose_inbound_points_forward_is_refused():
    config = residual_model().get_config()
    config["layers"][0]["inbound"] = [3]
    with pytest.raises(nnpy.ModelFormatError, match="must name earlier layers"):
        nnpy.saving.model_from_state({}, {"nnpy.format": "1",
                                          "nnpy.config": json.dumps(config)})
