"""Data helpers: one-hot labels, a seeded train/test split, image resizing, and the MNIST-style
preparation of a hand-drawn digit.

NumPy and the standard library only: the same code runs in CPython (training, tests) and in the
browser under Pyodide, where the page turns every drawing into network input with `prepare_digit`.

MNIST's own procedure, which `prepare_digit` repeats for a drawing of any size:
  1. crop to the ink's bounding box;
  2. scale it to fit a 20x20 box, keeping its aspect ratio (anti-aliased, so grey edges appear);
  3. paste it into a 28x28 image so that its centre of mass lands on pixel (14, 14).
A network trained on MNIST has only ever seen digits of that size and position; a drawing that
skipped these steps (small, off-centre, thin) looks like nothing it knows.
"""

import functools

import numpy as np

from . import backend

MNIST_SIZE = 28  # side of an MNIST image
MNIST_BOX = 20  # side of the box the digit is scaled into
MNIST_CENTRE = 14.0  # (row, column) of the centre of mass, in pixel indices


# --------------------------------------------------------------------------- labels and splits


def one_hot(labels, num_classes=None, dtype=np.float32):
    """Integer class ids (any shape) -> the same shape + (num_classes,), a single 1 per row.

    >>> one_hot([2, 0], num_classes=3)
    array([[0., 0., 1.],
           [1., 0., 0.]], dtype=float32)
    """
    labels = np.asarray(labels)
    if labels.size and not np.array_equal(labels, np.round(labels)):
        raise ValueError("one_hot needs integer class ids")
    labels = labels.astype(np.int64)
    if num_classes is None:
        num_classes = int(labels.max()) + 1 if labels.size else 0
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"class ids must be in [0, {num_classes}), got {labels.min()}..{labels.max()}")
    return np.eye(num_classes, dtype=dtype)[labels]


def train_test_split(x, y, test_fraction=0.2, seed=0):
    """Shuffle with `seed`, then hold out round(test_fraction * N) examples.

    Returns (x_train, x_test, y_train, y_test). The same seed always holds out the same examples,
    so a test set stays one the model never trained on.

    >>> x_train, x_test, y_train, y_test = train_test_split(np.arange(10), np.arange(10), 0.2)
    >>> len(x_train), len(x_test), bool((x_test == y_test).all())
    (8, 2, True)
    """
    x, y = np.asarray(x), np.asarray(y)
    if len(x) != len(y):
        raise ValueError(f"{len(x)} inputs but {len(y)} targets")
    test_count = round(len(x) * test_fraction)
    if not 0 < test_count < len(x):
        raise ValueError(f"test_fraction={test_fraction} of {len(x)} examples leaves one side empty")
    order = np.random.default_rng(seed).permutation(len(x))
    test, train = order[:test_count], order[test_count:]
    return x[train], x[test], y[train], y[test]


# --------------------------------------------------------------------------- images


def to_grayscale(image, invert=False):
    """An image as (H, W) float32 in [0, 1] where bright means ink.

    Takes (H, W), (H, W, 1), RGB (H, W, 3) or RGBA (H, W, 4), valued 0..1 or 0..255 (uint8, or any
    array whose maximum is above 1). RGB becomes luminance (ITU-R 601 weights, as PIL's "L" mode).
    RGBA with any transparent pixel is a drawing on a transparent canvas: its alpha is the ink,
    whatever the colour, and `invert` is not applied. Fully opaque RGBA is treated as RGB.
    `invert=True` is for dark ink on a light background; `invert="auto"` finds out which way
    round it is from the background (`light_background`), as a drawing's ink may be either."""
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (3, 4)):
        raise ValueError(f"expected an image (H, W), (H, W, 1), (H, W, 3) or (H, W, 4); "
                         f"got shape {image.shape}")
    if image.size == 0:
        raise ValueError(f"the image is empty (shape {image.shape})")
    if image.dtype == np.uint8 and image.ndim == 3:
        # what a page sends, read as bytes in as few passes as possible: one row per pixel (NumPy
        # walks a long 1-D strided column faster than an (H, W) one), each channel multiplied
        # as bytes into float32 (no float copy of all four channels first)
        pixels = image.reshape(-1, image.shape[2])
        if image.shape[2] == 4 and pixels[:, 3].min() < 255:  # a transparent canvas's drawing
            # alpha is the ink (no inverting), the numbers of the float path below
            return (pixels[:, 3] / _BYTE_MAX).reshape(image.shape[:2])
        grey = pixels[:, 0] * _LUMA_OF_BYTES[0]
        grey += pixels[:, 1] * _LUMA_OF_BYTES[1]
        grey += pixels[:, 2] * _LUMA_OF_BYTES[2]
        grey = grey.reshape(image.shape[:2])
        np.minimum(grey, 1, out=grey)  # the weights' float32 rounding may pass 1 by a hair
    else:
        grey = image.astype(np.float32)
        if image.dtype == np.uint8 or grey.max() > 1:
            grey /= 255
        if grey.ndim == 3:
            if grey.shape[2] == 4 and grey[:, :, 3].min() < 1:
                return np.clip(grey[:, :, 3], 0, 1)
            grey = grey[:, :, :3] @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
        np.maximum(grey, 0, out=grey)  # grey is this function's own array: clipped in place (two
        np.minimum(grey, 1, out=grey)  # ufunc calls cost a fraction of np.clip's wrapper)
    if invert == "auto":
        invert = light_background(grey)
    return 1 - grey if invert else grey


# ITU-R 601 weights per byte, and a byte's largest value, as one-element arrays: bytes times an
# array (not a scalar) are float32 under every NumPy (1.x made uint8 times a float32 scalar float16)
_LUMA_OF_BYTES = (np.array([0.299, 0.587, 0.114]) / 255).astype(np.float32)[:, None]
_BYTE_MAX = np.array([255], dtype=np.float32)


def light_background(grey):
    """Whether a (H, W) image in [0, 1] is dark ink on a light background: the median of its
    outermost rows and columns (where a drawing's background is) is lighter than mid-grey."""
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    border.sort()  # the median, without np.median's general machinery (a page does this per drawing)
    return bool((border[(border.size - 1) // 2] + border[border.size // 2]) / 2 > 0.5)


@functools.lru_cache(maxsize=128)
def _resize_weights(size_in, size_out):
    """(size_out, size_in) float32 matrix: row i holds how much each input pixel gives output
    pixel i. Kept per size pair (read-only): a page resizes every drawing to the same few sizes."""
    weights = _make_resize_weights(size_in, size_out).astype(np.float32)
    weights.setflags(write=False)
    return weights


def _make_resize_weights(size_in, size_out):
    scale = size_in / size_out
    if size_out < size_in:
        # shrinking: output pixel i covers input interval [i * scale, (i + 1) * scale); it is the
        # average of the input pixels under it, each weighted by the length it overlaps
        start = (np.arange(size_out) * scale)[:, None]
        end = start + scale
        left = np.arange(size_in)[None, :]
        overlap = np.clip(np.minimum(end, left + 1) - np.maximum(start, left), 0, None)
        return overlap / scale
    # growing (or the same size): linear interpolation between the two nearest pixel centres
    centre = np.clip((np.arange(size_out) + 0.5) * scale - 0.5, 0, size_in - 1)
    below = np.floor(centre).astype(np.int64)
    above = np.minimum(below + 1, size_in - 1)
    fraction = centre - below
    weights = np.zeros((size_out, size_in))
    rows = np.arange(size_out)
    weights[rows, below] = 1 - fraction
    weights[rows, above] += fraction  # where below == above, fraction is 0
    return weights


def resize(image, height, width):
    """(H, W) or (H, W, C) -> (height, width[, C]) float32.

    Shrinking averages the area each new pixel covers (no aliasing: a thin stroke turns grey, it
    does not vanish); growing interpolates linearly. Both are separable: rows, then columns,
    each one matrix product (in float32, through `nnpy.backend.matmul`: in a page, the
    WebAssembly kernel, as NumPy there has no BLAS and took a fifth of a drawing's preparation)."""
    image = np.asarray(image, dtype=np.float32)
    height, width = int(height), int(width)
    if image.ndim not in (2, 3) or 0 in image.shape[:2]:
        raise ValueError(f"resize takes a non-empty (H, W) or (H, W, C) image, got {image.shape}")
    if height < 1 or width < 1:
        raise ValueError(f"cannot resize to {height}x{width}")
    rows = _resize_weights(image.shape[0], height)  # (height, H)
    cols = _resize_weights(image.shape[1], width)  # (width, W)
    if image.ndim == 2:
        return backend.matmul(backend.matmul(rows, image), cols.T)
    resized = np.tensordot(rows, image, axes=(1, 0))  # (height, W, C)
    return np.moveaxis(np.tensordot(cols, resized, axes=(1, 1)), 0, 1)  # (height, width, C)


def centre_of_mass(image):
    """(row, column) of the intensity-weighted mean position of a (H, W) image, in pixel indices."""
    total = image.sum()
    rows = np.arange(image.shape[0]) @ image.sum(axis=1) / total
    cols = np.arange(image.shape[1]) @ image.sum(axis=0) / total
    return float(rows), float(cols)


def prepare_digit(image, invert="auto", threshold=0.1):
    """A drawing of a digit, any size -> (28, 28) float32 in [0, 1], laid out like MNIST.

    `image` is anything `to_grayscale` takes; by default the ink is found whichever way round it
    is (`invert="auto"`), `invert=False` means bright ink on dark and `True` dark ink on white.
    Pixels at or below `threshold` do not count as ink when cropping, so faint noise does not
    stretch the box. The digit is cropped to its ink, scaled into 20x20 keeping its aspect
    ratio, brightened so its strongest pixel is 1, and pasted so its centre of mass is at (14, 14)
    (within half a pixel; nudged less when that would push ink over the edge). No ink -> zeros."""
    ink = to_grayscale(image, invert)
    inked = ink > threshold
    rows = np.flatnonzero(np.logical_or.reduce(inked, axis=1))  # (.any's wrapper costs more
    cols = np.flatnonzero(np.logical_or.reduce(inked, axis=0))  # than the work in Pyodide)
    digit_image = np.zeros((MNIST_SIZE, MNIST_SIZE), dtype=np.float32)
    if rows.size == 0:
        return digit_image
    ink = ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]  # (h, w) bounding box
    scale = MNIST_BOX / max(ink.shape)
    height = min(MNIST_BOX, max(1, round(ink.shape[0] * scale)))
    width = min(MNIST_BOX, max(1, round(ink.shape[1] * scale)))
    digit = resize(ink, height, width)
    # shrinking a thin stroke greys it out; MNIST strokes peak at full brightness
    digit /= digit.max()
    centre_row, centre_col = centre_of_mass(digit)
    top = min(max(round(MNIST_CENTRE - centre_row), 0), MNIST_SIZE - height)
    left = min(max(round(MNIST_CENTRE - centre_col), 0), MNIST_SIZE - width)
    digit_image[top:top + height, left:left + width] = digit
    return digit_image


# --------------------------------------------------------------------------- augmentation


def _thicken(images, amount):
    """Blend each (N, H, W) image toward its dilation (amount > 0, bolder strokes) or its erosion
    (amount < 0, thinner strokes) by |amount|, using the 3x3 cross neighbourhood."""
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1)))
    height, width = images.shape[1:]
    neighbours = np.stack([padded[:, 1 + dy:1 + dy + height, 1 + dx:1 + dx + width]
                           for dy, dx in ((0, 0), (-1, 0), (1, 0), (0, -1), (0, 1))])
    target = np.where(amount[:, None, None] > 0, neighbours.max(axis=0), neighbours.min(axis=0))
    return images + np.abs(amount)[:, None, None] * (target - images)


def _affine(images, matrices, shifts):
    """Warp each (H, W) image: output pixel p takes the input at centre + M^-1 (p - centre - shift),
    sampled bilinearly, zero outside. matrices (N, 2, 2), shifts (N, 2) in (row, column)."""
    n, height, width = images.shape
    centre = np.array([(height - 1) / 2, (width - 1) / 2])
    grid = np.stack(np.meshgrid(np.arange(height), np.arange(width), indexing="ij"), axis=-1)
    offsets = grid.reshape(1, -1, 2) - centre - shifts[:, None, :]  # (N, H*W, 2)
    source = np.einsum("nij,npj->npi", np.linalg.inv(matrices), offsets) + centre
    # one pixel of zero padding makes every sample that falls off the image read zeros
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1))).reshape(n, -1)
    source = np.clip(source + 1, 0, [height + 1, width + 1])  # in the padded image
    top_left = np.minimum(np.floor(source).astype(np.int64), [height, width])
    fraction = source - top_left

    def sample(d_row, d_col):
        index = (top_left[..., 0] + d_row) * (width + 2) + top_left[..., 1] + d_col
        return np.take_along_axis(padded, index, axis=1)

    row_f, col_f = fraction[..., 0], fraction[..., 1]
    warped = ((1 - row_f) * ((1 - col_f) * sample(0, 0) + col_f * sample(0, 1))
              + row_f * ((1 - col_f) * sample(1, 0) + col_f * sample(1, 1)))
    return warped.reshape(n, height, width)


def augment_digits(x, rng, max_shift=2.0, max_rotation=12.0, scale_range=(0.9, 1.1),
                   thickness_range=(-0.4, 0.8)):
    """A randomly distorted copy of a batch of digit images, for training.

    (N, H, W) or (N, H, W, 1) -> same shape and dtype. Each image independently gets a stroke
    thickness change (`thickness_range`: < 0 thinner, > 0 bolder), a rotation of up to
    `max_rotation` degrees, a scale in `scale_range` (each axis on its own, so the aspect ratio
    varies too) and a shift of up to `max_shift` pixels. Fits `Sequential.fit(augment=...)`,
    whose batches and `rng` it receives."""
    x = np.asarray(x)
    images = x.reshape(x.shape[:3]).astype(np.float64)  # (N, H, W)
    n = len(images)
    images = np.clip(_thicken(images, rng.uniform(*thickness_range, n)), 0, 1)
    angle = np.radians(rng.uniform(-max_rotation, max_rotation, n))
    scale = rng.uniform(*scale_range, (n, 2))  # (row, column) scale
    cos, sin = np.cos(angle), np.sin(angle)
    rotation = np.stack([np.stack([cos, -sin], -1), np.stack([sin, cos], -1)], axis=1)
    matrices = rotation * scale[:, :, None]  # (N, 2, 2): scale rows of the rotation
    shifts = rng.uniform(-max_shift, max_shift, (n, 2))
    warped = np.clip(_affine(images, matrices, shifts), 0, 1)
    # resampling blurs strokes a little; give each digit back its full-brightness peak, as
    # `prepare_digit` does for a drawing
    peak = warped.max(axis=(1, 2), keepdims=True)
    warped = np.divide(warped, peak, out=warped, where=peak > 0)
    return warped.reshape(x.shape).astype(x.dtype)


__all__ = [
    "MNIST_BOX", "MNIST_CENTRE", "MNIST_SIZE", "augment_digits", "centre_of_mass",
    "light_background", "one_hot", "prepare_digit", "resize", "to_grayscale", "train_test_split",
]
