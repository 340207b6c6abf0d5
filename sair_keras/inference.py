"""Inference: top-N items over the whole catalog, excluding each user's seen items."""

from __future__ import annotations

import tensorflow as tf
import tensorflow_recommenders as tfrs

from sair_keras import features
from sair_keras.model import SAIRModel


def catalog_index(model: SAIRModel, n: int) -> tfrs.layers.factorized_top_k.BruteForce:
    """A TFRS brute-force index of every real item's `H_id` row (padding and `[UNK]` are
    never recommended), identified by item index. Build it after training: it copies the
    embeddings."""
    index = tfrs.layers.factorized_top_k.BruteForce(k=n)
    index.index(
        candidates=model.embedding.item_embedding[features.FIRST_ITEM_INDEX :],
        identifiers=tf.range(features.FIRST_ITEM_INDEX, model.num_items, dtype=tf.int64),
    )
    return index


def top_n(model: SAIRModel, item_seq: tf.Tensor, n: int, index=None) -> tuple[tf.Tensor, tf.Tensor]:
    """Scores `[B, n]` and item indices `[B, n]` of the best items after each history
    `[B, N]` (left-padded), never an item of that history."""
    index = index or catalog_index(model, n)
    item_seq = tf.cast(item_seq, tf.int64)
    return index.query_with_exclusions(model.last_position(item_seq), item_seq, k=n)
