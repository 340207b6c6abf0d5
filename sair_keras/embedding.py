"""The embedding block of SAIR (paper eq. 1)."""

from __future__ import annotations

import numpy as np
import tensorflow as tf
import tf_keras as keras

from sair_keras import features


@keras.saving.register_keras_serializable(package="sair")
class SequenceEmbedding(keras.layers.Layer):
    """`E = H_id(x) + mean_c H_cat(c) + H_pos(t)`, then dropout and LayerNorm (docs/MODEL.md §1).

    The item → categories table is a non-trainable weight (`item_categories`, shape
    `[num_items, max_item_categories]`, 0-padded), so the model carries it and serving
    requests need only item indices. An item's category term is the mean of its categories'
    rows. Padding (item 0) embeds to zeros.

    Args:
      num_items: rows of the item table V, including padding and `[UNK]`.
      num_categories: rows of the category table T, including padding and `[UNK]`.
      max_len: N, number of learned positions.
      hidden_dim: D.
      dropout: rate after the sum.
      max_item_categories: columns of the item → categories table.
      item_categories: optional initial table `[num_items, max_item_categories]`; when not
        given (e.g. when rebuilt from a config) it is filled by loading weights.
      use_categories: add the category term.

    Call args:
      item_seq: int `[B, N]`, 0 = padding, left-padded, N ≤ max_len: slot t takes position
        `max_len − N + t`, so the most recent item is at position `max_len − 1` whatever N.
    Returns:
      `[B, N, D]`, zero at padded positions.
    """

    def __init__(
        self,
        num_items: int,
        num_categories: int,
        max_len: int,
        hidden_dim: int,
        dropout: float = 0.0,
        max_item_categories: int = 1,
        item_categories: np.ndarray | None = None,
        use_categories: bool = True,
        **kwargs,
    ):
        super().__init__(**kwargs)
        for name, value in (
            ("num_items", num_items),
            ("num_categories", num_categories),
            ("max_len", max_len),
            ("hidden_dim", hidden_dim),
            ("max_item_categories", max_item_categories),
        ):
            if value < 1:
                raise ValueError(f"SequenceEmbedding: {name} must be >= 1, received {value}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"SequenceEmbedding: dropout must be in [0, 1), received {dropout}")
        if item_categories is not None:
            item_categories = np.asarray(item_categories, dtype=np.int64)
            if item_categories.shape != (num_items, max_item_categories):
                raise ValueError(
                    "SequenceEmbedding: item_categories must have shape "
                    f"{(num_items, max_item_categories)}, received {item_categories.shape}"
                )
        self.num_items = num_items
        self.num_categories = num_categories
        self.max_len = max_len
        self.hidden_dim = hidden_dim
        self.dropout = dropout
        self.max_item_categories = max_item_categories
        self.use_categories = use_categories
        self._initial_item_categories = item_categories

    def build(self, input_shape):
        def init():  # a new instance per weight: a reused one repeats its values
            return keras.initializers.TruncatedNormal(stddev=0.02)

        self.item_embedding = self.add_weight(
            name="item_embedding", shape=(self.num_items, self.hidden_dim), initializer=init()
        )
        self.category_embedding = self.add_weight(
            name="category_embedding",
            shape=(self.num_categories, self.hidden_dim),
            initializer=init(),
        )
        self.position_embedding = self.add_weight(
            name="position_embedding",
            shape=(self.max_len, self.hidden_dim),
            initializer=init(),
        )
        table = self._initial_item_categories
        self.item_categories = self.add_weight(
            name="item_categories",
            shape=(self.num_items, self.max_item_categories),
            dtype=tf.int64,
            trainable=False,
            initializer=(
                keras.initializers.Constant(table)
                if table is not None
                else keras.initializers.Zeros()
            ),
        )
        self.dropout_layer = keras.layers.Dropout(self.dropout)
        self.layer_norm = keras.layers.LayerNormalization(epsilon=1e-8)
        super().build(input_shape)

    def item_vectors(self, items: tf.Tensor) -> tf.Tensor:
        """`H_id(x) + mean_c H_cat(c)` for any int tensor of item indices: `[..., D]`."""
        vectors = tf.gather(self.item_embedding, items)
        if self.use_categories:
            cats = tf.gather(self.item_categories, items)  # [..., C]
            present = tf.cast(cats != features.PAD_INDEX, vectors.dtype)[..., None]
            summed = tf.reduce_sum(tf.gather(self.category_embedding, cats) * present, axis=-2)
            vectors += summed / tf.maximum(tf.reduce_sum(present, axis=-2), 1.0)
        return vectors

    def call(self, item_seq: tf.Tensor, training: bool | None = None) -> tf.Tensor:
        # Left-padded: the last slot is always position max_len - 1, whatever the width.
        n = tf.shape(item_seq)[1]
        x = self.item_vectors(item_seq) + self.position_embedding[None, self.max_len - n :, :]
        x = self.layer_norm(self.dropout_layer(x, training=training))
        mask = tf.cast(item_seq != features.PAD_INDEX, x.dtype)[..., None]
        return x * mask

    def get_config(self):
        config = super().get_config()
        config.update(
            num_items=self.num_items,
            num_categories=self.num_categories,
            max_len=self.max_len,
            hidden_dim=self.hidden_dim,
            dropout=self.dropout,
            max_item_categories=self.max_item_categories,
            use_categories=self.use_categories,
        )
        return config
