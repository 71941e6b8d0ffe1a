"""Optimizers and learning-rate schedules.

An optimizer updates `{dotted_name: parameter}` in place from `{dotted_name: gradient}` and keeps
its per-parameter state (momentum, moments) under the same dotted names, so it can be saved beside
the weights. Update rules follow PyTorch's definitions (checked against it in the tests)."""

import math

import numpy as np

from . import validation


class Schedule:
    """learning rate as a function of the optimizer step (0, 1, 2, ...)."""

    def get_config(self):
        return dict(vars(self))

    def to_json(self):
        return {"class_name": type(self).__name__, "config": self.get_config()}


class StepDecay(Schedule):
    """lr * gamma ** (step // step_size)."""

    def __init__(self, initial_learning_rate, step_size, gamma=0.1):
        self.initial_learning_rate = _learning_rate(initial_learning_rate, "StepDecay")
        self.step_size = validation.integer(step_size, "step_size", "StepDecay", example=100)
        self.gamma = validation.number(gamma, "gamma", "StepDecay", low=0)

    def __call__(self, step):
        return self.initial_learning_rate * self.gamma ** (step // self.step_size)


class ExponentialDecay(Schedule):
    """lr * decay_rate ** (step / decay_steps), floored to whole periods when staircase."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False):
        self.initial_learning_rate = _learning_rate(initial_learning_rate, "ExponentialDecay")
        self.decay_steps = validation.integer(decay_steps, "decay_steps", "ExponentialDecay",
                                              example=1000)
        self.decay_rate = validation.number(decay_rate, "decay_rate", "ExponentialDecay", low=0)
        self.staircase = validation.boolean(staircase, "staircase", "ExponentialDecay")

    def __call__(self, step):
        periods = step / self.decay_steps
        if self.staircase:
            periods = math.floor(periods)
        return self.initial_learning_rate * self.decay_rate**periods


class CosineDecay(Schedule):
    """Half a cosine from lr down to alpha * lr over decay_steps, then flat."""

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0):
        self.initial_learning_rate = _learning_rate(initial_learning_rate, "CosineDecay")
        self.decay_steps = validation.integer(decay_steps, "decay_steps", "CosineDecay",
                                              example=1000)
        self.alpha = validation.number(alpha, "alpha", "CosineDecay", low=0, high=1)

    def __call__(self, step):
        progress = min(step, self.decay_steps) / self.decay_steps
        cosine = 0.5 * (1 + math.cos(math.pi * progress))
        return self.initial_learning_rate * ((1 - self.alpha) * cosine + self.alpha)


SCHEDULES = {cls.__name__: cls for cls in (StepDecay, ExponentialDecay, CosineDecay)}


def _learning_rate(value, where):
    """A positive number, a Schedule, or any function of the step (checked when called)."""
    if isinstance(value, Schedule) or (callable(value) and not isinstance(value, type)):
        return value
    return validation.number(value, "learning_rate", where, low=0)


def clip_by_global_norm(grads, max_norm):
    """Scale all gradients together so their joint L2 norm is at most max_norm; returns the norm."""
    norm = math.sqrt(sum(float(np.vdot(g, g)) for g in grads.values()))
    if norm > max_norm:
        scale = max_norm / (norm + 1e-6)
        for g in grads.values():
            g *= scale
    return norm


class Optimizer:
    slot_names = ()

    def __init__(self, learning_rate, weight_decay=0.0, global_clipnorm=None):
        where = type(self).__name__
        self.learning_rate = learning_rate
        self.weight_decay = validation.number(weight_decay, "weight_decay", where, low=0)
        self.global_clipnorm = None if global_clipnorm is None else validation.number(
            global_clipnorm, "global_clipnorm", where, low=0, low_open=True)
        self.iterations = 0
        self.slots = {slot: {} for slot in self.slot_names}

    @property
    def learning_rate(self):
        return self._learning_rate

    @learning_rate.setter
    def learning_rate(self, value):
        """Checked whenever set (a trainer may change it between runs): Adam(-0.1) and
        Adam("fast") are refused at once, not after a step in the wrong direction."""
        self._learning_rate = _learning_rate(value, type(self).__name__)

    def current_learning_rate(self):
        lr = self.learning_rate
        return float(lr(self.iterations) if callable(lr) else lr)

    def apply(self, params, grads):
        """One update of every parameter in `params` (in place) from `grads`."""
        if self.global_clipnorm is not None:
            clip_by_global_norm(grads, self.global_clipnorm)
        lr = self.current_learning_rate()
        self.iterations += 1
        for name, param in params.items():
            state = {}
            for slot in self.slot_names:
                if name not in self.slots[slot]:
                    self.slots[slot][name] = np.zeros_like(param)
                state[slot] = self.slots[slot][name]
            self.update(param, grads[name], lr, **state)

    def update(self, param, grad, lr, **slots):
        raise NotImplementedError

    def state_dict(self):
        state = {"iterations": np.array(self.iterations, dtype=np.int64)}
        for slot, values in self.slots.items():
            state.update({f"{slot}.{name}": value for name, value in values.items()})
        return state

    def load_state_dict(self, state, parameters=None):
        """Restore `state_dict()` output. With the model's `parameters()`, every slot is checked
        first (ValueError naming it): a known slot of a known parameter, its shape and float
        dtype, finite values, and `iterations` a non-negative integer."""
        if parameters is not None:
            self._check_state(state, parameters)
        self.iterations = int(state.get("iterations", 0))
        for key, value in state.items():
            slot, _, name = key.partition(".")
            if slot in self.slots and name:
                self.slots[slot][name] = np.array(value)

    def _check_state(self, state, parameters):
        for key, value in state.items():
            if key == "iterations":
                if value.shape != () or value.dtype.kind not in "iu" or value < 0:
                    raise ValueError(f"'iterations' must be one non-negative integer, got "
                                     f"{value.dtype} of shape {value.shape}")
                continue
            slot, _, name = key.partition(".")
            if slot not in self.slots or name not in parameters:
                raise ValueError(f"{key!r} is not a slot of {type(self).__name__} (slots "
                                 f"{list(self.slots)}) for a parameter of the model")
            param = parameters[name]
            if value.shape != param.shape or value.dtype.kind != "f":
                raise ValueError(f"{key!r} is {value.dtype} of shape {value.shape}; the parameter "
                                 f"{name!r} needs floats of shape {param.shape}")
            if not np.isfinite(value).all():
                raise ValueError(f"{key!r} holds NaN or infinite values")

    def get_config(self):
        lr = self.learning_rate
        config = {k: v for k, v in vars(self).items()
                  if k not in ("slots", "iterations", "_learning_rate")}
        config["learning_rate"] = lr.to_json() if isinstance(lr, Schedule) else lr
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        lr = config.get("learning_rate")
        if isinstance(lr, dict):
            schedule = SCHEDULES.get(lr.get("class_name")) if isinstance(lr.get("class_name"), str) else None
            if schedule is None or not isinstance(lr.get("config"), dict):
                raise ValueError(f"unknown learning-rate schedule {lr.get('class_name')!r}; "
                                 f"known: {sorted(SCHEDULES)}")
            config["learning_rate"] = schedule(**lr["config"])
        return cls(**config)

    def to_json(self):
        return {"class_name": type(self).__name__, "config": self.get_config()}


class SGD(Optimizer):
    """v = momentum * v + g;  p -= lr * (g + momentum * v if nesterov else v).
    weight_decay adds weight_decay * p to g (L2)."""
    slot_names = ("velocity",)

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.momentum = validation.number(momentum, "momentum", "SGD", low=0, high=1)
        self.nesterov = validation.boolean(nesterov, "nesterov", "SGD")

    def update(self, param, grad, lr, velocity):
        if self.weight_decay:
            grad = grad + self.weight_decay * param
        if self.momentum:
            velocity *= self.momentum
            velocity += grad
            grad = grad + self.momentum * velocity if self.nesterov else velocity
        param -= lr * grad


class Adam(Optimizer):
    """m, v = running means of g and g^2;  p -= lr * m_hat / (sqrt(v_hat) + epsilon),
    hats correcting the zero start. weight_decay is L2 added to g (use AdamW to decouple it)."""
    slot_names = ("m", "v")

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate, **kwargs)
        where = type(self).__name__
        self.beta_1 = validation.number(beta_1, "beta_1", where, low=0, high=1, high_open=True)
        self.beta_2 = validation.number(beta_2, "beta_2", where, low=0, high=1, high_open=True)
        self.epsilon = validation.number(epsilon, "epsilon", where, low=0)

    def update(self, param, grad, lr, m, v):
        if self.weight_decay:
            grad = grad + self.weight_decay * param
        self._adam_step(param, grad, lr, m, v)

    def _adam_step(self, param, grad, lr, m, v):
        # The arithmetic of  m_hat = m / (1 - beta_1^t),  v_hat = v / (1 - beta_2^t),
        # p -= lr * m_hat / (sqrt(v_hat) + epsilon), step by step in the same order, in place
        # in three buffers: each temporary array is another pass of allocation (and, in CPython,
        # page faults for large ones): 6x faster there for the MLP, with bit-identical results.
        t = self.iterations
        scratch = np.multiply(grad, 1 - self.beta_1)              # (1 - b1) g
        m *= self.beta_1
        m += scratch
        np.multiply(grad, 1 - self.beta_2, out=scratch)
        scratch *= grad                                           # (1 - b2) g^2
        v *= self.beta_2
        v += scratch
        step = np.divide(m, 1 - self.beta_1**t)                   # m_hat
        step *= lr
        denominator = np.divide(v, 1 - self.beta_2**t)            # v_hat
        np.sqrt(denominator, out=denominator)
        denominator += self.epsilon
        step /= denominator
        param -= step


class AdamW(Adam):
    """Adam with decoupled weight decay: p *= 1 - lr * weight_decay before the Adam step."""

    def __init__(self, learning_rate=0.001, weight_decay=0.01, **kwargs):
        super().__init__(learning_rate, weight_decay=weight_decay, **kwargs)

    def update(self, param, grad, lr, m, v):
        param *= 1 - lr * self.weight_decay
        self._adam_step(param, grad, lr, m, v)


class RMSprop(Optimizer):
    """v = rho * v + (1 - rho) * g^2;  p -= lr * g / (sqrt(v) + epsilon)."""
    slot_names = ("v",)

    def __init__(self, learning_rate=0.001, rho=0.9, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.rho = validation.number(rho, "rho", "RMSprop", low=0, high=1, high_open=True)
        self.epsilon = validation.number(epsilon, "epsilon", "RMSprop", low=0)

    def update(self, param, grad, lr, v):
        if self.weight_decay:
            grad = grad + self.weight_decay * param
        v *= self.rho
        scratch = np.multiply(grad, 1 - self.rho)
        scratch *= grad                                           # (1 - rho) g^2
        v += scratch
        step = np.multiply(grad, lr)                              # in place, as in Adam
        denominator = np.sqrt(v)
        denominator += self.epsilon
        step /= denominator
        param -= step


OPTIMIZERS = {cls.__name__.lower(): cls for cls in (SGD, Adam, AdamW, RMSprop)}
CLASSES = {cls.__name__: cls for cls in (SGD, Adam, AdamW, RMSprop)}


def get(optimizer):
    if isinstance(optimizer, Optimizer):
        return optimizer
    try:
        return OPTIMIZERS[str(optimizer).lower()]()
    except KeyError:
        raise ValueError(f"unknown optimizer {optimizer!r}; choose one of {sorted(OPTIMIZERS)}") from None


def from_json(entry):
    """An optimizer from `to_json()` output: {"class_name": ..., "config": {...}}."""
    name = entry.get("class_name") if isinstance(entry, dict) else None
    if not isinstance(name, str) or name not in CLASSES or not isinstance(entry.get("config"), dict):
        raise ValueError(f"unknown optimizer {name!r}; known: {sorted(CLASSES)}")
    return CLASSES[name].from_config(entry["config"])
