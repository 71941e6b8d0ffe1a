"""Learning end to end: the model must actually learn, stop early, and refuse to diverge silently."""

import io

import numpy as np
import pytest

import nnpy
from nnpy import Sequential, callbacks, layers, optimizers
from nnpy.errors import ShapeError, TrainingDivergedError


def xor_data():
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    return x, np.array([0, 1, 1, 0], dtype=np.float32)


def two_spirals(n=200, noise=0.05, seed=0):
    rng = np.random.default_rng(seed)
    t = np.sqrt(rng.uniform(0, 1, n)) * 3 * np.pi
    arm = np.stack([t * np.cos(t), t * np.sin(t)], axis=1) / (3 * np.pi)
    x = np.concatenate([arm, -arm]) + rng.normal(0, noise, (2 * n, 2))
    y = np.concatenate([np.zeros(n), np.ones(n)]).astype(np.int64)
    order = rng.permutation(2 * n)
    return x[order].astype(np.float32), y[order]


def synthetic_images(n=300, seed=0):
    """Three classes of 12x12 images: a horizontal bar, a vertical bar, a diagonal, at random
    positions with noise."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 0.1, (n, 12, 12, 1)).astype(np.float32)
    y = rng.integers(0, 3, n)
    for i, label in enumerate(y):
        p = rng.integers(2, 10)
        if label == 0:
            x[i, p, 1:11, 0] += 1
        elif label == 1:
            x[i, 1:11, p, 0] += 1
        else:
            idx = np.arange(10) + 1
            x[i, idx, np.clip(idx + p - 6, 0, 11), 0] += 1
    return x, y


def test_xor_converges():
    x, y = xor_data()
    model = Sequential([layers.Input((2,)), layers.Dense(8, activation="tanh"), layers.Dense(1)],
                       seed=0)
    model.compile(optimizer=optimizers.Adam(0.05), loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=300, batch_size=4, verbose=0)
    assert history.history["loss"][-1] < 0.05
    np.testing.assert_array_equal(model.predict(x).ravel() > 0.5, y > 0.5)


def test_two_spirals_reach_95_percent():
    x, y = two_spirals()
    model = Sequential([layers.Input((2,)), layers.Dense(64, activation="relu"),
                        layers.Dense(64, activation="relu"), layers.Dense(2)], seed=1)
    model.compile(optimizer=optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x, y, epochs=250, batch_size=32, verbose=0)
    assert model.evaluate(x, y)["accuracy"] >= 0.95
    x_test, y_test = two_spirals(n=100, seed=1)
    assert model.evaluate(x_test, y_test)["accuracy"] >= 0.9


def test_small_cnn_learns_synthetic_images():
    x, y = synthetic_images()
    model = Sequential([layers.Input((12, 12, 1)),
                        layers.Conv2D(8, 3, padding="same", activation="relu"),
                        layers.BatchNormalization(), layers.MaxPool2D(2),
                        layers.Conv2D(8, 3, activation="relu"), layers.GlobalAveragePooling2D(),
                        layers.Dense(3)], seed=0)
    model.compile(optimizer=optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x[:240], y[:240], epochs=15, batch_size=16, verbose=0,
                        validation_data=(x[240:], y[240:]))
    assert history.history["val_accuracy"][-1] >= 0.9
    assert history.history["loss"][-1] < history.history["loss"][0] / 3


def test_same_seed_gives_the_same_model_and_training():
    def train():
        x, y = two_spirals(n=50)
        model = Sequential([layers.Input((2,)), layers.Dense(16, activation="relu"),
                            layers.Dropout(0.2), layers.Dense(2)], seed=7)
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        model.fit(x, y, epochs=3, batch_size=8, verbose=0)
        return model.parameters()

    first, second = train(), train()
    for name in first:
        np.testing.assert_array_equal(first[name], second[name])


def test_early_stopping_restores_the_best_weights():
    x, y = two_spirals(n=100)
    model = Sequential([layers.Input((2,)), layers.Dense(32, activation="tanh"), layers.Dense(2)],
                       seed=0)
    # a learning rate far too high: validation loss jumps around, so the best epoch is not the last
    model.compile(optimizer=optimizers.SGD(3.0), loss="sparse_categorical_crossentropy")
    snapshots = []
    record = callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: snapshots.append(
        {k: v.copy() for k, v in model.parameters().items()}))
    stopper = callbacks.EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
    history = model.fit(x, y, epochs=50, batch_size=16, verbose=0, validation_split=0.25,
                        callbacks=[record, stopper])
    val_losses = history.history["val_loss"]
    best = int(np.argmin(val_losses))
    assert stopper.stopped_epoch is not None and len(val_losses) < 50
    assert best != len(val_losses) - 1
    for name, value in model.parameters().items():
        np.testing.assert_array_equal(value, snapshots[best][name])
    assert model.evaluate(x[-50:], y[-50:])["loss"] == pytest.approx(val_losses[best], rel=1e-5)


def test_early_stopping_names_a_missing_metric():
    x, y = xor_data()
    model = Sequential([layers.Input((2,)), layers.Dense(1)])
    model.compile(loss="mse")
    with pytest.raises(ValueError, match="validation_split"):
        model.fit(x, y, epochs=2, verbose=0, callbacks=[callbacks.EarlyStopping()])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # overflow is what this test provokes
def test_divergence_is_caught_and_weights_are_kept():
    x, y = two_spirals(n=50)
    model = Sequential([layers.Input((2,)), layers.Dense(16, activation="relu"),
                        layers.BatchNormalization(), layers.Dense(1)], seed=0)
    model.compile(optimizer=optimizers.SGD(1e20), loss="mse")
    with pytest.raises(TrainingDivergedError) as info:
        model.fit(x * 1e10, y, epochs=20, batch_size=10, verbose=0)
    error = info.value
    assert error.step is not None and "step" in str(error) and "learning rate" in str(error)
    assert error.layer is not None
    for name, value in model.state_dict().items():
        assert np.isfinite(value).all(), name


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # overflow is what this test provokes
def test_overflow_in_a_layer_names_the_layer():
    x, y = xor_data()
    x[1, 0] = 3e38  # finite data whose first layer's output overflows float32
    model = Sequential([layers.Input((2,)), layers.Dense(4), layers.Dense(1)]).build()
    model.layers[0].params["kernel"][:] = 1e3
    model.compile(optimizer="sgd", loss="mse")
    before = {k: v.copy() for k, v in model.parameters().items()}
    with pytest.raises(TrainingDivergedError, match=r"step 1.*layer 0 \(Dense\)"):
        model.train_on_batch(x, y)
    for name, value in model.parameters().items():
        np.testing.assert_array_equal(value, before[name])


def test_nan_in_inputs_is_a_data_error_before_any_step():
    x, y = xor_data()
    x[1, 0] = np.nan
    model = Sequential([layers.Input((2,)), layers.Dense(4), layers.Dense(1)]).build()
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match=r"x holds NaN.*index \(1, 0\)"):
        model.train_on_batch(x, y)
    assert model.optimizer.iterations == 0


def test_fit_iter_yields_batches_and_epochs_and_stops_when_closed():
    x, y = two_spirals(n=40)
    model = Sequential([layers.Input((2,)), layers.Dense(4, activation="relu"), layers.Dense(2)])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    logs = list(model.fit_iter(x, y, epochs=2, batch_size=16, validation_split=0.2))
    kinds = [log["kind"] for log in logs]
    assert kinds == ["batch"] * 4 + ["epoch"] + ["batch"] * 4 + ["epoch"]  # 64 train examples / 16
    epoch = logs[4]
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(epoch)
    steps = model.optimizer.iterations
    generator = model.fit_iter(x, y, epochs=5, batch_size=8)
    next(generator)
    next(generator)
    generator.close()
    assert model.optimizer.iterations == steps + 2


def test_progress_bar_prints_keras_style_lines():
    x, y = xor_data()
    model = Sequential([layers.Input((2,)), layers.Dense(2)])
    model.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    stream = io.StringIO()
    model.fit(x, y.astype(int), epochs=2, batch_size=2, verbose=0,
              callbacks=[callbacks.ProgressBar(stream)])
    text = stream.getvalue()
    assert "Epoch 1/2" in text and "Epoch 2/2" in text
    assert "2/2 [" in text and "loss: " in text and "accuracy: " in text


def test_summary_lists_shapes_and_parameter_counts():
    model = Sequential([layers.Input((28, 28, 1)), layers.Conv2D(8, 5, padding="same"),
                        layers.MaxPool2D(2), layers.Flatten(), layers.Dense(10)])
    text = model.summary(print_fn=None)
    assert "(None, 28, 28, 8)" in text and "(None, 14, 14, 8)" in text
    assert "(None, 1568)" in text and "208" in text and "15,690" in text
    assert f"Total params: {208 + 15690:,}" in text
    assert list(model.parameters()) == ["0.kernel", "0.bias", "3.kernel", "3.bias"]


def test_bad_inputs_raise_typed_errors():
    model = Sequential([layers.Input((4,)), layers.Dense(2)])
    with pytest.raises(ShapeError, match=r"\(N, 4\)"):
        model.predict(np.zeros((3, 5)))
    with pytest.raises(ShapeError, match="Flatten"):
        Sequential([layers.Input((4, 4, 1)), layers.Dense(2)]).build()
    with pytest.raises(RuntimeError, match="compile"):
        model.fit(np.zeros((3, 4)), np.zeros(3), verbose=0)
    model.compile(loss="sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match=r"integers in \[0, 1\]"):
        model.train_on_batch(np.zeros((2, 4)), np.array([0, 5]))
    with pytest.raises(ValueError, match="unknown loss"):
        model.compile(loss="hinge-ish")


@pytest.mark.parametrize("schedule, expected", [
    (optimizers.StepDecay(1.0, step_size=10, gamma=0.5), [1.0, 1.0, 0.5, 0.25]),
    (optimizers.ExponentialDecay(1.0, decay_steps=10, decay_rate=0.5), [1.0, 0.5**0.5, 0.5, 0.25]),
    (optimizers.CosineDecay(1.0, decay_steps=20), [1.0, 0.5 * (1 + np.cos(np.pi / 4)), 0.5, 0.0]),
])
def test_learning_rate_schedules(schedule, expected):
    np.testing.assert_allclose([schedule(s) for s in (0, 5, 10, 20)], expected, atol=1e-12)


def test_schedule_drives_the_optimizer_and_survives_config():
    optimizer = optimizers.SGD(optimizers.StepDecay(0.1, step_size=1, gamma=0.5))
    params, grads = {"w": np.ones(1)}, {"w": np.ones(1)}
    for _ in range(3):
        optimizer.apply(params, {"w": grads["w"].copy()})
    np.testing.assert_allclose(params["w"], 1 - 0.1 - 0.05 - 0.025)
    clone = optimizers.from_json(optimizer.to_json())
    assert clone.current_learning_rate() == pytest.approx(0.1)


def test_public_api_names():
    for name in ("Sequential", "load_model", "ModelFormatError", "TrainingDivergedError",
                 "EarlyStopping", "History"):
        assert hasattr(nnpy, name)
