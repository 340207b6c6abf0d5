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


class OwnWeights(keras.callbacks.Callback):
    """The trainable weights at each epoch's end, as training goes on from them."""

    def __init__(self):
        super().__init__()
        self.weights = []

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append([v.numpy() for v in self.model.trainable_weights])


def _fit_recorded(weight_averaging: float, epochs: int = 3):
    tf.keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    seqs = rng.integers(2, CATALOG.num_items, size=(32, 8))
    val = {
        features.ITEM_SEQ: seqs[:16],
        features.TARGET: rng.integers(2, CATALOG.num_items, size=(16, 1)),
        features.NEGATIVES: rng.integers(2, CATALOG.num_items, size=(16, 5)),
    }
    model = build_model(CATALOG, CONFIG)
    train_ds = tf.data.Dataset.from_tensor_slices({features.ITEM_SEQ: seqs}).batch(8)
    val_ds = tf.data.Dataset.from_tensor_slices(val).batch(16)
    config = TrainConfig(epochs=epochs, patience=50, weight_averaging=weight_averaging)
    record = OwnWeights()
    history = train.fit(model, train_ds, val_ds, config, [record], verbose=0)
    return model, val_ds, history.history, record.weights


def test_weight_averaging_validates_and_keeps_the_moving_average():
    model, val_ds, history, own = _fit_recorded(0.6)
    averages = [own[0]]
    for weights in own[1:]:
        averages.append([0.6 * a + 0.4 * w for a, w in zip(averages[-1], weights, strict=True)])
    trained = [v.numpy() for v in model.trainable_weights]
    scores = []
    for average in averages:
        for variable, value in zip(model.trainable_weights, average, strict=True):
            variable.assign(value)
        scores.append(train.evaluate(model, val_ds)["full_ndcg_10"])
    np.testing.assert_allclose(history["val_full_ndcg_10"], scores, atol=1e-6)
    # The trained model is the average at the best epoch (the first of equal bests).
    best = int(np.argmax(history["val_full_ndcg_10"]))
    for got, want in zip(trained, averages[best], strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_training_runs_on_its_own_weights_whatever_the_averaging():
    _, _, _, averaged = _fit_recorded(0.6)
    _, _, plain, own = _fit_recorded(0.0)
    assert "val_full_ndcg_10" in plain
    for got, want in zip(averaged[-1], own[-1], strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_the_weight_average_decay_is_validated():
    with pytest.raises(ConfigError, match="weight_averaging must lie in"):
        TrainConfig(weight_averaging=1.0)
    with pytest.raises(ValueError, match="decay must lie in"):
        train.EpochWeightAverage(0.0)
