"""Keras layer configs <-> nnpy layers: the one table that TF.js import and export and the Keras
export share. A Keras layer is `{"class_name": ..., "config": {...}}` with snake_case keys, the
form both Keras's `config.json` and TF.js's `model.json` use.

`layer_from_keras(class_name, config)` gives the nnpy layer and which Keras weight fills which
of its tensors; `layer_to_keras(layer)` gives the class name, the config and the weights in
Keras's order (the order Keras's `layer.weights` lists them)."""

from .. import layers
from ..errors import ModelFormatError
from ..layers import activations

KERAS_ACTIVATIONS = {"linear", "relu", "relu6", "sigmoid", "tanh", "softmax"}
SHAPE_LAYERS = ("Flatten", "Dropout", "ZeroPadding2D", "Reshape")

BATCHNORM_WEIGHTS = {"gamma": "gamma", "beta": "beta", "moving_mean": "running_mean",
                     "moving_variance": "running_var"}


class _Config:
    """A Keras layer config read with checks: a wrong or missing field is a ModelFormatError
    naming the layer, and settings nnpy cannot honour (dilation, channels_first) are refused."""

    def __init__(self, class_name, config):
        if not isinstance(config, dict):
            raise ModelFormatError(f"a {class_name} layer's config must be a JSON object")
        self.class_name, self.config = class_name, config
        self.name = config.get("name")
        if not isinstance(self.name, str) or not self.name:
            raise ModelFormatError(f"a {class_name} layer has no name")

    def fail(self, why):
        raise ModelFormatError(f"layer {self.name!r} ({self.class_name}): {why}")

    def get(self, key, default=None, kind=None):
        value = self.config.get(key, default)
        if kind is not None and not _is(value, kind):
            self.fail(f"{key} must be {kind}, got {value!r}")
        return value

    def ints(self, key, length, default=None):
        value = self.config.get(key, default)
        if _is(value, "int"):
            value = [value] * length
        if not (isinstance(value, list) and len(value) == length and all(_is(v, "int") and v > 0
                                                                         for v in value)):
            self.fail(f"{key} must be {length} positive integers, got {value!r}")
        return value

    def require(self, key, allowed):
        value = self.config.get(key, allowed[0])
        if value not in allowed:
            self.fail(f"{key}={value!r} is not supported by nnpy (only {allowed[0]!r})")

    def activation(self, key="activation"):
        name = self.config.get(key, "linear")
        if isinstance(name, dict):  # Keras 3 may write {"class_name": ..., "config": ...}
            name = name.get("config", {}).get("name", name.get("class_name"))
        if name not in KERAS_ACTIVATIONS:
            self.fail(f"activation {name!r} is not one nnpy has ({sorted(KERAS_ACTIVATIONS)})")
        return None if name == "linear" else name

    def window(self):
        self.require("data_format", ["channels_last", None])
        self.require("dilation_rate", [[1, 1], 1, (1, 1), None])
        padding = self.get("padding", "valid")
        if padding not in ("same", "valid"):
            self.fail(f"padding must be 'same' or 'valid', got {padding!r}")
        return {"kernel_size": self.ints("kernel_size", 2), "strides": self.ints("strides", 2, 1),
                "padding": padding}


def _is(value, kind):
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "bool":
        return isinstance(value, bool)
    return True


def _dense(c):
    layer = layers.Dense(c.get("units", kind="int"), activation=c.activation(),
                         use_bias=c.get("use_bias", True, "bool"), name=c.name)
    return layer, {"kernel": "kernel", "bias": "bias"}


def _conv2d(c):
    c.require("groups", [1, None])
    layer = layers.Conv2D(c.get("filters", kind="int"), activation=c.activation(),
                          use_bias=c.get("use_bias", True, "bool"), name=c.name, **c.window())
    return layer, {"kernel": "kernel", "bias": "bias"}


def _depthwise(c):
    layer = layers.DepthwiseConv2D(depth_multiplier=c.get("depth_multiplier", 1, "int"),
                                   activation=c.activation(),
                                   use_bias=c.get("use_bias", True, "bool"), name=c.name,
                                   **c.window())
    return layer, {"depthwise_kernel": "kernel", "bias": "bias"}


def _separable(c):
    layer = layers.SeparableConv2D(c.get("filters", kind="int"),
                                   depth_multiplier=c.get("depth_multiplier", 1, "int"),
                                   activation=c.activation(),
                                   use_bias=c.get("use_bias", True, "bool"), name=c.name,
                                   **c.window())
    return layer, {key: key for key in ("depthwise_kernel", "pointwise_kernel", "bias")}


def _batchnorm(c):
    layer = layers.BatchNormalization(momentum=c.get("momentum", 0.99, "number"),
                                      epsilon=c.get("epsilon", 1e-3, "number"), name=c.name)
    keys = dict(BATCHNORM_WEIGHTS)
    if not c.get("scale", True, "bool"):
        del keys["gamma"]  # gamma stays 1, as Keras has it
    if not c.get("center", True, "bool"):
        del keys["beta"]  # beta stays 0
    return layer, keys


def _relu(c):
    if c.get("threshold", 0, "number") != 0:
        c.fail("a threshold other than 0 is not supported")
    slope = c.get("negative_slope", 0, "number")
    max_value = c.get("max_value", None)
    if slope:
        if max_value is not None:
            c.fail("a capped ReLU with a negative slope is not supported")
        return layers.LeakyReLU(slope, name=c.name), {}
    if max_value is not None and not _is(max_value, "number"):
        c.fail(f"max_value must be a number, got {max_value!r}")
    return layers.ReLU(max_value=max_value, name=c.name), {}


def _leaky_relu(c):
    slope = c.get("negative_slope", c.get("alpha", 0.3), "number")
    return layers.LeakyReLU(slope, name=c.name), {}


def _activation(c):
    layer = activations.get(c.activation())
    layer.name = c.name
    return layer, {}


def _pool(cls):
    def convert(c):
        c.require("data_format", ["channels_last", None])
        pool = c.ints("pool_size", 2, 2)
        strides = c.ints("strides", 2, pool) if c.get("strides") is not None else pool
        padding = c.get("padding", "valid")
        if padding not in ("same", "valid"):
            c.fail(f"padding must be 'same' or 'valid', got {padding!r}")
        return cls(pool, strides=strides, padding=padding, name=c.name), {}
    return convert


def _global_average(c):
    c.require("data_format", ["channels_last", None])
    if c.get("keepdims", False):
        c.fail("keepdims=True is not supported")
    return layers.GlobalAveragePooling2D(name=c.name), {}


def _reshape(c):
    shape = c.get("target_shape")
    if not (isinstance(shape, list) and shape and all(_is(d, "int") and (d > 0 or d == -1)
                                                      for d in shape)):
        c.fail(f"target_shape must be a list of positive sizes (one may be -1), got {shape!r}")
    return layers.Reshape(shape, name=c.name), {}


def _zero_padding(c):
    c.require("data_format", ["channels_last", None])
    return layers.ZeroPadding2D(c.get("padding", 1), name=c.name), {}


def _dropout(c):
    rate = c.get("rate", kind="number")
    if not 0 <= rate < 1:
        c.fail(f"rate must be in [0, 1), got {rate!r}")
    return layers.Dropout(rate, name=c.name), {}


def _concatenate(c):
    axis = c.get("axis", -1, "int")
    if axis == 0:
        c.fail("cannot join along the batch axis")
    return layers.Concatenate(axis=axis, name=c.name), {}


def _softmax(c):
    axis = c.get("axis", -1)
    if isinstance(axis, list) and len(axis) == 1:
        axis = axis[0]
    if not _is(axis, "int"):
        c.fail(f"axis must be an integer, got {axis!r}")
    return layers.Softmax(axis=axis, name=c.name), {}


FROM_KERAS = {
    "Dense": _dense, "Conv2D": _conv2d, "DepthwiseConv2D": _depthwise,
    "SeparableConv2D": _separable, "BatchNormalization": _batchnorm, "ReLU": _relu,
    "LeakyReLU": _leaky_relu, "Activation": _activation, "Softmax": _softmax,
    "MaxPooling2D": _pool(layers.MaxPool2D), "AveragePooling2D": _pool(layers.AvgPool2D),
    "GlobalAveragePooling2D": _global_average, "Flatten": lambda c: (layers.Flatten(name=c.name), {}),
    "Reshape": _reshape, "Dropout": _dropout, "ZeroPadding2D": _zero_padding,
    "Add": lambda c: (layers.Add(name=c.name), {}), "Concatenate": _concatenate,
}


def check_channel_axis(class_name, config, input_shape):
    """BatchNormalization normalises the channels, the last axis; Keras may name it 3 or -1."""
    if class_name == "BatchNormalization":
        axis = config.get("axis", -1)
        axis = axis[0] if isinstance(axis, list) and len(axis) == 1 else axis
        if axis not in (-1, len(input_shape)):
            raise ModelFormatError(f"layer {config.get('name')!r} (BatchNormalization) normalises "
                                   f"axis {axis!r}; nnpy normalises the last (channel) axis only")


def layer_from_keras(class_name, config):
    """(nnpy layer, {Keras weight name: nnpy tensor key}) for one Keras layer config."""
    if class_name not in FROM_KERAS:
        name = config.get("name") if isinstance(config, dict) else None
        raise ModelFormatError(
            f"layer {name!r} is a {class_name!s:.60}, which nnpy cannot import; it imports "
            f"InputLayer, Sequential, Model and {', '.join(sorted(FROM_KERAS))}")
    settings = _Config(class_name, config)
    try:
        return FROM_KERAS[class_name](settings)
    except ModelFormatError:
        raise
    except Exception as err:  # noqa: BLE001 - a constructor refusing a value: the file is wrong
        settings.fail(f"{type(err).__name__}: {err}")


# --------------------------------------------------------------------------- nnpy -> Keras


def layer_to_keras(layer, name):
    """(class name, config, [(Keras weight name, array), ...]) for an nnpy layer, named `name`."""
    kind = type(layer).__name__
    config = {"name": name, "trainable": True}
    weights = []
    if kind in ("Dense", "Conv2D", "DepthwiseConv2D", "SeparableConv2D"):
        own = layer.get_config()
        config["activation"] = own["activation"] or "linear"
        if config["activation"] not in KERAS_ACTIVATIONS:
            raise ValueError(f"layer {name!r}: activation {own['activation']!r} has no Keras "
                             f"equivalent nnpy can write ({sorted(KERAS_ACTIVATIONS)})")
        config["use_bias"] = own["use_bias"]
        for key in ("units", "filters", "kernel_size", "strides", "padding", "depth_multiplier"):
            if key in own:
                config[key] = own[key]
        if kind != "Dense":
            config.update(data_format="channels_last", dilation_rate=[1, 1])
        keys = {"Dense": ["kernel", "bias"], "Conv2D": ["kernel", "bias"],
                "DepthwiseConv2D": ["depthwise_kernel", "bias"],
                "SeparableConv2D": ["depthwise_kernel", "pointwise_kernel", "bias"]}[kind]
        ours = {"depthwise_kernel": "kernel"} if kind == "DepthwiseConv2D" else {}
        weights = [(key, layer.params[ours.get(key, key)]) for key in keys
                   if ours.get(key, key) in layer.params]
    elif kind == "BatchNormalization":
        config.update(axis=-1, momentum=layer.momentum, epsilon=layer.epsilon, center=True,
                      scale=True)
        store = {**layer.params, **layer.state}
        weights = [(key, store[ours]) for key, ours in BATCHNORM_WEIGHTS.items()]
    elif kind == "ReLU":
        config["max_value"] = layer.max_value
    elif kind == "LeakyReLU":
        kind, config["alpha"] = "LeakyReLU", layer.negative_slope
    elif kind in ("Sigmoid", "Tanh", "Linear"):
        kind, config["activation"] = "Activation", kind.lower()
    elif kind == "Softmax":
        config["axis"] = layer.axis
    elif kind in ("MaxPool2D", "AvgPool2D"):
        kind = {"MaxPool2D": "MaxPooling2D", "AvgPool2D": "AveragePooling2D"}[kind]
        config.update(pool_size=list(layer.window), strides=list(layer.strides),
                      padding=layer.padding, data_format="channels_last")
    elif kind == "GlobalAveragePooling2D":
        config["data_format"] = "channels_last"
    elif kind in SHAPE_LAYERS or kind in ("Add", "Concatenate"):
        config.update({key: value for key, value in layer.get_config().items() if key != "name"})
        if kind == "ZeroPadding2D":
            config["data_format"] = "channels_last"
        if kind == "Dropout":
            config.pop("seed", None)
    else:
        raise ValueError(f"layer {name!r} ({kind}) has no Keras equivalent nnpy can write")
    return kind, config, weights
