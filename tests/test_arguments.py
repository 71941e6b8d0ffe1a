"""Bad arguments are refused at the call, Keras-style: the exact error type, a message naming the
argument, and nothing trained or built before the refusal."""

import numpy as np
import pytest

from nnpy import Sequential, layers, optimizers
from nnpy.tasks.image_classifier import ImageClassifierProject


def compiled(loss="mse", outputs=1):
    model = Sequential([layers.Input((2,)), layers.Dense(outputs)], seed=0).build()
    model.compile(optimizer=optimizers.SGD(0.1), loss=loss)
    return model


X = np.random.default_rng(0).standard_normal((8, 2)).astype(np.float32)
Y = np.zeros(8, np.float32)


def with_nan(array, index=(3, 1)):
    array = np.array(array, dtype=np.float64)
    array[index] = np.nan
    return array


FIT_CASES = {
    "batch_size 0": ({"batch_size": 0}, ValueError, "batch_size must be a positive integer"),
    "batch_size negative": ({"batch_size": -4}, ValueError, "batch_size must be a positive"),
    "batch_size 2.5": ({"batch_size": 2.5}, TypeError, "batch_size must be a positive integer"),
    "batch_size '4'": ({"batch_size": "4"}, TypeError, "batch_size must be a positive integer"),
    "batch_size True": ({"batch_size": True}, TypeError, "batch_size"),
    "epochs negative": ({"epochs": -1}, ValueError, "epochs must be an integer >= 0"),
    "epochs 1.5": ({"epochs": 1.5}, TypeError, "epochs"),
    "initial_epoch negative": ({"initial_epoch": -2}, ValueError, "initial_epoch"),
    "validation_split 1": ({"validation_split": 1.0}, ValueError, "validation_split"),
    "validation_split string": ({"validation_split": "0.2"}, TypeError, "validation_split"),
    "empty x": ({"x": np.zeros((0, 2)), "y": np.zeros(0)}, ValueError, "x is empty"),
    "empty y": ({"y": np.zeros(0)}, ValueError, "y is empty"),
    "strings in x": ({"x": np.array([["1", "2"]] * 8)}, TypeError, "x must hold real numbers, not strings"),
    "complex x": ({"x": X + 1j}, TypeError, "x must hold real numbers, not complex"),
    "objects in x": ({"x": np.array([[None, 1]] * 8)}, TypeError, "not Python objects"),
    "NaN in x": ({"x": with_nan(X)}, ValueError, r"x holds NaN or infinite values .*index \(3, 1\)"),
    "Inf in x": ({"x": np.where(X > 1, np.inf, X)}, ValueError, "x holds NaN or infinite"),
    "NaN in y": ({"y": with_nan(Y, 5)}, ValueError, r"y holds NaN .*index \(5,\)"),
    "x too large for float32": ({"x": np.full((8, 2), 1e300)}, ValueError, "x holds NaN or infinite"),
    "y of another length": ({"y": np.zeros(7)}, ValueError, "8 inputs but 7 targets"),
    "NaN in validation data": ({"validation_data": (with_nan(X), Y)}, ValueError,
                               "validation_data x holds NaN"),
}


@pytest.mark.parametrize("change, error, match", FIT_CASES.values(), ids=FIT_CASES.keys())
def test_fit_refuses_bad_arguments_before_any_step(change, error, match):
    model = compiled()
    before = {name: value.copy() for name, value in model.parameters().items()}
    arguments = {"x": X, "y": Y, "epochs": 2, "batch_size": 4, "verbose": 0, **change}
    with pytest.raises(error, match=match):
        model.fit(arguments.pop("x"), arguments.pop("y"), **arguments)
    assert model.optimizer.iterations == 0
    for name, value in model.parameters().items():
        np.testing.assert_array_equal(value, before[name])


def test_nan_late_in_the_data_is_refused_before_the_first_batch():
    """NaN in the last example: a data error up front, not "training diverged" at the last batch
    after the first ones were applied."""
    model = compiled()
    x = X.copy()
    x[-1, 0] = np.nan
    with pytest.raises(ValueError, match=r"index \(7, 0\).*clean or drop"):
        model.fit(x, Y, batch_size=2, verbose=0)
    assert model.optimizer.iterations == 0


TARGET_CASES = {
    "binary labels 2": ("binary_crossentropy", 1, np.array([0, 1, 2, 0, 1, 0, 1, 0]),
                        ValueError, "targets must be 0 or 1"),
    "binary labels -1": ("binary_crossentropy", 1, -np.ones(8), ValueError, "targets must be 0 or 1"),
    "sparse label out of range": ("sparse_categorical_crossentropy", 3, np.arange(8) % 4,
                                  ValueError, r"integers in \[0, 2\]"),
    "sparse label 0.5": ("sparse_categorical_crossentropy", 3, np.full(8, 0.5),
                         ValueError, "must be integers"),
    "categorical wrong width": ("categorical_crossentropy", 3, np.eye(4)[np.arange(8) % 4],
                                ValueError, "one-hot rows like the outputs"),
    "mse wrong width": ("mse", 1, np.zeros((8, 3)), ValueError, "do not fit the model's outputs"),
}


@pytest.mark.parametrize("loss, outputs, y, error, match", TARGET_CASES.values(),
                         ids=TARGET_CASES.keys())
def test_targets_that_do_not_fit_the_loss_are_refused(loss, outputs, y, error, match):
    model = compiled(loss, outputs)
    for call in (lambda: model.fit(X, y, verbose=0), lambda: model.train_on_batch(X, y),
                 lambda: model.evaluate(X, y)):
        with pytest.raises(error, match=match):
            call()
    assert model.optimizer.iterations == 0


PREDICT_CASES = {
    "NaN": (with_nan(X), ValueError, "x holds NaN"),
    "Inf": (np.full((2, 2), -np.inf), ValueError, "x holds NaN or infinite"),
    "strings": ([["a", "b"]], TypeError, "not strings"),
    "complex": (np.ones((1, 2), complex), TypeError, "not complex"),
}


@pytest.mark.parametrize("x, error, match", PREDICT_CASES.values(), ids=PREDICT_CASES.keys())
def test_predict_refuses_inputs_it_cannot_compute_with(x, error, match):
    with pytest.raises(error, match=match):
        compiled("binary_crossentropy").predict(x)


@pytest.mark.parametrize("batch_size", [0, -1, 2.5, "8"])
def test_predict_and_evaluate_check_batch_size(batch_size):
    model = compiled()
    with pytest.raises((TypeError, ValueError), match="batch_size"):
        model.predict(X, batch_size=batch_size)
    with pytest.raises((TypeError, ValueError), match="batch_size"):
        model.evaluate(X, Y, batch_size=batch_size)


CONSTRUCTOR_CASES = {
    "Dense(-3)": (lambda: layers.Dense(-3), ValueError, "Dense: units must be a positive integer"),
    "Dense(0)": (lambda: layers.Dense(0), ValueError, "units must be a positive integer"),
    "Dense(2.5)": (lambda: layers.Dense(2.5), TypeError, "units must be a positive integer"),
    "Dense('4')": (lambda: layers.Dense("4"), TypeError, "units"),
    "Dense activation": (lambda: layers.Dense(2, activation="relu7"), ValueError, "unknown activation"),
    "Dense initializer": (lambda: layers.Dense(2, kernel_initializer="magic"), ValueError,
                          "kernel_initializer: unknown initializer"),
    "Dense use_bias": (lambda: layers.Dense(2, use_bias="no"), TypeError, "use_bias must be True or False"),
    "Conv2D(strides=0)": (lambda: layers.Conv2D(4, 3, strides=0), ValueError,
                          "Conv2D: strides must be a positive integer"),
    "Conv2D(strides=-1)": (lambda: layers.Conv2D(4, 3, strides=(1, -1)), ValueError, "strides"),
    "Conv2D filters 0": (lambda: layers.Conv2D(0, 3), ValueError, "filters must be a positive"),
    "Conv2D kernel_size 0": (lambda: layers.Conv2D(4, 0), ValueError, "kernel_size"),
    "Conv2D kernel_size triple": (lambda: layers.Conv2D(4, (3, 3, 3)), TypeError, "kernel_size"),
    "Conv2D padding": (lambda: layers.Conv2D(4, 3, padding="full"), ValueError,
                       "padding must be one of"),
    "MaxPool2D(0)": (lambda: layers.MaxPool2D(0), ValueError, "MaxPool2D: pool_size"),
    "AvgPool2D strides": (lambda: layers.AvgPool2D(2, strides=-2), ValueError, "AvgPool2D: strides"),
    "Input((0,))": (lambda: layers.Input((0,)), ValueError, "Input: shape must hold positive integers"),
    "Input(())": (lambda: layers.Input(()), ValueError, "Input: shape has no dimensions"),
    "Input((4.5,))": (lambda: layers.Input((4.5,)), TypeError, "shape must hold integers"),
    "Input(28)": (lambda: layers.Input(28), TypeError, "shape must be a list of positive integers"),
    "Input huge": (lambda: layers.Input((2**20, 2**20)), ValueError, "values per example"),
    "BatchNormalization(epsilon=-1)": (lambda: layers.BatchNormalization(epsilon=-1), ValueError,
                                       "BatchNormalization: epsilon must be a finite number > 0"),
    "BatchNormalization(momentum=2)": (lambda: layers.BatchNormalization(momentum=2), ValueError,
                                       r"momentum must be a finite number in \[0, 1\]"),
    "Dropout(1)": (lambda: layers.Dropout(1.0), ValueError, r"Dropout: rate .* in \[0, 1\)"),
    "Dropout seed": (lambda: layers.Dropout(0.5, seed=-1), ValueError, "seed"),
    "Reshape two -1": (lambda: layers.Reshape((-1, -1)), ValueError, "may hold -1 once"),
    "Reshape 0": (lambda: layers.Reshape((0, 4)), ValueError, "target_shape must hold positive"),
    "LeakyReLU NaN": (lambda: layers.LeakyReLU(float("nan")), ValueError, "negative_slope"),
    "Softmax axis 0": (lambda: layers.Softmax(axis=0), ValueError, "batch axis"),
    "Softmax axis 1.5": (lambda: layers.Softmax(axis=1.5), TypeError, "axis"),
    "GELU approximate": (lambda: layers.GELU(approximate="yes"), TypeError, "approximate"),
    "layer name": (lambda: layers.ReLU(name=5), TypeError, "name must be a string"),
    "Sequential seed": (lambda: Sequential([], seed="forty-two"), TypeError, "seed"),
}


@pytest.mark.parametrize("make, error, match", CONSTRUCTOR_CASES.values(),
                         ids=CONSTRUCTOR_CASES.keys())
def test_layer_constructors_refuse_bad_arguments(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_softmax_axis_out_of_range_is_refused_when_the_model_is_built():
    with pytest.raises(ValueError, match="Softmax axis 3 is out of range"):
        Sequential([layers.Input((4,)), layers.Softmax(axis=3)]).build()


def test_a_window_too_large_to_run_is_refused_when_the_model_is_built():
    with pytest.raises(ValueError, match="layer 0 .*padded input"):
        Sequential([layers.Input((8, 8, 1)), layers.MaxPool2D((2, 2**31), padding="same")]).build()


OPTIMIZER_CLASSES = [optimizers.SGD, optimizers.Adam, optimizers.AdamW, optimizers.RMSprop]


@pytest.mark.parametrize("optimizer", OPTIMIZER_CLASSES, ids=lambda cls: cls.__name__)
@pytest.mark.parametrize("learning_rate, error, match", [
    (-0.1, ValueError, "learning_rate must be a finite number >= 0"),
    ("fast", TypeError, "learning_rate must be a number"),
    (float("nan"), ValueError, "learning_rate"),
    (None, TypeError, "learning_rate"),
    (True, TypeError, "learning_rate"),
])
def test_optimizers_refuse_bad_learning_rates(optimizer, learning_rate, error, match):
    with pytest.raises(error, match=f"{optimizer.__name__}: {match}"):
        optimizer(learning_rate)


def test_a_learning_rate_set_later_is_checked_too():
    optimizer = optimizers.Adam()
    with pytest.raises(ValueError, match="learning_rate"):
        optimizer.learning_rate = -1
    optimizer.learning_rate = optimizers.StepDecay(0.1, step_size=10)  # schedules stay allowed


OPTIMIZER_ARGUMENT_CASES = {
    "SGD momentum": (lambda: optimizers.SGD(momentum=-0.5), ValueError, "momentum"),
    "SGD nesterov": (lambda: optimizers.SGD(nesterov="yes"), TypeError, "nesterov"),
    "Adam beta_1": (lambda: optimizers.Adam(beta_1=1.0), ValueError, "beta_1"),
    "Adam beta_2": (lambda: optimizers.Adam(beta_2=-0.1), ValueError, "beta_2"),
    "Adam epsilon": (lambda: optimizers.Adam(epsilon=-1e-7), ValueError, "epsilon"),
    "AdamW weight_decay": (lambda: optimizers.AdamW(weight_decay=-0.01), ValueError, "weight_decay"),
    "RMSprop rho": (lambda: optimizers.RMSprop(rho=1.5), ValueError, "rho"),
    "global_clipnorm": (lambda: optimizers.Adam(global_clipnorm=0), ValueError, "global_clipnorm"),
    "StepDecay step_size": (lambda: optimizers.StepDecay(0.1, step_size=0), ValueError, "step_size"),
    "CosineDecay decay_steps": (lambda: optimizers.CosineDecay(0.1, decay_steps=2.5), TypeError,
                                "decay_steps"),
    "ExponentialDecay rate": (lambda: optimizers.ExponentialDecay(0.1, 10, "half"), TypeError,
                              "decay_rate"),
}


@pytest.mark.parametrize("make, error, match", OPTIMIZER_ARGUMENT_CASES.values(),
                         ids=OPTIMIZER_ARGUMENT_CASES.keys())
def test_optimizers_refuse_bad_settings(make, error, match):
    with pytest.raises(error, match=match):
        make()


@pytest.mark.parametrize("image_size, error", [(8, ValueError), (4096, ValueError),
                                                (64.5, TypeError)])
def test_a_project_refuses_an_image_size_its_model_cannot_take(image_size, error):
    with pytest.raises(error, match="image_size"):
        ImageClassifierProject(["a", "b"], image_size=image_size)


@pytest.mark.parametrize("arguments, match", [
    ({"batch_size": 0}, "batch_size"), ({"epochs": -1}, "epochs"),
    ({"learning_rate": "fast"}, "learning_rate"), ({"validation_split": 1.5}, "validation_split"),
])
def test_project_training_checks_its_arguments_before_changing_the_model(arguments, match):
    rng = np.random.default_rng(0)
    project = ImageClassifierProject(["a", "b"], image_size=16)
    for index in (0, 1):
        for _ in range(2):
            project.add_sample(index, rng.integers(0, 256, (16, 16, 3), dtype=np.uint8))
    with pytest.raises((TypeError, ValueError), match=match):
        project.train_iter(**arguments)  # refused at the call, not at the first step
    assert project.model is None
