"""nnpy models as PyTorch modules and back — train big in PyTorch, run small in the browser.

    import nnpy.torch
    module = nnpy.torch.to_torch(model)         # a torch.nn.Module; takes and gives NHWC arrays
    ...train it with DistributedDataParallel on many GPUs...
    model = nnpy.torch.from_torch(module)        # the same architecture, the trained weights

`to_torch` builds standard torch layers (Conv2d, Linear, BatchNorm2d, ...) so anything that
trains torch modules trains it; inside, 4-D activations are NCHW as torch wants, and the module
turns the NHWC input (and an NHWC output) around at its ends, so its outputs equal nnpy's.
`from_torch` reads such a module back, or an `nn.Sequential` of common torch layers given
`input_shape` (NHWC, batch excluded): Conv2d (plain or depthwise), Linear, BatchNorm1d/2d,
MaxPool2d, AvgPool2d, ZeroPad2d, Flatten, Dropout and the usual activations.

This module needs PyTorch (`pip install torch`); the rest of nnpy does not.
"""

import math

import numpy as np
import torch
from torch import nn

from . import layers
from .functional import Model
from .layers.base import Node
from .saving.model_file import MODELS

# --------------------------------------------------------------------------- torch-side pieces


class NHWCGraph(nn.Module):
    """nnpy's layer graph in torch: `layers[i]` reads the outputs of `inbound[i]` (-1: the
    input). Takes NHWC input; returns NHWC for image outputs, as nnpy does."""

    def __init__(self, blocks, inbound, config):
        super().__init__()
        self.layers = nn.ModuleList(blocks)
        self.inbound = [list(sources) for sources in inbound]
        self.nnpy_config = config  # the architecture, so from_torch can rebuild it

    def forward(self, x):
        if x.dim() == 4:
            x = x.permute(0, 3, 1, 2)                                # NHWC -> NCHW
        outputs = []
        for block, sources in zip(self.layers, self.inbound):
            given = [x if source < 0 else outputs[source] for source in sources]
            outputs.append(block(given if isinstance(block, _Merge) else given[0]))
        y = outputs[-1]
        return y.permute(0, 2, 3, 1) if y.dim() == 4 else y          # NCHW -> NHWC


class _Merge(nn.Module):
    def __init__(self, how, dim=1):
        super().__init__()
        self.how, self.dim = how, dim

    def forward(self, xs):
        return sum(xs[1:], xs[0]) if self.how == "add" else torch.cat(xs, dim=self.dim)


class _NHWC(nn.Module):
    """Flatten or Reshape with nnpy's (channels-last) element order."""

    def __init__(self, shape):
        super().__init__()
        self.shape = tuple(shape)

    def forward(self, x):
        if x.dim() == 4:
            x = x.permute(0, 2, 3, 1)
        y = x.reshape(x.shape[0], *self.shape)
        return y.permute(0, 3, 1, 2) if y.dim() == 4 else y


class _GlobalAverage(nn.Module):
    def forward(self, x):
        return x.mean(dim=(2, 3))


class _AverageSame(nn.Module):
    """AvgPool2D with TensorFlow's "same" padding: the padding is not counted in the mean."""

    def __init__(self, window, strides, pads):
        super().__init__()
        self.window, self.strides, self.pads = window, strides, pads

    def forward(self, x):
        pad = nn.functional.pad
        total = nn.functional.avg_pool2d(pad(x, self.pads), self.window, self.strides)
        ones = torch.ones_like(x[:1, :1])
        counts = nn.functional.avg_pool2d(pad(ones, self.pads), self.window, self.strides)
        return total / counts


def _activation(name):
    return {None: nn.Identity(), "linear": nn.Identity(), "relu": nn.ReLU(), "relu6": nn.ReLU6(),
            "sigmoid": nn.Sigmoid(), "tanh": nn.Tanh(), "softmax": nn.Softmax(dim=-1),
            "gelu": nn.GELU(approximate="tanh"), "leaky_relu": nn.LeakyReLU(0.3)}[name]


def _pads(layer):
    """(left, right, top, bottom), the order torch's pad takes, of a windowed nnpy layer."""
    _, _, (top, bottom), (left, right) = layer._geometry(*layer.input_shape[:2])
    return (left, right, top, bottom)


def _padded(layer, block, fill=0.0):
    pads = _pads(layer)
    return nn.Sequential(nn.ConstantPad2d(pads, fill), block) if any(pads) else block


# --------------------------------------------------------------------------- nnpy -> torch


def _block(layer):
    """(torch module, {nnpy key: (parameter path in the module, nnpy -> torch, torch -> nnpy)})."""
    kind = type(layer).__name__
    if kind == "Dense":
        linear = nn.Linear(layer.input_shape[0], layer.units, bias=layer.use_bias)
        block = nn.Sequential(linear, _activation(layer.activation_name))
        return block, {"kernel": ("0.weight", np.transpose, np.transpose), "bias": ("0.bias",)}
    if kind in ("Conv2D", "DepthwiseConv2D", "SeparableConv2D"):
        return _convolution(layer, kind)
    if kind == "BatchNormalization":
        channels = layer.input_shape[-1]
        norm = (nn.BatchNorm2d if len(layer.input_shape) == 3 else nn.BatchNorm1d)(
            channels, eps=layer.epsilon, momentum=1 - layer.momentum)
        return norm, {"gamma": ("weight",), "beta": ("bias",), "running_mean": ("running_mean",),
                      "running_var": ("running_var",)}
    if kind == "ReLU":
        relu = nn.ReLU() if layer.max_value is None else nn.Hardtanh(0.0, layer.max_value)
        return relu, {}
    simple = {"Sigmoid": nn.Sigmoid, "Tanh": nn.Tanh, "Linear": nn.Identity}
    if kind in simple:
        return simple[kind](), {}
    if kind == "LeakyReLU":
        return nn.LeakyReLU(layer.negative_slope), {}
    if kind == "GELU":
        return nn.GELU(approximate="tanh" if layer.approximate else "none"), {}
    if kind == "Softmax":
        return nn.Softmax(dim=_dim(layer.axis, len(layer.input_shape))), {}
    if kind == "MaxPool2D":
        return _padded(layer, nn.MaxPool2d(layer.window, layer.strides), -math.inf), {}
    if kind == "AvgPool2D":
        pads = _pads(layer)
        if any(pads):
            return _AverageSame(layer.window, layer.strides, pads), {}
        return nn.AvgPool2d(layer.window, layer.strides), {}
    if kind == "GlobalAveragePooling2D":
        return _GlobalAverage(), {}
    if kind in ("Flatten", "Reshape"):
        return _NHWC(layer.output_shape), {}
    if kind == "ZeroPadding2D":
        (top, bottom), (left, right) = layer.padding
        return nn.ZeroPad2d((left, right, top, bottom)), {}
    if kind == "Dropout":
        return nn.Dropout(layer.rate), {}
    if kind == "Add":
        return _Merge("add"), {}
    if kind == "Concatenate":
        return _Merge("cat", _dim(layer.axis, len(layer.input_shape[0]))), {}
    raise TypeError(f"nnpy.torch has no torch form for {kind} layers")


def _dim(axis, rank):
    """An nnpy axis (NHWC, batch 0) as a torch dim of the same tensor laid out NCHW."""
    axis = axis if axis >= 0 else axis + rank + 1
    return {1: 2, 2: 3, 3: 1}[axis] if rank == 3 else axis


def _depthwise_to_torch(kernel):          # (kh, kw, C, M) -> (C*M, 1, kh, kw)
    kh, kw, channels, multiplier = kernel.shape
    return kernel.transpose(2, 3, 0, 1).reshape(channels * multiplier, 1, kh, kw)


def _depthwise_from_torch(weight, channels):
    out, _, kh, kw = weight.shape
    return weight.reshape(channels, out // channels, kh, kw).transpose(2, 3, 0, 1)


def _conv_to_torch(kernel):               # (kh, kw, Cin, Cout) -> (Cout, Cin, kh, kw)
    return kernel.transpose(3, 2, 0, 1)


def _conv_from_torch(weight):
    return weight.transpose(2, 3, 1, 0)


def _convolution(layer, kind):
    channels = layer.input_shape[2]
    if kind == "Conv2D":
        conv = nn.Conv2d(channels, layer.filters, layer.window, layer.strides, bias=layer.use_bias)
        block = nn.Sequential(_padded(layer, conv), _activation(layer.activation_name))
        prefix = "0.1." if any(_pads(layer)) else "0."
        return block, {"kernel": (prefix + "weight", _conv_to_torch, _conv_from_torch),
                       "bias": (prefix + "bias",)}
    spatial = layer if kind == "DepthwiseConv2D" else layer.depthwise
    multiplier = spatial.depth_multiplier
    depthwise = nn.Conv2d(channels, channels * multiplier, spatial.window, spatial.strides,
                          groups=channels, bias=kind == "DepthwiseConv2D" and layer.use_bias)
    prefix = "0.1." if any(_pads(spatial)) else "0."
    kernel = (prefix + "weight", _depthwise_to_torch,
              lambda weight: _depthwise_from_torch(weight, channels))
    if kind == "DepthwiseConv2D":
        block = nn.Sequential(_padded(layer, depthwise), _activation(layer.activation_name))
        return block, {"kernel": kernel, "bias": (prefix + "bias",)}
    pointwise = layer.pointwise
    mixing = nn.Conv2d(channels * multiplier, pointwise.filters, 1, bias=pointwise.use_bias)
    block = nn.Sequential(_padded(spatial, depthwise), mixing,
                          _activation(pointwise.activation_name))
    return block, {"depthwise_kernel": kernel,
                   "pointwise_kernel": ("1.weight", _conv_to_torch, _conv_from_torch),
                   "bias": ("1.bias",)}


def _graph_of(model):
    if isinstance(model, Model):
        return model.inbound
    return [[index - 1] for index in range(len(model.layers))]


def to_torch(model):
    """A torch.nn.Module computing what `model` computes (NHWC in, nnpy's outputs out), holding
    a copy of its weights in float32. Raw outputs, as `model.forward` gives: a classifier
    trained with a loss gives logits; apply softmax as `model.predict` would."""
    if not model.built:
        model.build()
    blocks, maps = zip(*(_block(layer) for layer in model.layers))
    module = NHWCGraph(blocks, _graph_of(model), model.get_config())
    _copy_in(module, model, maps)
    return module


def _copy_in(module, model, maps):
    state = module.state_dict()
    with torch.no_grad():
        for index, (layer, mapping) in enumerate(zip(model.layers, maps)):
            store = {**layer.params, **layer.state}
            for key, (path, *convert) in mapping.items():
                if key in store:
                    value = convert[0](store[key]) if convert else store[key]
                    state[f"layers.{index}.{path}"].copy_(torch.from_numpy(np.ascontiguousarray(
                        value, dtype=np.float32)))


# --------------------------------------------------------------------------- torch -> nnpy


def from_torch(module, input_shape=None):
    """An nnpy model with `module`'s weights: a module made by `to_torch` (perhaps wrapped by
    DistributedDataParallel, perhaps trained since), or an nn.Sequential of common torch layers
    with `input_shape` (NHWC, batch excluded)."""
    module = getattr(module, "module", module)  # DistributedDataParallel keeps it in .module
    if isinstance(module, NHWCGraph):
        config = module.nnpy_config
        model = MODELS[config.get("class_name", "Sequential")].from_config(
            {**config, "compile": None})
        _, maps = zip(*(_block(layer) for layer in model.layers))
        _copy_out(module, model, maps)
        return model
    if isinstance(module, nn.Sequential):
        if input_shape is None:
            raise ValueError("from_torch needs input_shape (NHWC, batch excluded) for a plain "
                             "nn.Sequential")
        return _from_sequential(module, tuple(input_shape))
    raise TypeError(f"from_torch reads modules made by to_torch or an nn.Sequential, not "
                    f"{type(module).__name__}")


def _copy_out(module, model, maps):
    state = {name: value.detach().cpu().numpy() for name, value in module.state_dict().items()}
    for index, (layer, mapping) in enumerate(zip(model.layers, maps)):
        for key, (path, *convert) in mapping.items():
            target = layer.params if key in layer.params else layer.state
            if key in target:
                value = state[f"layers.{index}.{path}"]
                target[key] = np.ascontiguousarray(convert[1](value) if convert else value,
                                                   dtype=np.float32)


def _from_sequential(module, input_shape):
    """nnpy layers for a plain torch stack (NCHW inside it, NHWC in nnpy)."""
    inputs = layers.Input(input_shape)
    node, shape = inputs, input_shape
    fills, flattened = [], None
    for child in module:
        made = _from_module(child, shape, flattened)
        if isinstance(child, (nn.Flatten, nn.Linear)):
            flattened = shape if isinstance(child, nn.Flatten) and len(shape) == 3 else None
        for layer, weights in made:
            node = layer(node)
            if weights:
                fills.append((layer, weights))
            shape = _shape_after(layer, shape)
    model = Model(inputs, node) if isinstance(node, Node) else None
    if model is None:
        raise ValueError("the nn.Sequential has no layers nnpy can run")
    for layer, weights in fills:
        for key, value in weights.items():
            target = layer.params if key in layer.params else layer.state
            if target[key].shape != value.shape:
                raise ValueError(f"{layer.name}: {key} is {value.shape}, the layer needs "
                                 f"{target[key].shape}; check input_shape")
            target[key] = np.ascontiguousarray(value, dtype=np.float32)
    return model


def _shape_after(layer, shape):
    return tuple(layer.compute_output_shape(shape))


def _array(tensor):
    return tensor.detach().cpu().numpy()


def _from_module(child, shape, flattened=None):
    """[(nnpy layer, {key: array})] for one torch module seen with NHWC input `shape`;
    `flattened` is the (H, W, C) shape a torch Flatten before a Linear flattened."""
    if isinstance(child, nn.Conv2d):
        return _from_conv(child, shape)
    if isinstance(child, nn.Linear):
        kernel = _array(child.weight).T                              # (in, out)
        if flattened:  # torch flattened (C, H, W); nnpy flattens (H, W, C): reorder the rows
            height, width, channels = flattened
            kernel = kernel.reshape(channels, height, width, -1).transpose(1, 2, 0, 3)
            kernel = kernel.reshape(height * width * channels, -1)
        weights = {"kernel": kernel}
        if child.bias is not None:
            weights["bias"] = _array(child.bias)
        return [(layers.Dense(child.out_features, use_bias=child.bias is not None), weights)]
    if isinstance(child, (nn.BatchNorm1d, nn.BatchNorm2d)):
        weights = {"running_mean": _array(child.running_mean),
                   "running_var": _array(child.running_var)}
        if child.affine:
            weights.update(gamma=_array(child.weight), beta=_array(child.bias))
        momentum = 1 - (child.momentum if child.momentum is not None else 0.1)
        return [(layers.BatchNormalization(momentum=momentum, epsilon=child.eps), weights)]
    if isinstance(child, nn.Flatten):
        return [(layers.Flatten(), {})]
    if isinstance(child, (nn.MaxPool2d, nn.AvgPool2d)):
        if _pair(child.padding) != (0, 0) or getattr(child, "ceil_mode", False) or \
                _pair(getattr(child, "dilation", 1)) != (1, 1):
            raise ValueError(f"{child}: nnpy reads pools without padding, dilation or ceil_mode")
        pool = layers.MaxPool2D if isinstance(child, nn.MaxPool2d) else layers.AvgPool2D
        strides = child.stride if child.stride is not None else child.kernel_size
        return [(pool(_pair(child.kernel_size), strides=_pair(strides)), {})]
    if isinstance(child, nn.ZeroPad2d):
        left, right, top, bottom = child.padding
        return [(layers.ZeroPadding2D(((top, bottom), (left, right))), {})]
    if isinstance(child, nn.AdaptiveAvgPool2d) and _pair(child.output_size) == (1, 1):
        return [(layers.GlobalAveragePooling2D(), {}), (layers.Reshape((1, 1, shape[-1])), {})]
    simple = {nn.ReLU: layers.ReLU, nn.Sigmoid: layers.Sigmoid, nn.Tanh: layers.Tanh,
              nn.Identity: layers.Linear, nn.ReLU6: layers.ReLU6}
    if type(child) in simple:
        return [(simple[type(child)](), {})]
    if isinstance(child, nn.Dropout):
        return [(layers.Dropout(child.p), {})]
    if isinstance(child, nn.LeakyReLU):
        return [(layers.LeakyReLU(child.negative_slope), {})]
    if isinstance(child, nn.Softmax) and child.dim in (-1, 1) and len(shape) in (1, 3):
        return [(layers.Softmax(), {})]
    if isinstance(child, nn.GELU):
        return [(layers.GELU(approximate=child.approximate == "tanh"), {})]
    raise TypeError(f"from_torch cannot read {type(child).__name__} ({child})")


def _pair(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


def _from_conv(child, shape):
    if _pair(child.dilation) != (1, 1) or child.padding_mode != "zeros":
        raise ValueError(f"{child}: nnpy reads convolutions without dilation, zero-padded")
    channels = shape[-1]
    made = []
    if isinstance(child.padding, str):
        padding = child.padding
    else:
        padding = "valid"
        top, left = _pair(child.padding)
        if top or left:
            made.append((layers.ZeroPadding2D((top, left)), {}))
    weight = _array(child.weight)
    bias = {} if child.bias is None else {"bias": _array(child.bias)}
    if child.groups == 1:
        conv = layers.Conv2D(child.out_channels, _pair(child.kernel_size), strides=child.stride,
                             padding=padding, use_bias=child.bias is not None)
        made.append((conv, {"kernel": _conv_from_torch(weight), **bias}))
    elif child.groups == channels == child.in_channels:
        conv = layers.DepthwiseConv2D(_pair(child.kernel_size), strides=child.stride,
                                      padding=padding,
                                      depth_multiplier=child.out_channels // channels,
                                      use_bias=child.bias is not None)
        made.append((conv, {"kernel": _depthwise_from_torch(weight, channels), **bias}))
    else:
        raise ValueError(f"{child}: nnpy reads plain (groups=1) and depthwise convolutions")
    return made

