"""The serving SavedModel: raw item ids in and out, the vocabulary inside.

Signatures (TF Serving and any `tf.saved_model.load` caller):
  serving_default(examples: string [B])   serialized tf.Example with `history` (bytes list
                                           of raw item ids, oldest first) → top-N
  recommend(history: string [B, H])        raw ids, "" pads → `item_ids` string [B, N],
                                           `scores` float [B, N], `fallback` bool [B];
                                           every item of the history excluded (the model
                                           reads its last max_len items); a history with
                                           no known item gets the training split's most
                                           popular items, `fallback` True; slots beyond
                                           the unseen items are "" with score -inf
  score(history: string [B, H], candidates: string [B, M]) → `scores` float [B, M]
  ranks(examples: string [B])              internal eval examples (`item_seq_ids`,
                                           `target_id`, `negative_ids`, `seen_item_ids`:
                                           raw ids, so that any model's vocabulary
                                           reads them; a target the model does not know
                                           is a miss) → `ranks` float
                                           [B, 4]: the target's sampled rank, its full-
                                           catalog rank, and the same two ranks of the
                                           training split's popularity (`ranking.ranks`;
                                           -1 = no negatives); what the Evaluator (TFMA)
                                           computes every metric and the gate from
  candidate_scores(examples: string [B])   the same examples → `scores` [B, 1 + M], the
                                           target's and its negatives' scores
  interests(history: string [B, H])        (SAIR variants only) the relevance over the L
                                           interests at every position before and after the
                                           interaction layer, `before`/`after` [B, N, L],
                                           `item_ids` [B, N] ("" = padding) and
                                           `interest_categories` [B, L, 3], the categories
                                           each interest stands for: the heat maps
Unknown ids in a history are ignored; an unknown candidate scores as `[UNK]`.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from sair_keras import features, inference, ranking
from sair_keras.catalog import Catalog
from sair_keras.model import SAIRModel

HISTORY = "history"
EVAL_SIGNATURE = "ranks"  # the Evaluator's signature, and its output


def compact_left(indices: tf.Tensor, max_len: int) -> tf.Tensor:
    """Drops zeros from each row (keeping order) and left-pads / cuts to `max_len`."""
    keep = tf.cast(indices != features.PAD_INDEX, tf.int32)
    # A stable sort on "is kept" puts the zeros first and keeps the items' order.
    order = tf.argsort(keep, axis=1, stable=True)
    packed = tf.gather(indices, order, batch_dims=1)
    width = tf.shape(packed)[1]
    packed = tf.pad(packed, [[0, 0], [tf.maximum(max_len - width, 0), 0]])[:, -max_len:]
    return tf.ensure_shape(packed, [None, max_len])


class ServingModule(tf.Module):
    def __init__(self, model: SAIRModel, catalog: Catalog, top_n: int = 10):
        super().__init__()
        self.model = model
        self.max_len = model.model_config.max_len
        self.top_n = top_n
        real = list(catalog.item_ids[features.FIRST_ITEM_INDEX :])
        self.item_to_index = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(
                tf.constant(real),
                tf.range(features.FIRST_ITEM_INDEX, len(catalog.item_ids), dtype=tf.int64),
            ),
            default_value=tf.constant(features.PAD_INDEX, tf.int64),
        )
        self.index_to_item = tf.constant(list(catalog.item_ids))
        # The popularity baseline: each item's interactions in the training split.
        self.popularity = tf.constant(catalog.train_counts, tf.float32)
        if model.model_config.variant != "sasrec":  # sasrec has no interests
            self.interest_categories = tf.constant(interest_categories(model, catalog))
            self.interests = tf.function(
                self._interests,
                input_signature=[tf.TensorSpec([None, None], tf.string, name="history")],
            )

    def _indices(self, history: tf.Tensor) -> tf.Tensor:
        return compact_left(self.item_to_index.lookup(history), self.max_len)

    def _recommend(self, history: tf.Tensor) -> dict[str, tf.Tensor]:
        # The model reads the last max_len items; every item of the history is excluded.
        everything = self.item_to_index.lookup(history)
        model_input = compact_left(everything, self.max_len)
        # Nothing known to read (an empty history, or only unknown ids): popularity.
        fallback = tf.logical_not(tf.reduce_any(everything >= features.FIRST_ITEM_INDEX, axis=1))
        scores = tf.where(
            fallback[:, None], self.popularity[None, :], self.model.catalog_scores(model_input)
        )
        excluded = everything if self.model.model_config.exclude_seen else everything[:, :0]
        scores, items = inference.top_n_of_scores(scores, self.top_n, excluded)
        empty = tf.math.is_inf(scores) & (scores < 0)  # fewer unseen items than slots
        ids = tf.where(empty, "", tf.gather(self.index_to_item, items))
        return {"item_ids": ids, "scores": scores, "fallback": fallback}

    @tf.function(input_signature=[tf.TensorSpec([None, None], tf.string, name="history")])
    def recommend(self, history):
        return self._recommend(history)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
    def serving_default(self, examples):
        parsed = tf.io.parse_example(examples, {HISTORY: tf.io.VarLenFeature(tf.string)})
        return self._recommend(tf.sparse.to_dense(parsed[HISTORY], default_value=""))

    @tf.function(
        input_signature=[
            tf.TensorSpec([None, None], tf.string, name="history"),
            tf.TensorSpec([None, None], tf.string, name="candidates"),
        ]
    )
    def score(self, history, candidates):
        user = self.model.last_position(self._indices(history))
        items = self.item_to_index.lookup(candidates)
        items = tf.where(
            items == features.PAD_INDEX, tf.constant(features.UNK_INDEX, tf.int64), items
        )
        return {"scores": self.model.score(user, items)}

    def _eval_batch(self, examples: tf.Tensor) -> dict[str, tf.Tensor]:
        """Evaluation examples → this model's indices. The raw-id features are mapped
        through this model's vocabulary, so a model built on another vocabulary (the last
        blessed one the Evaluator compares with) ranks the same items; an item it does not
        know becomes padding (a target it does not know: `unknown_target`). Examples
        without raw ids (an older ingestion) are read by index."""
        index_features = (features.ITEM_SEQ, features.NEGATIVES, features.SEEN_ITEMS)
        id_features = (features.ITEM_SEQ_IDS, features.NEGATIVE_IDS, features.SEEN_ITEM_IDS)
        spec = {name: tf.io.VarLenFeature(tf.int64) for name in index_features}
        spec.update({name: tf.io.VarLenFeature(tf.string) for name in id_features})
        spec[features.TARGET] = tf.io.FixedLenFeature([1], tf.int64)
        spec[features.TARGET_ID] = tf.io.FixedLenFeature([1], tf.string, default_value="")
        parsed = tf.io.parse_example(examples, spec)
        by_id = tf.reduce_all(parsed[features.TARGET_ID] != "")

        def indices(index_name, id_name):
            ids = tf.sparse.to_dense(parsed[id_name], default_value="")
            mapped = self.item_to_index.lookup(ids)  # unknown and "" → padding
            return tf.cond(by_id, lambda: mapped, lambda: tf.sparse.to_dense(parsed[index_name]))

        target = tf.cond(
            by_id,
            lambda: self.item_to_index.lookup(parsed[features.TARGET_ID]),
            lambda: parsed[features.TARGET],
        )
        return {
            features.ITEM_SEQ: compact_left(
                indices(features.ITEM_SEQ, features.ITEM_SEQ_IDS), self.max_len
            ),
            features.TARGET: target,
            features.NEGATIVES: indices(features.NEGATIVES, features.NEGATIVE_IDS),
            features.SEEN_ITEMS: indices(features.SEEN_ITEMS, features.SEEN_ITEM_IDS),
        }

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
    def candidate_scores(self, examples):
        return {"scores": self.model.candidate_scores(self._eval_batch(examples))}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
    def ranks(self, examples):
        batch = self._eval_batch(examples)
        model_ranks = self.model.eval_ranks(batch)
        popularity = tf.broadcast_to(
            self.popularity[None, :], [tf.shape(model_ranks)[0], tf.shape(self.popularity)[0]]
        )
        popularity_ranks = ranking.ranks(
            popularity,
            batch[features.TARGET],
            batch[features.NEGATIVES],
            self.model.excluded(batch),
        )
        both = tf.concat([model_ranks, tf.cast(popularity_ranks, tf.float32)], 1)
        # A target this model does not know (newer than its vocabulary) it cannot
        # recommend: a miss at every K, in every column that is ranked.
        unknown = tf.reshape(batch[features.TARGET] == features.PAD_INDEX, [-1, 1])
        both = tf.where(unknown & (both >= 0), float(ranking.LAST), both)
        return {EVAL_SIGNATURE: both}

    def _interests(self, history):
        indices = self._indices(history)
        out = self.model.interest_distributions(indices)
        ids = tf.where(indices == features.PAD_INDEX, "", tf.gather(self.index_to_item, indices))
        labels = tf.tile(self.interest_categories[None], [tf.shape(history)[0], 1, 1])
        return {**out, "item_ids": ids, "interest_categories": labels}


def interest_categories(
    model: SAIRModel, catalog: Catalog, top: int = 3, items_per_interest: int = 50
) -> np.ndarray:
    """`[L, top]` category names most associated with each interest of the pool: among the
    `items_per_interest` items whose embeddings score highest against the interest
    (`<H_id(j), C_l>`, the dot product of eq. 11), the categories most over-represented
    against the catalog (count there / count in the catalog, at least two items), ""
    where fewer qualify. For `sair_label` each interest is a category: its own name."""
    names = np.array(catalog.category_names, dtype=object)
    pool = model.interest_pool().numpy()
    first = features.FIRST_ITEM_INDEX
    if model.model_config.variant == "sair_label":  # the pool is the categories from [UNK] on
        own = names[features.UNK_INDEX :][: len(pool)]
        return np.array([[n] + [""] * (top - 1) for n in own], dtype=object).astype(str)
    items = model.embedding.item_embedding.numpy()[first:]
    categories = catalog.item_categories[first:]
    in_catalog = np.bincount(categories.ravel(), minlength=len(names)).astype(float)
    in_catalog[: features.FIRST_ITEM_INDEX] = 0
    labels = np.full((len(pool), top), "", dtype=object)
    for interest, scores in enumerate((items @ pool.T).T):
        best = np.argsort(-scores)[:items_per_interest]
        counts = np.bincount(categories[best].ravel(), minlength=len(names)).astype(float)
        counts[: features.FIRST_ITEM_INDEX] = 0
        lift = np.where((counts >= 2) & (in_catalog > 0), counts / np.maximum(in_catalog, 1), 0)
        chosen = [c for c in np.argsort(-lift, kind="stable")[:top] if lift[c] > 0]
        labels[interest, : len(chosen)] = names[chosen]
    return labels.astype(str)


def export_serving_model(model: SAIRModel, catalog: Catalog, path: str, top_n: int = 10) -> None:
    """Writes a SavedModel at `path` with the signatures above."""
    module = ServingModule(model, catalog, top_n)
    signatures = {
        "serving_default": module.serving_default,
        "recommend": module.recommend,
        "score": module.score,
        "candidate_scores": module.candidate_scores,
        EVAL_SIGNATURE: module.ranks,
    }
    if model.model_config.variant != "sasrec":
        signatures["interests"] = module.interests
    tf.saved_model.save(module, path, signatures=signatures)
