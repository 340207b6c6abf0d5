"""Training with early stopping on validation NDCG@10, and evaluation of a trained model."""

from __future__ import annotations

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

EARLY_STOPPING_METRIC = "val_ndcg_10"


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


def compile_model(model: SAIRModel, config: TrainConfig) -> None:
    model.compile(
        optimizer=keras.optimizers.Adam(config.learning_rate),
        metrics=ranking.sampled_metrics(),
    )


def fit(
    model: SAIRModel,
    train: tf.data.Dataset,
    validation: tf.data.Dataset,
    config: TrainConfig,
    callbacks: Iterable[keras.callbacks.Callback] = (),
    verbose: int = 2,
    checkpoint_dir: str | None = None,
) -> keras.callbacks.History:
    """Adam, early stopping on `val_ndcg_10` with `config.patience`, best weights restored.

    The model draws fresh training negatives in every step (`SAIRModel.train_step`).
    With `checkpoint_dir`, every epoch is saved there and a later call with the same
    directory (and a model built alike) continues where that training stopped; the
    returned history then holds every epoch, the earlier ones included.
    """
    compile_model(model, config)
    early = keras.callbacks.EarlyStopping(
        monitor=EARLY_STOPPING_METRIC,
        mode="max",
        patience=config.patience,
        restore_best_weights=True,
    )
    timer = EpochTimer()
    own = [timer, early]
    initial_epoch, epochs = 0, config.epochs
    if checkpoint_dir is not None:
        resumable = TrainingCheckpoint(checkpoint_dir, early, timer)
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
    """Sampled `hr_k`/`ndcg_k` (target among its negatives) and, with `full_catalog`,
    `full_hr_k`/`full_ndcg_k` for k in 10, 20 (target among every unseen item)."""
    sampled, full = [], []
    for batch in dataset:
        sampled.append(ranking.pessimistic_rank(model.candidate_scores(batch)).numpy())
        if full_catalog:
            full.append(model.catalog_rank(batch).numpy())
    result: dict[str, Any] = rank_metrics(np.concatenate(sampled), ranking.CUTOFFS)
    if full_catalog:
        full_metrics = rank_metrics(np.concatenate(full), (10, 20))
        full_metrics.pop("users")
        result.update({f"full_{k}": v for k, v in full_metrics.items()})
    return result


def rank_metrics(ranks: np.ndarray, cutoffs: Iterable[int]) -> dict[str, float]:
    ranks = tf.constant(ranks)
    out = {}
    for k in cutoffs:
        out[f"hr_{k}"] = float(tf.reduce_mean(ranking.hit_rate(ranks, k)))
    for k in cutoffs:
        out[f"ndcg_{k}"] = float(tf.reduce_mean(ranking.ndcg(ranks, k)))
    out["users"] = int(ranks.shape[0])
    return out
