"""Inference: top-N items over the whole catalog, excluding each user's seen items.

`tfrs.layers.factorized_top_k.BruteForce.query_with_exclusions` does not fit here: it needs
the exclusions' width statically and fetches `k + width` candidates first, so it cannot
exclude a whole history of any length (a served history may be longer than the model's
max_len window, and longer than the catalog minus k). The catalog is scored with one
matrix product, as BruteForce does, and the seen items are masked before `top_k`.
"""

from __future__ import annotations

import tensorflow as tf

from sair_keras import features
from sair_keras.model import SAIRModel


def seen_mask(items: tf.Tensor, num_items: int) -> tf.Tensor:
    """`[B, H]` item indices (0 = padding) → bool `[B, num_items]`, True where the row's
    history holds the item, and always for padding and `[UNK]`."""
    items = tf.cast(items, tf.int64)
    rows = tf.broadcast_to(
        tf.range(tf.shape(items, out_type=tf.int64)[0])[:, None], tf.shape(items, out_type=tf.int64)
    )
    hits = tf.scatter_nd(
        tf.reshape(tf.stack([rows, items], axis=-1), [-1, 2]),
        tf.ones([tf.size(items)], tf.int32),
        tf.stack([tf.shape(items, out_type=tf.int64)[0], tf.constant(num_items, tf.int64)]),
    )
    reserved = tf.range(num_items) < features.FIRST_ITEM_INDEX
    return (hits > 0) | reserved[None, :]


def top_n(
    model: SAIRModel, item_seq: tf.Tensor, n: int, exclude: tf.Tensor | None = None
) -> tuple[tf.Tensor, tf.Tensor]:
    """Scores `[B, n]` and item indices `[B, n]` of the best items after each history
    `[B, N]` (left-padded), never an item of `exclude` `[B, H]` (default: the history
    itself; give the whole history when `item_seq` holds only its last N items)."""
    item_seq = tf.cast(item_seq, tf.int64)
    exclude = item_seq if exclude is None else exclude
    return top_n_of_scores(model.catalog_scores(item_seq), n, exclude)


def top_n_of_scores(scores: tf.Tensor, n: int, exclude: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """The `n` best items of `scores` `[B, num_items]` outside `exclude` `[B, H]` (and
    padding and `[UNK]`): scores and indices `[B, n]`. When fewer than `n` items are left,
    the slots after them hold score `-inf` (their index means nothing)."""
    num_items = scores.shape[-1]
    masked = tf.where(seen_mask(tf.cast(exclude, tf.int64), num_items), -float("inf"), scores)
    k = min(n, num_items - features.FIRST_ITEM_INDEX)
    values, indices = tf.math.top_k(masked, k=k)
    return values, tf.cast(indices, tf.int64)
