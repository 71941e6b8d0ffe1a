"""Finite-difference gradient checking: does a layer's backward agree with its forward?"""

import numpy as np


def numerical_gradient(f, x, eps=1e-6):
    """Central differences of the scalar f() with respect to every entry of x (changed in place
    and restored)."""
    grad = np.zeros_like(x, dtype=np.float64)
    flat, flat_grad = x.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        original = flat[i]
        flat[i] = original + eps
        plus = f()
        flat[i] = original - eps
        minus = f()
        flat[i] = original
        flat_grad[i] = (plus - minus) / (2 * eps)
    return grad


def relative_error(analytic, numeric):
    """||a - n|| / (||a|| + ||n||): 0 when they agree; entry-wise ratios would instead blow up the
    rounding noise of entries that are nearly zero."""
    analytic, numeric = np.asarray(analytic, np.float64), np.asarray(numeric, np.float64)
    scale = np.linalg.norm(analytic) + np.linalg.norm(numeric)
    return float(np.linalg.norm(analytic - numeric) / scale) if scale > 0 else 0.0


def check_layer(layer, x, training=True, eps=1e-6, before_forward=None):
    """Compare a built float64 layer's backward with central differences of
    sum(forward(x) * r) for a fixed random r, on x and every parameter. Returns {name: error}.
    For a layer that merges inputs, `x` is their list and the errors are "input.0", "input.1"..."""
    rng = np.random.default_rng(1)
    reset = before_forward or (lambda: None)
    reset()
    r = rng.standard_normal(layer.forward(x, training=training).shape)

    def objective():
        reset()
        return float(np.sum(layer.forward(x, training=training) * r))

    reset()
    layer.forward(x, training=training)
    dx = layer.backward(r)
    if isinstance(x, list):
        errors = {f"input.{i}": relative_error(d, numerical_gradient(objective, xi, eps))
                  for i, (d, xi) in enumerate(zip(dx, x))}
    else:
        errors = {"input": relative_error(dx, numerical_gradient(objective, x, eps))}
    analytic = {key: layer.grads[key].copy() for key in layer.params}
    for key, param in layer.params.items():
        errors[key] = relative_error(analytic[key], numerical_gradient(objective, param, eps))
    return errors


def check_loss(loss, outputs, targets, eps=1e-6):
    """Compare a loss's backward with central differences on the outputs; returns the error."""
    loss.forward(outputs, targets)
    analytic = loss.backward().copy()
    numeric = numerical_gradient(lambda: loss.forward(outputs, targets), outputs, eps)
    return relative_error(analytic, numeric)
