"""What a page's first prediction imports: loading the shipped digit model and predicting a
drawing must not import numpy.random (nine extension modules that Pyodide cannot keep in its
snapshot, so a repeat visit would load them again). Run in a fresh interpreter, where no other
test has imported anything yet."""

import subprocess
import sys
from pathlib import Path

import numpy as np

import nnpy
from nnpy import Sequential, layers

ROOT = Path(__file__).resolve().parents[2]

FIRST_PREDICTION = """
import sys
import numpy as np
import nnpy.web
session = nnpy.web.Session()
data = open(sys.argv[1], "rb").read()
handle = session.dispatch("load_model", {"data": data})["ok"]["__model__"]
rgba = np.zeros((140, 140, 4), np.uint8)
rgba[20:120, 64:78, 3] = 255
drawing = {"pixels": rgba.tobytes(), "width": 140, "height": 140}
for op in ("predict", "predict_activity"):
    reply = session.dispatch(op, {"model": handle, "inputs": drawing})
    assert "error" not in reply, reply["error"]
print(" ".join(sorted(name for name in sys.modules if name.startswith("numpy.random"))))
"""


def test_loading_a_model_and_predicting_does_not_import_numpy_random():
    result = subprocess.run(
        [sys.executable, "-c", FIRST_PREDICTION, str(ROOT / "web" / "models" / "digits.safetensors")],
        capture_output=True, text=True, cwd=ROOT, check=True)
    assert result.stdout.split() == []


def test_a_loaded_model_trains_as_one_loaded_with_random_initial_weights():
    """A seedless Dropout of a loaded model draws its masks from the seed the model's generator
    would have given it after drawing the initial weights, as when those were drawn for real."""
    model = Sequential([layers.Input((6,)), layers.Dense(8), layers.Dropout(0.5),
                        layers.Dense(3)], seed=4)
    model.compile(optimizer="sgd", loss="mse")
    loaded = nnpy.load_model(model.to_bytes())
    model.build()  # the weights drawn again: the dropout's generator is the one a build makes
    model.load_state_dict(loaded.state_dict())
    x = np.random.default_rng(0).standard_normal((16, 6)).astype(np.float32)
    y = np.random.default_rng(1).standard_normal((16, 3)).astype(np.float32)
    for net in (model, loaded):
        net.fit(x, y, epochs=2, batch_size=4, verbose=0)
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(loaded.state_dict()[name], value)
