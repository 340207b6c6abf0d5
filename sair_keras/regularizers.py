"""Losses on the interests: DeCov, the decorrelation of the pool (docs/MODEL.md §5), and the
interest balance, a load-balancing term on the top-K selection (an ablation)."""

from __future__ import annotations

import tensorflow as tf
import tf_keras as keras


def decov(pool: tf.Tensor) -> tf.Tensor:
    """`L_d = ½ (‖Z‖²_F − ‖diag(Z)‖²₂)` with `Z = (1/D)(C − C̄)(C − C̄)ᵀ`.

    `pool` C is `[L, D]`; `C̄` is each interest's mean over its D dimensions (the axis is a
    choice the spec names), so Z `[L, L]` is the covariance between interests and L_d
    penalises only its off-diagonal entries.
    """
    centered = pool - tf.reduce_mean(pool, axis=1, keepdims=True)
    z = tf.matmul(centered, centered, transpose_b=True) / tf.cast(tf.shape(pool)[1], pool.dtype)
    return 0.5 * (tf.reduce_sum(tf.square(z)) - tf.reduce_sum(tf.square(tf.linalg.diag_part(z))))


@keras.saving.register_keras_serializable(package="sair")
class DeCovRegularizer(keras.regularizers.Regularizer):
    """`weight · decov(C)` as a Keras weight regularizer on the interest pool.

    Keras adds it to `model.losses`; `SAIRModel` reports it as `decov_loss`, apart from the
    BCE loss.

    Args:
      weight: λ ≥ 0 (the paper uses 1).
    """

    def __init__(self, weight: float = 1.0):
        if weight < 0:
            raise ValueError(f"DeCovRegularizer: weight must be >= 0, received {weight}")
        self.weight = float(weight)

    def __call__(self, pool: tf.Tensor) -> tf.Tensor:
        return self.weight * decov(pool)

    def get_config(self):
        return {"weight": self.weight}


def interest_balance(relevance: tf.Tensor, indices: tf.Tensor, mask: tf.Tensor) -> tf.Tensor:
    """`L · Σ_l f_l · P_l` over the real positions: the load-balancing loss of the Switch
    Transformer (Fedus et al., 2022, eq. 4) with interests as experts and K slots each.

    `f_l` is the share of the kept slots (K per real position) that hold interest l (a
    count, no gradient); `P_l` is the mean of `softmax(C_r')_l` over the real positions.
    The loss is 1 when both are uniform and grows to L when one interest takes every slot
    and all the probability; its gradient lowers the probability of the most used
    interests.

    Args: relevance `C_r'` `[B, N, L]` (what top-K ranks), indices int `[B, N, K]` (the
      kept interests), mask bool `[B, N]` (real positions).
    Returns: a scalar.
    """
    num_interests = tf.shape(relevance)[-1]
    real = tf.cast(mask, relevance.dtype)[..., None]  # [B, N, 1]
    positions = tf.maximum(tf.reduce_sum(real), 1.0)
    slots = tf.reduce_sum(tf.one_hot(indices, num_interests, dtype=relevance.dtype), axis=-2)
    top_k = tf.cast(tf.shape(indices)[-1], relevance.dtype)
    f = tf.reduce_sum(slots * real, axis=[0, 1]) / (positions * top_k)  # [L], sums to 1
    p = tf.reduce_sum(tf.nn.softmax(relevance, axis=-1) * real, axis=[0, 1]) / positions
    return tf.cast(num_interests, relevance.dtype) * tf.reduce_sum(f * p)


@keras.saving.register_keras_serializable(package="sair")
class InterestBalance(keras.layers.Layer):
    """Adds `weight · interest_balance(C_r', idx, mask)` to its losses (`SAIRModel` reports
    it as `balance_loss`, apart from the ranking and DeCov losses) and returns it.

    Args: weight: α > 0 (the Switch Transformer used 0.01).
    Call args: relevance `[B, N, L]`, indices int `[B, N, K]`, mask bool `[B, N]`.
    """

    def __init__(self, weight: float = 0.01, **kwargs):
        super().__init__(**kwargs)
        if weight <= 0:
            raise ValueError(f"InterestBalance: weight must be > 0, received {weight}")
        self.weight = float(weight)

    def call(self, relevance: tf.Tensor, indices: tf.Tensor, mask: tf.Tensor) -> tf.Tensor:
        loss = self.weight * interest_balance(relevance, indices, mask)
        self.add_loss(loss)
        return loss

    def get_config(self):
        config = super().get_config()
        config.update(weight=self.weight)
        return config
