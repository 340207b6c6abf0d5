"""The causal self-attention sequence encoder (paper eqs. 2-3, SASRec-style)."""

from __future__ import annotations

import tensorflow as tf
import tf_keras as keras

from sair_keras.config import FFN_ACTIVATIONS


def causal_padding_mask(mask: tf.Tensor) -> tf.Tensor:
    """`[B, N]` bool padding mask → `[B, N, N]` attention mask: query t sees keys s ≤ t
    that are not padding. A padded query sees only itself (rows never empty)."""
    n = tf.shape(mask)[1]
    causal = tf.linalg.band_part(tf.ones((n, n), tf.bool), -1, 0)[None]
    allowed = causal & mask[:, None, :]
    return allowed | tf.eye(n, dtype=tf.bool)[None]


def _check_heads_and_dropout(layer: str, hidden_dim: int, num_heads: int, dropout: float):
    if hidden_dim < 1 or num_heads < 1 or hidden_dim % num_heads:
        raise ValueError(
            f"{layer}: hidden_dim must be a positive multiple of num_heads, "
            f"received hidden_dim={hidden_dim}, num_heads={num_heads}"
        )
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"{layer}: dropout in [0, 1), received {dropout}")


def attention_bias(mask: tf.Tensor, dtype=tf.float32) -> tf.Tensor:
    """`[B, N]` bool padding mask → `[B, 1, N, N]` additive attention bias: 0 where query t
    may see key s (`causal_padding_mask`), −1e9 elsewhere."""
    allowed = causal_padding_mask(mask)[:, None]
    return tf.where(allowed, tf.constant(0.0, dtype), tf.constant(-1e9, dtype))


@keras.saving.register_keras_serializable(package="sair")
class CausalSelfAttention(keras.layers.Layer):
    """Multi-head scaled dot-product self-attention with an additive mask:

    `[Q, K, V] = X W_qkv + b_qkv` (one `[D, 3D]` product), per head h
    `A_h = Dropout(softmax(Q_h K_hᵀ / √d_h + bias)) V_h`, `out = [A_1 … A_H] W_o + b_o`,
    `d_h = D / H`. Batched matrix products, no einsum transposes (with one head, none).

    The initialisation is Keras `MultiHeadAttention`'s (Glorot uniform over its 3-D kernel
    shapes `[D, H, d_h]` and `[H, d_h, D]`, zero biases), so both start alike.

    Args:
      hidden_dim: D. num_heads: H (D divisible by H). dropout: on the attention weights.
    Call args:
      x `[B, N, D]`; bias float `[B, 1, N, N]` (`attention_bias`).
    Returns:
      `[B, N, D]`.

    >>> layer = CausalSelfAttention(64, num_heads=2)
    >>> mask = tf.constant([[False, True, True]])
    >>> layer(tf.zeros([1, 3, 64]), attention_bias(mask)).shape
    TensorShape([1, 3, 64])
    """

    def __init__(self, hidden_dim: int, num_heads: int = 1, dropout: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        _check_heads_and_dropout("CausalSelfAttention", hidden_dim, num_heads, dropout)
        self.hidden_dim = hidden_dim
        self.num_heads = num_heads
        self.dropout = dropout

    def build(self, input_shape):
        d, h = self.hidden_dim, self.num_heads
        dh = d // h
        qkv_limit = (6.0 / (d * (h + dh))) ** 0.5  # glorot of a [D, H, d_h] kernel
        out_limit = (6.0 / (d + d * h)) ** 0.5  # glorot of a [H, d_h, D] kernel
        self.qkv_kernel = self.add_weight(
            name="qkv_kernel",
            shape=(d, 3 * d),
            initializer=keras.initializers.RandomUniform(-qkv_limit, qkv_limit),
        )
        self.qkv_bias = self.add_weight(name="qkv_bias", shape=(3 * d,), initializer="zeros")
        self.output_kernel = self.add_weight(
            name="output_kernel",
            shape=(d, d),
            initializer=keras.initializers.RandomUniform(-out_limit, out_limit),
        )
        self.output_bias = self.add_weight(name="output_bias", shape=(d,), initializer="zeros")
        self.dropout_layer = keras.layers.Dropout(self.dropout)
        super().build(input_shape)

    def _heads(self, t, b, n):
        """`[B·N, D]` → `[B, H, N, d_h]`."""
        h = self.num_heads
        if h == 1:  # the same memory layout: no copy
            return tf.reshape(t, [b, 1, n, self.hidden_dim])
        return tf.transpose(tf.reshape(t, [b, n, h, self.hidden_dim // h]), [0, 2, 1, 3])

    def call(self, x: tf.Tensor, bias: tf.Tensor, training: bool | None = None) -> tf.Tensor:
        d, h = self.hidden_dim, self.num_heads
        b, n = tf.shape(x)[0], tf.shape(x)[1]
        qkv = tf.nn.bias_add(tf.matmul(tf.reshape(x, [-1, d]), self.qkv_kernel), self.qkv_bias)
        q, k, v = (self._heads(t, b, n) for t in tf.split(qkv, 3, axis=-1))
        q = q * tf.cast((d // h) ** -0.5, q.dtype)
        weights = tf.nn.softmax(tf.matmul(q, k, transpose_b=True) + bias, axis=-1)
        attended = tf.matmul(self.dropout_layer(weights, training=training), v)  # [B,H,N,dh]
        if h == 1:
            attended = tf.reshape(attended, [-1, d])
        else:
            attended = tf.reshape(tf.transpose(attended, [0, 2, 1, 3]), [-1, d])
        out = tf.nn.bias_add(tf.matmul(attended, self.output_kernel), self.output_bias)
        return tf.reshape(out, [b, n, d])

    def get_config(self):
        config = super().get_config()
        config.update(hidden_dim=self.hidden_dim, num_heads=self.num_heads, dropout=self.dropout)
        return config


@keras.saving.register_keras_serializable(package="sair")
class CausalSelfAttentionBlock(keras.layers.Layer):
    """One Transformer block (docs/MODEL.md §2), post-LayerNorm by default:

    `H = LN(X + Dropout(CausalSelfAttention(X; causal & padding mask)))`,
    `F = LN(H + Dropout(W_2 · Dropout(act(W_1 H))))`, zeroed at padded positions;
    `W_1 ∈ R^{D×ffn_dim}`, `W_2 ∈ R^{ffn_dim×D}`, act ReLU (SASRec) or GELU (RecBole).
    Pre-LayerNorm (`norm_first`, as in SASRec's own code and most later Transformers):
    `H = X + Dropout(Attention(LN(X)))`, `F = H + Dropout(FFN(LN(H)))`; the encoder then
    normalises the last block's output.

    Args:
      hidden_dim: D. num_heads: attention heads (D divisible by it). dropout: rate.
      ffn_dim: inner width of the point-wise FFN; None means D (SASRec; RecBole uses 4D).
      ffn_activation: "relu" or "gelu" (exact, erf-based).
      norm_first: pre-LayerNorm instead of post-LayerNorm.
    Call args:
      x `[B, N, D]`, mask bool `[B, N]` (True = real item).
    Returns:
      `[B, N, D]`.
    """

    def __init__(
        self,
        hidden_dim: int,
        num_heads: int = 1,
        dropout: float = 0.0,
        ffn_dim: int | None = None,
        ffn_activation: str = "relu",
        norm_first: bool = False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        _check_heads_and_dropout("CausalSelfAttentionBlock", hidden_dim, num_heads, dropout)
        if ffn_dim is not None and ffn_dim < 1:
            raise ValueError(f"CausalSelfAttentionBlock: ffn_dim must be >= 1, received {ffn_dim}")
        if ffn_activation not in FFN_ACTIVATIONS:
            raise ValueError(
                f"CausalSelfAttentionBlock: ffn_activation must be one of {FFN_ACTIVATIONS}, "
                f"received {ffn_activation!r}"
            )
        self.hidden_dim = hidden_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.ffn_dim = ffn_dim or hidden_dim
        self.ffn_activation = ffn_activation
        self.norm_first = norm_first

    def build(self, input_shape):
        d = self.hidden_dim
        self.attention = CausalSelfAttention(d, self.num_heads, self.dropout, name="attention")
        self.attention.build(input_shape)
        self.norm_1 = keras.layers.LayerNormalization(epsilon=1e-8)
        self.norm_2 = keras.layers.LayerNormalization(epsilon=1e-8)
        self.ffn_1 = keras.layers.Dense(self.ffn_dim, activation=self.ffn_activation)
        self.ffn_2 = keras.layers.Dense(d)
        self.dropout_1 = keras.layers.Dropout(self.dropout)
        self.dropout_2 = keras.layers.Dropout(self.dropout)
        self.dropout_3 = keras.layers.Dropout(self.dropout)
        for layer, shape in (
            (self.norm_1, input_shape),
            (self.norm_2, input_shape),
            (self.ffn_1, input_shape),
            (self.ffn_2, tf.TensorShape(input_shape)[:-1].concatenate([self.ffn_dim])),
        ):
            layer.build(shape)
        super().build(input_shape)

    def call(
        self,
        x: tf.Tensor,
        mask: tf.Tensor,
        training: bool | None = None,
        bias: tf.Tensor | None = None,
    ) -> tf.Tensor:
        """`bias`: `attention_bias(mask)`, computed here when not given (an encoder computes
        it once for all its blocks)."""
        if bias is None:
            bias = attention_bias(mask, x.dtype)
        if self.norm_first:
            attn = self.attention(self.norm_1(x), bias, training=training)
            h = x + self.dropout_1(attn, training=training)
            ffn = self.ffn_2(self.dropout_2(self.ffn_1(self.norm_2(h)), training=training))
            out = h + self.dropout_3(ffn, training=training)
        else:
            attn = self.attention(x, bias, training=training)
            h = self.norm_1(x + self.dropout_1(attn, training=training))
            ffn = self.ffn_2(self.dropout_2(self.ffn_1(h), training=training))
            out = self.norm_2(h + self.dropout_3(ffn, training=training))
        return out * tf.cast(mask, out.dtype)[..., None]

    def get_config(self):
        config = super().get_config()
        config.update(
            hidden_dim=self.hidden_dim,
            num_heads=self.num_heads,
            dropout=self.dropout,
            ffn_dim=self.ffn_dim,
            ffn_activation=self.ffn_activation,
            norm_first=self.norm_first,
        )
        return config


@keras.saving.register_keras_serializable(package="sair")
class SequenceEncoder(keras.layers.Layer):
    """A stack of `num_blocks` CausalSelfAttentionBlocks: `F = Block_n(… Block_1(E))`,
    with pre-LayerNorm blocks (`norm_first`) `F = LN(Block_n(…))`.

    Args: as CausalSelfAttentionBlock's, and num_blocks >= 1.
    Call args: x `[B, N, D]`, mask bool `[B, N]`. Returns `F` `[B, N, D]`.

    Example:
      encoder = SequenceEncoder(64, num_blocks=2, num_heads=2, dropout=0.2)
      f = encoder(tf.zeros([8, 50, 64]), tf.ones([8, 50], bool))  # [8, 50, 64]
    """

    def __init__(
        self,
        hidden_dim: int,
        num_blocks: int = 2,
        num_heads: int = 1,
        dropout: float = 0.0,
        ffn_dim: int | None = None,
        ffn_activation: str = "relu",
        norm_first: bool = False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if num_blocks < 1:
            raise ValueError(f"SequenceEncoder: num_blocks must be >= 1, received {num_blocks}")
        self.hidden_dim = hidden_dim
        self.num_blocks = num_blocks
        self.num_heads = num_heads
        self.dropout = dropout
        self.ffn_dim = ffn_dim or hidden_dim
        self.ffn_activation = ffn_activation
        self.norm_first = norm_first

    def build(self, input_shape):
        self.blocks = [
            CausalSelfAttentionBlock(
                self.hidden_dim,
                self.num_heads,
                self.dropout,
                self.ffn_dim,
                self.ffn_activation,
                self.norm_first,
                name=f"block_{i}",
            )
            for i in range(self.num_blocks)
        ]
        for block in self.blocks:
            block.build(input_shape)
        self.final_norm = None
        if self.norm_first:
            self.final_norm = keras.layers.LayerNormalization(epsilon=1e-8, name="final_norm")
            self.final_norm.build(input_shape)
        super().build(input_shape)

    def call(self, x: tf.Tensor, mask: tf.Tensor, training: bool | None = None) -> tf.Tensor:
        bias = attention_bias(mask, x.dtype)
        for block in self.blocks:
            x = block(x, mask, training=training, bias=bias)
        if self.final_norm is not None:
            x = self.final_norm(x) * tf.cast(mask, x.dtype)[..., None]
        return x

    def get_config(self):
        config = super().get_config()
        config.update(
            hidden_dim=self.hidden_dim,
            num_blocks=self.num_blocks,
            num_heads=self.num_heads,
            dropout=self.dropout,
            ffn_dim=self.ffn_dim,
            ffn_activation=self.ffn_activation,
            norm_first=self.norm_first,
        )
        return config
