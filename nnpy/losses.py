"""Losses. Each takes the model's raw outputs (logits for the classification losses, so softmax or
sigmoid is fused in and computed stably) and returns the mean over the batch; `backward()` returns
d loss / d outputs. `output_activation` is what `predict` applies to turn logits into probabilities."""

import math

import numpy as np

from .errors import ShapeError
from .layers.activations import softmax


def _log_softmax(z):
    shifted = z - z.max(axis=-1, keepdims=True)  # log-sum-exp trick: exp never overflows
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _sigmoid(z):
    return 0.5 * (np.tanh(0.5 * z) + 1)


class Loss:
    name = None
    classification = False

    def __call__(self, outputs, targets):
        return self.forward(outputs, targets)

    def output_activation(self, outputs):
        return outputs

    def predicted_class(self, outputs):
        """The class index each row predicts (for the accuracy metric)."""
        return outputs.argmax(axis=-1)

    def true_class(self, targets):
        return targets.argmax(axis=-1)

    def check_targets(self, targets, output_shape):
        """Refuse targets (N, ...) that do not fit outputs (N, *output_shape) before training:
        `fit` calls this on all the data, so no step is taken with a batch that would fail."""
        if math.prod(targets.shape[1:]) != math.prod(output_shape):
            raise ShapeError(f"{self.name}: targets of shape {targets.shape} do not fit the "
                             f"model's outputs (N, {', '.join(map(str, output_shape))})")

    def _check(self, outputs, targets):
        if outputs.shape != targets.shape:
            raise ShapeError(f"{self.name}: outputs {outputs.shape} and targets {targets.shape} "
                             "must have the same shape")


class MeanSquaredError(Loss):
    """mean((outputs - targets)^2) over all values."""
    name = "mse"

    def forward(self, outputs, targets):
        targets = np.asarray(targets, dtype=outputs.dtype).reshape(outputs.shape)
        self.diff = outputs - targets
        return float(np.mean(self.diff**2))

    def backward(self):
        return 2 * self.diff / self.diff.size


class BinaryCrossentropy(Loss):
    """Sigmoid + cross-entropy on logits z, targets y in [0, 1]:
    max(z, 0) - z * y + log(1 + exp(-|z|)), which never overflows."""
    name = "binary_crossentropy"
    classification = True

    def forward(self, outputs, targets):
        targets = np.asarray(targets, dtype=outputs.dtype).reshape(outputs.shape)
        self.z, self.y = outputs, targets
        losses = np.maximum(outputs, 0) - outputs * targets + np.log1p(np.exp(-np.abs(outputs)))
        return float(np.mean(losses))

    def backward(self):
        return (_sigmoid(self.z) - self.y) / self.z.size

    def output_activation(self, outputs):
        return _sigmoid(outputs)

    def predicted_class(self, outputs):
        return (outputs > 0).astype(np.int64)  # logit > 0 <=> probability > 0.5

    def check_targets(self, targets, output_shape):
        super().check_targets(targets, output_shape)
        if targets.min() < 0 or targets.max() > 1:
            raise ValueError(f"{self.name}: targets must be 0 or 1 (or probabilities between), "
                             f"got values from {targets.min()} to {targets.max()}; for more "
                             f"than two classes use sparse_categorical_crossentropy")

    def true_class(self, targets):
        return (np.asarray(targets) > 0.5).astype(np.int64)


class CategoricalCrossentropy(Loss):
    """Softmax + cross-entropy on logits (N, K), one-hot (or soft) targets (N, K)."""
    name = "categorical_crossentropy"
    classification = True

    def forward(self, outputs, targets):
        targets = np.asarray(targets, dtype=outputs.dtype)
        self._check(outputs, targets)
        log_probs = _log_softmax(outputs)
        self.probs, self.targets = np.exp(log_probs), targets
        return float(-(targets * log_probs).sum() / outputs.shape[0])

    def backward(self):
        return (self.probs - self.targets) / self.probs.shape[0]

    def output_activation(self, outputs):
        return softmax(outputs)

    def check_targets(self, targets, output_shape):
        if targets.shape[1:] != tuple(output_shape):
            raise ShapeError(f"{self.name}: targets {targets.shape} must be one-hot rows like the "
                             f"outputs (N, {', '.join(map(str, output_shape))}); for class ids "
                             f"use sparse_categorical_crossentropy")
        if targets.min() < 0:
            raise ValueError(f"{self.name}: targets must be probabilities (one-hot rows), got "
                             f"a negative value {targets.min()}")


class SparseCategoricalCrossentropy(Loss):
    """Softmax + cross-entropy on logits (N, K), integer class targets (N,)."""
    name = "sparse_categorical_crossentropy"
    classification = True

    def forward(self, outputs, targets):
        targets = np.asarray(targets).reshape(-1)
        if targets.shape[0] != outputs.shape[0]:
            raise ShapeError(f"{self.name}: {outputs.shape[0]} outputs but {targets.shape[0]} labels")
        labels = targets.astype(np.int64)
        if np.any(labels != targets) or labels.min() < 0 or labels.max() >= outputs.shape[-1]:
            raise ValueError(f"{self.name}: labels must be integers in [0, {outputs.shape[-1] - 1}]"
                             f" (the model has {outputs.shape[-1]} outputs), got {np.unique(targets)[:10]}")
        log_probs = _log_softmax(outputs)
        self.probs, self.labels = np.exp(log_probs), labels
        rows = np.arange(outputs.shape[0])
        return float(-log_probs[rows, labels].mean())

    def backward(self):
        grad = self.probs.copy()
        grad[np.arange(grad.shape[0]), self.labels] -= 1
        return grad / grad.shape[0]

    def output_activation(self, outputs):
        return softmax(outputs)

    def true_class(self, targets):
        return np.asarray(targets).reshape(-1).astype(np.int64)

    def check_targets(self, targets, output_shape):
        classes = output_shape[-1]
        if math.prod(targets.shape[1:]) != 1:
            raise ShapeError(f"{self.name}: targets must be one class id per example, shape (N,), "
                             f"got {targets.shape}; for one-hot rows use categorical_crossentropy")
        if (targets != np.round(targets)).any() or targets.min() < 0 or targets.max() >= classes:
            raise ValueError(f"{self.name}: labels must be integers in [0, {classes - 1}] (the "
                             f"model has {classes} outputs), got {np.unique(targets)[:10]}")


LOSSES = {cls.name: cls for cls in
          (MeanSquaredError, BinaryCrossentropy, CategoricalCrossentropy,
           SparseCategoricalCrossentropy)}
LOSSES["mean_squared_error"] = MeanSquaredError


def get(loss):
    if isinstance(loss, Loss):
        return loss
    try:
        return LOSSES[loss]()
    except (KeyError, TypeError):
        raise ValueError(f"unknown loss {loss!r}; choose one of {sorted(LOSSES)}") from None
