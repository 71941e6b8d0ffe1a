"""Typed errors: each says what went wrong and what to do about it."""


class NnpyError(Exception):
    """Base class of every error nnpy raises on purpose."""


class ModelFormatError(NnpyError, ValueError):
    """A model file (or bytes) is not a valid nnpy .safetensors model."""


class TrainingDivergedError(NnpyError, ArithmeticError):
    """The loss or a gradient became NaN/Inf; the weights are left as they were before that step."""

    def __init__(self, message, step=None, layer=None):
        super().__init__(message)
        self.step = step
        self.layer = layer


class ShapeError(NnpyError, ValueError):
    """An input does not have the shape a layer or model expects."""
