"""The TFX Trainer's module: `run_fn` trains SAIR on the SequenceExampleGen examples and
exports the serving SavedModel (see export.py). Hyper-parameters come through
`custom_config`: {"model": ModelConfig fields, "train": TrainConfig fields, "top_n": int}.

Training runs under the strategy the environment names (`distribution`): one process, the
GPUs of one machine, or every worker of a `TF_CONFIG` cluster, by the same code. Each epoch's
losses and validation metrics go to `<model_run_dir>/training_history.json`.

With `custom_config["checkpoint_root"]` (a local output root's `trainer_checkpoints/`) a
single-replica Trainer saves every epoch in a folder keyed by the examples and the settings,
`checkpoint_dir`; a Trainer rerun on the same examples and settings after its process died
continues at the next epoch, early stopping included. The folder goes once the model is
exported. (TFX gives every execution a new run directory, so that one cannot serve.)

With `custom_config["warm_start"]` and a base model (the pipeline passes the last blessed
one), the model starts from that model's weights, item rows matched by raw id (see
`warm_start`); every exported model carries the files a later warm start reads.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import shutil

import tensorflow as tf
import tf_keras as keras

from sair_keras import checkpoint, data, distribution, export, features, train, warm_start
from sair_keras.catalog import Catalog
from sair_keras.config import (
    FULL_SOFTMAX_MAX_ITEMS,
    ModelConfig,
    TrainConfig,
    resolve_training_loss,
)
from sair_keras.model import build_model

LOG = logging.getLogger("sair.trainer")


_LOGGED = (
    "loss",
    "ranking_loss",
    "decov_loss",
    "val_hr_10",
    "val_ndcg_10",
    "val_full_hr_10",
    "val_full_ndcg_10",
)


class EpochLog(keras.callbacks.Callback):
    """A log line every `every` epochs (and the first): losses, validation metrics,
    seconds; at the end, the best epoch by `monitor`, whose weights training restores."""

    def __init__(self, every: int = 1, monitor: str = "val_full_ndcg_10"):
        super().__init__()
        self.every = max(1, every)
        self.monitor = monitor
        self.best: tuple[int, float] | None = None
        self.epochs = 0

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        self.epochs = epoch + 1
        value = logs.get(self.monitor)
        if value is not None and (self.best is None or value > self.best[1]):
            self.best = (epoch + 1, float(value))
        if epoch == 0 or (epoch + 1) % self.every == 0:
            shown = ", ".join(f"{k} {v:.4f}" for k, v in logs.items() if k in _LOGGED)
            LOG.info("epoch %d: %s (%.1f s)", epoch + 1, shown, logs.get("epoch_seconds", 0.0))

    def on_train_end(self, logs=None):
        if self.best is not None:
            LOG.info(
                "training ended after %d epochs; best epoch %d (%s %.4f), its weights kept",
                self.epochs,
                self.best[0],
                self.monitor,
                self.best[1],
            )


def log_every(epochs: int, lines: int = 10) -> int:
    """Epochs between log lines so that a run prints about `lines` of them."""
    return max(1, -(-epochs // lines))


def examples_root(file_patterns: list[str]) -> str:
    """`<examples uri>` from a split's file pattern `<examples uri>/Split-train/*`."""
    return os.path.dirname(os.path.dirname(file_patterns[0]))


HISTORY_FILE = "training_history.json"


def checkpoint_dir(
    root: str,
    examples: str,
    model_config: ModelConfig,
    train_config: TrainConfig,
    base_model: str | None = None,
) -> str:
    """The Trainer's checkpoint folder for these examples and settings (and the model it
    started from, if any); the epoch budget is left out, so a rerun with more (or fewer)
    epochs continues the same training."""
    train = {k: v for k, v in train_config.to_dict().items() if k != "epochs"}
    key = {"examples": examples, "model": model_config.to_dict(), "train": train}
    if base_model:
        key["base_model"] = base_model
    key = json.dumps(key, sort_keys=True)
    return os.path.join(root, hashlib.sha256(key.encode()).hexdigest()[:12])


def objective_description(model_config: ModelConfig, num_items: int) -> str:
    """The training objective a run uses, and why when `auto` chose it."""
    loss = resolve_training_loss(model_config, num_items).training_loss
    if model_config.training_loss != "auto":
        return loss
    return (
        f"{loss} (auto: {num_items - features.FIRST_ITEM_INDEX:,} items, the full softmax "
        f"up to {FULL_SOFTMAX_MAX_ITEMS:,})"
    )


def run_fn(fn_args) -> None:
    strategy = distribution.strategy_from_environment()  # before TensorFlow runs any op
    chief = distribution.is_chief(strategy)
    custom = dict(fn_args.custom_config or {})
    model_config = ModelConfig.from_dict(custom.get("model", {}))
    train_config = TrainConfig.from_dict(custom.get("train", {}))
    catalog = Catalog.load(
        os.path.join(examples_root(fn_args.train_files), features.VOCABULARY_SUBDIR)
    )
    if catalog.max_len and catalog.max_len != model_config.max_len:  # data.max_len "auto"
        if chief:
            LOG.info("max_len %d (chosen by the ingestion)", catalog.max_len)
        model_config = dataclasses.replace(model_config, max_len=catalog.max_len)
    if strategy.num_replicas_in_sync > 1:
        LOG.info(
            "training on %d replicas (%s)", strategy.num_replicas_in_sync, type(strategy).__name__
        )
    with strategy.scope():
        model = build_model(catalog, model_config)
    if chief:
        LOG.info("objective: %s", objective_description(model_config, catalog.num_items))
        if train_config.weight_averaging:
            LOG.info(
                "weights: validated and kept as their moving average over epochs "
                "(weight_averaging %g)",
                train_config.weight_averaging,
            )
    base_model = None
    if custom.get("warm_start"):
        if warm_start.available(fn_args.base_model):
            started = warm_start.restore(model, catalog, model_config, fn_args.base_model)
            if started is not None:
                base_model = fn_args.base_model
                if chief:
                    LOG.info("warm start from the last blessed model: %s", started.describe())
        elif chief:
            LOG.info("warm start: no blessed model to start from yet, training from scratch")
    train_ds = data.train_dataset(
        fn_args.train_files, train_config.batch_size, model_config.max_len, seed=train_config.seed
    )
    eval_ds = data.eval_dataset(fn_args.eval_files, data.EVAL_BATCH_SIZE, model_config.max_len)
    run_dir = distribution.worker_path(fn_args.model_run_dir, strategy)
    saved = None
    if custom.get("checkpoint_root") and strategy.num_replicas_in_sync == 1:
        examples = examples_root(fn_args.train_files)
        saved = checkpoint_dir(
            custom["checkpoint_root"], examples, model_config, train_config, base_model
        )
        state = os.path.join(saved, checkpoint.STATE)
        if tf.io.gfile.exists(state):
            with tf.io.gfile.GFile(state) as f:
                done = json.load(f)["epochs_done"]
            LOG.info("resuming training at epoch %d (%s)", done + 1, saved)
    if train_config.epochs > 0:
        callbacks = [keras.callbacks.TensorBoard(log_dir=run_dir)]
        if chief:
            monitor = "val_" + train_config.early_stopping_metric
            callbacks.insert(0, EpochLog(log_every(train_config.epochs), monitor))
        history = train.fit(
            model,
            train_ds,
            eval_ds,
            train_config,
            callbacks=callbacks,
            verbose=0,
            checkpoint_dir=saved,
        )
        tf.io.gfile.makedirs(run_dir)
        with tf.io.gfile.GFile(os.path.join(run_dir, HISTORY_FILE), "w") as f:
            json.dump({k: [float(v) for v in vs] for k, vs in history.history.items()}, f)
    else:
        LOG.warning("train.epochs is 0: exporting the untrained model")
    serving_dir = distribution.worker_path(fn_args.serving_model_dir, strategy)
    export.export_serving_model(model, catalog, serving_dir, top_n=int(custom.get("top_n", 10)))
    warm_start.save(model, catalog, model_config, serving_dir)
    if saved is not None:  # exported: nothing left to resume
        shutil.rmtree(saved, ignore_errors=True)
