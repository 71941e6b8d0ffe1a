"""The one path from what a page sends to what a model takes: images and arrays.

Images come from the page as RGBA bytes, already drawn at the size the model wants (see
`web/nnpy.js`), with the model's input spec, e.g.

    {"height": 28, "width": 28, "channels": 1, "scale": [0, 1], "invert": False}

`channels` 1 is greyscale (`nnpy.data.to_grayscale`: luminance, or the alpha of a drawing on a
transparent canvas), 3 is RGB; `scale` is the [low, high] range that 0..255 maps to ("0-1",
"0-255" and "-1-1" are accepted too); `invert` flips dark and light (`"auto"`: by the background).
`"preprocess": "mnist-digit"` sends the drawing at full size through `nnpy.data.prepare_digit`,
which finds the ink whichever way round it is, crops and centres it like MNIST.
"""

import numpy as np

from .. import data

SCALES = {"0-1": (0.0, 1.0), "0-255": (0.0, 255.0), "-1-1": (-1.0, 1.0)}
DTYPES = ("float32", "float64", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64")


def input_spec(model):
    """The image spec of `model` (its own `input_spec`, else derived from an (H, W, C) input), or
    None for a model whose input is a plain vector."""
    shape = tuple(model.input_shape or ())
    spec = dict(model.input_spec or {})
    if len(shape) != 3:
        return spec or None
    height, width, channels = shape
    drawing = spec.get("preprocess") == "mnist-digit"  # ink may be dark or light: find out
    return {"height": height, "width": width, "channels": channels, "scale": [0, 1],
            "invert": "auto" if drawing else False, **spec}


def scale_range(spec):
    """(low, high): what 0 and 255 become, from a spec's `scale` ([low, high] or a SCALES name)."""
    scale = (spec or {}).get("scale", [0, 1])
    if isinstance(scale, str):
        if scale not in SCALES:
            raise ValueError(f"unknown input scale {scale!r}; use [low, high] or one of "
                             f"{sorted(SCALES)}")
        return SCALES[scale]
    low, high = scale
    return float(low), float(high)


def rgba_frames(pixels, width, height, count=1):
    """RGBA bytes of `count` images of `width` x `height` -> (count, H, W, 4) uint8."""
    frames = np.frombuffer(bytes(pixels), dtype=np.uint8)
    if frames.size != count * width * height * 4:
        raise ValueError(f"expected {count} RGBA frames of {width}x{height} "
                         f"({count * width * height * 4} bytes), got {frames.size} bytes")
    return frames.reshape(count, height, width, 4)


def pixels_to_input(pixels, spec):
    """One (H, W, RGBA) uint8 image -> float32 (H, W, channels) per `spec`."""
    low, high = scale_range(spec)
    if spec.get("preprocess") == "mnist-digit":
        image = data.prepare_digit(pixels, invert=spec.get("invert", "auto"))[..., None]  # (28, 28, 1)
    elif spec.get("channels", 1) == 1:
        image = data.to_grayscale(pixels, invert=spec.get("invert", False))[..., None]
    else:  # (H, W, 3): 0..255 -> [low, high] in one scaling (inverted: [high, low])
        if spec.get("invert", False):
            low, high = high, low
        # one row per pixel, the three channels kept converted to float32 as they are copied, one
        # by one: NumPy copies a 3-of-4 channel slice element by element (3x slower), and walks
        # a long 1-D strided column faster than an (H, W) one
        rgba = pixels.reshape(-1, pixels.shape[-1])
        image = np.empty((len(rgba), 3), dtype=np.float32)
        for channel in range(3):
            image[:, channel] = rgba[:, channel]
        image *= np.float32((high - low) / 255)
        if low:
            image += np.float32(low)
        return image.reshape(*pixels.shape[:2], 3)
    return (low + (high - low) * image).astype(np.float32)


def input_to_image(x, spec):
    """A model input (H, W, C) as uint8 for display: the spec's [low, high] range -> 0..255."""
    low, high = scale_range(spec)
    image = (np.asarray(x, dtype=np.float32) - low) / ((high - low) or 1)
    return np.clip(np.round(image * 255), 0, 255).astype(np.uint8)  # (H, W, C)


def as_array(value, dtype=None, shape=None):
    """An array from what the page sent: {"data", "dtype", "shape"}, bytes-like or nested lists."""
    if isinstance(value, dict):
        dtype, shape, value = value.get("dtype", dtype), value.get("shape", shape), value["data"]
    if isinstance(value, (bytes, bytearray, memoryview)):
        if dtype not in DTYPES:
            raise TypeError(f"unsupported typed array type {dtype!r}; use one of {DTYPES}")
        array = np.frombuffer(bytes(value), dtype=dtype)
    else:
        array = np.asarray(value, dtype=dtype)
    return array.reshape(shape) if shape is not None else array


def model_inputs(model, inputs):
    """A batch for `model` from either {"pixels", "width", "height", "count", "spec"} images or an
    array (flat data is reshaped to (N, *input_shape))."""
    if isinstance(inputs, dict) and "pixels" in inputs:
        spec = {**(input_spec(model) or {}), **(inputs.get("spec") or {})}
        frames = rgba_frames(inputs["pixels"], inputs["width"], inputs["height"],
                             inputs.get("count", 1))
        if len(frames) == 1:
            return pixels_to_input(frames[0], spec)[None]
        return np.stack([pixels_to_input(frame, spec) for frame in frames])
    x = as_array(inputs).astype(np.float32, copy=False)
    shape = tuple(model.input_shape or ())
    if shape and x.shape[1:] != shape:
        per_example = int(np.prod(shape))
        if x.size % per_example:
            raise ValueError(f"{x.size} values cannot be split into inputs of shape {shape}")
        x = x.reshape(-1, *shape)
    return x
