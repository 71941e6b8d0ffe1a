"""Sequential: a stack of layers, trained with a loss and an optimizer.

Parameters are named `"{layer index}.{key}"` (e.g. `"0.kernel"`); optimizers and model files use
the same names. `fit_iter` is the training loop as a generator (one log dict per batch and one per
epoch) so a caller such as the browser worker can report progress and stop at any batch; `fit`
simply drives it. Longer than 400 lines because Sequential is one class (building, checking its
arguments and data, training, inference, description) best read in one place."""

import numpy as np

from . import backend, initializers, losses, optimizers, validation
from . import callbacks as callbacks_module
from . import layers as layers_module
from .errors import ShapeError, TrainingDivergedError
from .layers.base import Input, Layer
from .saving import model_to_bytes, register_model, save_model


@register_model
class Sequential:
    """Layers applied one after another, Keras's `Sequential`: `compile`, then `fit` (or
    `fit_iter`, a generator of per-batch logs), `predict`, `evaluate`, `save`.

    An `Input` first makes the weights at once; `parameters()` names them by layer index:

    >>> import numpy as np
    >>> from nnpy import Sequential, layers
    >>> model = Sequential([layers.Input((4,)), layers.Dense(3)], seed=0)
    >>> sorted(model.parameters())
    ['0.bias', '0.kernel']
    >>> model.predict(np.zeros((2, 4), np.float32)).shape
    (2, 3)
    """

    def __init__(self, layers=None, seed=0, name="sequential"):
        self.name = validation.optional_name(name, "Sequential") or "sequential"
        self.seed = validation.seed(seed, "seed", "Sequential")
        self.layers = []
        self.input_shape = None
        self.loss = None
        self.optimizer = None
        self.metrics = []
        self.labels = None
        self.input_spec = None
        self.card = None  # facts for people, e.g. {"accuracy": "99.0% on ..."}: saved, not used
        self.stop_training = False
        self.history = None
        self.dtype = np.float32
        for layer in layers or []:
            self.add(layer)
        if self.input_shape and self.layers:  # as in Keras: an Input makes the weights at once
            self.build()

    # ---- building -------------------------------------------------------------------------
    def add(self, layer):
        if isinstance(layer, Input):
            if self.layers:
                raise ValueError("Input must be the first layer")
            self.input_shape = layer.shape
            return
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential takes nnpy layers, got {type(layer).__name__}")
        if layer.merges:
            raise TypeError(f"{type(layer).__name__} joins several inputs, which a stack cannot "
                            "give it; describe the graph with nnpy.Model(inputs, outputs)")
        self.layers.append(layer)
        if len(self.layers) > 1 and all(earlier.built for earlier in self.layers[:-1]):
            # added to a built stack: build the newcomer alone, leaving the others' weights be
            layer.build(self.layers[-2].output_shape, np.random.default_rng([self.seed,
                                                                            len(self.layers)]))
            layer.input_grad = True

    @property
    def built(self):
        return bool(self.layers) and all(layer.built for layer in self.layers)

    def build(self, input_shape=None, initialise=True):
        """Create every layer's weights from the input shape (batch axis excluded).
        `initialise=False`: the weights are placeholders (zeros) that `load_state_dict` is about
        to replace, as a model file's loading does; no random number is drawn."""
        self.weight_shapes(input_shape)  # every shape checked before any weight is made
        shape = self.input_shape
        rng = initializers.generator(self.seed, initialise)
        for layer in self.layers:
            layer.build(shape, rng)
            shape = layer.output_shape
        # the first layer's input is data, not weights: it need not compute a gradient for it
        for index, layer in enumerate(self.layers):
            layer.input_grad = index > 0
        return self

    def weight_shapes(self, input_shape=None):
        """{dotted name: shape} of every array `build` makes, computed without making any; sets
        `input_shape`. ShapeError names the layer that cannot take its input (or is too big)."""
        return self.shape_plan(input_shape)[0]

    def shape_plan(self, input_shape=None):
        """({dotted name: shape} of every weight, the model's output shape), from the layers'
        arguments and the input shape alone (no weight is made)."""
        shape = self._checked_input_shape(input_shape)
        shapes = {}
        for index, layer in enumerate(self.layers):
            layer_shapes, shape = self._plan_layer(index, layer, shape)
            shapes.update(layer_shapes)
        return shapes, shape

    def _checked_input_shape(self, input_shape):
        if input_shape is None and self.input_shape is None:
            raise ShapeError("the model does not know its input shape: start it with "
                             "layers.Input(shape) or call build(input_shape)")
        self.input_shape = validation.shape(self.input_shape if input_shape is None
                                            else input_shape, "input_shape", type(self).__name__)
        return self.input_shape

    @staticmethod
    def _plan_layer(index, layer, shape):
        """Layer `index`'s {dotted name: weight shape} and output shape for input `shape`."""
        try:
            layer_shapes = layer.weight_shapes(shape)
            output = tuple(layer.compute_output_shape(shape))
            validation.values_per_example(output, "its output")
        except (ShapeError, ValueError) as error:
            raise ShapeError(f"layer {index} ({type(layer).__name__}): {error}") from None
        return {f"{index}.{key}": value for key, value in layer_shapes.items()}, output

    def _ensure_built(self, x):
        if not self.built:
            self.build(self.input_shape or x.shape[1:])

    @property
    def output_shape(self):
        return self.layers[-1].output_shape if self.built else None

    # ---- parameters ------------------------------------------------------------------------
    def parameters(self):
        """{dotted_name: array} of the trainable parameters (the arrays themselves, not copies)."""
        return {f"{i}.{key}": value for i, layer in enumerate(self.layers)
                for key, value in layer.params.items()}

    def gradients(self):
        return {f"{i}.{key}": value for i, layer in enumerate(self.layers)
                for key, value in layer.grads.items()}

    def state_dict(self):
        """Parameters plus buffers (BatchNorm running statistics): everything a model file holds."""
        state = {}
        for i, layer in enumerate(self.layers):
            for store in (layer.params, layer.state):
                state.update({f"{i}.{key}": value for key, value in store.items()})
        return state

    def load_state_dict(self, state):
        """Copy arrays in by dotted name; shapes must match."""
        for i, layer in enumerate(self.layers):
            for store in (layer.params, layer.state):
                for key, current in store.items():
                    name = f"{i}.{key}"
                    if name not in state:
                        raise KeyError(f"no value for {name!r}")
                    value = np.asarray(state[name])
                    if value.shape != current.shape:
                        raise ShapeError(f"{name}: expected shape {current.shape}, got {value.shape}")
                    store[key] = value.astype(current.dtype, copy=True)

    def count_params(self):
        return sum(layer.count_params() for layer in self.layers)

    def astype(self, dtype):
        """Cast all weights (float64 for gradient checks); inputs are cast to match."""
        self.dtype = np.dtype(dtype).type
        for layer in self.layers:
            layer.astype(dtype)
        return self

    # ---- compile, forward, backward ------------------------------------------------------------
    def compile(self, optimizer="adam", loss="mse", metrics=None):
        self.optimizer = optimizers.get(optimizer)
        self.loss = losses.get(loss)
        self.metrics = [metrics] if isinstance(metrics, str) else list(metrics or [])
        for metric in self.metrics:
            if metric not in ("accuracy", "acc"):
                raise ValueError(f"unknown metric {metric!r}; nnpy knows 'accuracy'")
            if not self.loss.classification:
                raise ValueError(f"the accuracy metric needs a classification loss, not {self.loss.name}")
        self.metrics = ["accuracy" if m == "acc" else m for m in self.metrics]
        return self

    def _require_compiled(self):
        if self.loss is None:
            raise RuntimeError("call model.compile(optimizer=..., loss=...) before training or evaluating")

    def _as_input(self, x, name="x", allow_empty=False):
        """x as a finite array of the model's dtype and input shape, or an error naming `name`."""
        x = validation.real_array(x, name, self.dtype, allow_empty)
        self._ensure_built(x)
        if x.shape[1:] != self.input_shape:
            raise ShapeError(f"the model expects inputs of shape (N, {', '.join(map(str, self.input_shape))})"
                             f" but got {x.shape}")
        return x

    def _as_targets(self, y, x, name="y"):
        """y checked against x and the loss (e.g. binary labels in [0, 1]) before any step."""
        y = validation.real_array(y, name, np.float64 if self.dtype == np.float64 else np.float32)
        if len(y) != len(x):
            raise ShapeError(f"{len(x)} inputs but {len(y)} targets: give one target per example")
        self.loss.check_targets(y, self.output_shape)
        return y

    def forward(self, x, training=False):
        """Raw outputs (logits for classification losses)."""
        for layer in self.layers:
            x = layer.forward(x, training=training)
        return x

    __call__ = forward

    def backward(self, doutputs):
        """Fill every layer's grads from d loss / d outputs."""
        for layer in reversed(self.layers):
            doutputs = layer.backward(doutputs)

    def _batch_metrics(self, outputs, y):
        logs = {}
        if "accuracy" in self.metrics:
            predicted = self.loss.predicted_class(outputs).reshape(-1)
            logs["accuracy"] = float(np.mean(predicted == self.loss.true_class(y).reshape(-1)))
        return logs

    # ---- training ------------------------------------------------------------------------------
    def train_on_batch(self, x, y):
        """One optimizer step on one batch; returns {"loss": ..., metrics...}. On NaN/Inf it raises
        TrainingDivergedError and leaves weights and running statistics as they were."""
        self._require_compiled()
        x = self._as_input(x)
        return self._train_step(x, self._as_targets(y, x))

    def _train_step(self, x, y):
        buffers = [{k: v.copy() for k, v in layer.state.items()} for layer in self.layers]
        step = self.optimizer.iterations + 1
        try:
            outputs = self.forward(x, training=True)
            loss = self.loss.forward(outputs, y)
            if not np.isfinite(loss):
                layer = self._first_nonfinite_output(x)
                raise TrainingDivergedError(
                    f"training diverged at step {step}: the loss is {loss}"
                    + (f"; the first non-finite values appear in the output of {layer}" if layer else
                       "; the targets or outputs hold NaN/Inf")
                    + ". Lower the learning rate, add gradient clipping (global_clipnorm=1.0), "
                    "or check the inputs for NaN/Inf.", step=step, layer=layer)
            self.backward(self.loss.backward())
            grads = self.gradients()
            for name in reversed(list(grads)):  # backward order: where a bad gradient appears first
                if not np.isfinite(grads[name]).all():
                    raise TrainingDivergedError(
                        f"training diverged at step {step}: the gradient of {name} "
                        f"({self._describe(name)}) holds NaN/Inf. Lower the learning rate or add "
                        "gradient clipping (global_clipnorm=1.0).", step=step, layer=name)
        except TrainingDivergedError:
            for layer, saved in zip(self.layers, buffers):
                layer.state.update(saved)
            raise
        self.optimizer.apply(self.parameters(), grads)
        return {"loss": loss, **self._batch_metrics(outputs, y)}

    def _describe(self, dotted_name):
        index = int(dotted_name.split(".")[0])
        return f"layer {index}, {type(self.layers[index]).__name__}"

    def _first_nonfinite_output(self, x):
        with np.errstate(all="ignore"):
            for index, layer in enumerate(self.layers):
                x = layer.forward(x, training=False)
                if not np.isfinite(x).all():
                    return f"layer {index} ({type(layer).__name__})"
        return None

    def _split(self, x, y, validation_split, validation_data):
        if validation_data is not None:
            val_x, val_y = validation_data  # a pair (x_val, y_val)
            val_x = self._as_input(val_x, "validation_data x")
            return x, y, val_x, self._as_targets(val_y, val_x, "validation_data y")
        if validation_split:
            validation.number(validation_split, "validation_split", "fit", low=0, high=1,
                              low_open=True, high_open=True)
            cut = round(len(x) * (1 - validation_split))
            if cut == 0 or cut == len(x):
                raise ValueError(f"validation_split={validation_split} leaves no examples on one "
                                 f"side of {len(x)}; use more data or another split")
            return x[:cut], y[:cut], x[cut:], y[cut:]  # the last examples, as Keras does
        return x, y, None, None

    def fit_iter(self, x, y, epochs=1, batch_size=32, shuffle=True, seed=None,
                 validation_split=0.0, validation_data=None, callbacks=None, initial_epoch=0,
                 augment=None):
        """Train, yielding `{"kind": "batch", ...}` after every batch and `{"kind": "epoch", ...}`
        (with validation metrics) after every epoch. Closing the generator stops training.
        `augment(x_batch, rng) -> x_batch` may transform each training batch. Every argument and
        all the data are checked here, at the call, before the generator takes a step."""
        self._require_compiled()
        epochs = validation.integer(epochs, "epochs", "fit", minimum=0, example=10)
        batch_size = validation.integer(batch_size, "batch_size", "fit", example=32)
        initial_epoch = validation.integer(initial_epoch, "initial_epoch", "fit", minimum=0)
        x = self._as_input(x)
        data = self._split(x, self._as_targets(y, x), validation_split, validation_data)
        rng = np.random.default_rng(self.seed if seed is None else seed)
        return self._fit_steps(*data, epochs, batch_size, shuffle, rng, callbacks, initial_epoch,
                               augment)

    def _fit_steps(self, x, y, val_x, val_y, epochs, batch_size, shuffle, rng, callbacks,
                   initial_epoch, augment):
        self.history = callbacks_module.History()
        callback_list = [self.history, *(callbacks or [])]
        for callback in callback_list:
            callback.set_model(self)
        self.stop_training = False
        batches = -(-len(x) // batch_size)
        for callback in callback_list:
            callback.on_train_begin()
        try:
            for epoch in range(initial_epoch, epochs):
                for callback in callback_list:
                    callback.on_epoch_begin(epoch, {"epochs": epochs})
                order = rng.permutation(len(x)) if shuffle else np.arange(len(x))
                sums = {}
                for batch in range(batches):
                    index = order[batch * batch_size:(batch + 1) * batch_size]
                    x_batch = x[index] if augment is None else augment(x[index], rng)
                    logs = self._train_step(x_batch, y[index])
                    for key, value in logs.items():
                        sums[key] = sums.get(key, 0.0) + value * len(index)
                    batch_logs = {"kind": "batch", "epoch": epoch, "epochs": epochs,
                                  "batch": batch, "batches": batches, "size": len(index),
                                  "step": self.optimizer.iterations, **logs}
                    for callback in callback_list:
                        callback.on_batch_end(batch, batch_logs)
                    yield batch_logs
                    if self.stop_training:
                        break
                epoch_logs = {"kind": "epoch", "epoch": epoch, "epochs": epochs,
                              **{k: v / len(x) for k, v in sums.items()}}
                if val_x is not None:
                    val = self.evaluate(val_x, val_y, batch_size=max(batch_size, 256))
                    epoch_logs.update({f"val_{k}": v for k, v in val.items()})
                for callback in callback_list:
                    callback.on_epoch_end(epoch, epoch_logs)
                yield epoch_logs
                if self.stop_training:
                    break
        finally:
            for callback in callback_list:
                callback.on_train_end()

    def fit(self, x, y, epochs=1, batch_size=32, verbose=1, callbacks=None, **kwargs):
        """Keras-style training; returns a History whose `.history` maps metric -> per-epoch list."""
        callbacks = list(callbacks or [])
        if verbose:
            callbacks.append(callbacks_module.ProgressBar())
        for _ in self.fit_iter(x, y, epochs=epochs, batch_size=batch_size, callbacks=callbacks,
                               **kwargs):
            pass
        return self.history

    # ---- inference -----------------------------------------------------------------------------
    def predict(self, x, batch_size=256):
        """Outputs for x; probabilities (softmax/sigmoid applied) for a classification loss."""
        batch_size = validation.integer(batch_size, "batch_size", "predict", example=256)
        x = self._as_input(x, allow_empty=True)
        if not len(x):
            outputs = np.zeros((0, *self.output_shape), dtype=self.dtype)
        elif len(x) <= batch_size:
            outputs = self._predict_batch(x)
        else:
            outputs = np.concatenate([self._predict_batch(x[i:i + batch_size])
                                      for i in range(0, len(x), batch_size)])
        return self.loss.output_activation(outputs) if self.loss is not None else outputs

    def _predict_batch(self, x):
        """forward(x) at inference: through a page's whole-model kernel where one is installed
        and runs this model (nnpy.backend.wasm_inference), else layer by layer."""
        outputs = backend.infer(self, x)
        return self.forward(x) if outputs is None else outputs

    def evaluate(self, x, y, batch_size=256):
        """{"loss": ..., metrics...} averaged over all of x."""
        self._require_compiled()
        batch_size = validation.integer(batch_size, "batch_size", "evaluate", example=256)
        x = self._as_input(x)
        y = self._as_targets(y, x)
        outputs = np.concatenate([self.forward(x[i:i + batch_size])
                                  for i in range(0, len(x), batch_size)])
        return {"loss": self.loss.forward(outputs, y), **self._batch_metrics(outputs, y)}

    # ---- description and files -------------------------------------------------------------------
    def summary(self, print_fn=print):
        """A table of layers, output shapes and parameter counts; printed and returned."""
        if not self.built:
            self.build()
        rows = [("Layer (type)", "Output Shape", "Param #")]
        for i, layer in enumerate(self.layers):
            rows.append((f"{i} {layer.name} ({type(layer).__name__})",
                         str((None, *layer.output_shape)), f"{layer.count_params():,}"))
        widths = [max(len(r[c]) for r in rows) + 3 for c in range(3)]
        line = "─" * sum(widths)
        text = [f'Model: "{self.name}"', line]
        for n, row in enumerate(rows):
            text.append("".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
            if n == 0:
                text.append(line)
        text += [line, f"Total params: {self.count_params():,}", line]
        result = "\n".join(text)
        if print_fn:
            print_fn(result)
        return result

    def get_config(self):
        compile_config = None
        if self.loss is not None:
            compile_config = {"loss": self.loss.name, "metrics": self.metrics,
                              "optimizer": self.optimizer.to_json()}
        return {
            "class_name": "Sequential",
            "name": self.name,
            "seed": self.seed,
            "input_shape": list(self.input_shape) if self.input_shape else None,
            "layers": [{"class_name": type(layer).__name__, "config": layer.get_config()}
                       for layer in self.layers],
            "compile": compile_config,
        }

    @classmethod
    def from_config(cls, config, build=True):
        """The model `get_config` described; built when the config knows its input shape, unless
        `build=False` (a model file checks every weight shape before allocating any)."""
        model = cls([layers_module.from_config(entry) for entry in config["layers"]],
                    seed=config.get("seed", 0), name=config.get("name", "sequential"))
        if config.get("input_shape") is not None:
            model.input_shape = validation.shape(config["input_shape"], "input_shape", "Sequential")
            if build:
                model.build()
        return model.compile_from_config(config.get("compile"))

    def compile_from_config(self, compile_config):
        """Compile as `get_config()["compile"]` says (nothing when it is None)."""
        if compile_config:
            self.compile(optimizer=optimizers.from_json(compile_config["optimizer"]),
                         loss=compile_config["loss"], metrics=compile_config.get("metrics"))
        return self

    def save(self, path, include_optimizer=False):
        """One .safetensors file, written atomically (see nnpy.saving); a path ending in .keras
        is a Keras 3 archive instead (see nnpy.saving.keras)."""
        if str(path).endswith(".keras"):
            from .saving.keras import save_keras

            save_keras(self, path)
            return
        save_model(self, path, include_optimizer=include_optimizer)

    def to_bytes(self, include_optimizer=False):
        return model_to_bytes(self, include_optimizer=include_optimizer)

    def __repr__(self):
        inner = "\n".join(f"  ({i}): {layer!r}" for i, layer in enumerate(self.layers))
        return f"Sequential(\n{inner}\n)"
