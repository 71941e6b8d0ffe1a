"""Callbacks: code that `fit` calls at the start/end of training, each epoch and each batch."""

import sys
import time


class Callback:
    """Override any of the hooks; `self.model` is the model being trained."""

    model = None

    def set_model(self, model):
        self.model = model

    def on_train_begin(self, logs=None):
        pass

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_batch_end(self, batch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass


class LambdaCallback(Callback):
    """A callback from plain functions: `LambdaCallback(on_epoch_end=lambda epoch, logs: ...)`."""

    def __init__(self, on_train_begin=None, on_epoch_begin=None, on_batch_end=None,
                 on_epoch_end=None, on_train_end=None):
        for hook, function in (("on_train_begin", on_train_begin),
                               ("on_epoch_begin", on_epoch_begin),
                               ("on_batch_end", on_batch_end),
                               ("on_epoch_end", on_epoch_end),
                               ("on_train_end", on_train_end)):
            if function is not None:
                setattr(self, hook, function)


class History(Callback):
    """Every epoch's logs: `history.history["val_loss"]` is a list with one value per epoch."""

    def __init__(self):
        self.epoch = []
        self.history = {}

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            if key not in ("kind", "epoch", "epochs"):
                self.history.setdefault(key, []).append(value)


class EarlyStopping(Callback):
    """Stop when `monitor` has not improved by `min_delta` for `patience` epochs, and (by default)
    put back the weights of the best epoch when training ends."""

    def __init__(self, monitor="val_loss", patience=0, min_delta=0.0, mode="auto",
                 restore_best_weights=True):
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
        self.monitor = monitor
        self.patience = int(patience)
        self.min_delta = abs(float(min_delta))
        if mode == "auto":
            mode = "max" if "acc" in monitor else "min"
        self.sign = 1.0 if mode == "min" else -1.0  # compare sign * value: smaller is better
        self.restore_best_weights = restore_best_weights

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.best = float("inf")
        self.best_epoch = None
        self.best_weights = None
        self.stopped_epoch = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.monitor not in logs:
            available = sorted(k for k in logs if k not in ("kind", "epoch", "epochs"))
            raise ValueError(
                f"EarlyStopping monitors {self.monitor!r} but the epoch logs only have {available}; "
                "pass validation_split/validation_data to fit, or monitor='loss'"
            )
        value = self.sign * float(logs[self.monitor])
        if value < self.best - self.min_delta:
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_weights = {k: v.copy() for k, v in self.model.state_dict().items()}
            return
        self.wait += 1
        if self.wait > self.patience:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.restore_best_weights and self.best_weights is not None:
            self.model.load_state_dict(self.best_weights)


class ProgressBar(Callback):
    """Keras-style text progress: `12/40 [=====>......] - 0s 3ms/step - loss: 0.5312`."""

    def __init__(self, stream=None, width=30):
        self.stream = stream or sys.stdout
        self.width = width

    def on_epoch_begin(self, epoch, logs=None):
        self.epochs = (logs or {}).get("epochs", "?")
        self.stream.write(f"Epoch {epoch + 1}/{self.epochs}\n")
        self.start = time.perf_counter()
        self.sums, self.count = {}, 0

    def _line(self, done, total, values):
        filled = int(self.width * done / max(total, 1))
        bar = "=" * max(filled - 1, 0) + (">" if done < total else "=") + "." * (self.width - filled)
        elapsed = time.perf_counter() - self.start
        per_step = elapsed / max(done, 1) * 1000
        metrics = " - ".join(f"{k}: {v:.4f}" for k, v in values.items())
        return f"\r{done:>{len(str(total))}}/{total} [{bar[:self.width]}] - {elapsed:.0f}s " \
               f"{per_step:.0f}ms/step - {metrics}"

    def on_batch_end(self, batch, logs=None):
        size = logs.get("size", 1)
        self.count += size
        self.batches = logs["batches"]
        for key in ("loss", "accuracy"):
            if key in logs:
                self.sums[key] = self.sums.get(key, 0.0) + logs[key] * size
        running = {k: v / self.count for k, v in self.sums.items()}
        self.stream.write(self._line(batch + 1, logs["batches"], running))
        self.stream.flush()

    def on_epoch_end(self, epoch, logs=None):
        values = {k: v for k, v in logs.items() if k not in ("kind", "epoch", "epochs")}
        batches = getattr(self, "batches", 1)
        self.stream.write(self._line(batches, batches, values) + "\n")
        self.stream.flush()
