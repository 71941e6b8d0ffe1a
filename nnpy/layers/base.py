"""The Layer contract every layer keeps.

- `build(input_shape, rng)` creates `params` (trainable) and `state` (buffers such as running means);
  `input_shape` excludes the batch axis.
- `forward(x, training=False) -> y` caches what `backward` needs.
- `backward(dy) -> dx` returns the gradient for the input and fills `grads` (same keys as `params`).
- `get_config()` returns constructor arguments; `Layer.from_config(cfg)` rebuilds the layer.
- `weight_shapes(input_shape)` says which arrays `build` will make, without making them, so a
  model file can be checked against its architecture before anything is allocated.

Constructors check their arguments (`nnpy.validation`), so a bad value is refused at the call,
and a bad value in a model file's config is refused when the layer is rebuilt from it.

A layer that combines several inputs (`merges = True`: Add, Concatenate) takes a list of input
shapes in `build`, a list of arrays in `forward`, and returns a list of gradients from `backward`.

Called on an `Input` or on another call's result, a layer does no arithmetic: it returns a `Node`
that remembers the call, and `nnpy.Model(inputs, outputs)` turns the nodes into a graph, as with
Keras's functional API:

    inputs = layers.Input((32, 32, 3))
    x = layers.Conv2D(8, 3, padding="same", activation="relu")(inputs)
    outputs = layers.Add()([x, layers.Conv2D(8, 1)(inputs)])
"""

from .. import validation

LAYERS = {}  # class name -> class; filled by every subclass, read by model loading


class Layer:
    input_grad = True  # a model sets False where d loss / d input is not needed (the data)
    merges = False  # True for layers that combine a list of inputs

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if not cls.__name__.startswith("_"):  # private bases are not layers a config can name
            LAYERS[cls.__name__] = cls

    def __init__(self, name=None):
        kind = type(self).__name__
        self.name = validation.optional_name(name, kind) or kind.lower()
        self.params = {}
        self.grads = {}
        self.state = {}
        self.built = False
        self.input_shape = None
        self.output_shape = None

    def build(self, input_shape, rng=None):
        self.input_shape = tuple(int(d) for d in input_shape)
        self.output_shape = tuple(self.compute_output_shape(self.input_shape))
        self.built = True

    def compute_output_shape(self, input_shape):
        return input_shape

    def weight_shapes(self, input_shape):
        """{key: shape} of every array `build(input_shape)` makes, in `self.params` and `self.state`."""
        return {}

    def check_weights(self, weights):
        """Refuse loaded {key: array} values the layer cannot run with (ValueError naming the
        key); every value is already known to have the right shape and to be finite."""

    def forward(self, x, training=False):
        raise NotImplementedError

    def backward(self, dy):
        raise NotImplementedError

    def __call__(self, x, training=False):
        """forward(x) on arrays; on an Input or Node (or a list of them), a Node of the graph."""
        sources = x if isinstance(x, (list, tuple)) else [x]
        if sources and all(isinstance(source, (Input, Node)) for source in sources):
            if self.merges != isinstance(x, (list, tuple)):
                needs = "a list of inputs" if self.merges else "one input, not a list"
                raise TypeError(f"{type(self).__name__} takes {needs}")
            return Node(self, list(sources))
        return self.forward(x, training=training)

    def get_config(self):
        return {"name": self.name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def count_params(self):
        return int(sum(p.size for p in self.params.values()))

    def astype(self, dtype):
        """Cast parameters and buffers (float64 for gradient checks)."""
        for store in (self.params, self.state):
            for key, value in store.items():
                store[key] = value.astype(dtype)
        return self

    def __repr__(self):
        arguments = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "name")
        return f"{type(self).__name__}({arguments})"


class Input(Layer):
    """Declares the input shape (batch axis excluded); Sequential consumes it, it holds no weights."""

    def __init__(self, shape, name=None):
        super().__init__(name)
        self.shape = validation.shape(shape, "shape", "Input")

    def get_config(self):
        return {"shape": list(self.shape), "name": self.name}


class Node:
    """One call of `layer` on `inputs` (Input layers or Nodes) while a graph is being described."""

    def __init__(self, layer, inputs):
        self.layer = layer
        self.inputs = inputs

    def __repr__(self):
        return f"Node({type(self.layer).__name__} {self.layer.name!r})"
