"""Page operations on any model: predictions that show the network at work, the picture's
outline, a new class for the output layer, and fine-tuning on examples the user made. Only the
browser worker uses them (through `nnpy.web.Session`), but they are plain Python + NumPy, tested
in CPython. Sizes come from the model (its input shape and spec), never from constants.

    predict_activity(model, inputs)   probabilities, the exact input image, every layer's activity
    network_outline(model)            the layers and their strongest weights, once per model
    add_class(model, name)            the same model with one more output unit (a new class)
    finetune_start(model, ...)        a job training on the user's examples + a replay sample; the
                                      page drives it with the Session's `job_step` / `job_stop`
    warm_up(model)                    a prediction of a made-up input, while the page is idle

What the page draws (the <nnpy-network> element) is a column per Conv2D and Dense layer. Conv2D
outputs are feature maps, sent as uint8 images (C, H, W) scaled by the layer's largest value; Dense
outputs are units, sent as float32. Weights are lines: only the strongest are sent, as (source,
target, weight) lists. A line that joins two feature maps, or a feature map to a Dense unit after
Flatten, stands for a whole window of weights; its weight is their sum.
"""

import numpy as np

from .. import data, layers, optimizers
from ..errors import ModelFormatError
from ..saving import read_safetensors
from .inputs import as_array, input_spec, input_to_image, scale_range
from .session import Job, operation

MAX_MAPS = 32  # feature maps sent per conv layer
MAX_EDGES = 160  # weight lines sent per layer


def _visible(model):
    """Indices of the layers the picture shows as columns: Conv2D (maps) and Dense (units)."""
    return [i for i, layer in enumerate(model.layers)
            if isinstance(layer, (layers.Conv2D, layers.Dense))]


def _activity(index, output):
    """Layer `index`'s output for one example, compact: maps as uint8, units as float32."""
    if output.ndim == 1:
        return {"layer": index, "values": output.astype(np.float32)}
    maps = np.moveaxis(output[..., :MAX_MAPS], -1, 0)  # (H, W, C) -> (C, H, W)
    peak = float(maps.max()) if maps.size else 0.0
    scaled = maps / peak if peak > 0 else np.zeros_like(maps)
    return {"layer": index, "peak": peak,
            "maps": np.clip(np.round(scaled * 255), 0, 255).astype(np.uint8)}


@operation
def op_predict_activity(session, model, inputs, activity=True):
    """`predict` for one image, plus `input` (uint8 (H, W, C): the image the network gets, e.g.
    prepare_digit's 28x28) and `activity` (the visible layers' outputs; for the last layer of a
    classifier its probabilities, with its logits beside them)."""
    net = session.model(model)
    x = session.inputs(net, inputs)[:1].astype(net.dtype)  # (1, H, W, C)
    visible = set(_visible(net)) if activity else set()
    outputs = []
    if visible:
        hidden = x
        for index, layer in enumerate(net.layers):
            hidden = layer.forward(hidden, training=False)
            if index in visible:
                outputs.append(_activity(index, hidden[0]))
        logits = hidden[0]
        probabilities = net.loss.output_activation(hidden)[0] if net.loss is not None else logits
    else:  # the answer only: the whole model at once (in the page's wasm kernel, where it runs)
        probabilities = net.predict(x)[0]
    probabilities = probabilities.astype(np.float32)
    if outputs and outputs[-1]["layer"] == len(net.layers) - 1 and net.loss is not None:
        outputs[-1] = {**outputs[-1], "values": probabilities, "logits": logits}
    best = int(probabilities.argmax())
    labels = list(net.labels or [])
    return {"probabilities": probabilities, "index": best,
            "label": labels[best] if best < len(labels) else best,
            "input": input_to_image(x[0], net.input_spec), "activity": outputs}


WARM_UP_DRAWING_SIDE = 140  # web/nnpy.js's MAX_DRAWING_SIDE


@operation
def op_warm_up(session, model):
    """One prediction of a made-up input the shape a page sends (a drawing with a stroke for a
    "mnist-digit" model, at the side web/nnpy.js reads drawings at; a frame at the input size
    for another image model; zeros for a vector model), its answer dropped. The worker calls this
    while the page is idle after it loaded a model, so the browser has compiled the code a
    prediction runs (wasm is compiled function by function as it is first run, then again
    optimised once hot) before the page's own predictions come. Changes no weight or state."""
    net = session.model(model)
    if not net.input_shape:
        return  # not built: nothing a page could predict with yet
    spec = input_spec(net)
    if spec and spec.get("preprocess") == "mnist-digit":
        side = WARM_UP_DRAWING_SIDE
        pixels = np.zeros((side, side, 4), np.uint8)
        pixels[..., 3] = 255
        band = np.abs(np.subtract.outer(np.arange(side), np.arange(side))) < side // 12
        pixels[band, :3] = 255  # a diagonal stroke, light on dark
        inputs = {"pixels": pixels.tobytes(), "width": side, "height": side}
    elif spec and spec.get("height"):
        height, width = spec["height"], spec["width"]
        ramp = np.linspace(0, 255, height * width * 4).astype(np.uint8)
        inputs = {"pixels": ramp.tobytes(), "width": width, "height": height}
    else:
        inputs = np.zeros((1, *net.input_shape), np.float32)
    session.op_predict(model, inputs)


def _strongest(weights, limit):
    """(source, target, weight) lists of the `limit` largest |weights| of a (sources, targets)
    matrix, plus each target's strongest incoming weight so that no unit is left unconnected."""
    magnitude = np.abs(weights)
    targets = weights.shape[1]
    chosen = set(np.argsort(magnitude.reshape(-1))[::-1][:limit].tolist())
    chosen.update((magnitude.argmax(axis=0) * targets + np.arange(targets)).tolist())
    chosen = np.array(sorted(chosen), dtype=np.int64)
    source, target = np.divmod(chosen, targets)
    return {"source": source.astype(np.int32), "target": target.astype(np.int32),
            "weight": weights.reshape(-1)[chosen].astype(np.float32)}


def _incoming(net, index):
    """The weights from the previous column into layer `index` as a (sources, targets) matrix, or
    None when they cannot be drawn as lines between the columns."""
    layer = net.layers[index]
    kernel = layer.params["kernel"]
    if isinstance(layer, layers.Conv2D):  # kernel (kh, kw, C_in, C_out): one line per map pair
        return kernel.sum(axis=(0, 1))[:MAX_MAPS, :MAX_MAPS]
    before = net.layers[index - 1] if index else None
    if isinstance(before, layers.Flatten) and len(before.input_shape) == 3:
        height, width, channels = before.input_shape  # flattened (H, W, C): one line per map
        return kernel.reshape(height * width, channels, -1).sum(axis=0)[:MAX_MAPS]  # (C, units)
    if len(layer.input_shape) == 1:
        return kernel  # (in, units)
    return None


def _column(net, index, is_output):
    layer = net.layers[index]
    column = {"layer": index, "name": layer.name, "shape": list(layer.output_shape),
              "activation": layer.activation_name}
    if isinstance(layer, layers.Conv2D):
        size = "×".join(map(str, layer.window))
        column.update(kind="conv", title=f"Conv2D · {layer.filters} filters {size}")
    elif is_output:
        column.update(kind="output", title=f"Output · {layer.units} classes")
    else:
        column.update(kind="dense", title=f"Dense · {layer.units} units")
    weights = _incoming(net, index)
    if weights is not None:
        column["edges"] = _strongest(weights, MAX_EDGES)
    return column


@operation
def op_network_outline(session, model):
    """The picture's skeleton: the input, then a column per Conv2D/Dense layer with the strongest
    weights coming into it (the lines to draw)."""
    net = session.model(model)
    shape = list(net.input_shape)
    visible = _visible(net)
    columns = [{"layer": -1, "kind": "input", "name": "input", "shape": shape,
                "title": "Input · " + "×".join(map(str, shape))}]
    columns += [_column(net, index, index == visible[-1]) for index in visible]
    return {"columns": columns, "labels": list(net.labels or []),
            "parameters": net.count_params()}


@operation
def op_add_class(session, model, name, seed=0):
    """Grow the last Dense layer by one unit for the new class `name`, keeping every learnt weight;
    returns the model (same handle, one more label)."""
    net = session.model(model)
    name = str(name).strip()
    labels = list(net.labels or [str(i) for i in range(net.output_shape[-1])])
    if not name:
        raise ValueError("give the new class a name")
    if name in labels:
        raise ValueError(f"there is already a class named {name!r}")
    old = net.layers[-1]
    if not isinstance(old, layers.Dense):
        raise TypeError(f"the last layer is a {type(old).__name__}; "
                        "a new class needs a Dense output layer")
    grown = layers.Dense(**{**old.get_config(), "units": old.units + 1})
    rng = np.random.default_rng(seed)
    grown.build(old.input_shape, rng)
    kernel = old.params["kernel"]  # (in, units)
    # the new unit starts small and unlikely, so the known classes read as before until it learns
    fresh = rng.normal(0, kernel.std() * 0.5, (kernel.shape[0], 1)).astype(kernel.dtype)
    grown.params["kernel"] = np.concatenate([kernel, fresh], axis=1)  # (in, units + 1)
    if old.use_bias:
        bias = old.params["bias"]
        grown.params["bias"] = np.append(bias, bias.min()).astype(bias.dtype)
    grown.input_grad = old.input_grad
    net.layers[-1] = grown
    net.labels = [*labels, name]
    net.card = None  # what the card says of the old model no longer holds
    return net


def finetune_data(x, y, replay_x=None, replay_y=None, share=0.4):
    """The training set: the user's examples `x` (N, *input_shape), each repeated so that they
    make up about `share` of it, plus the replay sample (so the known classes are not forgotten)."""
    if len(x) == 0 or len(x) != len(y):
        raise ValueError(f"{len(x)} examples but {len(y)} labels; "
                         "keep an example of a class first")
    if replay_x is None:
        return x, y
    repeat = max(1, round(share * len(replay_x) / ((1 - share) * len(x))))
    return (np.concatenate([np.repeat(x, repeat, axis=0), replay_x]),
            np.concatenate([np.repeat(y, repeat), replay_y]))


AUGMENTATIONS = {"digits": data.augment_digits}  # what `augment` may name


def replay_sample(raw, input_shape, classes):
    """(images uint8 (N, *input_shape), labels int64 (N,)) from a replay file's bytes, or a
    ModelFormatError saying what the file lacks: a replay file made for another model must not
    end as a KeyError or a reshape error halfway through starting the job."""
    tensors, _ = read_safetensors(raw)
    missing = {"images", "labels"} - set(tensors)
    if missing:
        raise ModelFormatError(f"the replay file has no {' or '.join(sorted(missing))} tensor; "
                               "it needs uint8 'images' and integer 'labels' (as "
                               "digits-replay.safetensors has)")
    images, labels = tensors["images"], np.asarray(tensors["labels"]).reshape(-1)
    size = int(np.prod(input_shape))
    if images.dtype != np.uint8 or images.size != len(labels) * size or not len(labels):
        raise ModelFormatError(f"the replay file's images ({images.dtype}, shape "
                               f"{list(images.shape)}) are not {len(labels)} uint8 images of the "
                               f"model's input shape {list(input_shape)}; use a replay file made "
                               "for this model")
    if not np.issubdtype(labels.dtype, np.integer) or labels.min() < 0 or labels.max() >= classes:
        raise ModelFormatError(f"the replay file's labels must be class numbers 0..{classes - 1}")
    return images.reshape(-1, *input_shape), labels.astype(np.int64)


@operation
def op_finetune_start(session, model, images, labels, replay=None, augment=None, epochs=3,
                      batch_size=32, learning_rate=5e-4, seed=0):
    """Start fine-tuning on the user's examples: `images` uint8 (N, *input_shape), the `input`
    images predict_activity returned, with integer `labels`, mixed with `replay` (bytes of a
    safetensors file with "images" uint8 and "labels", e.g. digits-replay.safetensors) and, if
    `augment` names one of AUGMENTATIONS, every batch distorted by it, so a few examples go a long
    way. Returns {"job", "examples", "batches"}; the job gives {"history"} when done."""
    net = session.model(model)
    shape = net.input_shape
    low, high = scale_range(net.input_spec)

    def as_input(pixels):  # uint8 images as shown -> the model's input range
        images = np.asarray(pixels, dtype=np.float32).reshape(-1, *shape)  # (N, *input_shape)
        return low + (high - low) * images / 255

    labels = as_array(labels, dtype="int32").astype(np.int64).reshape(-1)
    classes = net.output_shape[-1]
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        raise ValueError(f"labels must be class numbers 0..{classes - 1}")
    if augment is not None and augment not in AUGMENTATIONS:
        raise ValueError(f"unknown augmentation {augment!r}; use one of {sorted(AUGMENTATIONS)}")
    replay_x = replay_y = None
    if replay is not None:
        images_kept, replay_y = replay_sample(bytes(replay), shape, classes)
        replay_x = as_input(images_kept)
    x, y = finetune_data(as_input(as_array(images, dtype="uint8")), labels, replay_x, replay_y)
    net.card = None  # what the card says of the model before fine-tuning no longer holds
    # a fresh optimizer: a shipped model's learning-rate schedule may have decayed to almost nothing
    net.compile(optimizer=optimizers.Adam(learning_rate), loss="sparse_categorical_crossentropy",
                metrics=["accuracy"])
    logs = net.fit_iter(x, y, epochs=epochs, batch_size=batch_size, seed=seed,
                        augment=AUGMENTATIONS.get(augment))
    job = session.start_job(Job(logs, finish=lambda: {"history": net.history.history}))
    return {"job": job, "examples": len(x), "batches": -(-len(x) // batch_size) * epochs}
