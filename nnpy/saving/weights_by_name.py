"""Weights from elsewhere (PyTorch, Hugging Face: any safetensors file) loaded into a built nnpy
model by name, converting layouts on the way."""

import numpy as np

from ..errors import ModelFormatError
from .model_file import _cast_to_fit, _listing, _with_layer
from .safetensors import decode_safetensors, errors_name_the_file, source_bytes


def load_weights_by_name(model, source, name_map=None):
    """Fill a built model from any safetensors file, e.g. weights trained with PyTorch.

    `name_map` says which file tensor fills which model tensor:
    - None: the names are the same;
    - a dict {file name: model name}: only the listed tensors are read;
    - a callable (file name, array) -> (model name, array), or None to skip that tensor; this is
      where layouts are converted, e.g. with `torch_to_nnpy`:

          names = {"0.weight": "0.kernel", "0.bias": "0.bias"}
          load_weights_by_name(model, "torch.safetensors",
                               lambda name, array: (names[name], torch_to_nnpy(name, array)))

    Every model tensor must be filled, so a half-loaded model never passes silently.
    Returns the model.
    """
    with errors_name_the_file(source):
        tensors, _ = decode_safetensors(source_bytes(source))
        state = model.state_dict()
        if not state:
            raise ValueError("the model has no tensors to fill yet: call model.build(input_shape)")
        renamed = _renamed(tensors, name_map)
        unknown = [name for name in renamed if name not in state]
        if unknown:
            raise ModelFormatError(
                f"the file (after name_map) holds {_listing(unknown)}, which the model lacks; "
                f"its tensors are {_listing(state, limit=20)}"
            )
        missing = [_with_layer(model, name) for name in state if name not in renamed]
        if missing:
            raise ModelFormatError(
                f"nothing in the file fills {_listing(missing)}; map a file tensor to each "
                f"(or build a model with exactly the file's tensors)"
            )
        remedy = "PyTorch Linear and Conv2d weights need nnpy.saving.torch_to_nnpy in name_map"
        model.load_state_dict(_cast_to_fit(model, renamed, remedy))
        return model


def _renamed(tensors, name_map):
    """{model name: array} from the file's tensors, following `name_map`."""
    if name_map is None:
        return tensors
    if isinstance(name_map, dict):
        absent = [name for name in name_map if name not in tensors]
        if absent:
            raise ModelFormatError(f"the file has no tensor {_listing(absent)} (a name_map key)")
        pairs = ((model_name, tensors[name]) for name, model_name in name_map.items())
    else:
        pairs = filter(None, (name_map(name, array) for name, array in tensors.items()))
    renamed = {}
    for model_name, array in pairs:
        if model_name in renamed:
            raise ModelFormatError(f"name_map sends two file tensors to {model_name!r}")
        renamed[model_name] = np.asarray(array)
    return renamed


def torch_to_nnpy(name, array):
    """One PyTorch tensor in nnpy's layout, judged by its name and rank.

    PyTorch puts output channels first: Linear weight (out, in), Conv2d weight (out, in, kh, kw).
    nnpy follows Keras and puts them last: Dense kernel (in, out), Conv2D kernel (kh, kw, in, out).
    Biases and BatchNorm vectors have the same layout in both, so they pass through unchanged.
    """
    array = np.asarray(array)
    if name.endswith("weight") and array.ndim >= 2:
        spatial = range(2, array.ndim)
        array = array.transpose(*spatial, 1, 0)  # (out, in, *k) -> (*k, in, out)
    return array.copy(order="C")
