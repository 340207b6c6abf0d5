import math

import numpy as np
import pytest
import tensorflow as tf

from sair_keras import ranking


def test_pessimistic_rank_counts_ties_against_the_target():
    scores = tf.constant([[0.5, 0.1, 0.9, 0.5], [2.0, 1.0, 0.0, -1.0]])
    assert ranking.pessimistic_rank(scores).numpy().tolist() == [2, 0]


def test_hit_rate_and_ndcg_follow_the_spec():
    rank = tf.constant([0, 1, 4, 5, 9, 10])
    assert ranking.hit_rate(rank, 5).numpy().tolist() == [1, 1, 1, 0, 0, 0]
    expected = [1.0, 1 / math.log2(3), 1 / math.log2(6), 1 / math.log2(7), 1 / math.log2(11), 0.0]
    np.testing.assert_allclose(ranking.ndcg(rank, 10).numpy(), expected, rtol=1e-6)


def test_keras_metrics_average_over_users():
    metric = ranking.SampledNDCG(10)
    assert metric.name == "ndcg_10"
    metric.update_state(None, tf.constant([[1.0, 0.0, 0.0]]))  # rank 0 → 1
    metric.update_state(None, tf.constant([[0.0, 1.0, 0.0]]))  # tie at 0 → rank 2
    assert float(metric.result()) == pytest.approx((1 + 1 / math.log2(4)) / 2)
    hr = ranking.SampledHitRate(1)
    hr.update_state(None, tf.constant([[1.0, 0.0], [0.0, 1.0]]))
    assert float(hr.result()) == pytest.approx(0.5)
    assert [m.name for m in ranking.sampled_metrics()] == list(ranking.METRIC_NAMES)


def test_metric_config_round_trip():
    for cls in (ranking.SampledHitRate, ranking.SampledNDCG):
        m = cls.from_config(cls(20).get_config())
        assert (m.k, m.name) == (20, f"{m.name.split('_')[0]}_20")
    with pytest.raises(ValueError, match="received 0"):
        ranking.SampledHitRate(0)


def test_catalog_rank_excludes_seen_items_padding_and_unk():
    # Items 0 (pad) and 1 (UNK) never compete; item 3 was seen, so it does not count.
    scores = tf.constant([[9.0, 9.0, 0.5, 0.8, 0.7, 0.1]])
    target = tf.constant([2])
    seen = tf.constant([[0, 3, 2]])
    # Unseen competitors: 4 (0.7 ≥ 0.5) and 5 (0.1): rank 1.
    assert ranking.catalog_rank(scores, target, seen).numpy().tolist() == [1]
    assert ranking.catalog_rank(scores, tf.constant([4]), tf.constant([[0, 0, 0]])).numpy() == [1]
