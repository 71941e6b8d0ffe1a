"""Weight initialisers. Each takes an explicit `np.random.Generator`: no global randomness."""

import numpy as np


def _fans(shape):
    """(fan_in, fan_out) of a Dense kernel (in, out) or a Conv2D kernel (kh, kw, in, out)."""
    receptive_field = int(np.prod(shape[:-2])) if len(shape) > 2 else 1
    return shape[-2] * receptive_field, shape[-1] * receptive_field


def glorot_uniform(shape, rng, dtype=np.float32):
    fan_in, fan_out = _fans(shape)
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=shape).astype(dtype)


def he_normal(shape, rng, dtype=np.float32):
    fan_in, _ = _fans(shape)
    return (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(dtype)


def he_uniform(shape, rng, dtype=np.float32):
    fan_in, _ = _fans(shape)
    limit = np.sqrt(6.0 / fan_in)
    return rng.uniform(-limit, limit, size=shape).astype(dtype)


def zeros(shape, rng=None, dtype=np.float32):
    return np.zeros(shape, dtype=dtype)


def ones(shape, rng=None, dtype=np.float32):
    return np.ones(shape, dtype=dtype)


INITIALIZERS = {f.__name__: f for f in (glorot_uniform, he_normal, he_uniform, zeros, ones)}


def checked(name, argument):
    """`name` if it names an initialiser (or is a function), else the ValueError `get` gives,
    naming the argument: a layer refuses a bad initialiser when made, not when built."""
    if not callable(name) and not (isinstance(name, str) and name in INITIALIZERS):
        raise ValueError(f"{argument}: unknown initializer {name!r}; choose one of "
                         f"{sorted(INITIALIZERS)}")
    return name


def get(name):
    if callable(name):
        return name
    try:
        return INITIALIZERS[name]
    except KeyError:
        raise ValueError(
            f"unknown initializer {name!r}; choose one of {sorted(INITIALIZERS)}"
        ) from None
