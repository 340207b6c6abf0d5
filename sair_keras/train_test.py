"""train.fit's learning-rate schedule: each epoch trains at the rate the schedule names
(Keras passes the schedule the epoch's index, so a resumed fit continues it)."""

import math

import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras

from sair_keras import features, train
from sair_keras.catalog import Catalog
from sair_keras.config import ConfigError, ModelConfig, TrainConfig
from sair_keras.model import build_model

CATALOG = Catalog.synthetic(30, 4, seed=3)
CONFIG = ModelConfig(variant="sair", max_len=8, hidden_dim=8, num_interests=4, top_k=2)


def test_cosine_falls_from_the_peak_towards_zero_over_the_budget():
    config = TrainConfig(learning_rate=2e-3, learning_rate_schedule="cosine", epochs=4)
    rates = [train.learning_rate_at(e, config) for e in range(4)]
    assert rates[0] == pytest.approx(2e-3)
    assert rates[2] == pytest.approx(1e-3)
    assert rates == sorted(rates, reverse=True) and rates[3] == pytest.approx(
        1e-3 * (1 - math.sqrt(0.5))
    )
    constant = TrainConfig(learning_rate=2e-3, learning_rate_schedule="constant")
    assert train.learning_rate_at(3, constant) == 2e-3


def test_an_unknown_schedule_is_refused():
    with pytest.raises(ConfigError, match="unknown learning_rate_schedule 'linear'"):
        TrainConfig(learning_rate_schedule="linear")


class LearningRates(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.rates = {}

    def on_train_batch_begin(self, batch, logs=None):
        epoch = len(self.rates) if batch == 0 else len(self.rates) - 1
        self.rates[epoch] = float(keras.backend.get_value(self.model.optimizer.learning_rate))


def test_each_epoch_trains_at_the_scheduled_rate():
    record = LearningRates()
    config = TrainConfig(epochs=4, patience=50, learning_rate_schedule="cosine")
    rng = np.random.default_rng(0)
    seqs = rng.integers(2, CATALOG.num_items, size=(16, 8))
    val = {
        features.ITEM_SEQ: seqs,
        features.TARGET: rng.integers(2, CATALOG.num_items, size=(16, 1)),
        features.NEGATIVES: rng.integers(2, CATALOG.num_items, size=(16, 5)),
    }
    model = build_model(CATALOG, CONFIG)
    train_ds = tf.data.Dataset.from_tensor_slices({features.ITEM_SEQ: seqs}).batch(8)
    val_ds = tf.data.Dataset.from_tensor_slices(val).batch(16)
    train.fit(model, train_ds, val_ds, config, [record], verbose=0)
    want = [train.learning_rate_at(e, config) for e in range(4)]
    np.testing.assert_allclose([record.rates[e] for e in range(4)], want, rtol=1e-6)
