"""Interest retrieval and aggregation (paper eqs. 4-10, docs/MODEL.md §3-4)."""

from __future__ import annotations

import tensorflow as tf
import tf_keras as keras

from sair_keras.encoder import attention_bias


@keras.saving.register_keras_serializable(package="sair")
class InterestRelevance(keras.layers.Layer):
    """The relevance distribution `C_r = F · Cᵀ` against a trainable interest pool (eq. 4).

    Args:
      num_interests: L. hidden_dim: D.
      pool_regularizer: e.g. `DeCovRegularizer`, on C.
    Call args: F `[B, N, D]`. Returns `C_r` `[B, N, L]`. The pool is `self.pool` `[L, D]`.
    """

    def __init__(self, num_interests: int, hidden_dim: int, pool_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        if num_interests < 1 or hidden_dim < 1:
            raise ValueError(
                "InterestRelevance: num_interests and hidden_dim must be >= 1, received "
                f"num_interests={num_interests}, hidden_dim={hidden_dim}"
            )
        self.num_interests = num_interests
        self.hidden_dim = hidden_dim
        self.pool_regularizer = keras.regularizers.get(pool_regularizer)

    def build(self, input_shape):
        self.pool = self.add_weight(
            name="interest_pool",
            shape=(self.num_interests, self.hidden_dim),
            initializer=keras.initializers.TruncatedNormal(stddev=0.02),
            regularizer=self.pool_regularizer,
        )
        super().build(input_shape)

    def call(self, f: tf.Tensor) -> tf.Tensor:
        return tf.einsum("bnd,ld->bnl", f, self.pool)

    def get_config(self):
        config = super().get_config()
        config.update(
            num_interests=self.num_interests,
            hidden_dim=self.hidden_dim,
            pool_regularizer=keras.regularizers.serialize(self.pool_regularizer)
            if self.pool_regularizer
            else None,
        )
        return config


@keras.saving.register_keras_serializable(package="sair")
class InterestInteraction(keras.layers.Layer):
    """Self-attention over positions whose features are the L-dim relevance rows (eq. 5):

    `C_r' = softmax((C_r W_Q)(C_r W_K)ᵀ / √L + mask) (C_r W_V)`, `W_* ∈ R^{L×L}`,

    causal and padding-masked like the encoder, so position t never sees t+1.

    Args: num_interests: L.
    Call args: C_r `[B, N, L]`, mask bool `[B, N]`. Returns `C_r'` `[B, N, L]`.

    Example:
      interaction = InterestInteraction(10)
      refined = interaction(relevance, mask)  # [B, N, 10]
    """

    def __init__(self, num_interests: int, **kwargs):
        super().__init__(**kwargs)
        if num_interests < 1:
            raise ValueError(
                f"InterestInteraction: num_interests must be >= 1, received {num_interests}"
            )
        self.num_interests = num_interests

    def build(self, input_shape):
        shape = (self.num_interests, self.num_interests)
        # One initializer instance per weight: a reused unseeded one repeats its values.
        self.w_q = self.add_weight(name="w_q", shape=shape, initializer="glorot_uniform")
        self.w_k = self.add_weight(name="w_k", shape=shape, initializer="glorot_uniform")
        self.w_v = self.add_weight(name="w_v", shape=shape, initializer="glorot_uniform")
        super().build(input_shape)

    def call(self, relevance: tf.Tensor, mask: tf.Tensor) -> tf.Tensor:
        b, n, pool = tf.shape(relevance)[0], tf.shape(relevance)[1], self.num_interests
        # Q, K, V in one [B·N, L] × [L, 3L] product; batched matrix products, no einsums.
        w_qkv = tf.concat([self.w_q, self.w_k, self.w_v], axis=1)
        qkv = tf.reshape(tf.matmul(tf.reshape(relevance, [-1, pool]), w_qkv), [b, n, 3 * pool])
        q, k, v = tf.split(qkv, 3, axis=-1)
        q = q * tf.math.rsqrt(tf.cast(pool, relevance.dtype))
        logits = tf.matmul(q, k, transpose_b=True) + attention_bias(mask, relevance.dtype)[:, 0]
        return tf.matmul(tf.nn.softmax(logits, axis=-1), v)

    def get_config(self):
        config = super().get_config()
        config.update(num_interests=self.num_interests)
        return config


@keras.saving.register_keras_serializable(package="sair")
class TopKInterest(keras.layers.Layer):
    """Keeps the K most relevant interests per position and gathers them (eqs. 6-7):

    `idx, val = top_k(C_r', K)`, `I = gather(C, idx)`.

    Indices carry no gradient; values and the gathered interests do (through C).

    Args: top_k: K.
    Call args: relevance `[B, N, L]` (L ≥ K), pool C `[L, D]`.
    Returns: `(values [B, N, K], indices int32 [B, N, K], interests [B, N, K, D])`.
    """

    def __init__(self, top_k: int, **kwargs):
        super().__init__(**kwargs)
        if top_k < 1:
            raise ValueError(f"TopKInterest: top_k must be >= 1, received {top_k}")
        self.top_k = top_k

    def call(self, relevance: tf.Tensor, pool: tf.Tensor):
        values, indices = tf.math.top_k(relevance, k=self.top_k, sorted=True)
        return values, indices, tf.gather(pool, indices)

    def get_config(self):
        config = super().get_config()
        config.update(top_k=self.top_k)
        return config


@keras.saving.register_keras_serializable(package="sair")
class InterestAggregation(keras.layers.Layer):
    """Fuses the kept interests into one representation per position (eqs. 8-10):

    `I'_k = I_k + F`, `I''_k = FFN_k(I'_k) = W2_k ReLU(W1_k I'_k + b1_k) + b2_k` (one FFN per
    slot k), `w = softmax(val)` over the K slots, `e_t = Σ_k w_k I''_k`.

    Computed without per-slot transposes, exactly:
    `W1_k (C[idx_k] + F) = (C W1_k)[idx_k] + F W1_k` (the gather of eq. 7 moves after the
    first layer; `F W1` is one `[BN, D] × [D, K·D]` product), and
    `Σ_k w_k (h_k W2_k + b2_k) = [w_1 h_1, …, w_K h_K] · [W2_1; …; W2_K] + Σ_k w_k b2_k`
    (one `[BN, K·D] × [K·D, D]` product).

    With `residual` (a choice, not in the paper's eq. 10), the fused vector is added to F
    and layer-normalised, `e_t = LN(F_t + Σ_k w_k I''_k)`, as SASRec's point-wise FFN does;
    without it the head alone must carry F to the scores, and on ML-100K training stays at
    popularity level several times longer than SASRec's and ends lower (docs/MODEL.md).

    Dropout applies to the fused `[B, N, D]` output (as on the encoder's residual branches),
    not to the K hidden layers: one random draw per output unit instead of K (the random
    numbers are the largest single cost of the head on CPU, docs/BENCHMARKS.md).

    Args: num_slots: K. hidden_dim: D. dropout: on the fused output. residual: see above.
    Call args: indices int `[B, N, K]` into the pool (slot k holds interest `C[indices_k]`),
      values `[B, N, K]`, F `[B, N, D]`, pool C `[L, D]`, mask bool `[B, N]`.
    Returns: `[B, N, D]`, zero at padded positions.
    """

    def __init__(
        self,
        num_slots: int,
        hidden_dim: int,
        dropout: float = 0.0,
        residual: bool = False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if num_slots < 1 or hidden_dim < 1:
            raise ValueError(
                "InterestAggregation: num_slots and hidden_dim must be >= 1, received "
                f"num_slots={num_slots}, hidden_dim={hidden_dim}"
            )
        self.num_slots = num_slots
        self.hidden_dim = hidden_dim
        self.dropout = dropout
        self.residual = residual
        # Whether the output is layer-normalised: with the residual, as SASRec's blocks.
        self.layer_norm_output = residual

    def build(self, input_shape):
        k, d = self.num_slots, self.hidden_dim

        def glorot_per_slot():
            # Glorot for each slot's own D×D matrix; Keras' glorot would count the K slots
            # in the fans of these 3-D shapes and start them several times too small.
            limit = (6.0 / (d + d)) ** 0.5
            return keras.initializers.RandomUniform(-limit, limit)

        # Slot-major layouts: reshaping them to [D, K·D] and [K·D, D] costs nothing.
        self.w1 = self.add_weight(name="ffn_w1", shape=(d, k, d), initializer=glorot_per_slot())
        self.b1 = self.add_weight(name="ffn_b1", shape=(k, d), initializer="zeros")
        # With the residual, the head starts as the identity on F (its last layer at zero):
        # SAIR starts where SASRec starts and learns what the interests add.
        self.w2 = self.add_weight(
            name="ffn_w2",
            shape=(k, d, d),
            initializer="zeros" if self.residual else glorot_per_slot(),
        )
        self.b2 = self.add_weight(name="ffn_b2", shape=(k, d), initializer="zeros")
        self.dropout_layer = keras.layers.Dropout(self.dropout)
        if self.layer_norm_output:
            self.layer_norm = keras.layers.LayerNormalization(epsilon=1e-8)
            self.layer_norm.build((None, None, d))
        super().build(input_shape)

    def call(self, indices, values, f, pool, mask, training=None):
        fused = self.dropout_layer(self.fuse(indices, values, f, pool), training=training)
        return self.combine(f, fused, mask)

    def combine(self, f, fused, mask):
        """The output from F and the head's `fused` vector: `F + fused` with the residual,
        then the LayerNorm if any; zero at padded positions."""
        if self.residual:
            fused = f + fused
        if self.layer_norm_output:
            fused = self.layer_norm(fused)
        return fused * tf.cast(mask, fused.dtype)[..., None]

    def hidden(self, indices, f, pool):
        """Each slot's first FFN layer on `I'_k = C[idx_k] + F` (eq. 8):
        `ReLU(W1_k I'_k + b1_k)`, `[B, N, K, D]`."""
        k, d = self.num_slots, self.hidden_dim
        b, n = tf.shape(f)[0], tf.shape(f)[1]
        pool_size = tf.shape(pool)[0]
        # (C W1_k)[idx_k] for every slot: a [K·L, D] table and one gather.
        pool_w1 = tf.reshape(tf.einsum("ld,dke->kle", pool, self.w1), [-1, d])  # row k·L + l
        offsets = tf.range(k, dtype=indices.dtype) * tf.cast(pool_size, indices.dtype)
        interest_part = tf.gather(pool_w1, indices + offsets)  # [B, N, K, D]
        f_part = tf.reshape(
            tf.matmul(tf.reshape(f, [-1, d]), tf.reshape(self.w1, [d, k * d])), [b, n, k, d]
        )
        return tf.nn.relu(interest_part + f_part + self.b1)

    def fuse(self, indices, values, f, pool):
        """`Σ_k w_k I''_k` (eqs. 8-10), `[B, N, D]`: the head's output before the dropout,
        the residual and the mask."""
        k, d = self.num_slots, self.hidden_dim
        b, n = tf.shape(f)[0], tf.shape(f)[1]
        h = self.hidden(indices, f, pool)
        weights = tf.nn.softmax(values, axis=-1)  # eq. 9
        weighted = tf.reshape(h * weights[..., None], [-1, k * d])
        fused = tf.matmul(weighted, tf.reshape(self.w2, [k * d, d]))  # eq. 10
        return tf.reshape(fused, [b, n, d]) + tf.einsum("bnk,kd->bnd", weights, self.b2)

    def get_config(self):
        config = super().get_config()
        config.update(
            num_slots=self.num_slots,
            hidden_dim=self.hidden_dim,
            dropout=self.dropout,
            residual=self.residual,
        )
        return config
