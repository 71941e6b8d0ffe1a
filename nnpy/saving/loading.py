"""`nnpy.load_model`: one call for every model file nnpy reads, chosen by what it is given.

- a path ending in `.json`: a TF.js layers model (or a Teachable Machine export) with its
  shards beside it (tfjs.py);
- any other path, or bytes: an nnpy `.safetensors` model file (model_file.py).
"""

import os

from .model_file import load_model as load_safetensors_model
from .safetensors import errors_name_the_file
from .tfjs import load_tfjs


def load_model(source):
    """The model at `source` (a path, or the bytes of a .safetensors file).

    Raises ModelFormatError naming the file, tensor or layer when the file does not describe a
    complete, consistent model nnpy can run.

    >>> import nnpy
    >>> model = nnpy.Sequential([nnpy.layers.Input((2,)), nnpy.layers.Dense(1)])
    >>> nnpy.load_model(model.to_bytes()).count_params()
    3
    >>> nnpy.load_model(b"not a model")
    Traceback (most recent call last):
    nnpy.errors.ModelFormatError: not a safetensors file: its header claims 8029109312199880558 bytes, over the 100000000-byte size cap (is this really a .safetensors file?)
    """
    if isinstance(source, (str, os.PathLike)) and os.fspath(source).endswith(".json"):
        with errors_name_the_file(source):
            return load_tfjs(source)
    return load_safetensors_model(source)
