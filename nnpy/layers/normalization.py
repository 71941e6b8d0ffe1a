"""Batch normalisation over the last (channel) axis, for (N, C) and (N, H, W, C) inputs."""

import numpy as np

from .. import validation
from .base import Layer


class BatchNormalization(Layer):
    """Training: normalise with the batch's mean/variance and update running statistics.
    Inference: normalise with the running statistics. gamma, beta, running_* are (C,)."""

    def __init__(self, momentum=0.99, epsilon=1e-3, name=None):
        super().__init__(name)
        where = "BatchNormalization"
        self.momentum = validation.number(momentum, "momentum", where, low=0, high=1)
        self.epsilon = validation.number(epsilon, "epsilon", where, low=0, low_open=True)

    def build(self, input_shape, rng=None):
        super().build(input_shape, rng)
        channels = self.input_shape[-1]
        self.params["gamma"] = np.ones(channels, dtype=np.float32)
        self.params["beta"] = np.zeros(channels, dtype=np.float32)
        self.state["running_mean"] = np.zeros(channels, dtype=np.float32)
        self.state["running_var"] = np.ones(channels, dtype=np.float32)

    def weight_shapes(self, input_shape):
        channels = (input_shape[-1],)
        return {"gamma": channels, "beta": channels, "running_mean": channels,
                "running_var": channels}

    def check_weights(self, weights):
        if (weights["running_var"] < 0).any():
            raise ValueError("running_var holds negative variances; a variance is never negative")

    def forward(self, x, training=False):
        axes = tuple(range(x.ndim - 1))  # every axis but the channels
        if training:
            mean = x.mean(axis=axes)
            var = x.var(axis=axes)
            m = self.momentum
            self.state["running_mean"] = m * self.state["running_mean"] + (1 - m) * mean
            self.state["running_var"] = m * self.state["running_var"] + (1 - m) * var
        else:
            mean, var = self.state["running_mean"], self.state["running_var"]
        self.training = training
        self.inv_std = 1 / np.sqrt(var + self.epsilon)
        self.x_hat = (x - mean) * self.inv_std
        return self.params["gamma"] * self.x_hat + self.params["beta"]

    def backward(self, dy):
        axes = tuple(range(dy.ndim - 1))
        x_hat = self.x_hat
        self.grads["gamma"] = (dy * x_hat).sum(axis=axes)
        self.grads["beta"] = dy.sum(axis=axes)
        dx_hat = dy * self.params["gamma"]
        if not self.training:
            return dx_hat * self.inv_std
        # the batch mean and variance depend on every x too; m values share each statistic
        m = dy.size // dy.shape[-1]
        return (self.inv_std / m) * (
            m * dx_hat - dx_hat.sum(axis=axes) - x_hat * (dx_hat * x_hat).sum(axis=axes)
        )

    def get_config(self):
        return {"momentum": self.momentum, "epsilon": self.epsilon, "name": self.name}


BatchNorm = BatchNormalization
