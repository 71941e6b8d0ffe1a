"""model.save("x.keras") -> Keras 3 (torch backend) opens it and predicts the same."""

import os
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("h5py")
pytest.importorskip("torch")
os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: the shared sample models
from interop_models import sample_models


@pytest.mark.parametrize("name", ["sequential", "functional"])
def test_keras_opens_a_saved_nnpy_model_with_the_same_predictions(tmp_path, name):
    model = sample_models()[name]
    path = tmp_path / "model.keras"
    model.save(path)
    theirs = keras.saving.load_model(path)
    assert len(theirs.weights) == len(model.state_dict())
    x = np.random.default_rng(6).uniform(-1, 1, (4, *model.input_shape)).astype("f4")
    expected = model.predict(x)
    got = keras.ops.convert_to_numpy(theirs(x, training=False))
    assert np.abs(got - expected).max() < 1e-5
