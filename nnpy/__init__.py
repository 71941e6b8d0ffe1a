"""nnpy: deep learning on the user's own device, in Python and NumPy.

    import nnpy
    from nnpy import layers, optimizers
    model = nnpy.Sequential([layers.Input((2,)), layers.Dense(8, activation="tanh"), layers.Dense(1)])
    model.compile(optimizer=optimizers.Adam(0.05), loss="binary_crossentropy", metrics=["accuracy"])

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
