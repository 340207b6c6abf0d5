"""Training that survives its process: resume a `fit` at the epoch where it stopped."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf
import tf_keras as keras

STATE = "state.json"
BEST_WEIGHTS = "best_weights.npz"
WEIGHT_AVERAGE = "weight_average.npz"


class TrainingCheckpoint(keras.callbacks.Callback):
    """Saves, after every epoch, all a `fit` needs to continue in another process.

    `directory` holds `state.json` (epochs done, the per-epoch logs, the early-stopping
    state, elapsed seconds, whether training stopped), a `tf.train.Checkpoint` of the model
    and its optimizer (Adam's moments and step included), the early stopping's best
    weights and, with weight averaging, the moving average of the weights. A new `fit`
    with the same directory restores them in `on_train_begin` and starts at
    `initial_epoch`, so early stopping, `val_*` curves and elapsed seconds run on as if
    uninterrupted. (Not bit-identical: the input order and the training negatives
    restart their random streams.)

    Put it after the `EarlyStopping`, the `EpochTimer` and the `EpochWeightAverage` it
    restores: Keras calls callbacks in order, and their `on_train_begin` reset what this
    one restores.

    Args:
      directory: where the state lives; created if missing.
      early_stopping: the fit's `EarlyStopping` (its wait, best and best weights).
      timer: the fit's `EpochTimer` (its start and epoch seconds), or None.
      averaging: the fit's `EpochWeightAverage` (its average), or None.
    """

    def __init__(
        self,
        directory: str | os.PathLike,
        early_stopping: keras.callbacks.EarlyStopping,
        timer: keras.callbacks.Callback | None = None,
        averaging: keras.callbacks.Callback | None = None,
    ):
        super().__init__()
        self.directory = Path(directory)
        self.early_stopping = early_stopping
        self.timer = timer
        self.averaging = averaging
        self.state: dict[str, Any] = self._read_state()
        self.history: dict[str, list[float]] = {
            k: list(v) for k, v in self.state.get("history", {}).items()
        }

    def _read_state(self) -> dict[str, Any]:
        path = self.directory / STATE
        return json.loads(path.read_text()) if path.exists() else {}

    @property
    def initial_epoch(self) -> int:
        """Epochs already trained (0 for a fresh directory)."""
        return int(self.state.get("epochs_done", 0))

    @property
    def stopped(self) -> bool:
        """Whether early stopping ended the saved training."""
        return bool(self.state.get("stopped", False))

    def _checkpoint(self) -> tf.train.Checkpoint:
        return tf.train.Checkpoint(model=self.model, optimizer=self.model.optimizer)

    def on_train_begin(self, logs=None):
        if not self.state:
            return
        self.model.optimizer.build(self.model.trainable_variables)
        prefix = str(self.directory / self.state["checkpoint"])
        self._checkpoint().read(prefix).assert_existing_objects_matched()
        early = self.early_stopping
        early.wait = self.state["early_stopping"]["wait"]
        early.best = self.state["early_stopping"]["best"]
        early.best_epoch = self.state["early_stopping"]["best_epoch"]
        if early.restore_best_weights and (self.directory / BEST_WEIGHTS).exists():
            early.best_weights = load_arrays(self.directory / BEST_WEIGHTS)
        if self.averaging is not None and (self.directory / WEIGHT_AVERAGE).exists():
            self.averaging.average = load_arrays(self.directory / WEIGHT_AVERAGE)
        if self.timer is not None:
            self.timer.start = time.monotonic() - self.state["elapsed_seconds"]
            self.timer.epoch_seconds = list(self.history.get("epoch_seconds", []))

    def on_epoch_end(self, epoch, logs=None):
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value))
        self.directory.mkdir(parents=True, exist_ok=True)
        early = self.early_stopping
        if early.best_epoch == epoch and early.best_weights is not None:
            save_arrays(self.directory / BEST_WEIGHTS, early.best_weights)
        if self.averaging is not None and self.averaging.average is not None:
            save_arrays(self.directory / WEIGHT_AVERAGE, self.averaging.average)
        name = f"epoch-{epoch + 1}"
        self._checkpoint().write(str(self.directory / name))
        previous = self.state.get("checkpoint")
        self.state = {
            "epochs_done": epoch + 1,
            "checkpoint": name,
            "stopped": bool(self.model.stop_training),
            "elapsed_seconds": float(logs.get("elapsed_seconds", 0.0)) if logs else 0.0,
            "early_stopping": {
                "wait": int(early.wait),
                "best": float(early.best),
                "best_epoch": int(early.best_epoch),
            },
            "history": self.history,
        }
        # The state names a checkpoint already written.
        write_text(self.directory / STATE, json.dumps(self.state))
        if previous and previous != name:
            for old in self.directory.glob(previous + ".*"):
                old.unlink()


def write_text(path: Path, text: str) -> None:
    """`text` to `path`, written whole or not at all (a process killed mid-write leaves the
    previous file)."""
    tmp = path.with_name("tmp-" + path.name)
    tmp.write_text(text)
    tmp.replace(path)


def save_arrays(path: Path, arrays: list[np.ndarray]) -> None:
    """`arrays` in order to an `.npz` file, written whole or not at all."""
    tmp = path.with_name("tmp-" + path.name)
    np.savez(tmp, **{f"w{i}": a for i, a in enumerate(arrays)})
    tmp.replace(path)


def load_arrays(path: Path) -> list[np.ndarray]:
    """The arrays `save_arrays` wrote, in order."""
    with np.load(path) as saved:
        return [saved[f"w{i}"] for i in range(len(saved.files))]
