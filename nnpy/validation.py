"""Argument checks at the call, as Keras makes them: a bad argument is refused before anything is
built or trained, by a message that names the argument, what it got and what it takes.

Each check returns the value in its plain Python form (`int`, `float`, a tuple of ints) so the
caller keeps what was checked. Wrong kinds raise TypeError (`Dense("4")`, `batch_size=2.5`),
wrong values ValueError (`Dense(-3)`, `epsilon=-1`). `where` names the owner, e.g. "Dense".

The same checks guard model files: a layer rebuilt from a file's config runs its constructor, so
`{"units": 4.5}` in a file is refused exactly as `Dense(4.5)` is in code.
"""

import math
import numbers

import numpy as np

MAX_DIMENSIONS = 32  # NumPy 1.x cannot make arrays with more axes
MAX_VALUES_PER_EXAMPLE = 2**26  # 256 MB of float32 for one example: far past any model nnpy runs


def _prefix(where):
    return f"{where}: " if where else ""


def _is_integer(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _is_real(value):
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def integer(value, name, where="", minimum=1, example=None):
    """`value` as an int >= minimum; TypeError for anything but an integer (2.5, "4", True)."""
    kind = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
    hint = f" (e.g. {name}={example})" if example is not None else ""
    if not _is_integer(value):
        raise TypeError(f"{_prefix(where)}{name} must be {kind}{hint}, got {_short(value)} "
                        f"({type(value).__name__})")
    if value < minimum:
        raise ValueError(f"{_prefix(where)}{name} must be {kind}{hint}, got {value}")
    return int(value)


def number(value, name, where="", low=None, high=None, low_open=False, high_open=False):
    """`value` as a finite float in the given range; TypeError for strings, bools, complex."""
    bounds = _range_text(low, high, low_open, high_open)
    if not _is_real(value):
        raise TypeError(f"{_prefix(where)}{name} must be a number{bounds}, got {_short(value)} "
                        f"({type(value).__name__})")
    value = float(value)
    outside = (not math.isfinite(value)
               or (low is not None and (value <= low if low_open else value < low))
               or (high is not None and (value >= high if high_open else value > high)))
    if outside:
        raise ValueError(f"{_prefix(where)}{name} must be a finite number{bounds}, got {value}")
    return value


def _range_text(low, high, low_open, high_open):
    if low is None and high is None:
        return ""
    if high is None:
        return f" {'>' if low_open else '>='} {low}"
    if low is None:
        return f" {'<' if high_open else '<='} {high}"
    return f" in {'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"


def boolean(value, name, where=""):
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{_prefix(where)}{name} must be True or False, got {_short(value)}")
    return bool(value)


def one_of(value, name, choices, where=""):
    if not any(value == choice and type(value) is type(choice) for choice in choices):
        raise ValueError(f"{_prefix(where)}{name} must be one of {list(choices)!r}, "
                         f"got {_short(value)}")
    return value


def optional_name(value, where=""):
    """A layer or model name: a string, or None for the default."""
    if value is not None and not isinstance(value, str):
        raise TypeError(f"{_prefix(where)}name must be a string, got {_short(value)}")
    return value


def seed(value, name="seed", where=""):
    """A random seed: None or a non-negative integer."""
    return None if value is None else integer(value, name, where, minimum=0, example=0)


def shape(value, name, where="", allow_unknown=False):
    """A shape without the batch axis: a tuple of positive ints (-1 once, if `allow_unknown`),
    at most MAX_DIMENSIONS long. `Input((0,))`, `[4.5]`, `["4"]` and `[True]` are refused."""
    if isinstance(value, (str, bytes, dict)) or not hasattr(value, "__len__"):
        raise TypeError(f"{_prefix(where)}{name} must be a list of positive integers "
                        f"(e.g. {name}=(28, 28, 1)), got {_short(value)}")
    dims = list(value) if len(value) <= MAX_DIMENSIONS else None
    if not dims:
        many = "no" if dims == [] else "too many"
        raise ValueError(f"{_prefix(where)}{name} has {many} dimensions ({_short(value)}); give "
                         f"1 to {MAX_DIMENSIONS} positive integers, e.g. {name}=(28, 28, 1)")
    for dim in dims:
        if not _is_integer(dim):
            raise TypeError(f"{_prefix(where)}{name} must hold integers, got {_short(value)}")
        if dim < 1 and not (allow_unknown and dim == -1):
            raise ValueError(f"{_prefix(where)}{name} must hold positive integers, got "
                             f"{_short(value)}")
    if allow_unknown and dims.count(-1) > 1:
        raise ValueError(f"{_prefix(where)}{name} may hold -1 once, got {_short(value)}")
    values_per_example(dims, name, where)
    return tuple(int(dim) for dim in dims)


def values_per_example(dims, name, where=""):
    """Refuse a shape whose one example holds more values than any model nnpy runs."""
    total = math.prod(abs(dim) for dim in dims)
    if total > MAX_VALUES_PER_EXAMPLE:
        raise ValueError(f"{_prefix(where)}{name} {tuple(dims)} holds {total} values per "
                         f"example, over the {MAX_VALUES_PER_EXAMPLE} nnpy accepts")
    return total


def pair(value, name, where=""):
    """A (height, width) pair of positive ints from an int or a 2-long sequence."""
    if _is_integer(value):
        return (integer(value, name, where, example=2),) * 2
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(value) != 2:
        raise TypeError(f"{_prefix(where)}{name} must be a positive integer or two of them "
                        f"(e.g. {name}=3 or {name}=(3, 3)), got {_short(value)}")
    return tuple(integer(v, name, where, example=2) for v in value)


def real_array(value, name, dtype=np.float32, allow_empty=False):
    """`value` as a finite real array of `dtype`: strings, objects and complex numbers are a
    TypeError, an empty array and NaN/Inf a ValueError, each naming the argument."""
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        what = {"c": "complex numbers", "U": "strings", "S": "bytes", "O": "Python objects",
                "M": "dates", "m": "time spans", "V": "raw records"}.get(array.dtype.kind, "")
        raise TypeError(f"{name} must hold real numbers, not {what or array.dtype}: "
                        f"convert it first, e.g. np.asarray({name}, dtype='float32')")
    if array.size == 0 and not allow_empty:
        raise ValueError(f"{name} is empty (shape {array.shape}); pass at least one example")
    if array.ndim == 0:
        raise ValueError(f"{name} must be an array of examples, got a single number")
    if array.dtype != dtype:
        with np.errstate(over="ignore"):
            array = array.astype(dtype, copy=False)
    finite(array, name)
    return array


def finite(array, name):
    """Refuse NaN/Inf in data (a data error, not divergence): say where the first one is."""
    if array.dtype.kind != "f":
        return array
    # A sum is finite only if every value is (NaN and Inf carry through; overflow may make a
    # finite array's sum Inf, then each value is looked at): one reduction and no boolean array
    # for the usual case, a prediction's or a batch's data
    with np.errstate(over="ignore", invalid="ignore"):
        total = np.add.reduce(array, axis=None)
    if not math.isfinite(total) and not np.isfinite(array).all():
        index = tuple(int(i) for i in np.argwhere(~np.isfinite(array))[0])
        raise ValueError(f"{name} holds NaN or infinite values (the first at index {index}, "
                         f"{array[index]}); clean or drop those examples first")
    return array


def _short(value):
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
