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


@keras.saving.register_keras_serializable(package="sair")
class CausalSelfAttentionBlock(keras.layers.Layer):
    """One Transformer block, post-LayerNorm (SAIR_SPEC §2):

    `H = LN(X + Dropout(MHA(X, X, X; causal & padding mask)))`,
    `F = LN(H + Dropout(W_2 · Dropout(act(W_1 H))))`, zeroed at padded positions;
    `W_1 ∈ R^{D×ffn_dim}`, `W_2 ∈ R^{ffn_dim×D}`, act ReLU (SASRec) or GELU (RecBole).

    Args:
      hidden_dim: D. num_heads: attention heads (D divisible by it). dropout: rate.
      ffn_dim: inner width of the point-wise FFN; None means D (SASRec; RecBole uses 4D).
      ffn_activation: "relu" or "gelu" (exact, erf-based).
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
        **kwargs,
    ):
        super().__init__(**kwargs)
        if hidden_dim < 1 or num_heads < 1 or hidden_dim % num_heads:
            raise ValueError(
                "CausalSelfAttentionBlock: hidden_dim must be a positive multiple of num_heads, "
                f"received hidden_dim={hidden_dim}, num_heads={num_heads}"
            )
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"CausalSelfAttentionBlock: dropout in [0, 1), received {dropout}")
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

    def build(self, input_shape):
        d = self.hidden_dim
        self.attention = keras.layers.MultiHeadAttention(
            num_heads=self.num_heads, key_dim=d // self.num_heads, dropout=self.dropout
        )
        self.attention._build_from_signature(input_shape, input_shape)
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

    def call(self, x: tf.Tensor, mask: tf.Tensor, training: bool | None = None) -> tf.Tensor:
        attn = self.attention(x, x, attention_mask=causal_padding_mask(mask), training=training)
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
        )
        return config


@keras.saving.register_keras_serializable(package="sair")
class SequenceEncoder(keras.layers.Layer):
    """A stack of `num_blocks` CausalSelfAttentionBlocks: `F = Block_n(… Block_1(E))`.

    Args: as CausalSelfAttentionBlock's, and num_blocks >= 1.
    Call args: x `[B, N, D]`, mask bool `[B, N]`. Returns `F` `[B, N, D]`.
    """

    def __init__(
        self,
        hidden_dim: int,
        num_blocks: int = 2,
        num_heads: int = 1,
        dropout: float = 0.0,
        ffn_dim: int | None = None,
        ffn_activation: str = "relu",
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

    def build(self, input_shape):
        self.blocks = [
            CausalSelfAttentionBlock(
                self.hidden_dim,
                self.num_heads,
                self.dropout,
                self.ffn_dim,
                self.ffn_activation,
                name=f"block_{i}",
            )
            for i in range(self.num_blocks)
        ]
        for block in self.blocks:
            block.build(input_shape)
        super().build(input_shape)

    def call(self, x: tf.Tensor, mask: tf.Tensor, training: bool | None = None) -> tf.Tensor:
        for block in self.blocks:
            x = block(x, mask, training=training)
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
        )
        return config
