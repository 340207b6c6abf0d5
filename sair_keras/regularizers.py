"""DeCov, the decorrelation of the interest pool (docs/MODEL.md §5)."""

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
