"""Ranking metrics: HR@K and NDCG@K, sampled and full-catalog (SAIR_SPEC §7).

One implementation serves training (early stopping), the TFMA Evaluator and the benchmarks,
so the three cannot disagree. The rank of the target is pessimistic: every other candidate
scoring at least as high as the target ranks above it (ties count against the target).
`HR@K = 1[rank < K]`, `NDCG@K = 1[rank < K] / log2(rank + 2)`, rank 0-based.

`tfrs.metrics.FactorizedTopK` does not fit here: it cannot exclude each user's seen items
from the catalog and breaks ties optimistically, so the catalog rank is computed directly.
"""

from __future__ import annotations

import tensorflow as tf
import tf_keras as keras

from sair_keras import features

CUTOFFS = (5, 10, 20)
METRIC_NAMES = tuple(f"{m}_{k}" for m in ("hr", "ndcg") for k in CUTOFFS)


def pessimistic_rank(candidate_scores: tf.Tensor) -> tf.Tensor:
    """`[B, 1 + M]` scores, target in column 0 → `[B]` int32 rank (0 = best)."""
    target = candidate_scores[:, :1]
    return tf.reduce_sum(tf.cast(candidate_scores[:, 1:] >= target, tf.int32), axis=1)


def hit_rate(rank: tf.Tensor, k: int) -> tf.Tensor:
    return tf.cast(rank < k, tf.float32)


def ndcg(rank: tf.Tensor, k: int) -> tf.Tensor:
    r = tf.cast(rank, tf.float32)
    return tf.where(rank < k, 1.0 / (tf.math.log(r + 2.0) / tf.math.log(2.0)), 0.0)


def catalog_rank(scores: tf.Tensor, target: tf.Tensor, seen: tf.Tensor) -> tf.Tensor:
    """Rank of `target` among every real item the user has not seen.

    Args:
      scores: `[B, V]` scores of every item index (padding and `[UNK]` are never ranked).
      target: `[B]` item index.
      seen: `[B, S]` item indices of the user's history (0-padded); the target is ranked
        even if it occurs there.
    Returns: `[B]` int32.
    """
    b, v = tf.shape(scores)[0], tf.shape(scores)[1]
    target = tf.cast(target, tf.int32)
    seen = tf.cast(seen, tf.int32)
    target_score = tf.gather(scores, target[:, None], batch_dims=1)  # [B, 1]
    rows = tf.broadcast_to(tf.range(b)[:, None], tf.shape(seen))
    seen_count = tf.scatter_nd(
        tf.stack([tf.reshape(rows, [-1]), tf.reshape(seen, [-1])], axis=1),
        tf.ones([tf.size(seen)], tf.int32),
        tf.stack([b, v]),
    )  # [B, V]: how often each item occurs in the history
    items = tf.range(v)[None, :]
    eligible = (seen_count == 0) & (items >= features.FIRST_ITEM_INDEX) & (items != target[:, None])
    return tf.reduce_sum(tf.cast(eligible & (scores >= target_score), tf.int32), axis=1)


class _RankMetric(keras.metrics.Mean):
    """Mean of a per-user ranking metric over candidate scores `y_pred` `[B, 1 + M]` with the
    target in column 0 (`y_true` is unused: the layout carries the label)."""

    fn = None

    def __init__(self, k: int = 10, name: str | None = None, **kwargs):
        if k < 1:
            raise ValueError(f"{type(self).__name__}: k must be >= 1, received {k}")
        super().__init__(name=name or f"{self.prefix}_{k}", **kwargs)
        self.k = k

    def update_state(self, y_true, y_pred, sample_weight=None):
        rank = pessimistic_rank(tf.convert_to_tensor(y_pred))
        return super().update_state(type(self).fn(rank, self.k), sample_weight=sample_weight)

    def get_config(self):
        config = super().get_config()
        config["k"] = self.k
        return config


@keras.saving.register_keras_serializable(package="sair")
class SampledHitRate(_RankMetric):
    """Sampled HR@K: 1 when the target ranks in the top K of its candidates."""

    prefix = "hr"
    fn = staticmethod(hit_rate)


@keras.saving.register_keras_serializable(package="sair")
class SampledNDCG(_RankMetric):
    """Sampled NDCG@K: 1 / log2(rank + 2) when the target ranks in the top K."""

    prefix = "ndcg"
    fn = staticmethod(ndcg)


def sampled_metrics() -> list[keras.metrics.Metric]:
    """hr_5, hr_10, hr_20, ndcg_5, ndcg_10, ndcg_20."""
    return [SampledHitRate(k) for k in CUTOFFS] + [SampledNDCG(k) for k in CUTOFFS]
