"""TrainingCheckpoint: a fit continued in a new model (a new process) picks up where it was."""

import json

import numpy as np
import tensorflow as tf
import tf_keras as keras

from sair_keras import features, train
from sair_keras.catalog import Catalog
from sair_keras.checkpoint import STATE
from sair_keras.config import ModelConfig, TrainConfig
from sair_keras.model import build_model

N = 8
CATALOG = Catalog.synthetic(30, 4, seed=3)
CONFIG = ModelConfig(variant="sair", max_len=N, hidden_dim=8, num_heads=1, num_interests=4, top_k=2)
STEPS = 3


def _data():
    rng = np.random.default_rng(0)
    seqs = rng.integers(2, CATALOG.num_items, size=(48, N))
    train_ds = tf.data.Dataset.from_tensor_slices({features.ITEM_SEQ: seqs}).batch(16).repeat()
    val = {
        features.ITEM_SEQ: seqs[:16],
        features.TARGET: rng.integers(2, CATALOG.num_items, size=(16, 1)),
        features.NEGATIVES: rng.integers(2, CATALOG.num_items, size=(16, 5)),
    }
    return train_ds, tf.data.Dataset.from_tensor_slices(val).batch(16)


class Record(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.end_weights, self.begin_weights, self.begin_steps = {}, {}, {}

    def on_epoch_begin(self, epoch, logs=None):
        self.begin_weights[epoch] = self.model.get_weights()
        self.begin_steps[epoch] = int(self.model.optimizer.iterations.numpy())

    def on_epoch_end(self, epoch, logs=None):
        self.end_weights[epoch] = self.model.get_weights()


def _fit(directory, epochs, record):
    tf.keras.utils.set_random_seed(0)
    model = build_model(CATALOG, CONFIG)
    train_ds, val_ds = _data()
    config = TrainConfig(epochs=epochs, patience=50, steps_per_epoch=STEPS)
    history = train.fit(
        model, train_ds, val_ds, config, callbacks=[record], verbose=0, checkpoint_dir=directory
    )
    return model, history


def test_a_resumed_fit_continues_from_the_last_epoch(tmp_path):
    first = Record()
    _, history_a = _fit(tmp_path, 3, first)
    state = json.loads((tmp_path / STATE).read_text())
    assert state["epochs_done"] == 3 and not state["stopped"]
    assert len(list(tmp_path.glob("epoch-3.*"))) >= 2 and not list(tmp_path.glob("epoch-2.*"))

    second = Record()
    _, history_b = _fit(tmp_path, 5, second)  # a fresh model, as in a new process
    assert sorted(second.begin_weights) == [3, 4]  # only the missing epochs ran
    for got, want in zip(second.begin_weights[3], first.end_weights[2], strict=True):
        np.testing.assert_array_equal(got, want)  # the last weights, not the best ones
    assert second.begin_steps[3] == 3 * STEPS  # Adam's step (and moments) came back
    assert len(history_b.history["val_ndcg_10"]) == 5
    assert history_b.history["val_ndcg_10"][:3] == history_a.history["val_ndcg_10"]
    elapsed = history_b.history["elapsed_seconds"]
    assert elapsed == sorted(elapsed) and elapsed[3] > elapsed[2]


def test_a_stopped_fit_only_restores_its_best_weights(tmp_path):
    model_a, _ = _fit(tmp_path, 3, Record())
    state = json.loads((tmp_path / STATE).read_text())
    state["stopped"] = True  # as when early stopping ended it
    (tmp_path / STATE).write_text(json.dumps(state))

    record = Record()
    model_b, history = _fit(tmp_path, 10, record)
    assert record.begin_weights == {}  # no epoch ran
    assert len(history.history["loss"]) == 3
    for got, want in zip(model_b.get_weights(), model_a.get_weights(), strict=True):
        np.testing.assert_array_equal(got, want)  # both hold the best epoch's weights
