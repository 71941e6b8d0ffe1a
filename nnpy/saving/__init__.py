"""Saving and loading: nnpy model files, the safetensors codec under them, and weights from
elsewhere (PyTorch, Hugging Face) loaded by name.

    nnpy.saving.save_model(model, "digits.safetensors")   # what model.save(...) calls
    model = nnpy.saving.load_model("digits.safetensors")  # also accepts bytes
"""

from .model_file import (
    FORMAT_VERSION,
    load_model,
    model_from_state,
    model_state,
    model_to_bytes,
    register_model,
    save_model,
)
from .safetensors import (
    decode_safetensors,
    encode_safetensors,
    read_safetensors,
    save_safetensors,
    write_atomically,
)
from .weights_by_name import load_weights_by_name, torch_to_nnpy

__all__ = [
    "FORMAT_VERSION", "decode_safetensors", "encode_safetensors", "load_model",
    "load_weights_by_name", "model_from_state", "model_state", "model_to_bytes",
    "read_safetensors", "register_model", "save_model", "save_safetensors", "torch_to_nnpy",
    "write_atomically",
]
