"""What crosses between the page and the worker: arrays as the typed arrays JS reads, and a
page's RGBA pixels as the floats a model takes (nnpy/web/session.py, nnpy/web/inputs.py)."""

import numpy as np
import pytest

from nnpy.web.inputs import pixels_to_input
from nnpy.web.session import encode


def decoded(encoded):
    """What web/nnpy.js makes of an encoded array: a typed array of that name over the bytes."""
    return np.frombuffer(encoded["data"], dtype=np.dtype(encoded["__ndarray__"]).newbyteorder("<"))


@pytest.mark.parametrize(("array", "name"), [
    (np.array([0.5, -2.0, 3.25], dtype=">f4"), "float32"),   # another byte order: made little-endian
    (np.array([0.5, -2.0, 3.25], dtype=np.float16), "float32"),  # no Float16Array everywhere
    (np.array([True, False, True]), "uint8"),
    (np.array([[1, -2], [3, 4]], dtype=">i4"), "int32"),
    (np.arange(6, dtype=np.float64)[::2], "float64"),          # a strided view: its values only
])
def test_arrays_cross_as_the_typed_array_js_reads(array, name):
    encoded = encode(array)
    assert encoded["__ndarray__"] == name and encoded["shape"] == list(array.shape)
    np.testing.assert_array_equal(decoded(encoded).reshape(array.shape), array.astype(name))


def test_an_array_without_a_typed_array_crosses_as_a_list():
    assert encode(np.array([1 + 2j])) == [1 + 2j]
    assert encode(np.array(["a", "b"])) == ["a", "b"]


@pytest.mark.parametrize("scale", [[0, 1], [-1, 1], "0-255"])
@pytest.mark.parametrize("invert", [False, True])
def test_rgb_pixels_become_the_scaled_channels_alpha_dropped(scale, invert):
    rng = np.random.default_rng(3)
    pixels = rng.integers(0, 256, (5, 7, 4), dtype=np.uint8)
    low, high = {"0-255": (0, 255)}.get(scale, scale) if isinstance(scale, str) else scale
    if invert:
        low, high = high, low
    expected = low + (high - low) * pixels[..., :3].astype(np.float64) / 255
    got = pixels_to_input(pixels, {"channels": 3, "scale": scale, "invert": invert})
    assert got.dtype == np.float32 and got.shape == (5, 7, 3) and got.flags.c_contiguous
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-5)
