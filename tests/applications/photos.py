"""Real photographs for tests, from scikit-image's bundled sample data (licences as its
`skimage.data` docstrings give them: chelsea (a cat) CC0 by Stefan van der Walt, coffee CC0 by
Rachel Michetti, astronaut public domain (NASA), rocket public domain (SpaceX))."""

from pathlib import Path

import numpy as np
import pytest

PHOTOS = ["chelsea.png", "coffee.png", "astronaut.png", "rocket.jpg"]


def photo(name):
    """(H, W, 3) uint8 RGB; the test is skipped when scikit-image is not installed."""
    skimage = pytest.importorskip("skimage")
    imageio = pytest.importorskip("imageio.v3")
    image = imageio.imread(Path(skimage.__file__).parent / "data" / name)
    return np.asarray(image)[..., :3]
