"""Ready-made architectures with pretrained weights (as Keras's `keras.applications`)."""

from .efficientnet_lite import efficientnet_lite0, embedding_model, from_torch_state

__all__ = ["efficientnet_lite0", "embedding_model", "from_torch_state"]
