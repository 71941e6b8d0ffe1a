"""Model: layers joined as a graph from one input to one output (Keras's functional API), for
what a stack cannot say: residual connections (Add) and branches that meet again (Concatenate).

    inputs = layers.Input((32, 32, 8))
    x = layers.Conv2D(8, 3, padding="same", activation="relu")(inputs)
    outputs = layers.Add()([inputs, x])              # the block adds its input back
    model = nnpy.Model(inputs, outputs)

Everything else is Sequential's: parameters named "{layer index}.{key}" (layers in the order
they are evaluated), compile, fit, predict, saving. The model keeps, for every layer, which
earlier layers feed it (`inbound`; -1 is the model's input), and its config stores that list.
"""

import numpy as np

from . import initializers
from . import layers as layers_module
from .layers.base import Input, Node
from .model import Sequential
from .saving import register_model


def _evaluation_order(output, source):
    """The nodes `output` depends on, each after the nodes it reads (depth-first post-order)."""
    order, seen, on_path = [], set(), set()

    def visit(node):
        if id(node) in on_path:
            raise ValueError("the graph has a cycle")
        if id(node) in seen:
            return
        on_path.add(id(node))
        for item in node.inputs:
            if isinstance(item, Input):
                if item is not source:
                    raise ValueError(f"the graph reads {item!r}, which is not the model's input")
            else:
                visit(item)
        on_path.discard(id(node))
        seen.add(id(node))
        order.append(node)

    visit(output)
    return order


@register_model
class Model(Sequential):
    """A graph of layers from `inputs` (a layers.Input) to `outputs` (the Node of its last call);
    each layer may be called once (a second call would need shared weights)."""

    def __init__(self, inputs, outputs, seed=0, name="model", build=True):
        super().__init__(seed=seed, name=name)
        if not isinstance(inputs, Input):
            raise TypeError(f"Model's inputs must be a layers.Input, got {type(inputs).__name__}")
        if not isinstance(outputs, Node):
            raise TypeError("Model's outputs must be the result of calling a layer on the graph, "
                            f"got {type(outputs).__name__}")
        order = _evaluation_order(outputs, inputs)
        position = {id(node): index for index, node in enumerate(order)}
        self.layers = [node.layer for node in order]
        if len({id(layer) for layer in self.layers}) != len(self.layers):
            raise ValueError("a layer is called more than once; give each call its own layer")
        self.inbound = [[-1 if isinstance(item, Input) else position[id(item)]
                         for item in node.inputs] for node in order]
        self.input_shape = inputs.shape
        if build:  # as Keras does; a model file checks its shapes first (build=False)
            self.build()

    def add(self, layer):
        raise TypeError("a Model's layers come from its graph: call the layer on a node instead")

    def build(self, input_shape=None, initialise=True):
        """Create every layer's weights, following the graph from the input shape (every shape
        is checked first, as `shape_plan` does); `initialise=False` as Sequential's."""
        self.shape_plan(input_shape)
        rng = initializers.generator(self.seed, initialise)
        outputs = []
        for layer, sources in zip(self.layers, self.inbound):
            given = [self.input_shape if source < 0 else outputs[source] for source in sources]
            layer.build(given if layer.merges else given[0], rng)
            outputs.append(layer.output_shape)
            layer.input_grad = layer.merges or sources[0] >= 0  # no d loss / d data needed
        return self

    def shape_plan(self, input_shape=None):
        """({dotted name: shape} of every weight, the output shape), following the graph."""
        shape = self._checked_input_shape(input_shape)
        shapes, outputs = {}, []
        for index, (layer, sources) in enumerate(zip(self.layers, self.inbound)):
            given = [shape if source < 0 else outputs[source] for source in sources]
            layer_shapes, output = self._plan_layer(index, layer, given if layer.merges else given[0])
            shapes.update(layer_shapes)
            outputs.append(output)
        return shapes, outputs[-1]

    def forward(self, x, training=False):
        """Raw outputs: every layer in evaluation order, each reading the outputs it is fed."""
        return self._outputs(x, training)[-1]

    def _outputs(self, x, training=False):
        outputs = []
        for layer, sources in zip(self.layers, self.inbound):
            given = [x if source < 0 else outputs[source] for source in sources]
            outputs.append(layer.forward(given if layer.merges else given[0], training=training))
        return outputs

    __call__ = forward

    def backward(self, doutputs):
        """Fill every layer's grads, in reverse order; a layer read by several others gets the
        sum of their gradients."""
        incoming = [None] * len(self.layers)
        incoming[-1] = doutputs
        for index in reversed(range(len(self.layers))):
            layer, sources = self.layers[index], self.inbound[index]
            dx = layer.backward(incoming[index])
            for source, gradient in zip(sources, dx if layer.merges else [dx]):
                if source >= 0:
                    incoming[source] = gradient if incoming[source] is None else \
                        incoming[source] + gradient

    def _first_nonfinite_output(self, x):
        with np.errstate(all="ignore"):
            for index, output in enumerate(self._outputs(x)):
                if not np.isfinite(output).all():
                    return f"layer {index} ({type(self.layers[index]).__name__})"
        return None

    def get_config(self):
        config = {**super().get_config(), "class_name": "Model"}
        for entry, sources in zip(config["layers"], self.inbound):
            entry["inbound"] = list(sources)
        return config

    @classmethod
    def from_config(cls, config, build=True):
        inputs = layers_module.Input(config["input_shape"])
        nodes = []
        for index, entry in enumerate(config["layers"]):
            sources = entry["inbound"]
            if not sources or any(not -1 <= source < index for source in sources):
                raise ValueError(f"layer {index}'s inbound {sources} must name earlier layers "
                                 "(or -1, the input)")
            layer = layers_module.from_config(entry)
            given = [inputs if source < 0 else nodes[source] for source in sources]
            nodes.append(Node(layer, given))
        if not nodes:
            raise ValueError("a Model needs at least one layer")
        model = cls(inputs, nodes[-1], seed=config.get("seed", 0), name=config.get("name", "model"),
                    build=build)
        return model.compile_from_config(config.get("compile"))
