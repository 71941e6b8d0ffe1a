"""Saving and loading: nnpy model files, the safetensors codec under them, weights from
elsewhere (PyTorch, Hugging Face) loaded by name, and models in and out of other frameworks'
files (TF.js layers models, Keras 3 archives).

    nnpy.saving.save_model(model, "digits.safetensors")   # what model.save(...) calls
    model = nnpy.saving.load_model("digits.safetensors")  # also accepts bytes
    model = nnpy.saving.load_model("tm_export/model.json")  # a TF.js / Teachable Machine model
"""

from .loading import load_model
from .model_file import (
    FORMAT_VERSION,
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
from .tfjs import read_tfjs
from .tfjs_writer import save_tfjs, tfjs_artifacts
from .weights_by_name import load_weights_by_name, torch_to_nnpy

__all__ = [
    "FORMAT_VERSION", "decode_safetensors", "encode_safetensors", "load_model",
    "load_weights_by_name", "model_from_state", "model_state", "model_to_bytes",
    "read_safetensors", "read_tfjs", "register_model", "save_model", "save_safetensors",
    "save_tfjs", "tfjs_artifacts", "torch_to_nnpy", "write_atomically",
]
