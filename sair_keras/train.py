"""Training with early stopping on a validation ranking metric (`TrainConfig.
early_stopping_metric`, by default the full-catalog NDCG@10), and evaluation of a trained
model."""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from typing import Any

import numpy as np
import tensorflow as tf
import tf_keras as keras

from sair_keras import ranking
from sair_keras.checkpoint import TrainingCheckpoint
from sair_keras.config import TrainConfig
from sair_keras.model import SAIRModel


class EpochTimer(keras.callbacks.Callback):
    """Records wall seconds per epoch and since the start, in the logs."""

    def on_train_begin(self, logs=None):
        self.start = time.monotonic()
        self.epoch_seconds: list[float] = []

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = time.monotonic()

    def on_epoch_end(self, epoch, logs=None):
        self.epoch_seconds.append(time.monotonic() - self._epoch_start)
        if logs is not None:
            logs["epoch_seconds"] = self.epoch_seconds[-1]
            logs["elapsed_seconds"] = time.monotonic() - self.start


def fold_weights(
    average: list[np.ndarray] | None, weights: list[np.ndarray], decay: float
) -> list[np.ndarray]:
    """One step of the exponential moving average, `decay·average + (1 − decay)·weights`
    per array; `weights` themselves (copied) when there is no average yet."""
    if average is None:
        return [np.array(w, copy=True) for w in weights]
    return [decay * a + (1 - decay) * w for a, w in zip(average, weights, strict=True)]


class EpochWeightAverage(keras.callbacks.Callback):
    """Validation on the exponential moving average of the weights at the ends of epochs.

    After every epoch the trainable weights `w` are folded into the average,
    `w̄ ← decay·w̄ + (1 − decay)·w` (the first epoch's weights start it). An epoch's
    validation scores `w̄`, and its `on_epoch_end` callbacks placed before this one see
    `w̄` too (so an `EarlyStopping` keeps the best average as its best weights); then the
    weights go back to `w` and training goes on from them, as without averaging.

    Put it after the `EarlyStopping` and before a `TrainingCheckpoint` (which saves `w`
    and, given this callback, the average). `fit` places it when
    `TrainConfig.weight_averaging` is above 0.

    Args:
      decay: β in (0, 1); a longer memory as it nears 1.
    """

    def __init__(self, decay: float):
        super().__init__()
        if not 0 < decay < 1:
            raise ValueError(f"decay must lie in (0, 1), got {decay}")
        self.decay = decay
        self.average: list[np.ndarray] | None = None
        self._own: list[np.ndarray] | None = None
        self._folded = False

    def on_epoch_begin(self, epoch, logs=None):
        self._folded = False

    def _fold(self) -> list[np.ndarray]:
        weights = [v.numpy() for v in self.model.trainable_weights]
        self.average = fold_weights(self.average, weights, self.decay)
        self._folded = True
        return weights

    def _assign(self, values: list[np.ndarray]) -> None:
        for variable, value in zip(self.model.trainable_weights, values, strict=True):
            variable.assign(value)

    def on_test_begin(self, logs=None):
        if self._folded:  # validated twice in an epoch: the average is in place already
            return
        self._own = self._fold()
        self._assign(self.average)

    def on_epoch_end(self, epoch, logs=None):
        if self._own is not None:
            self._assign(self._own)
            self._own = None
        elif not self._folded:  # an epoch without validation (`eval_every`)
            self._fold()


def compile_model(model: SAIRModel, config: TrainConfig, jit_compile: bool = False) -> None:
    """Adam; validation computes every metric of `ranking.METRIC_NAMES` (sampled and
    full-catalog) from one catalog-wide score matrix per batch. `jit_compile`: XLA (slower
    on CPU, docs/BENCHMARKS.md)."""
    with model.distribute_strategy.scope():  # the metrics live where the model does
        metrics = ranking.all_metrics()
        if config.early_stopping_metric not in ranking.METRIC_NAMES:
            metrics.append(ranking.metric_from_name(config.early_stopping_metric))
        model.compile(
            optimizer=keras.optimizers.Adam(config.learning_rate),
            metrics=metrics,
            jit_compile=jit_compile,
        )


def learning_rate_at(epoch: int, config: TrainConfig) -> float:
    """Adam's learning rate in epoch `epoch` (from 0) under `config.learning_rate_schedule`."""
    if config.learning_rate_schedule == "cosine":
        return config.learning_rate * (1 + math.cos(math.pi * epoch / config.epochs)) / 2
    return config.learning_rate


def fit(
    model: SAIRModel,
    train: tf.data.Dataset,
    validation: tf.data.Dataset,
    config: TrainConfig,
    callbacks: Iterable[keras.callbacks.Callback] = (),
    verbose: int = 2,
    checkpoint_dir: str | None = None,
) -> keras.callbacks.History:
    """Adam (its learning rate set every epoch by `config.learning_rate_schedule`), early
    stopping on `val_<config.early_stopping_metric>` with `config.patience`, best weights
    restored; with `config.weight_averaging`, validated and restored on the weights'
    moving average (`EpochWeightAverage`).

    The model draws fresh training negatives in every step (`SAIRModel.train_step`).
    With `checkpoint_dir`, every epoch is saved there and a later call with the same
    directory (and a model built alike) continues where that training stopped; the
    returned history then holds every epoch, the earlier ones included.
    """
    compile_model(model, config)
    early = keras.callbacks.EarlyStopping(
        monitor="val_" + config.early_stopping_metric,
        mode="max",
        patience=config.patience,
        restore_best_weights=True,
    )
    timer = EpochTimer()
    own = [timer, early]
    averaging = None
    if config.weight_averaging > 0:  # after `early` (its best weights: the average's)
        averaging = EpochWeightAverage(config.weight_averaging)
        own.append(averaging)
    if config.learning_rate_schedule != "constant":
        own.append(keras.callbacks.LearningRateScheduler(lambda e, _: learning_rate_at(e, config)))
    initial_epoch, epochs = 0, config.epochs
    if checkpoint_dir is not None:
        resumable = TrainingCheckpoint(checkpoint_dir, early, timer, averaging)
        own.append(resumable)
        initial_epoch = resumable.initial_epoch
        if resumable.stopped:  # early stopping had ended it: only restore the best weights
            epochs = initial_epoch
    tf.random.set_seed(config.seed + initial_epoch)  # a resumed run draws new negatives
    history = model.fit(
        train,
        validation_data=validation,
        epochs=epochs,
        initial_epoch=initial_epoch,
        steps_per_epoch=config.steps_per_epoch,
        validation_freq=config.eval_every,
        callbacks=[*own, *callbacks],
        verbose=verbose,
    )
    if checkpoint_dir is not None:
        history.history = resumable.history
        history.epoch = list(range(len(resumable.history.get("loss", []))))
    return history


def evaluate(model: SAIRModel, dataset: tf.data.Dataset, full_catalog: bool = True) -> dict:
    """Sampled `hr_k`/`ndcg_k` (target among its negatives; the users that have them) and,
    with `full_catalog`, `full_hr_k`/`full_ndcg_k` for k in 10, 20 (target among every item
    the user has not interacted with before it); `users` and, when some users have no
    negatives, `users_sampled`."""
    ranks = np.concatenate([model.eval_ranks(batch).numpy() for batch in dataset])
    return ranks_to_metrics(ranks, full_catalog)


def ranks_to_metrics(ranks: np.ndarray, full_catalog: bool = True) -> dict[str, Any]:
    """The metrics of `evaluate` from a `[U, 2]` ranks array (`ranking.ranks`)."""
    ranks = np.asarray(ranks).astype(np.int64)
    sampled = ranks[:, ranking.SAMPLED]
    sampled = sampled[sampled != ranking.NOT_RANKED]
    result: dict[str, Any] = rank_metrics(sampled, ranking.CUTOFFS)
    result["users"] = int(ranks.shape[0])
    if len(sampled) != len(ranks):
        result["users_sampled"] = int(len(sampled))
    if full_catalog:
        full_metrics = rank_metrics(ranks[:, ranking.CATALOG], ranking.FULL_CUTOFFS)
        full_metrics.pop("users")
        result.update({f"full_{k}": v for k, v in full_metrics.items()})
    return result


def rank_metrics(ranks: np.ndarray, cutoffs: Iterable[int]) -> dict[str, float]:
    """`hr_k`, `ndcg_k` means over `ranks` (0 for no ranks) and `users`."""
    ranks = tf.constant(np.asarray(ranks, dtype=np.int64).reshape(-1))
    if ranks.shape[0] == 0:
        out = {f"{m}_{k}": 0.0 for m in ("hr", "ndcg") for k in cutoffs}
        return {**out, "users": 0}
    out = {}
    for k in cutoffs:
        out[f"hr_{k}"] = float(tf.reduce_mean(ranking.hit_rate(ranks, k)))
    for k in cutoffs:
        out[f"ndcg_{k}"] = float(tf.reduce_mean(ranking.ndcg(ranks, k)))
    out["users"] = int(ranks.shape[0])
    return out
