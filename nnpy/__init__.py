"""nnpy: deep learning on the user's own device, in Python and NumPy.

A network that learns XOR, saved and loaded back (this example runs in the tests):

>>> import numpy as np
>>> import nnpy
>>> from nnpy import layers, optimizers
>>> model = nnpy.Sequential([layers.Input((2,)), layers.Dense(8, activation="tanh"),
...                          layers.Dense(1)], seed=0)
>>> model.compile(optimizer=optimizers.Adam(0.05), loss="binary_crossentropy",
...               metrics=["accuracy"])    # returns the model, shown as PyTorch shows a module
Sequential(
  (0): Dense(units=8, activation='tanh', ...)
  (1): Dense(units=1, activation=None, ...)
)
>>> x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
>>> y = np.array([[0], [1], [1], [0]], dtype=np.float32)
>>> history = model.fit(x, y, epochs=300, batch_size=4, verbose=0)
>>> history.history["accuracy"][-1]
1.0
>>> model.predict(x).round(1).ravel()    # the probability of "1" for each row
array([0., 1., 1., 0.], dtype=float32)
>>> same = nnpy.load_model(model.to_bytes())   # or model.save(path) / load_model(path)
>>> bool((same.predict(x) == model.predict(x)).all())
True

The library: `layers`, `losses`, `optimizers`, `callbacks`, `initializers`, `data`, the model
(`Sequential`, and `Model` for graphs), `saving` (model files), `export` (to TF.js and Keras;
`nnpy.torch`, imported on its own, bridges to PyTorch), `backend` (where matrix products run), `tasks` (whole jobs
such as an image-classifier project) and `testing` (gradient checks). `nnpy.web` is the Python half
of the browser worker's protocol; only the worker imports it.
"""

from . import backend, callbacks, data, export, initializers, layers, losses, optimizers, saving
from .callbacks import EarlyStopping, History, LambdaCallback
from .errors import ModelFormatError, NnpyError, ShapeError, TrainingDivergedError
from .functional import Model
from .model import Sequential
from .saving import load_model

__version__ = "0.2.0"

__all__ = [
    "EarlyStopping",
    "History",
    "LambdaCallback",
    "Model",
    "ModelFormatError",
    "NnpyError",
    "Sequential",
    "ShapeError",
    "TrainingDivergedError",
    "__version__",
    "backend",
    "callbacks",
    "data",
    "export",
    "initializers",
    "layers",
    "load_model",
    "losses",
    "optimizers",
    "saving",
]
