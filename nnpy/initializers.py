"""Weight initialisers. Each takes an explicit `np.random.Generator`: no global randomness.

`PlaceholderGenerator` stands in for the generator while a model whose weights are about to be
loaded is built: its draws are zeros, so loading a model never imports numpy.random (nine
extension modules, a noticeable part of a web page's start)."""

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


def generator(seed, initialise=True):
    """The generator a model's build draws its weights from: `np.random.default_rng(seed)`, or
    when not `initialise`-ing (the weights are to be loaded) a PlaceholderGenerator."""
    return np.random.default_rng(seed) if initialise else PlaceholderGenerator(seed)


class PlaceholderGenerator:
    """Stands in for `np.random.default_rng(seed)` while a model is built only to receive its
    weights from a file: `uniform`, `standard_normal` and `normal` give zeros of the asked size
    (float64, as the real ones; never read, the file's weights replace them) and are recorded.
    Any other method makes the real generator, replays the recorded draws on it and is its from
    then on, so a custom initialiser still gets true numbers."""

    def __init__(self, seed):
        self.seed = seed
        self.draws = []  # (method name, args, kwargs) drawn so far
        self._real = None

    def _placeholder(self, name, args, kwargs, size):
        if self._real is not None:
            return getattr(self._real, name)(*args, **kwargs)
        self.draws.append((name, args, kwargs))
        return np.zeros(() if size is None else size)

    def uniform(self, low=0.0, high=1.0, size=None):
        return self._placeholder("uniform", (low, high), {"size": size}, size)

    def normal(self, loc=0.0, scale=1.0, size=None):
        return self._placeholder("normal", (loc, scale), {"size": size}, size)

    def standard_normal(self, size=None):
        return self._placeholder("standard_normal", (), {"size": size}, size)

    def replayed(self, count=None):
        """A real generator from `seed` that has made the first `count` recorded draws (all)."""
        real = np.random.default_rng(self.seed)
        for name, args, kwargs in self.draws[:count]:
            getattr(real, name)(*args, **kwargs)
        return real

    def __getattr__(self, name):  # a draw the placeholder does not answer: the real generator's
        if name.startswith("__"):  # copy and pickle ask for these: the placeholder's own, or none
            raise AttributeError(name)
        if self.__dict__.get("_real") is None:
            self._real = self.replayed()
        return getattr(self._real, name)


def derived_seed(rng):
    """`rng.integers(2**63)`, the seed a layer derives from the model's generator when built: an
    int, or from a placeholder a DeferredSeed, drawn only if the layer ever needs it."""
    if isinstance(rng, PlaceholderGenerator) and rng._real is None:
        rng.draws.append(("integers", (2**63,), {}))
        return DeferredSeed(rng, len(rng.draws) - 1)
    return rng.integers(2**63)


class DeferredSeed:
    """The seed a placeholder's `integers(2**63)` stands for: the real generator's draw at the
    same place, made when `value()` is first asked for."""

    def __init__(self, placeholder, position):
        self.placeholder, self.position = placeholder, position

    def value(self):
        return self.placeholder.replayed(self.position).integers(2**63)


def seed_value(seed):
    """`seed` (None, an int, or a DeferredSeed) as np.random.default_rng takes it."""
    return seed.value() if isinstance(seed, DeferredSeed) else seed
