"""Ranking metrics: HR@K and NDCG@K, sampled and full-catalog (docs/MODEL.md, evaluation).

One implementation serves training (early stopping), the TFMA Evaluator and the benchmarks,
so the three cannot disagree. The rank of the target is pessimistic: every other candidate
scoring at least as high as the target ranks above it (ties count against the target, and
so does a candidate whose score is NaN). A target whose own score is not finite (NaN or
±inf) ranks after everything (`LAST`, a miss at every K): a diverged model scores zero,
never a perfect hit.
`HR@K = 1[rank < K]`, `NDCG@K = 1[rank < K] / log2(rank + 2)`, rank 0-based.

Two candidate sets:
  sampled  the target among the user's fixed negatives (`hr_k`, `ndcg_k`; the paper's
           protocol). A user without negatives (fewer unseen items than the protocol asks
           for) has no sampled rank (`NOT_RANKED`) and is left out of these means.
  catalog  the target among every real item the user has not interacted with before it
           (`full_hr_k`, `full_ndcg_k`; the field's protocol). Padding and `[UNK]` never
           compete; the target is ranked even if it occurred earlier in the history.

The evaluation works on a per-example ranks tensor `[B, R]` (`ranks`), whose columns are
`SAMPLED` and `CATALOG` and, in the Evaluator, the same two ranks of the popularity baseline
(`POPULARITY_SAMPLED`, `POPULARITY_CATALOG`), so that the gate can ask whether a model beats
popularity on the same users.

`tfrs.metrics.FactorizedTopK` does not fit here: it cannot exclude each user's seen items
from the catalog and breaks ties optimistically, so the catalog rank is computed directly.
"""

from __future__ import annotations

import tensorflow as tf
import tf_keras as keras

from sair_keras import features
from sair_keras.metric_names import (  # noqa: F401  (re-exported)
    CUTOFFS,
    FULL_CUTOFFS,
    FULL_METRIC_NAMES,
    METRIC_NAMES,
    OVER_POPULARITY_SUFFIX,
    POPULARITY_PREFIX,
    SAMPLED_METRIC_NAMES,
    metric_name,
    parse_metric_name,
)

# Columns of the ranks tensor.
SAMPLED, CATALOG, POPULARITY_SAMPLED, POPULARITY_CATALOG = 0, 1, 2, 3
NOT_RANKED = -1  # the sampled rank of a user without negatives
LAST = 2**24  # the rank of a non-finite target: a miss at every K (exact in float32)


def pessimistic_rank(candidate_scores: tf.Tensor) -> tf.Tensor:
    """`[B, 1 + M]` scores, target in column 0 → `[B]` int32 rank (0 = best).

    Every candidate that does not score strictly below the target ranks above it (ties
    and NaN scores count against the target); a non-finite target ranks `LAST`."""
    target = candidate_scores[:, :1]
    others = candidate_scores[:, 1:]
    rank = tf.reduce_sum(tf.cast(tf.logical_not(others < target), tf.int32), axis=1)
    return tf.where(tf.math.is_finite(target[:, 0]), rank, LAST)


def hit_rate(rank: tf.Tensor, k: int) -> tf.Tensor:
    return tf.cast((rank >= 0) & (rank < k), tf.float32)


def ndcg(rank: tf.Tensor, k: int) -> tf.Tensor:
    r = tf.cast(rank, tf.float32)
    hit = (rank >= 0) & (rank < k)
    return tf.where(hit, 1.0 / (tf.math.log(tf.maximum(r, 0.0) + 2.0) / tf.math.log(2.0)), 0.0)


def seen_counts(seen: tf.Tensor, num_items: tf.Tensor) -> tf.Tensor:
    """`[B, S]` item indices (0-padded) → `[B, num_items]` int32: how often each item
    occurs in each row."""
    seen = tf.cast(seen, tf.int32)
    b = tf.shape(seen)[0]
    rows = tf.broadcast_to(tf.range(b)[:, None], tf.shape(seen))
    return tf.scatter_nd(
        tf.stack([tf.reshape(rows, [-1]), tf.reshape(seen, [-1])], axis=1),
        tf.ones([tf.size(seen)], tf.int32),
        tf.stack([b, tf.cast(num_items, tf.int32)]),
    )


def catalog_rank(scores: tf.Tensor, target: tf.Tensor, seen: tf.Tensor) -> tf.Tensor:
    """Rank of `target` among every real item the user has not seen.

    Args:
      scores: `[B, V]` scores of every item index (padding and `[UNK]` are never ranked).
      target: `[B]` item index.
      seen: `[B, S]` indices of every item the user interacted with before the target
        (0-padded, any order, repeats allowed); the target is ranked even if it occurs there.
    Returns: `[B]` int32; `LAST` when the target's score is not finite.
    """
    v = tf.shape(scores)[1]
    target = tf.cast(target, tf.int32)
    target_score = tf.gather(scores, target[:, None], batch_dims=1)  # [B, 1]
    items = tf.range(v)[None, :]
    eligible = (
        (seen_counts(seen, v) == 0)
        & (items >= features.FIRST_ITEM_INDEX)
        & (items != target[:, None])
    )
    above = tf.logical_not(scores < target_score)
    rank = tf.reduce_sum(tf.cast(eligible & above, tf.int32), axis=1)
    return tf.where(tf.math.is_finite(target_score[:, 0]), rank, LAST)


def ranks(scores: tf.Tensor, target: tf.Tensor, negatives: tf.Tensor, seen: tf.Tensor) -> tf.Tensor:
    """The sampled and the catalog rank of each target from one catalog-wide score matrix.

    Args:
      scores: `[B, V]` scores of every item index.
      target: `[B]` (or `[B, 1]`) item index.
      negatives: `[B, M]` the user's fixed negatives; padding never ranks above the
        target; a row without any (all padding, or M = 0) gets `NOT_RANKED` as its
        sampled rank.
      seen: `[B, S]` every item the user interacted with before the target (0-padded).
    Returns: `[B, 2]` int32, columns `SAMPLED` and `CATALOG`.
    """
    target = tf.reshape(tf.cast(target, tf.int64), [-1])
    negatives = tf.cast(negatives, tf.int64)
    candidates = tf.concat([target[:, None], negatives], axis=1)
    candidate_scores = tf.gather(scores, candidates, batch_dims=1)
    # Padding among the negatives (an item the model does not know) never competes.
    real = tf.concat(
        [tf.ones_like(target[:, None], tf.bool), negatives >= features.FIRST_ITEM_INDEX], 1
    )
    candidate_scores = tf.where(real, candidate_scores, -float("inf"))
    sampled = pessimistic_rank(candidate_scores)
    has_negatives = tf.reduce_any(negatives >= features.FIRST_ITEM_INDEX, axis=1)
    sampled = tf.where(has_negatives, sampled, NOT_RANKED)
    return tf.stack([sampled, catalog_rank(scores, target, seen)], axis=1)


_FUNCTIONS = {"hr": hit_rate, "ndcg": ndcg}


class _RankMetric(keras.metrics.Mean):
    """Mean of a per-user ranking metric over a ranks tensor `y_pred` `[B, R]` (`ranks`;
    `y_true` is unused: the ranks carry the label). Users without a rank in the chosen
    column (`NOT_RANKED`) are left out of the mean."""

    kind = ""

    def __init__(
        self,
        k: int = 10,
        catalog: bool = False,
        popularity: bool = False,
        name: str | None = None,
        **kwargs,
    ):
        if k < 1:
            raise ValueError(f"{type(self).__name__}: k must be >= 1, received {k}")
        super().__init__(name=name or metric_name(self.kind, k, catalog, popularity), **kwargs)
        self.k = k
        self.catalog = bool(catalog)
        self.popularity = bool(popularity)

    def _column(self, popularity: bool) -> int:
        if popularity:
            return POPULARITY_CATALOG if self.catalog else POPULARITY_SAMPLED
        return CATALOG if self.catalog else SAMPLED

    def _values(self, y_pred) -> tuple[tf.Tensor, tf.Tensor]:
        """(per-user value, weight 1 where the user is ranked)."""
        rank = tf.cast(tf.convert_to_tensor(y_pred)[:, self._column(self.popularity)], tf.int32)
        return _FUNCTIONS[self.kind](rank, self.k), tf.cast(rank >= 0, tf.float32)

    def update_state(self, y_true, y_pred, sample_weight=None):
        values, weight = self._values(y_pred)
        if sample_weight is not None:
            weight = weight * tf.reshape(tf.cast(sample_weight, tf.float32), [-1])
        return super().update_state(values, sample_weight=weight)

    def get_config(self):
        config = super().get_config()
        config.update(k=self.k, catalog=self.catalog, popularity=self.popularity)
        return config


@keras.saving.register_keras_serializable(package="sair")
class RankingHitRate(_RankMetric):
    """HR@K: the share of users whose target ranks in the top K (sampled, or with
    `catalog=True` among every unseen item; `popularity=True` reads the popularity
    baseline's rank instead of the model's).

    >>> m = RankingHitRate(10, catalog=True)   # full_hr_10
    >>> m.update_state(None, [[3, 12], [-1, 4]])   # ranks [B, 2]: sampled, catalog
    """

    kind = "hr"


@keras.saving.register_keras_serializable(package="sair")
class RankingNDCG(_RankMetric):
    """NDCG@K: 1 / log2(rank + 2) when the target ranks in the top K, else 0, averaged over
    users (sampled or full-catalog, like `RankingHitRate`)."""

    kind = "ndcg"


@keras.saving.register_keras_serializable(package="sair")
class RankingOverPopularity(_RankMetric):
    """A ranking metric of the model minus the same metric of the popularity baseline, on
    the same users: `mean(m(rank) − m(popularity rank))`; positive when the model beats
    popularity. Needs the popularity columns of the ranks tensor (`[B, 4]`).

    Args:
      metric: a ranking metric name (`full_ndcg_10`, `hr_10`, …).
    """

    def __init__(self, metric: str = "full_ndcg_10", name: str | None = None, **kwargs):
        kind, k, catalog = parse_metric_name(metric)
        for key in ("k", "catalog", "popularity"):
            kwargs.pop(key, None)
        super().__init__(k, catalog, False, name=name or metric + OVER_POPULARITY_SUFFIX, **kwargs)
        self.kind = kind
        self.metric = metric

    def _values(self, y_pred):
        model, weight = super()._values(y_pred)
        y_pred = tf.convert_to_tensor(y_pred)
        rank = tf.cast(y_pred[:, self._column(True)], tf.int32)
        return model - _FUNCTIONS[self.kind](rank, self.k), weight

    def get_config(self):
        config = super().get_config()
        for key in ("k", "catalog", "popularity"):
            config.pop(key)
        config["metric"] = self.metric
        return config


def sampled_metrics() -> list[keras.metrics.Metric]:
    """hr_5, hr_10, hr_20, ndcg_5, ndcg_10, ndcg_20."""
    return [RankingHitRate(k) for k in CUTOFFS] + [RankingNDCG(k) for k in CUTOFFS]


def full_metrics() -> list[keras.metrics.Metric]:
    """full_hr_10, full_hr_20, full_ndcg_10, full_ndcg_20."""
    return [RankingHitRate(k, catalog=True) for k in FULL_CUTOFFS] + [
        RankingNDCG(k, catalog=True) for k in FULL_CUTOFFS
    ]


def all_metrics() -> list[keras.metrics.Metric]:
    """Every metric of `METRIC_NAMES`, in that order."""
    return sampled_metrics() + full_metrics()


def metric_from_name(name: str, popularity: bool = False) -> keras.metrics.Metric:
    kind, k, catalog = parse_metric_name(name)
    return (RankingHitRate if kind == "hr" else RankingNDCG)(
        k, catalog=catalog, popularity=popularity
    )
