"""Models out to other frameworks, one call each:

    nnpy.export.tfjs(model, "web_model")     # model.json + weights.bin for tf.loadLayersModel
    nnpy.export.keras(model, "model.keras")  # a Keras 3 archive (needs h5py), same as model.save
    nnpy.torch.to_torch(model)               # a torch.nn.Module (see nnpy.torch)
"""

from .saving.keras import save_keras
from .saving.tfjs_writer import save_tfjs


def tfjs(model, directory):
    """Write a TF.js layers model (`directory`/model.json, weights.bin; metadata.json with the
    labels when the model has them); returns model.json's path."""
    return save_tfjs(model, directory)


def keras(model, path):
    """Write a Keras 3 `.keras` archive that `keras.saving.load_model` opens."""
    return save_keras(model, path)
