"""TrainingCheckpoint: a fit continued in a new model (a new process) picks up where it was."""

import json

import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras

from sair_keras import features, train
from sair_keras.catalog import Catalog
from sair_keras.checkpoint import STATE, WEIGHT_AVERAGE
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
        self.end_trainable = {}

    def on_epoch_begin(self, epoch, logs=None):
        self.begin_weights[epoch] = self.model.get_weights()
        self.begin_steps[epoch] = int(self.model.optimizer.iterations.numpy())

    def on_epoch_end(self, epoch, logs=None):
        self.end_weights[epoch] = self.model.get_weights()
        self.end_trainable[epoch] = [v.numpy() for v in self.model.trainable_weights]


def _fit(directory, epochs, record, weight_averaging=0.0):
    tf.keras.utils.set_random_seed(0)
    model = build_model(CATALOG, CONFIG)
    train_ds, val_ds = _data()
    config = TrainConfig(
        epochs=epochs, patience=50, steps_per_epoch=STEPS, weight_averaging=weight_averaging
    )
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


def test_a_resumed_fit_continues_the_weight_average(tmp_path):
    first = Record()
    _fit(tmp_path, 2, first, weight_averaging=0.5)
    with np.load(tmp_path / WEIGHT_AVERAGE) as saved:
        average = [saved[f"w{i}"] for i in range(len(saved.files))]
    trainable = [w.numpy() for w in build_model(CATALOG, CONFIG).trainable_weights]
    assert [a.shape for a in average] == [w.shape for w in trainable]

    second = Record()
    model, history = _fit(tmp_path, 3, second, weight_averaging=0.5)
    # Epoch 3 trained on from epoch 2's own weights, not from their average.
    for got, want in zip(second.begin_weights[2], first.end_weights[1], strict=True):
        np.testing.assert_array_equal(got, want)
    # Its validation scored the saved average folded with epoch 3's weights.
    own = second.end_trainable[2]
    expected = [0.5 * a + 0.5 * w for a, w in zip(average, own, strict=True)]
    for variable, value in zip(model.trainable_weights, expected, strict=True):
        variable.assign(value)
    _, val_ds = _data()
    score = train.evaluate(model, val_ds)["ndcg_10"]
    assert history.history["val_ndcg_10"][2] == pytest.approx(score, abs=1e-6)
