"""Fuzzing every file reader: bytes made from real files by mutation, and files generated from
scratch, each given to the reader it was made for. A reader may accept an input (and then the
result must work: a model predicts, a project predicts) or refuse it with ModelFormatError;
anything else (another exception, a hang, running out of memory) is a bug.

    result = run_one(reader_name, data)   # "accepted", "refused", or an exception raised
    data, reader_name = make_input(seeds, rng)

The suite runs a few hundred inputs through hypothesis (tests/saving/test_fuzz.py); `python
build.py fuzz` runs a million, in subprocesses with memory and time limits, calling `main` here.
Longer than 400 lines because it is the whole fuzzer in one place: readers, seeds, mutations,
generators and the chunk runner, each a section.
"""

import argparse
import copy
import hashlib
import json
import math
import os
import random
import sys
import time
import traceback
from pathlib import Path

import numpy as np

from .. import layers, optimizers
from ..errors import ModelFormatError
from ..model import Sequential
from ..saving import decode_safetensors, encode_safetensors, load_model
from ..saving.safetensors import CHECKSUM_KEY
from ..tasks.image_classifier import ImageClassifierProject

PREDICT_LIMIT = 200_000  # values per example: a model accepted beyond this is not run


# --------------------------------------------------------------------------- readers


def _read_safetensors(data):
    decode_safetensors(data)


def _work(model):
    """Values one example makes pass through: every layer's output, every window of a pool or
    convolution. An accepted model is run only if this is small (the fuzzer's time limit)."""
    shape, total = model.input_shape, math.prod(model.input_shape)
    for layer in model.layers:
        window = math.prod(getattr(layer, "window", (1,))) * shape[-1]
        shape = layer.compute_output_shape(shape)
        total += math.prod(shape) * window
    return total


def _read_model(data):
    model = load_model(data)
    if _work(model) <= PREDICT_LIMIT:
        outputs = model.predict(np.zeros((1, *model.input_shape), np.float32))
        assert outputs.shape == (1, *model.output_shape), "an accepted model predicts wrongly"


def _read_project(data):
    project = ImageClassifierProject.from_bytes(data)
    project.dataset()
    if project.trained:
        frame = np.zeros((project.image_size, project.image_size, 3), np.uint8)
        assert len(project.predict(frame)) == len(project.class_names)


READERS = {"safetensors": _read_safetensors, "model": _read_model, "project": _read_project}


def run_one(reader, data):
    """'accepted' or 'refused'; any other exception propagates (it is a failure)."""
    try:
        READERS[reader](data)
    except ModelFormatError:
        return "refused"
    return "accepted"


# --------------------------------------------------------------------------- seeds: real files


def _trained(model, loss, x, y, optimizer):
    model.compile(optimizer=optimizer, loss=loss)
    model.fit(x, y, epochs=1, batch_size=4, verbose=0)
    return model


def make_seeds(extra_files=()):
    """{name: (reader, bytes)}: small real files of every kind, plus `extra_files` (paths of
    model files, e.g. the shipped digits model)."""
    rng = np.random.default_rng(0)
    seeds = {}
    arrays = {f"t.{dtype}": rng.integers(0, 3, (2, 3)).astype(dtype)
              for dtype in ("float64", "float32", "float16", "int64", "int8", "uint16", "bool")}
    seeds["arrays"] = ("safetensors", encode_safetensors(arrays, {"note": "x"}))
    dense = _trained(Sequential([layers.Input((4,)), layers.Dense(3, activation="relu"),
                                 layers.Dense(2)]), "sparse_categorical_crossentropy",
                     rng.standard_normal((8, 4)), np.arange(8) % 2, optimizers.Adam(0.01))
    dense.labels = ["no", "yes"]
    seeds["dense"] = ("model", dense.to_bytes(include_optimizer=True))
    conv = _trained(Sequential([
        layers.Input((8, 8, 2)), layers.Conv2D(3, 3, strides=2, padding="same", activation="relu"),
        layers.BatchNormalization(), layers.MaxPool2D(2), layers.AvgPool2D(2, padding="same"),
        layers.GlobalAveragePooling2D(), layers.Dense(3), layers.Softmax()]),
        "mse", rng.standard_normal((8, 8, 8, 2)), rng.random((8, 3)),
        optimizers.SGD(0.01, momentum=0.9))
    conv.labels = ["a", "b", "c"]
    conv.input_spec = {"height": 8, "width": 8, "channels": 2, "scale": [0, 1]}
    seeds["conv"] = ("model", conv.to_bytes(include_optimizer=True))
    shapes = _trained(Sequential([
        layers.Input((6,)), layers.Reshape((2, -1)), layers.LeakyReLU(0.2), layers.Flatten(),
        layers.Dropout(0.5, seed=1), layers.Dense(4, activation="gelu"), layers.Tanh(),
        layers.Dense(1, activation="sigmoid")]), "binary_crossentropy",
        rng.standard_normal((8, 6)), np.arange(8) % 2,
        optimizers.RMSprop(optimizers.CosineDecay(0.01, decay_steps=10)))
    seeds["shapes"] = ("model", shapes.to_bytes(include_optimizer=True))
    seeds["unchecked"] = ("model", encode_safetensors(*_state(dense)))  # no checksum
    project = ImageClassifierProject(["left", "right"], image_size=16, seed=0, mode="scratch")
    for index in range(2):
        for _ in range(3):
            project.add_sample(index, rng.integers(0, 256, (16, 16, 3), dtype=np.uint8))
    seeds["project-untrained"] = ("project", project.to_bytes())
    for _ in project.train_iter(epochs=1, batch_size=4):
        pass
    seeds["project"] = ("project", project.to_bytes())
    for path in extra_files:
        seeds[Path(path).stem] = ("model", Path(path).read_bytes())
    return seeds


def _state(model):
    from ..saving import model_state
    return model_state(model, include_optimizer=True)


# --------------------------------------------------------------------------- mutations


INTERESTING = [0, 1, -1, 2, 3, 7, 255, 2**31, 2**32 + 1, 2**53, 2**63, 2**64, -2**63, 10**30,
               0.5, 4.5, -0.0, 1e308, -1e308, 1e-320, float("nan"), float("inf"),
               "", "4", "x" * 300, "same", "valid", "relu", "Dense", "Adam", "\u005b",
               True, False, None, [], {}, [0], [1, 1], [2**63], [4.5], ["4"], [True], [-1, 2],
               {"a": 1}, [[[[[]]]]], {"class_name": "Dense", "config": {"units": 15000}}]
METADATA_JSON = ("nnpy.config", "nnpy.labels", "nnpy.input", "nnpy.card", "nnpy.project")


def _split(data):
    """(header object, data section) of safetensors bytes, or None if the header is unreadable."""
    if len(data) < 8:
        return None
    length = int.from_bytes(data[:8], "little")
    try:
        header = json.loads(bytes(data[8:8 + length]))
    except (ValueError, RecursionError):
        return None
    return (header, bytes(data[8 + length:])) if isinstance(header, dict) else None


def _join(header, body, rng):
    text = json.dumps(header, separators=(",", ":")).encode()
    if rng.random() < 0.9:
        text += b" " * (-len(text) % 8)
    return len(text).to_bytes(8, "little") + text + body


def json_nodes(root):
    """Every (path, value) inside a JSON value, the root included."""
    found, stack = [], [((), root)]
    while stack:
        path, value = stack.pop()
        found.append((path, value))
        if isinstance(value, dict):
            stack.extend(((*path, key), item) for key, item in value.items())
        elif isinstance(value, list):
            stack.extend(((*path, index), item) for index, item in enumerate(value))
    return found


def json_replace(root, path, new):
    """`root` with the value at `path` (keys and indices) set to `new`, in place."""
    if not path:
        return new
    parent = root
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = new
    return root


def _json_edit(header, rng):
    """Change one value deep inside the header, or inside JSON held in a metadata string."""
    metadata = header.get("__metadata__")
    targets = [("header", None)]
    if isinstance(metadata, dict):
        targets += [(key, None) for key in METADATA_JSON if isinstance(metadata.get(key), str)]
    where, _ = rng.choice(targets)
    if where == "header":
        root = header
    else:
        try:
            root = json.loads(metadata[where])
        except (ValueError, RecursionError):
            return header
    path, value = rng.choice(json_nodes(root))
    choice = rng.random()
    if choice < 0.6:
        new = copy.deepcopy(rng.choice(INTERESTING))  # never share (and later edit) a constant
    elif choice < 0.75 and isinstance(value, (int, float)) and not isinstance(value, bool):
        new = rng.choice([value + 1, value - 1, -value, value * 1000, value // 2 if
                          isinstance(value, int) else value / 2])
    elif choice < 0.85 and path:
        parent = root
        for key in path[:-1]:
            parent = parent[key]
        if isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent.pop(path[-1])
        new = None
        path = None
    else:
        new = [value] if rng.random() < 0.5 else {"x": value}
    if path is not None:
        root = json_replace(root, path, new)
    if where == "header":
        return root if isinstance(root, dict) else header
    metadata[where] = json.dumps(root)
    return header


def _set_checksum(header, body):
    metadata = header.get("__metadata__")
    if isinstance(metadata, dict) and CHECKSUM_KEY in metadata:
        metadata[CHECKSUM_KEY] = hashlib.sha256(body).hexdigest()


def _poison_tensor(header, body, rng):
    """Overwrite part of one float tensor with NaN, Inf, huge or negative values."""
    floats = [entry for name, entry in header.items() if isinstance(entry, dict)
              and entry.get("dtype") == "F32" and isinstance(entry.get("data_offsets"), list)]
    if not floats:
        return body
    begin, end = (rng.choice(floats)["data_offsets"] + [0, 0])[:2]
    if not (isinstance(begin, int) and isinstance(end, int) and 0 <= begin <= end <= len(body)
            and (end - begin) % 4 == 0):
        return body
    values = np.frombuffer(body[begin:end], "<f4").copy()
    if values.size:
        values[rng.randrange(values.size)] = rng.choice([np.nan, np.inf, -np.inf, 3e38, -1.0])
    return body[:begin] + values.tobytes() + body[end:]


def mutate(data, rng, seeds=None):
    """One mutation of safetensors bytes, chosen by `rng` (a random.Random)."""
    kind = rng.random()
    data = bytearray(data)
    header_end = min(len(data), 8 + int.from_bytes(data[:8], "little")) if len(data) >= 8 else 0
    if kind < 0.15:  # bytes changed, mostly in the header
        for _ in range(rng.choice([1, 1, 2, 4, 16])):
            limit = header_end if rng.random() < 0.8 and header_end > 8 else len(data)
            if limit:
                data[rng.randrange(limit)] = rng.randrange(256)
        return bytes(data)
    if kind < 0.2:
        return bytes(data[:rng.randrange(len(data) + 1)])
    if kind < 0.23:
        return bytes(data) + bytes(rng.randrange(256) for _ in range(rng.choice([1, 8, 100])))
    if kind < 0.26:
        value = rng.choice([0, 1, 7, header_end - 7, max(header_end - 9, 0), 2**63, 2**64 - 1,
                            len(data), 99_999_999])
        return value.to_bytes(8, "little", signed=False) + bytes(data[8:])
    parts = _split(data)
    if parts is None:
        return bytes(data[:-1])
    header, body = parts
    if kind < 0.85:
        for _ in range(rng.choice([1, 1, 1, 2, 3])):
            header = _json_edit(header, rng)
        _set_checksum(header, body)
    elif kind < 0.93:
        body = _poison_tensor(header, body, rng)
        if rng.random() < 0.8:
            _set_checksum(header, body)
    elif kind < 0.97 and seeds:
        other = _split(rng.choice(list(seeds.values()))[1])
        if other is not None:
            body = other[1]
    else:
        metadata = header.get("__metadata__")
        if isinstance(metadata, dict):
            key = rng.choice([*METADATA_JSON, "nnpy.format"])
            metadata[key] = "\\u005b" * rng.choice([10, 100, 3000]) if rng.random() < 0.5 \
                else "[" * rng.choice([63, 65, 3000])
    return _join(header, body, rng)


# --------------------------------------------------------------------------- generated files


def _random_layer(rng, image):
    """A layer with plausible arguments (valid or not): what a generated config holds."""
    pick = rng.random
    if image:
        choices = [
            lambda: layers.Conv2D(rng.choice([1, 2, 4]), rng.choice([1, 2, 3]),
                                  strides=rng.choice([1, 2]), padding=rng.choice(["same", "valid"]),
                                  activation=rng.choice([None, "relu", "tanh"]),
                                  use_bias=pick() < 0.7),
            lambda: layers.MaxPool2D(rng.choice([1, 2]), padding=rng.choice(["same", "valid"])),
            lambda: layers.AvgPool2D(rng.choice([1, 2]), strides=rng.choice([None, 1, 2])),
            lambda: layers.BatchNormalization(momentum=pick(), epsilon=rng.choice([1e-3, 1e-5])),
        ]
    else:
        choices = [
            lambda: layers.Dense(rng.choice([1, 2, 3, 5]), activation=rng.choice(
                [None, "relu", "sigmoid", "gelu", "leaky_relu", "softmax"])),
            lambda: layers.BatchNormalization(),
            lambda: layers.Dropout(rng.choice([0.0, 0.5])),
            lambda: rng.choice([layers.ReLU, layers.Tanh, layers.Sigmoid, layers.Linear,
                                layers.GELU, layers.Softmax])(),
        ]
    return rng.choice(choices)()


def generate_model(rng):
    """A small random model, built and saved the ordinary way (then usually mutated)."""
    image = rng.random() < 0.5
    shape = (rng.choice([4, 5, 8]), rng.choice([4, 6]), rng.choice([1, 3])) if image \
        else (rng.choice([1, 3, 7]),)
    stack = [layers.Input(shape)]
    for _ in range(rng.randrange(4)):
        stack.append(_random_layer(rng, image))
    if image:
        stack += [layers.Flatten() if rng.random() < 0.5 else layers.GlobalAveragePooling2D()]
    stack.append(layers.Dense(rng.choice([1, 2, 3])))
    try:  # a stack that starts with Input is built at once, as in Keras
        model = Sequential(stack, seed=rng.randrange(100))
    except ValueError:  # a random stack may not fit its input (e.g. pooling a 1-pixel map)
        model = Sequential([layers.Input(shape), layers.Flatten(), layers.Dense(2)])
    if rng.random() < 0.5:
        optimizer = rng.choice([optimizers.SGD(0.1, momentum=0.5), optimizers.Adam(),
                                optimizers.AdamW(), optimizers.RMSprop()])
        model.compile(optimizer=optimizer, loss=rng.choice(["mse", "categorical_crossentropy"]))
        x = np.random.default_rng(rng.randrange(100)).standard_normal((4, *shape))
        model.train_on_batch(x, np.full((4, *model.output_shape), 0.5))
    if rng.random() < 0.5:
        model.labels = [str(i) for i in range(model.output_shape[-1])]
    if image and rng.random() < 0.5:
        model.input_spec = {"height": shape[0], "width": shape[1], "channels": shape[2]}
    return model.to_bytes(include_optimizer=rng.random() < 0.7)


def generate_header(rng):
    """A safetensors file from scratch: random entries, shapes, offsets and metadata."""
    header, offset = {}, 0
    for index in range(rng.randrange(4)):
        dtype = rng.choice(["F32", "F64", "I8", "U8", "BOOL", "BF16", "F16", "X9", 5])
        shape = [rng.choice([0, 1, 2, 3, 2**31, 2**63, 2**64, -1]) for _ in range(rng.randrange(4))]
        size = rng.choice([0, 1, 4, 8, 12])
        header[rng.choice([f"{index}.kernel", "", "__metadata__", "a" * 50])] = {
            "dtype": dtype, "shape": shape, "data_offsets": [offset, offset + size]}
        offset += size
    if rng.random() < 0.7:
        header["__metadata__"] = {"nnpy.format": rng.choice(["1", "0", "2", "1.0", ""]),
                                  "nnpy.config": json.dumps(rng.choice(INTERESTING))}
    return _join(header, bytes(rng.randrange(256) for _ in range(offset)), rng)


def make_input(seeds, rng):
    """(bytes, reader name): a mutated seed (most), a generated model or a generated header."""
    kind = rng.random()
    if kind < 0.07:
        return generate_header(rng), "safetensors"
    if kind < 0.12:
        data, reader = generate_model(rng), "model"
    else:  # large seeds (the shipped digits model is 460 KB) cost more: pick them less often
        names = list(seeds)
        weights = [1 / max(1, len(seeds[name][1]) // 8192) ** 0.5 for name in names]
        reader, data = seeds[rng.choices(names, weights)[0]]
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        data = mutate(data, rng, seeds)
    return data, reader


# --------------------------------------------------------------------------- one chunk (a process)


class Timeout(BaseException):
    """Raised by the alarm; a BaseException so no reader's `except Exception` hides it."""


def _alarm(signum, frame):
    raise Timeout("the input took longer than the time limit (CPU time)")


def run_chunk(seeds, start, count, seed, failures, time_limit=1.0):
    """Run `count` inputs (the `start`-th on of the stream `seed` makes); returns the counts.
    Time is CPU time (the limit is a profiling timer): on a busy machine wall time would
    count the other processes too."""
    import resource  # here, not at the top: a browser has neither, and needs only the readers
    import signal

    signal.signal(signal.SIGPROF, _alarm)
    counts = {"inputs": 0, "accepted": 0, "refused": 0, "failed": 0, "slowest_ms": 0.0,
              "slowest": None, "failures": []}
    for number in range(start, start + count):
        rng = random.Random(f"{seed}-{number}")
        data, reader = make_input(seeds, rng)
        began = time.process_time()
        try:
            signal.setitimer(signal.ITIMER_PROF, time_limit)
            outcome = run_one(reader, data)
            signal.setitimer(signal.ITIMER_PROF, 0)
        except BaseException as error:  # every other outcome is a failure
            signal.setitimer(signal.ITIMER_PROF, 0)
            if isinstance(error, KeyboardInterrupt):
                raise
            outcome = "failed"
            counts["failures"].append(_save_failure(failures, reader, data, number, error))
        elapsed = 1000 * (time.process_time() - began)
        counts["inputs"] += 1
        counts[outcome] += 1
        if elapsed > counts["slowest_ms"]:
            counts["slowest_ms"], counts["slowest"] = elapsed, f"input {number} ({reader})"
    counts["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return counts


def _save_failure(folder, reader, data, number, error):
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{reader}-{hashlib.sha256(data).hexdigest()[:12]}"
    (folder / f"{stem}.safetensors").write_bytes(data)
    (folder / f"{stem}.txt").write_text(
        f"input {number}, reader {reader}\n"
        + "".join(traceback.format_exception(type(error), error, error.__traceback__))[-4000:])
    return f"{stem}: {type(error).__name__}: {str(error)[:200]}"


def main(argv=None):
    """One chunk: `python -m nnpy.testing.fuzz --seeds DIR --start N --count N --seed S
    --failures DIR`; prints the counts as JSON. `build.py fuzz` starts one per chunk."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--seeds", required=True)
    parser.add_argument("--start", type=int, default=0)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--seed", default="0")
    parser.add_argument("--failures", default=".cache/fuzz-failures")
    parser.add_argument("--time-limit", type=float, default=1.0)
    parser.add_argument("--write-seeds", nargs="*", metavar="MODEL_FILE",
                        help="only write the seeds (with these model files) into --seeds")
    args = parser.parse_args(argv)
    if args.write_seeds is not None:
        write_seeds(args.seeds, args.write_seeds)
        return 0
    seeds = {path.stem.partition("-")[2]: (path.stem.partition("-")[0], path.read_bytes())
             for path in sorted(Path(args.seeds).glob("*.safetensors"))}
    counts = run_chunk(seeds, args.start, args.count, args.seed, args.failures, args.time_limit)
    print(json.dumps(counts))
    return 0


def write_seeds(folder, extra_files=()):
    """The seeds as files `reader-name.safetensors` in `folder`, for chunk subprocesses."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name, (reader, data) in make_seeds(extra_files).items():
        (folder / f"{reader}-{name}.safetensors").write_bytes(data)
    return folder


if __name__ == "__main__":
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    sys.exit(main())
