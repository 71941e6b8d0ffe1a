"""Smaller model files: weights stored as 8-bit integers with one float32 scale per output
channel, turned back into float32 when the file is read.

A kernel W is stored as q = round(W / s) in [-127, 127] (int8) with s = max|W| / 127 taken per
output channel, so a channel of small weights keeps its precision beside a channel of large ones.
The scale is stored beside it as `{name}.quant_scale`, shaped to broadcast against q (size-1
axes where the maximum was taken): reading needs no knowledge of the layer, W ~ q * s.

    tensors = quantize_int8(tensors, {"3.kernel": (0, 1, 2)})   # axes the scale spans
    tensors = dequantize(tensors)                                # what model_from_state does
"""

import numpy as np

from ..errors import ModelFormatError

SCALE_SUFFIX = ".quant_scale"


def quantize_int8(tensors, reduce_axes):
    """Copy of `tensors` with each name in `reduce_axes` stored as int8 plus a float32 scale
    taken over those axes (e.g. (0, 1, 2) for a Conv2D kernel: one scale per output channel)."""
    out = dict(tensors)
    for name, axes in reduce_axes.items():
        weight = np.asarray(tensors[name], np.float32)
        scale = np.abs(weight).max(axis=tuple(axes), keepdims=True) / 127
        scale[scale == 0] = 1  # an all-zero channel stays zero
        out[name] = np.clip(np.rint(weight / scale), -127, 127).astype(np.int8)
        out[name + SCALE_SUFFIX] = scale.astype(np.float32)
    return out


def dequantize(tensors):
    """`tensors` with every int8 tensor that has a scale beside it multiplied back to float32."""
    scales = {name[:-len(SCALE_SUFFIX)] for name in tensors if name.endswith(SCALE_SUFFIX)}
    if not scales:
        return tensors
    out = {name: value for name, value in tensors.items() if not name.endswith(SCALE_SUFFIX)}
    for name in scales:
        if name not in out:
            raise ModelFormatError(f"{name + SCALE_SUFFIX!r} scales a tensor the file lacks")
        quantized, scale = out[name], tensors[name + SCALE_SUFFIX]
        if quantized.dtype != np.int8 or scale.ndim != quantized.ndim or any(
                s not in (1, q) for s, q in zip(scale.shape, quantized.shape)):
            raise ModelFormatError(f"{name!r} is {quantized.dtype} {quantized.shape} with a scale "
                                   f"of shape {scale.shape}; expected int8 and a scale that "
                                   "broadcasts against it")
        out[name] = quantized.astype(np.float32) * scale.astype(np.float32)
    return out
