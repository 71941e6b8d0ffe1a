"""nnpy: deep learning on the user's own device, in Python and NumPy.

    import nnpy
    from nnpy import layers, optimizers
    model = nnpy.Sequential([layers.Input((2,)), layers.Dense(8, activation="tanh"), layers.Dense(1)])
    model.compile(optimizer=optimizers.Adam(0.05), loss="binary_crossentropy", metrics=["accuracy"])
"""

from . import callbacks, data, initializers, kernels, layers, losses, optimizers
from .callbacks import EarlyStopping, History, LambdaCallback
from .errors import ModelFormatError, NnpyError, ShapeError, TrainingDivergedError
from .model import Sequential

__version__ = "0.1.0"


def load_model(source):
    """A model from a .safetensors path or its bytes; raises ModelFormatError on a bad file."""
    from .io import load_model as _load_model
    return _load_model(source)


__all__ = [
    "EarlyStopping",
    "History",
    "LambdaCallback",
    "ModelFormatError",
    "NnpyError",
    "Sequential",
    "ShapeError",
    "TrainingDivergedError",
    "__version__",
    "callbacks",
    "data",
    "initializers",
    "kernels",
    "layers",
    "load_model",
    "losses",
    "optimizers",
]
