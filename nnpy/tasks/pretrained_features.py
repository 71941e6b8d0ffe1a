"""Pretrained image features for a task: a backbone that turns a picture into an embedding (a
vector that describes what is in it), computed once per sample and cached, and a small head
trained on those vectors. This is how a classifier learns a new object from 20 pictures: it
does not learn to see, only to tell apart what an ImageNet network already sees.

    features = PretrainedFeatures(backbone, key="efficientnet-lite0")   # images -> (N, 1280)
    vectors = features.embed(samples)            # (N, S, S, 3) uint8 -> (N, 1280) float32
    head = head_model(1280, num_classes)         # Dense -> softmax (optionally a hidden layer)
"""

import numpy as np

from .. import layers
from ..functional import Model
from ..model import Sequential


class PretrainedFeatures:
    """A backbone model (images -> vectors) with its input spec; `key` names it, so a cache of
    vectors made with another backbone is recognised as stale."""

    def __init__(self, backbone, key=None):
        self.backbone = backbone
        self.key = key or f"{backbone.name}-{backbone.count_params()}"
        self.image_size = backbone.input_shape[0]
        self.size = backbone.output_shape[0]

    def inputs(self, samples):
        """(N, S, S, 3) uint8 -> float32 backbone inputs, per its spec's mean and std (0..255
        units), or its `scale` range [low, high] for 0..255."""
        spec = self.backbone.input_spec or {}
        x = np.asarray(samples, np.float32)
        if "mean" in spec:
            mean, std = np.float32(spec["mean"]), np.float32(spec["std"])
            return (x - mean) / std
        low, high = spec.get("scale", [0, 1])
        return np.float32(low) + x * np.float32((high - low) / 255)

    def embed(self, samples, batch_size=8):
        """(N, S, S, 3) uint8 samples of the backbone's size -> (N, features) float32."""
        samples = np.asarray(samples)
        if len(samples) == 0:
            return np.zeros((0, self.size), np.float32)
        return np.concatenate([self.backbone.forward(self.inputs(samples[i:i + batch_size]))
                               for i in range(0, len(samples), batch_size)]).astype(np.float32)


def features_up_to(model, layer, image_size):
    """The part of graph model `model` up to its layer named `layer` (a global average), sharing
    its weights, for images of `image_size`: a trained classifier's features (a Teachable
    Machine export's MobileNet). (nnpy.applications' embedding_model does the same for
    EfficientNet-Lite0.)"""
    config = model.get_config()
    names = [each.name for each in model.layers]
    end = names.index(layer) + 1  # layers are in evaluation order: all it needs is before
    features = Model.from_config({**config, "layers": config["layers"][:end], "compile": None,
                                  "input_shape": [image_size, image_size, 3]})
    for part, whole in zip(features.layers, model.layers):
        part.params, part.state = whole.params, whole.state
    features.input_spec = dict(model.input_spec or {}, height=image_size, width=image_size)
    return features


def head_model(features, num_classes, hidden=0, dropout=0.0, seed=0):
    """What is trained on the embeddings: Dense -> softmax, or with `hidden` ReLU units and
    dropout before the output (a little more capacity, for classes that differ subtly)."""
    stack = [layers.Input((features,))]
    if hidden:
        stack.append(layers.Dense(hidden, activation="relu"))
    if dropout:
        stack.append(layers.Dropout(dropout))
    stack.append(layers.Dense(num_classes))                                   # logits
    return Sequential(stack, seed=seed, name="pretrained-head")
