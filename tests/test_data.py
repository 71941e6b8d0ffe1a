"""nnpy.data: splits, one-hot, resize, and the MNIST-style preparation of a drawn digit."""

import itertools
import sys
from pathlib import Path

import numpy as np
import pytest

import nnpy
from nnpy.data import (
    augment_digits,
    centre_of_mass,
    light_background,
    one_hot,
    prepare_digit,
    resize,
    to_grayscale,
    train_test_split,
)

REPO = Path(__file__).resolve().parent.parent
SHIPPED_MODEL = REPO / "web" / "models" / "digits.safetensors"


def ink_box(image, level=0.0):
    """(height, width) of the box around pixels brighter than `level`."""
    rows = np.flatnonzero((image > level).any(axis=1))
    cols = np.flatnonzero((image > level).any(axis=0))
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


def draw_stroke(canvas, points, radius):
    """Paint a polyline of round brush dabs (as a sketch pad does) with value 1, in place."""
    rows, cols = np.mgrid[:canvas.shape[0], :canvas.shape[1]]
    for (r0, c0), (r1, c1) in itertools.pairwise(points):
        for t in np.linspace(0, 1, 50):
            r, c = r0 + t * (r1 - r0), c0 + t * (c1 - c0)
            canvas[(rows - r) ** 2 + (cols - c) ** 2 <= radius**2] = 1.0
    return canvas


def seven_drawing():
    """A "7", 150 tall and 90 wide, in the lower right of a 300x400 canvas (off-centre, huge)."""
    return draw_stroke(np.zeros((300, 400), dtype=np.float32),
                       [(130, 290), (130, 370), (270, 310)], radius=5)


# --------------------------------------------------------------------------- labels and splits


def test_one_hot():
    assert one_hot([2, 0, 1]).tolist() == [[0, 0, 1], [1, 0, 0], [0, 1, 0]]
    assert one_hot(np.array([1]), num_classes=4).tolist() == [[0, 1, 0, 0]]
    assert one_hot([1]).dtype == np.float32
    with pytest.raises(ValueError):
        one_hot([3], num_classes=3)
    with pytest.raises(ValueError):
        one_hot([0.5])


def test_train_test_split_is_seeded_disjoint_and_complete():
    x = np.arange(100).reshape(100, 1)
    y = np.arange(100)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_fraction=0.15, seed=3)
    assert (len(x_train), len(x_test)) == (85, 15)
    assert (x_train[:, 0] == y_train).all() and (x_test[:, 0] == y_test).all()  # pairs stay
    assert sorted(np.concatenate([y_train, y_test])) == list(range(100))
    again = train_test_split(x, y, test_fraction=0.15, seed=3)
    assert (again[3] == y_test).all()
    assert not (train_test_split(x, y, test_fraction=0.15, seed=4)[3] == y_test).all()
    with pytest.raises(ValueError):
        train_test_split(x, y, test_fraction=0.001)


# --------------------------------------------------------------------------- resize, greyscale


def test_resize_shrinking_averages_each_block():
    image = np.arange(16, dtype=np.float32).reshape(4, 4)
    assert resize(image, 2, 2).tolist() == [[2.5, 4.5], [10.5, 12.5]]
    assert resize(image, 1, 1).tolist() == [[7.5]]


def test_resize_shrinking_by_a_fraction_keeps_the_mean_and_the_channels():
    image = np.random.default_rng(0).random((7, 5, 3))
    small = resize(image, 3, 2)
    assert small.shape == (3, 2, 3) and small.dtype == np.float32
    np.testing.assert_allclose(small.mean(axis=(0, 1)), image.mean(axis=(0, 1)), rtol=1e-5)
    # output pixel (0, 0) covers input rows [0, 7/3) and columns [0, 5/2): rows 0 and 1 whole
    # and a third of row 2, columns 0 and 1 whole and half of column 2
    row_weights, col_weights = np.array([1, 1, 1 / 3]), np.array([1, 1, 1 / 2])
    corner = np.einsum("r,c,rck->k", row_weights, col_weights, image[:3, :3]) / (7 / 3 * 5 / 2)
    np.testing.assert_allclose(small[0, 0], corner, rtol=1e-5)


def test_resize_growing_interpolates_linearly_and_same_size_is_identity():
    np.testing.assert_allclose(resize(np.array([[0.0, 1.0]]), 1, 4), [[0, 0.25, 0.75, 1]])
    image = np.random.default_rng(1).random((5, 6))
    np.testing.assert_allclose(resize(image, 5, 6), image, rtol=1e-6)


def test_to_grayscale_scales_converts_and_inverts():
    np.testing.assert_allclose(to_grayscale(np.array([[0, 255]], dtype=np.uint8)), [[0, 1]])
    np.testing.assert_allclose(to_grayscale(np.array([[0.0, 0.5]])), [[0, 0.5]])
    rgb = np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255]]], dtype=np.uint8)
    np.testing.assert_allclose(to_grayscale(rgb), [[0.299, 0.587, 0.114]], rtol=1e-5)
    np.testing.assert_allclose(to_grayscale(np.array([[0.2]]), invert=True), [[0.8]])


# --------------------------------------------------------------------------- prepare_digit


def test_prepare_digit_crops_scales_into_20x20_and_centres_by_mass():
    drawing = seven_drawing()
    digit = prepare_digit(drawing)
    assert digit.shape == (28, 28) and digit.dtype == np.float32
    assert digit.min() >= 0 and digit.max() == pytest.approx(1.0)
    height, width = ink_box(digit)
    assert max(height, width) == 20
    centre = centre_of_mass(digit)
    assert abs(centre[0] - 14) <= 0.5 and abs(centre[1] - 14) <= 0.5


def test_prepare_digit_keeps_the_aspect_ratio():
    drawing = seven_drawing()
    drawn_height, drawn_width = ink_box(drawing)
    height, width = ink_box(prepare_digit(drawing))
    assert height == 20
    assert width == pytest.approx(20 * drawn_width / drawn_height, abs=1)
    # a tall thin "1" stays tall and thin instead of being stretched into a block
    one = draw_stroke(np.zeros((200, 200)), [(20, 100), (180, 100)], radius=6)
    assert ink_box(prepare_digit(one))[1] <= 3


def test_prepare_digit_of_an_empty_or_faintly_noisy_drawing_is_zeros():
    assert not prepare_digit(np.zeros((280, 280))).any()
    noise = np.random.default_rng(0).uniform(0, 0.05, (280, 280))
    assert not prepare_digit(noise).any()
    assert not prepare_digit(np.full((280, 280), 255, dtype=np.uint8), invert=True).any()


def test_prepare_digit_ignores_faint_noise_when_cropping():
    drawing = seven_drawing()
    noisy = np.maximum(drawing, np.random.default_rng(0).uniform(0, 0.05, drawing.shape))
    assert ink_box(prepare_digit(noisy), level=0.1) == ink_box(prepare_digit(drawing), level=0.1)


def test_prepare_digit_finds_dark_ink_on_white_by_itself():
    drawing = seven_drawing()
    expected = prepare_digit(drawing, invert=False)
    on_paper = np.round((1 - drawing) * 255).astype(np.uint8)  # black ink, white paper, 0..255
    np.testing.assert_allclose(prepare_digit(on_paper, invert=True), expected, atol=1e-6)
    np.testing.assert_allclose(prepare_digit(on_paper), expected, atol=1e-6)  # invert="auto"
    assert not np.allclose(prepare_digit(on_paper, invert=False), expected, atol=0.1)
    np.testing.assert_allclose(prepare_digit(drawing), expected)  # light ink stays as it is


def test_light_background_is_judged_by_the_border_not_the_amount_of_ink():
    bold = np.zeros((28, 28))
    bold[2:26, 2:26] = 1  # light ink over most of a dark canvas
    assert not light_background(bold)
    assert light_background(1 - bold)
    assert to_grayscale(1 - bold, invert="auto")[14, 14] == 1


def test_prepare_digit_reads_rgba_canvases():
    drawing = seven_drawing()
    expected = prepare_digit(drawing)
    alpha = np.round(drawing * 255).astype(np.uint8)
    # a transparent canvas with black strokes: only the alpha channel shows the ink
    transparent = np.zeros((*drawing.shape, 4), dtype=np.uint8)
    transparent[..., 3] = alpha
    np.testing.assert_allclose(prepare_digit(transparent), expected, atol=1e-6)
    # an opaque white canvas with black strokes: the colours show it
    opaque = np.full((*drawing.shape, 4), 255, dtype=np.uint8)
    opaque[..., :3] = 255 - alpha[..., None]
    np.testing.assert_allclose(prepare_digit(opaque, invert=True), expected, atol=1e-5)
    np.testing.assert_allclose(prepare_digit(opaque), expected, atol=1e-5)


def test_prepare_digit_takes_0_to_255_like_0_to_1():
    drawing = seven_drawing()
    np.testing.assert_allclose(prepare_digit(drawing * 255), prepare_digit(drawing), atol=1e-6)


# --------------------------------------------------------------------------- augmentation


def mnist_like_batch():
    digits = [seven_drawing(), draw_stroke(np.zeros((100, 100)), [(10, 50), (90, 50)], 4)]
    return np.stack([prepare_digit(d) for d in digits])[..., None]  # (2, 28, 28, 1)


def test_augment_digits_without_distortion_is_the_identity():
    x = mnist_like_batch()
    same = augment_digits(x, np.random.default_rng(0), max_shift=0, max_rotation=0,
                          scale_range=(1, 1), thickness_range=(0, 0))
    np.testing.assert_allclose(same, x, atol=1e-6)


def test_augment_digits_distorts_a_little_and_is_seeded():
    x = np.repeat(mnist_like_batch(), 50, axis=0)  # (100, 28, 28, 1)
    out = augment_digits(x, np.random.default_rng(0))
    assert out.shape == x.shape and out.dtype == x.dtype
    assert out.min() >= 0 and out.max() <= 1
    np.testing.assert_array_equal(out, augment_digits(x, np.random.default_rng(0)))
    changed = np.abs(out - x).mean(axis=(1, 2, 3))
    assert (changed > 0.005).mean() > 0.9  # nearly every digit moved
    shifts = np.array([np.subtract(centre_of_mass(o[..., 0]), 14) for o in out])
    assert np.abs(shifts).max() < 4  # but stayed a digit in the middle
    assert np.abs(shifts).std() > 0.3
    boxes = np.array([ink_box(o[..., 0], level=0.1) for o in out])
    assert boxes.max() <= 26 and boxes.max(axis=1).min() >= 16


def test_augment_digits_changes_stroke_thickness_both_ways():
    x = np.repeat(mnist_like_batch()[:1], 200, axis=0)
    out = augment_digits(x, np.random.default_rng(1), max_shift=0, max_rotation=0,
                         scale_range=(1, 1))
    ink = out.sum(axis=(1, 2, 3)) / x[0].sum()
    assert ink.min() < 0.95 and ink.max() > 1.3


# --------------------------------------------------------------------------- real MNIST digits


@pytest.fixture(scope="module")
def mnist_test_digits():
    """The 1,500 held-out digits of examples/train_digits.py (fetched with npm when missing)."""
    sys.path.insert(0, str(REPO / "examples"))
    import train_digits

    x, y = train_digits.load_mnist()
    _, x_test, _, y_test = train_digits.split(x, y)
    return x_test, y_test


def test_mnist_digits_survive_prepare_digit_nearly_unchanged(mnist_test_digits):
    x_test, y_test = mnist_test_digits
    prepared = np.stack([prepare_digit(image) for image in x_test])[..., None]
    difference = np.abs(prepared - x_test).mean(axis=(1, 2, 3))
    assert np.median(difference) < 0.002 and difference.mean() < 0.01
    model = nnpy.load_model(SHIPPED_MODEL)
    accuracy = np.mean(model.predict(prepared).argmax(axis=1) == y_test)
    assert accuracy >= 0.98


def test_big_off_centre_drawings_are_read_after_prepare_digit(mnist_test_digits):
    """A digit drawn large anywhere on a big canvas is turned back into what the model knows."""
    x_test, y_test = mnist_test_digits
    rng = np.random.default_rng(0)
    model = nnpy.load_model(SHIPPED_MODEL)
    prepared = []
    for image in x_test[:300, :, :, 0]:
        size = int(rng.integers(120, 280))
        canvas = np.zeros((300, 400), dtype=np.float32)
        top, left = rng.integers(0, 300 - size + 1), rng.integers(0, 400 - size + 1)
        canvas[top:top + size, left:left + size] = resize(image, size, size)
        prepared.append(prepare_digit(np.round((1 - canvas) * 255).astype(np.uint8), invert=True))
    predicted = model.predict(np.stack(prepared)[..., None]).argmax(axis=1)
    assert np.mean(predicted == y_test[:300]) >= 0.97
