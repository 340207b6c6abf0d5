import math

import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras

from sair_keras import ranking

NAN, INF = float("nan"), float("inf")


def test_pessimistic_rank_counts_ties_against_the_target():
    scores = tf.constant([[0.5, 0.1, 0.9, 0.5], [2.0, 1.0, 0.0, -1.0]])
    assert ranking.pessimistic_rank(scores).numpy().tolist() == [2, 0]


def test_a_non_finite_target_score_ranks_last_and_nan_competitors_rank_above():
    scores = tf.constant(
        [[NAN, 0.1, 0.2, 0.3], [INF, 0.1, 0.2, 0.3], [-INF, 0.1, 0.2, 0.3], [0.5, NAN, 0.0, 0.0]]
    )
    last = ranking.LAST
    assert ranking.pessimistic_rank(scores).numpy().tolist() == [last, last, last, 1]


def test_hit_rate_and_ndcg_follow_the_spec():
    rank = tf.constant([0, 1, 4, 5, 9, 10])
    assert ranking.hit_rate(rank, 5).numpy().tolist() == [1, 1, 1, 0, 0, 0]
    expected = [1.0, 1 / math.log2(3), 1 / math.log2(6), 1 / math.log2(7), 1 / math.log2(11), 0.0]
    np.testing.assert_allclose(ranking.ndcg(rank, 10).numpy(), expected, rtol=1e-6)
    # NOT_RANKED is never a hit.
    assert ranking.hit_rate(tf.constant([ranking.NOT_RANKED]), 5).numpy().tolist() == [0]
    assert ranking.ndcg(tf.constant([ranking.NOT_RANKED]), 5).numpy().tolist() == [0]


def test_keras_metrics_average_over_ranked_users_only():
    metric = ranking.RankingNDCG(10)
    assert metric.name == "ndcg_10"
    # ranks [B, 2]: sampled, catalog.
    metric.update_state(None, tf.constant([[0.0, 5.0]]))  # rank 0 → 1
    metric.update_state(None, tf.constant([[2.0, 5.0]]))  # rank 2 → 1/log2(4)
    metric.update_state(None, tf.constant([[-1.0, 0.0]]))  # no negatives: left out
    assert float(metric.result()) == pytest.approx((1 + 1 / math.log2(4)) / 2)
    full = ranking.RankingHitRate(1, catalog=True)
    assert full.name == "full_hr_1"
    full.update_state(None, tf.constant([[-1.0, 0.0], [0.0, 3.0]]))
    assert float(full.result()) == pytest.approx(0.5)
    assert [m.name for m in ranking.all_metrics()] == list(ranking.METRIC_NAMES)


def test_popularity_columns_and_the_lift_over_popularity():
    # ranks [B, 4]: model sampled, model catalog, popularity sampled, popularity catalog.
    ranks = tf.constant([[0.0, 0.0, 3.0, 30.0], [4.0, 40.0, 0.0, 0.0]])
    pop = ranking.RankingNDCG(10, catalog=True, popularity=True)
    pop.update_state(None, ranks)
    assert pop.name == "popularity_full_ndcg_10"
    assert float(pop.result()) == pytest.approx(0.5)  # (0 + 1) / 2
    lift = ranking.RankingOverPopularity("full_ndcg_10")
    lift.update_state(None, ranks)
    assert lift.name == "full_ndcg_10_over_popularity"
    assert float(lift.result()) == pytest.approx(0.0)  # 0.5 − 0.5
    lift = ranking.RankingOverPopularity("hr_5")
    lift.update_state(None, ranks)
    assert float(lift.result()) == pytest.approx((1 + 1) / 2 - (1 + 1) / 2)
    with pytest.raises(ValueError, match="unknown ranking metric 'mrr'"):
        ranking.RankingOverPopularity("mrr")


@pytest.mark.parametrize(
    "metric",
    [
        ranking.RankingHitRate(20),
        ranking.RankingNDCG(10, catalog=True),
        ranking.RankingHitRate(10, catalog=True, popularity=True),
        ranking.RankingOverPopularity("full_hr_20"),
    ],
    ids=lambda m: m.name,
)
def test_metric_config_round_trip(metric):
    again = type(metric).from_config(metric.get_config())
    assert again.get_config() == metric.get_config()
    ranks = tf.constant([[1.0, 12.0, 3.0, 8.0], [25.0, 2.0, 0.0, 1.0]])
    metric.update_state(None, ranks)
    again.update_state(None, ranks)
    assert float(again.result()) == float(metric.result())
    restored = keras.metrics.deserialize(keras.metrics.serialize(metric))
    assert type(restored) is type(metric) and restored.name == metric.name


def test_bad_k_is_refused():
    with pytest.raises(ValueError, match="received 0"):
        ranking.RankingHitRate(0)


def test_catalog_rank_excludes_seen_items_padding_and_unk():
    # Items 0 (pad) and 1 (UNK) never compete; item 3 was seen, so it does not count.
    scores = tf.constant([[9.0, 9.0, 0.5, 0.8, 0.7, 0.1]])
    target = tf.constant([2])
    seen = tf.constant([[0, 3, 2]])
    # Unseen competitors: 4 (0.7 ≥ 0.5) and 5 (0.1): rank 1; the target ranks though seen.
    assert ranking.catalog_rank(scores, target, seen).numpy().tolist() == [1]
    assert ranking.catalog_rank(scores, tf.constant([4]), tf.constant([[0, 0, 0]])).numpy() == [1]


def test_catalog_rank_of_a_non_finite_target_is_last():
    scores = tf.constant([[0.0, 0.0, NAN, 0.8, 0.7, 0.1], [0.0, 0.0, INF, 0.8, 0.7, 0.1]])
    seen = tf.constant([[3], [0]])
    ranks = ranking.catalog_rank(scores, tf.constant([2, 2]), seen).numpy().tolist()
    assert ranks == [ranking.LAST] * 2


def test_a_nan_target_is_a_miss_sampled_and_full():
    scores = tf.constant([[0.0, 0.0, NAN, 0.1, 0.2, 0.3]])
    ranks = ranking.ranks(scores, tf.constant([[2]]), tf.constant([[3, 4]]), tf.constant([[0]]))
    assert ranks.numpy().tolist() == [[ranking.LAST, ranking.LAST]]
    # Even at K larger than the candidate lists (2 negatives, 3 unseen items): a miss.
    for metric in ranking.all_metrics():
        metric.update_state(None, tf.cast(ranks, tf.float32))
        assert float(metric.result()) == 0.0, metric.name


def test_ranks_marks_users_without_negatives():
    scores = tf.constant([[0.0, 0.0, 0.9, 0.5, 0.7], [0.0, 0.0, 0.1, 0.5, 0.7]])
    negatives = tf.constant([[3, 4], [0, 0]])  # the second user has none
    ranks = ranking.ranks(scores, tf.constant([2, 2]), negatives, tf.zeros([2, 1], tf.int32))
    assert ranks.numpy().tolist() == [[0, 0], [ranking.NOT_RANKED, 2]]
    empty = ranking.ranks(scores, tf.constant([2, 2]), tf.zeros([2, 0], tf.int32), negatives)
    assert empty.numpy()[:, 0].tolist() == [ranking.NOT_RANKED] * 2


def test_parse_metric_name():
    assert ranking.parse_metric_name("full_ndcg_10") == ("ndcg", 10, True)
    assert ranking.parse_metric_name("hr_5") == ("hr", 5, False)
    for bad in ("ndcg", "full_mrr_10", "hr_0", "ndcg_x"):
        with pytest.raises(ValueError, match="unknown ranking metric"):
            ranking.parse_metric_name(bad)
